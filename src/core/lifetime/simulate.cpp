#include "core/lifetime/simulate.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/common/error.hpp"
#include "core/common/random.hpp"

namespace personalize::lifetime {

const char *const kBgNbdParameterNames[4] = {"r", "alpha", "a", "b"};
const char *const kParetoNbdParameterNames[4] = {"r", "alpha", "s", "beta"};

namespace {

void check(const SimulationSpec &spec) {
    const std::string f = spec.function;
    if (!(spec.age_min >= 0) || !(spec.age_max >= spec.age_min) || !std::isfinite(spec.age_max))
        throw_invalid(f + ": ages must satisfy 0 <= age_min <= age_max");
    if (!(spec.granularity >= 0) || !std::isfinite(spec.granularity))
        throw_invalid(f + ": \"granularity\" must be >= 0");
    const double spend[3] = {spec.spend_p, spec.spend_q, spec.spend_gamma};
    if (spec.spend_p > 0)
        for (double v : spend)
            if (!(v >= kMinParameter && v <= kMaxParameter))
                throw_invalid(f + ": the spend parameters must be finite numbers between 1e-06 and 1e+06");
}

// The four model parameters, checked before anything is drawn: a NaN, an
// infinity, a negative or an absurd value would make the draws NaN or the
// purchase loop endless.
void check_parameters(const SimulationSpec &spec, const char *const names[4], const double values[4]) {
    for (int i = 0; i < 4; ++i)
        if (!(values[i] >= kMinParameter && values[i] <= kMaxParameter))
            throw_invalid(std::string(spec.function) + ": parameter " + names[i] +
                          " must be a finite number between 1e-06 and 1e+06");
}

// Counts the simulated purchases against spec.max_purchases and polls for
// cancellation: the inner loops' length comes from the parameters.
class Work {
public:
    explicit Work(const SimulationSpec &spec) : spec_(spec) {}
    void purchase() {
        if (++purchases_ > spec_.max_purchases)
            throw Error(ErrorCode::ProgramLimit,
                        std::string(spec_.function) + ": the simulation needs more than " +
                            std::to_string(spec_.max_purchases) + " purchases",
                        "",
                        "Lower \"customers\", \"age_max\" or the purchase rate (r / alpha) in \"params\".");
        spec_.interrupt.poll();
    }

private:
    const SimulationSpec &spec_;
    std::uint64_t purchases_ = 0;
};

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
std::vector<SimulatedCustomer> simulate(const SimulationSpec &spec, const char *const names[4], const double params[4],
                                        Draw &&one_customer) {
    check(spec);
    check_parameters(spec, names, params);
    // The rows live until the caller has stored them: charged for the whole call.
    if (spec.budget != nullptr) {
        const std::size_t most = (std::size_t(-1) / 4) / sizeof(SimulatedCustomer);  // no overflow below
        spec.budget->charge(std::min(spec.customers, most) * sizeof(SimulatedCustomer), spec.function);
    }
    Random rng(spec.seed);
    Work work(spec);
    std::vector<SimulatedCustomer> out;
    out.reserve(spec.customers);
    for (std::size_t i = 0; i < spec.customers; ++i) {
        spec.interrupt.poll();
        out.push_back(one_customer(rng, work));
    }
    return out;
}

}  // namespace

std::vector<SimulatedCustomer> simulate_bgnbd(double r, double alpha, double a, double b, const SimulationSpec &spec) {
    const double params[4] = {r, alpha, a, b};
    return simulate(spec, kBgNbdParameterNames, params, [&](Random &rng, Work &work) {
        const double lambda = rng.gamma(r, alpha);
        const double p = rng.beta(a, b);
        Builder customer(spec, rng);
        double t = 0.0;
        for (;;) {
            t += rng.exponential(lambda);
            if (!(t <= customer.age())) break;
            work.purchase();
            customer.purchase(t);
            if (rng.uniform() < p) break;  // drops out right after this purchase
        }
        return customer.finish();
    });
}

std::vector<SimulatedCustomer> simulate_pareto_nbd(double r, double alpha, double s, double beta,
                                                   const SimulationSpec &spec) {
    const double params[4] = {r, alpha, s, beta};
    return simulate(spec, kParetoNbdParameterNames, params, [&](Random &rng, Work &work) {
        const double lambda = rng.gamma(r, alpha);
        const double mu = rng.gamma(s, beta);
        const double death = rng.exponential(mu);
        Builder customer(spec, rng);
        const double end = std::min(customer.age(), death);
        double t = 0.0;
        for (;;) {
            t += rng.exponential(lambda);
            if (!(t <= end)) break;
            work.purchase();
            customer.purchase(t);
        }
        return customer.finish();
    });
}

}  // namespace personalize::lifetime
