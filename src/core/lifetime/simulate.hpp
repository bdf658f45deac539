// Synthetic customers drawn from the lifetime models, deterministic given a
// seed (Random): for tests, benchmarks and demos.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace personalize::lifetime {

struct SimulatedCustomer {
    double x;    // repeat purchases
    double t_x;  // recency
    double T;    // age
    double m;    // mean value of the repeat purchases (0 when x = 0)
};

struct SimulationSpec {
    std::size_t customers = 1000;
    double age_min = 30.0;       // ages uniform in [age_min, age_max]
    double age_max = 40.0;
    // 0: continuous time. > 0: purchase times and ages are floored to this
    // grid (e.g. 1/7 for days in weekly units) and purchases in one grid cell
    // are one purchase, as customer_summary() counts days.
    double granularity = 0.0;
    // Gamma-Gamma spend parameters (p, q, gamma); spend is drawn when p > 0.
    double spend_p = 0.0, spend_q = 0.0, spend_gamma = 0.0;
    std::uint64_t seed = 1;
};

// BG/NBD: lambda ~ Gamma(r, alpha), p ~ Beta(a, b); dropout after each purchase.
std::vector<SimulatedCustomer> simulate_bgnbd(double r, double alpha, double a, double b, const SimulationSpec &spec);
// Pareto/NBD: lambda ~ Gamma(r, alpha), lifetime ~ Exp(mu), mu ~ Gamma(s, beta).
std::vector<SimulatedCustomer> simulate_pareto_nbd(double r, double alpha, double s, double beta,
                                                   const SimulationSpec &spec);

}  // namespace personalize::lifetime
