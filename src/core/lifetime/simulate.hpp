// Synthetic customers drawn from the lifetime models, deterministic given a
// seed (Random): for tests, benchmarks and demos.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/common/interrupt.hpp"
#include "core/common/memory_budget.hpp"

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
    // Bounds on the work of one simulation: the rows are charged to `budget`
    // (OutOfMemory past its limit; none: unlimited), every loop polls
    // `interrupt`, and more than `max_purchases` simulated purchases in all
    // are a ProgramLimit error (a huge purchase rate or age would otherwise
    // run for hours). `function` starts the error messages.
    MemoryBudget *budget = nullptr;
    Interrupt interrupt;
    std::uint64_t max_purchases = 100000000;
    const char *function = "simulate";
};

// Every model parameter is a finite number in [kMinParameter, kMaxParameter]
// (InvalidParameter otherwise, naming it).
constexpr double kMinParameter = 1e-6;
constexpr double kMaxParameter = 1e6;

// The names of the four parameters of "bgnbd" / "pareto_nbd", in order.
extern const char *const kBgNbdParameterNames[4];
extern const char *const kParetoNbdParameterNames[4];

// BG/NBD: lambda ~ Gamma(r, alpha), p ~ Beta(a, b); dropout after each purchase.
std::vector<SimulatedCustomer> simulate_bgnbd(double r, double alpha, double a, double b, const SimulationSpec &spec);
// Pareto/NBD: lambda ~ Gamma(r, alpha), lifetime ~ Exp(mu), mu ~ Gamma(s, beta).
std::vector<SimulatedCustomer> simulate_pareto_nbd(double r, double alpha, double s, double beta,
                                                   const SimulationSpec &spec);

}  // namespace personalize::lifetime
