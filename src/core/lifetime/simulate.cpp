#include "core/lifetime/simulate.hpp"

#include <algorithm>
#include <cmath>

#include "core/common/error.hpp"
#include "core/common/random.hpp"

namespace personalize::lifetime {

namespace {

void check(const SimulationSpec &spec) {
    if (!(spec.age_min >= 0) || !(spec.age_max >= spec.age_min) || !std::isfinite(spec.age_max))
        throw_invalid("simulate: ages must satisfy 0 <= age_min <= age_max");
    if (!(spec.granularity >= 0) || !std::isfinite(spec.granularity))
        throw_invalid("simulate: \"granularity\" must be >= 0");
}

// Turns purchase times after the first purchase (at 0) into (x, t_x, T, m).
class Builder {
public:
    Builder(const SimulationSpec &spec, Random &rng) : spec_(spec), rng_(rng) {
        if (spec.spend_p > 0) nu_ = rng_.gamma(spec.spend_q, spec.spend_gamma);
    }
    double floor_to_grid(double t) const {
        return spec_.granularity > 0 ? std::floor(t / spec_.granularity) * spec_.granularity : t;
    }
    void purchase(double t) {
        const double cell = floor_to_grid(t);
        if (spec_.granularity > 0 && cell == last_) return;  // same day as the previous purchase
        if (spec_.granularity > 0 && cell == 0.0) return;    // same day as the first purchase
        last_ = cell;
        ++x_;
        if (spec_.spend_p > 0) spend_ += rng_.gamma(spec_.spend_p, nu_);
    }
    SimulatedCustomer finish(double T) const {
        return {static_cast<double>(x_), x_ > 0 ? last_ : 0.0, T, x_ > 0 ? spend_ / x_ : 0.0};
    }

private:
    const SimulationSpec &spec_;
    Random &rng_;
    double nu_ = 0.0;
    double last_ = 0.0;
    long x_ = 0;
    double spend_ = 0.0;
};

}  // namespace

std::vector<SimulatedCustomer> simulate_bgnbd(double r, double alpha, double a, double b, const SimulationSpec &spec) {
    check(spec);
    Random rng(spec.seed);
    std::vector<SimulatedCustomer> out;
    out.reserve(spec.customers);
    for (std::size_t i = 0; i < spec.customers; ++i) {
        const double lambda = rng.gamma(r, alpha);
        const double p = rng.beta(a, b);
        Builder builder(spec, rng);
        const double T = builder.floor_to_grid(spec.age_min + (spec.age_max - spec.age_min) * rng.uniform());
        double t = 0.0;
        for (;;) {
            t += rng.exponential(lambda);
            if (!(t <= T)) break;
            builder.purchase(t);
            if (rng.uniform() < p) break;  // drops out right after this purchase
        }
        out.push_back(builder.finish(T));
    }
    return out;
}

std::vector<SimulatedCustomer> simulate_pareto_nbd(double r, double alpha, double s, double beta,
                                                   const SimulationSpec &spec) {
    check(spec);
    Random rng(spec.seed);
    std::vector<SimulatedCustomer> out;
    out.reserve(spec.customers);
    for (std::size_t i = 0; i < spec.customers; ++i) {
        const double lambda = rng.gamma(r, alpha);
        const double mu = rng.gamma(s, beta);
        const double death = rng.exponential(mu);
        Builder builder(spec, rng);
        const double T = builder.floor_to_grid(spec.age_min + (spec.age_max - spec.age_min) * rng.uniform());
        const double end = std::min(T, death);
        double t = 0.0;
        for (;;) {
            t += rng.exponential(lambda);
            if (!(t <= end)) break;
            builder.purchase(t);
        }
        out.push_back(builder.finish(T));
    }
    return out;
}

}  // namespace personalize::lifetime
