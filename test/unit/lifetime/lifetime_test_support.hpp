// What the lifetime unit tests share: fit states of simulated customers,
// grouping and serialization round trips, the finite-difference gradient
// check, parameter recovery and error expectations.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "core/common/bytes.hpp"
#include "core/common/error.hpp"
#include "core/lifetime/fit.hpp"
#include "core/lifetime/model.hpp"
#include "core/lifetime/simulate.hpp"

namespace personalize::lifetime::test_support {

// Ages uniform in [age_min, age_max], continuous time, no spend.
inline SimulationSpec simulation(std::size_t customers, std::uint64_t seed, double age_min = 30.0,
                                 double age_max = 40.0) {
    SimulationSpec spec;
    spec.customers = customers;
    spec.seed = seed;
    spec.age_min = age_min;
    spec.age_max = age_max;
    return spec;
}

// A BG/NBD or Pareto/NBD fit state of the customers' (frequency x, recency
// t_x, age T).
template <typename State, typename Customers>
State transaction_state(const Customers &customers) {
    State state;
    for (const auto &c : customers) state.add(c.x, c.t_x, c.T);
    return state;
}

// The same customers as distinct (frequency, recency, age) rows weighted by their count.
template <typename State>
State grouped_state(const std::vector<SimulatedCustomer> &customers) {
    std::map<std::tuple<double, double, double>, int> counts;
    for (const SimulatedCustomer &c : customers) ++counts[{c.x, c.t_x, c.T}];
    State state;
    for (const auto &[key, n] : counts) state.add(std::get<0>(key), std::get<1>(key), std::get<2>(key), n);
    return state;
}

// The state written in its byte form and read back.
template <typename State>
State round_trip(const State &state) {
    const std::vector<unsigned char> bytes = to_bytes(state);
    return read_whole(bytes.data(), bytes.size(), "test", State::read);
}

// The analytic gradient of the state's log-likelihood at `params` against
// central differences with a relative step of 1e-6.
template <typename State, typename Params>
void expect_gradient_matches_finite_differences(const State &state, const Params &params) {
    std::vector<double> grad;
    state.log_likelihood(params, &grad);
    const auto v = params.values();
    auto at = [&](auto values) {
        return state.log_likelihood(std::apply([](auto... x) { return Params{x...}; }, values));
    };
    for (std::size_t i = 0; i < v.size(); ++i) {
        auto up = v, down = v;
        const double h = 1e-6 * v[i];
        up[i] += h;
        down[i] -= h;
        const double fd = (at(up) - at(down)) / (2 * h);
        EXPECT_NEAR(grad[i], fd, 1e-6 * std::max(1.0, std::abs(fd))) << "parameter " << i << " at " << v[1];
    }
}

// A converged fit with standard errors below `max_relative_se` of the truth
// (small enough to mean something) and every estimate within 4 of them.
inline void expect_recovers(const FitResult &fit, const std::vector<double> &truth, double max_relative_se) {
    ASSERT_TRUE(fit.converged) << fit.message;
    ASSERT_TRUE(fit.std_errors_available);
    for (std::size_t i = 0; i < truth.size(); ++i) {
        EXPECT_LT(fit.std_errors[i], max_relative_se * truth[i]) << fit.names[i];
        EXPECT_NEAR(fit.params[i], truth[i], 4 * fit.std_errors[i]) << fit.names[i];
    }
}

// P(X(T, T+t] = n | customer) over n = 0..max_n sums to 1 and averages to
// E[X(T, T+t] | customer].
inline void expect_distribution_of_purchases(const TransactionModel &model, const LifetimeCustomer &c, double t,
                                             int max_n, double total_tolerance, double mean_tolerance) {
    double total = 0.0, mean = 0.0;
    for (int n = 0; n <= max_n; ++n) {
        const double pn = model.probability_purchases(n, t, c);
        total += pn;
        mean += n * pn;
    }
    EXPECT_NEAR(total, 1.0, total_tolerance) << c.x;
    EXPECT_NEAR(mean, model.expected_purchases(t, c), mean_tolerance) << c.x;
}

// f throws InvalidParameter with `needle` in its message.
inline void expect_invalid(const std::function<void()> &f, const std::string &needle) {
    try {
        f();
        FAIL() << "expected an error mentioning " << needle;
    } catch (const Error &e) {
        EXPECT_EQ(e.code(), ErrorCode::InvalidParameter);
        EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
}

// A fit that did not fail: finite positive parameters, a finite
// log-likelihood, a message when not converged, JSON that reads back.
inline void expect_finite_fit(const FitResult &fit) {
    for (double v : fit.params) EXPECT_TRUE(std::isfinite(v) && v > 0);
    EXPECT_TRUE(std::isfinite(fit.log_likelihood));
    if (!fit.converged) {
        EXPECT_FALSE(fit.message.empty());
    }
    for (double v : fit.std_errors) EXPECT_TRUE(std::isfinite(v));
    EXPECT_NO_THROW(FitResult::from_json(fit.to_json(), fit.model.c_str()));
}

}  // namespace personalize::lifetime::test_support
