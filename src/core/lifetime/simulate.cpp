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

// One customer: draws her spend rate (when spend is simulated) and her age T,
// then turns purchase times after the first purchase (at 0) into (x, t_x, T, m).
class Builder {
public:
    Builder(const SimulationSpec &spec, Random &rng) : spec_(spec), rng_(rng) {
        if (spec.spend_p > 0) nu_ = rng_.gamma(spec.spend_q, spec.spend_gamma);
        T_ = floor_to_grid(spec.age_min + (spec.age_max - spec.age_min) * rng_.uniform());
    }
    double age() const { return T_; }
    void purchase(double t) {
        const double cell = floor_to_grid(t);
        if (spec_.granularity > 0 && cell == last_) return;  // same day as the previous purchase
        if (spec_.granularity > 0 && cell == 0.0) return;    // same day as the first purchase
        last_ = cell;
        ++x_;
        if (spec_.spend_p > 0) spend_ += rng_.gamma(spec_.spend_p, nu_);
    }
    SimulatedCustomer finish() const {
        return {static_cast<double>(x_), x_ > 0 ? last_ : 0.0, T_, x_ > 0 ? spend_ / x_ : 0.0};
    }

private:
    double floor_to_grid(double t) const {
        return spec_.granularity > 0 ? std::floor(t / spec_.granularity) * spec_.granularity : t;
    }

    const SimulationSpec &spec_;
    Random &rng_;
    double nu_ = 0.0;
    double T_ = 0.0;
    double last_ = 0.0;
    long x_ = 0;
    double spend_ = 0.0;
};

// spec.customers customers from one stream, each drawn by one_customer(rng).
template <typename Draw>
std::vector<SimulatedCustomer> simulate(const SimulationSpec &spec, Draw &&one_customer) {
    check(spec);
    Random rng(spec.seed);
    std::vector<SimulatedCustomer> out;
    out.reserve(spec.customers);
    for (std::size_t i = 0; i < spec.customers; ++i) out.push_back(one_customer(rng));
    return out;
}

}  // namespace

std::vector<SimulatedCustomer> simulate_bgnbd(double r, double alpha, double a, double b, const SimulationSpec &spec) {
    return simulate(spec, [&](Random &rng) {
        const double lambda = rng.gamma(r, alpha);
        const double p = rng.beta(a, b);
        Builder customer(spec, rng);
        double t = 0.0;
        for (;;) {
            t += rng.exponential(lambda);
            if (!(t <= customer.age())) break;
            customer.purchase(t);
            if (rng.uniform() < p) break;  // drops out right after this purchase
        }
        return customer.finish();
    });
}

std::vector<SimulatedCustomer> simulate_pareto_nbd(double r, double alpha, double s, double beta,
                                                   const SimulationSpec &spec) {
    return simulate(spec, [&](Random &rng) {
        const double lambda = rng.gamma(r, alpha);
        const double mu = rng.gamma(s, beta);
        const double death = rng.exponential(mu);
        Builder customer(spec, rng);
        const double end = std::min(customer.age(), death);
        double t = 0.0;
        for (;;) {
            t += rng.exponential(lambda);
            if (!(t <= end)) break;
            customer.purchase(t);
        }
        return customer.finish();
    });
}

}  // namespace personalize::lifetime
