// The simulation checks its parameters, stops past its purchase cap, charges
// its rows to the budget and polls for cancellation.
#include "core/lifetime/simulate.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "core/common/error.hpp"
#include "lifetime_test_support.hpp"

namespace personalize::lifetime {
namespace {

using namespace test_support;

ErrorCode code_of(const std::function<void()> &f) {
    try {
        f();
    } catch (const Error &e) {
        return e.code();
    }
    ADD_FAILURE() << "no error";
    return ErrorCode::Internal;
}

TEST(Simulate, RejectsParametersThatAreNotSensibleFiniteNumbers) {
    const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
    for (double bad : {-1e6, 0.0, nan, inf, 1e7, 1e-7}) {
        EXPECT_EQ(code_of([&] { simulate_bgnbd(bad, 1, 1, 1, simulation(10, 1)); }), ErrorCode::InvalidParameter);
        EXPECT_EQ(code_of([&] { simulate_pareto_nbd(1, 1, 1, bad, simulation(10, 1)); }), ErrorCode::InvalidParameter);
    }
}

TEST(Simulate, StopsPastThePurchaseCap) {
    SimulationSpec spec = simulation(10, 1, 1e6, 1e6);
    spec.max_purchases = 100000;
    EXPECT_EQ(code_of([&] { simulate_bgnbd(1e6, 1e-6, 1e-6, 1e6, spec); }), ErrorCode::ProgramLimit);
    EXPECT_EQ(code_of([&] { simulate_pareto_nbd(1e6, 1e-6, 1e-6, 1e6, spec); }), ErrorCode::ProgramLimit);
}

TEST(Simulate, ChargesItsRowsToTheBudget) {
    MemoryBudget budget(1000 * sizeof(SimulatedCustomer));
    SimulationSpec spec = simulation(1001, 1);
    spec.budget = &budget;
    EXPECT_EQ(code_of([&] { simulate_bgnbd(0.25, 4, 0.8, 2.5, spec); }), ErrorCode::OutOfMemory);
    spec.customers = 1000;
    EXPECT_EQ(simulate_bgnbd(0.25, 4, 0.8, 2.5, spec).size(), 1000u);
}

TEST(Simulate, PollsForCancellation) {
    SimulationSpec spec = simulation(100000, 1);
    spec.interrupt = Interrupt([] { return true; });
    EXPECT_EQ(code_of([&] { simulate_bgnbd(0.25, 4, 0.8, 2.5, spec); }), ErrorCode::Canceled);
}

}  // namespace
}  // namespace personalize::lifetime
