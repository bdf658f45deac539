#include "core/lifetime/predict.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "core/common/error.hpp"
#include "core/lifetime/bgnbd.hpp"
#include "core/lifetime/gamma_gamma.hpp"
#include "core/lifetime/pareto_nbd.hpp"
#include "core/lifetime/simulate.hpp"
#include "lifetime_test_support.hpp"

namespace personalize::lifetime {
namespace {

using namespace test_support;

constexpr double kInf = std::numeric_limits<double>::infinity();

FitResult fitted_bgnbd() {
    SimulationSpec spec = simulation(3000, 31);
    spec.spend_p = 6;
    spec.spend_q = 4;
    spec.spend_gamma = 15;
    return transaction_state<BgNbdFitState>(simulate_bgnbd(0.4, 5.0, 0.7, 3.0, spec)).fit();
}

TEST(LifetimePredict, ClvWithoutDiscountTelescopes) {
    const BgNbdModel model({0.243, 4.414, 0.793, 2.426});
    const LifetimeCustomer c{2, 30.43, 38.86};
    ClvOptions o;
    o.periods = 12;
    o.period_length = 4.345;  // months in weeks
    EXPECT_NEAR(customer_lifetime_value(model, c, 25.0, o), 25.0 * model.expected_purchases(12 * 4.345, c), 1e-10);
}

TEST(LifetimePredict, ClvDiscountsEachPeriod) {
    const ParetoNbdModel model({0.55, 10.58, 0.61, 11.67});
    const LifetimeCustomer c{5, 30.0, 38.0};
    ClvOptions o;
    o.periods = 6;
    o.period_length = 2.0;
    o.discount_rate = 0.05;
    double want = 0.0;
    for (int k = 1; k <= 6; ++k)
        want += 10.0 * (model.expected_purchases(2.0 * k, c) - model.expected_purchases(2.0 * (k - 1), c)) /
                std::pow(1.05, k);
    EXPECT_NEAR(customer_lifetime_value(model, c, 10.0, o), want, 1e-12);
    o.discount_rate = -0.1;
    EXPECT_THROW(customer_lifetime_value(model, c, 10.0, o), Error);
    o.discount_rate = 0;
    o.periods = 0;
    EXPECT_THROW(customer_lifetime_value(model, c, 10.0, o), Error);
}

TEST(LifetimePredict, NextPurchaseMatchesTheClosedFormForBgNbd) {
    const BgNbdParams p{0.243, 4.414, 0.793, 2.426};
    const BgNbdModel model(p);
    for (const LifetimeCustomer c : {LifetimeCustomer{2, 30.43, 38.86}, LifetimeCustomer{0, 0, 38.86},
                                     LifetimeCustomer{20, 38.0, 38.5}}) {
        const double alive = model.probability_alive(c);
        const double t = expected_time_to_next_purchase(model, c);
        if (alive < 0.5) {
            EXPECT_EQ(t, kInf);
            continue;
        }
        // P(alive) (1 - ((alpha+T)/(alpha+T+t))^(r+x)) = 0.5
        const double exact = (p.alpha + c.T) * (std::pow(1.0 - 0.5 / alive, -1.0 / (p.r + c.x)) - 1.0);
        EXPECT_NEAR(t, exact, 1e-12 * exact) << c.x;
        EXPECT_NEAR(time_to_next_purchase_by_bisection(model, c, 0.5), exact, 1e-8 * exact) << c.x;
        EXPECT_NEAR(model.probability_any_purchase(t, c), 0.5, 1e-12);
    }
    // Dropped out most likely: never.
    EXPECT_EQ(expected_time_to_next_purchase(model, {1, 1.71, 38.86}), kInf);
    EXPECT_LT(model.probability_alive({1, 1.71, 38.86}), 0.5);
    EXPECT_THROW(expected_time_to_next_purchase(model, {1, 1, 2}, 1.0), Error);
}

TEST(LifetimePredict, NextPurchaseForParetoNbdHitsTheProbability) {
    const ParetoNbdModel model({0.55, 10.58, 0.61, 11.67});
    const LifetimeCustomer c{7, 35.0, 38.0};
    const double t = expected_time_to_next_purchase(model, c);
    ASSERT_TRUE(std::isfinite(t));
    EXPECT_NEAR(model.probability_any_purchase(t, c), 0.5, 1e-8);
    EXPECT_LT(model.probability_any_purchase(0.99 * t, c), 0.5);
    // A quarter-probability horizon comes sooner.
    EXPECT_LT(expected_time_to_next_purchase(model, c, 0.25), t);
    // Customers unlikely to buy again: +Infinity, not NaN.
    EXPECT_EQ(expected_time_to_next_purchase(model, {1, 1.71, 38.86}), kInf);
}

TEST(LifetimePredict, BootstrapIsDeterministicAndCentred) {
    const FitResult fit = fitted_bgnbd();
    ASSERT_TRUE(fit.converged && fit.std_errors_available) << fit.message;
    const auto draws = ParameterDraws::sample(fit, 4000, 42);
    const auto again = ParameterDraws::sample(fit, 4000, 42);
    const auto other = ParameterDraws::sample(fit, 4000, 43);
    ASSERT_EQ(draws.size(), 4000u);
    EXPECT_EQ(draws[17], again[17]);
    EXPECT_NE(draws[17], other[17]);
    // The draws' log-parameters have the delta-method covariance.
    const std::size_t k = fit.params.size();
    std::vector<double> mean(k, 0.0);
    for (std::size_t d = 0; d < draws.size(); ++d)
        for (std::size_t i = 0; i < k; ++i) mean[i] += std::log(draws[d][i]) / draws.size();
    for (std::size_t i = 0; i < k; ++i) {
        double var = 0.0;
        for (std::size_t d = 0; d < draws.size(); ++d) var += std::pow(std::log(draws[d][i]) - mean[i], 2);
        var /= draws.size() - 1;
        const double want = fit.cov(i, i) / (fit.params[i] * fit.params[i]);
        EXPECT_NEAR(var, want, 0.1 * want) << fit.names[i];
        EXPECT_NEAR(mean[i], std::log(fit.params[i]), 4 * std::sqrt(want / draws.size())) << fit.names[i];
    }

    const auto model = make_transaction_model(fit);
    const LifetimeCustomer c{3, 25.0, 35.0};
    const Interval a = expected_purchases_interval(*model, draws, 39, c, 0.9);
    const Interval b = expected_purchases_interval(*model, again, 39, c, 0.9);
    EXPECT_EQ(a.lower, b.lower);
    EXPECT_EQ(a.upper, b.upper);
    const double point = model->expected_purchases(39, c);
    EXPECT_LT(a.lower, point);
    EXPECT_GT(a.upper, point);
    const Interval wide = expected_purchases_interval(*model, draws, 39, c, 0.99);
    EXPECT_LT(wide.lower, a.lower);
    EXPECT_GT(wide.upper, a.upper);
}

TEST(LifetimePredict, ClvIntervalWithSpendUncertainty) {
    const FitResult fit = fitted_bgnbd();
    const auto model = make_transaction_model(fit);
    const auto draws = ParameterDraws::sample(fit, 300, 1);
    FitResult spend_fit;
    spend_fit.model = "gamma_gamma";
    spend_fit.names = lifetime_parameter_names("gamma_gamma");
    spend_fit.params = {6.25, 3.74, 15.44};
    spend_fit.covariance = {1.4153554147189267,   -0.23190693534247367, -4.8020666499902589,
                            -0.23190693534247367, 0.08419609080370731,  0.99222374022974935,
                            -4.8020666499902589,  0.99222374022974935,  17.305551283941313};
    const auto spend_draws = ParameterDraws::sample(spend_fit, 300, 2);
    const LifetimeCustomer c{3, 25.0, 35.0};
    const double m = 20.0;
    ClvOptions o;
    o.periods = 12;
    o.period_length = 4.345;
    o.discount_rate = 0.01;
    const double point = customer_lifetime_value(
        *model, c, gamma_gamma_expected_spend(GammaGammaParams::from(spend_fit), c.x, m), o);
    const Interval fixed = clv_interval(*model, draws, c, 20.0, nullptr, o);
    const Interval both = clv_interval(
        *model, draws, c, 0.0,
        [&](std::size_t i) {
            const auto &d = spend_draws[i];
            return gamma_gamma_expected_spend({d[0], d[1], d[2]}, c.x, m);
        },
        o);
    EXPECT_LT(both.lower, point);
    EXPECT_GT(both.upper, point);
    EXPECT_GT(both.upper - both.lower, 0.0);
    EXPECT_GT(fixed.upper, fixed.lower);
}

TEST(LifetimePredict, IntervalsNeedACovariance) {
    FitResult fit = FitResult::from_json("{\"model\":\"bgnbd\",\"params\":{\"r\":1,\"alpha\":2,\"a\":3,\"b\":4}}", "bgnbd");
    try {
        ParameterDraws::sample(fit, 10, 1);
        FAIL();
    } catch (const Error &e) {
        EXPECT_EQ(e.code(), ErrorCode::InvalidParameter);
        EXPECT_NE(std::string(e.what()).find("standard errors unavailable"), std::string::npos);
    }
    EXPECT_THROW(percentile_interval({1, 2, 3}, 1.0), Error);
    const Interval i = percentile_interval({4, 1, 3, 2, 5}, 0.5);
    EXPECT_DOUBLE_EQ(i.lower, 2.0);
    EXPECT_DOUBLE_EQ(i.upper, 4.0);
}

TEST(LifetimePredict, TransactionModelFromJson) {
    const auto bg = make_transaction_model(
        FitResult::from_json("{\"model\":\"bgnbd\",\"params\":{\"r\":0.243,\"alpha\":4.414,\"a\":0.793,\"b\":2.426}}",
                             nullptr));
    EXPECT_STREQ(bg->model(), "bgnbd");
    EXPECT_NEAR(bg->expected_purchases(39, {2, 30.43, 38.86}), 1.2260281747671445, 1e-10);
    const auto pn = make_transaction_model(FitResult::from_json(
        "{\"model\":\"pareto_nbd\",\"params\":{\"r\":0.55,\"alpha\":10.58,\"s\":0.61,\"beta\":11.67}}", nullptr));
    EXPECT_STREQ(pn->model(), "pareto_nbd");
    EXPECT_THROW(make_transaction_model(FitResult::from_json(
                     "{\"model\":\"gamma_gamma\",\"params\":{\"p\":1,\"q\":2,\"gamma\":3}}", nullptr)),
                 Error);
}

TEST(Intervals, DrawLoopsPollForCancellation) {
    const FitResult fit = fitted_bgnbd();
    const auto model = make_transaction_model(fit);
    const Interrupt canceled([] { return true; });
    const auto code_of = [](const std::function<void()> &f) {
        try {
            f();
        } catch (const Error &e) {
            return e.code();
        }
        return ErrorCode::Internal;
    };
    EXPECT_EQ(code_of([&] { ParameterDraws::sample(fit, 1000, 1, canceled); }), ErrorCode::Canceled);
    const ParameterDraws draws = ParameterDraws::sample(fit, 100, 1);
    const LifetimeCustomer c{2, 30, 38};
    EXPECT_EQ(code_of([&] { expected_purchases_interval(*model, draws, 10, c, 0.9, canceled); }), ErrorCode::Canceled);
    EXPECT_EQ(code_of([&] { clv_interval(*model, draws, c, 10, nullptr, ClvOptions{}, 0.9, canceled); }),
              ErrorCode::Canceled);
}

}  // namespace
}  // namespace personalize::lifetime
