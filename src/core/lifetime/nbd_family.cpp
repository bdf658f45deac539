// The NBD family's non-template helpers (see nbd_family_impl.hpp).
#include <cmath>
#include <limits>
#include <string>

#include "core/common/error.hpp"
#include "core/lifetime/nbd_family_impl.hpp"

namespace personalize::lifetime {

void check_horizon(const char *model, double t) {
    if (!std::isfinite(t) || t < 0) throw_invalid(std::string(model) + ": \"t\" must be a finite number >= 0");
}

void check_count(const char *model, double n) {
    if (!std::isfinite(n) || n < 0 || std::floor(n) != n)
        throw_invalid(std::string(model) + ": \"n\" must be a whole number >= 0");
}

double probability_alive_from(double log_dead_odds) {
    const double z = log_dead_odds;
    if (z == -std::numeric_limits<double>::infinity()) return 1.0;
    return z > 0 ? std::exp(-z) / (1.0 + std::exp(-z)) : 1.0 / (1.0 + std::exp(z));  // no overflow
}

}  // namespace personalize::lifetime
