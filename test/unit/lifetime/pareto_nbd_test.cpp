#include "core/lifetime/pareto_nbd.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "core/common/error.hpp"
#include "core/lifetime/simulate.hpp"
#include "../common/bytes_test_util.hpp"
#include "lifetime_test_support.hpp"

namespace personalize::lifetime {
namespace {

using namespace test_support;

double log_likelihood(const ParetoNbdParams &p, double x, double t_x, double T) {
    return ParetoNbdModel(p).log_likelihood({x, t_x, T});
}

// r, alpha, s, beta, x, t_x, T, log-likelihood: Fader & Hardie's note
// (2005) with mpmath's hyp2f1 at 40 digits. Covers alpha < beta, alpha > beta,
// alpha = beta with s = 1, and t_x = T.
struct LlReference {
    double r, alpha, s, beta, x, t_x, T, ll;
};
const LlReference kLl[] = {
    {0.55, 10.58, 0.61, 11.67, 0, 0, 38.86, -0.51702515088753849},
    {0.55, 10.58, 0.61, 11.67, 2, 30.43, 38.86, -9.5619812608429639},
    {0.55, 10.58, 0.61, 11.67, 7, 35.0, 38.0, -21.70386166310065},
    {0.55, 10.58, 0.61, 11.67, 1, 1.71, 38.86, -4.4507725494538166},
    {0.55, 10.58, 0.61, 11.67, 25, 30.0, 31.0, -38.643936272441267},
    {0.55, 10.58, 0.61, 11.67, 3, 12.0, 12.0, -9.4230209656876587},
    {0.8, 20.0, 1.5, 3.0, 0, 0, 38.86, -0.12098982484542525},
    {0.8, 20.0, 1.5, 3.0, 2, 30.43, 38.86, -12.191105375765611},
    {0.8, 20.0, 1.5, 3.0, 7, 35.0, 38.0, -25.084641771137325},
    {0.8, 20.0, 1.5, 3.0, 1, 1.71, 38.86, -4.3541587316285615},
    {0.8, 20.0, 1.5, 3.0, 25, 30.0, 31.0, -45.423370073364988},
    {0.8, 20.0, 1.5, 3.0, 3, 12.0, 12.0, -11.793104949677851},
    {2.0, 1.0, 0.3, 50.0, 0, 0, 38.86, -5.109734596374879},
    {2.0, 1.0, 0.3, 50.0, 2, 30.43, 38.86, -13.073215789538436},
    {2.0, 1.0, 0.3, 50.0, 7, 35.0, 38.0, -22.521871790903373},
    {2.0, 1.0, 0.3, 50.0, 1, 1.71, 38.86, -7.1754151406992127},
    {2.0, 1.0, 0.3, 50.0, 25, 30.0, 31.0, -32.452010522013713},
    {2.0, 1.0, 0.3, 50.0, 3, 12.0, 12.0, -9.7112263708448217},
    {0.3, 5.0, 1.0, 5.0, 0, 0, 38.86, -0.24469370575237114},
    {0.3, 5.0, 1.0, 5.0, 2, 30.43, 38.86, -11.056722681530404},
    {0.3, 5.0, 1.0, 5.0, 7, 35.0, 38.0, -22.979098321368926},
    {0.3, 5.0, 1.0, 5.0, 1, 1.71, 38.86, -4.3057146120426548},
    {0.3, 5.0, 1.0, 5.0, 25, 30.0, 31.0, -37.463001453207351},
    {0.3, 5.0, 1.0, 5.0, 3, 12.0, 12.0, -10.19924751020074},
};

// ... then P(alive), E[X(39) | ...], P(X(20) = 0, 1, 4 | ...).
struct PredictionReference {
    double r, alpha, s, beta, x, t_x, T, alive, expected, p0, p1, p4;
};
const PredictionReference kPredictions[] = {
    {0.55, 10.58, 0.61, 11.67, 0, 0, 38.86, 0.29377395046742047, 0.10582535589031975, 0.95455026996405184, 0.035389766528367693, 0.00046157232456129198},
    {0.55, 10.58, 0.61, 11.67, 2, 30.43, 38.86, 0.86841091713209172, 1.450371374791711, 0.53799450475186663, 0.25395939657375519, 0.020625340961600144},
    {0.55, 10.58, 0.61, 11.67, 7, 35.0, 38.0, 0.95254314286003654, 4.7812241972993206, 0.17051115587115525, 0.17233169324466399, 0.12203732766018471},
    {0.55, 10.58, 0.61, 11.67, 1, 1.71, 38.86, 0.16699455052575494, 0.16953046848789375, 0.93758763640640483, 0.04096778790974848, 0.0015503152234328861},
    {0.8, 20.0, 1.5, 3.0, 0, 0, 38.86, 0.009130531301981781, 0.0029142236243200897, 0.99854876198433424, 0.0011488139652256692, 1.2169951378297958e-5},
    {0.8, 20.0, 1.5, 3.0, 2, 30.43, 38.86, 0.6625255113382278, 0.74011204994515464, 0.70989250585909992, 0.17543524572541927, 0.0096667419431342604},
    {0.8, 20.0, 1.5, 3.0, 7, 35.0, 38.0, 0.86935170290372627, 2.7237100978676465, 0.34959562957941735, 0.19850294845043129, 0.07702019972370042},
    {0.8, 20.0, 1.5, 3.0, 1, 1.71, 38.86, 0.0085547569663505603, 0.0061435163585770896, 0.99729481581657168, 0.001873410168428587, 5.1461528561544108e-5},
    {2.0, 1.0, 0.3, 50.0, 0, 0, 38.86, 0.087727157771566756, 0.16209409232206544, 0.95238664228330684, 0.025580422314245859, 0.0023203951823285029},
    {2.0, 1.0, 0.3, 50.0, 2, 30.43, 38.86, 0.95215282368244314, 3.5185990661769696, 0.25125705448059822, 0.250485390406491, 0.078419099821680691},
    {2.0, 1.0, 0.3, 50.0, 7, 35.0, 38.0, 0.98494028478336072, 8.3659319004193357, 0.052162001378290548, 0.080740313411944924, 0.15109735032017445},
    {2.0, 1.0, 0.3, 50.0, 1, 1.71, 38.86, 0.034732850113095524, 0.096264200662362664, 0.97608507835790988, 0.01019368818691308, 0.0018379648848281394},
};

double rel(double want, double eps = 1e-10) { return eps * std::max(1.0, std::abs(want)); }

TEST(ParetoNbd, LogLikelihoodMatchesReference) {
    for (const LlReference &k : kLl) {
        const ParetoNbdParams p{k.r, k.alpha, k.s, k.beta};
        EXPECT_NEAR(log_likelihood(p, k.x, k.t_x, k.T), k.ll, rel(k.ll))
            << k.r << " " << k.alpha << " " << k.s << " " << k.beta << " x=" << k.x;
        ParetoNbdFitState state;
        state.add(k.x, k.t_x, k.T, 2.0);
        EXPECT_NEAR(state.log_likelihood(p), 2.0 * k.ll, 2.0 * rel(k.ll));
    }
}

TEST(ParetoNbd, LogLikelihoodIsContinuousAcrossAlphaEqualsBeta) {
    const double x = 3, t_x = 20, T = 30;
    const double at = log_likelihood({0.7, 10.0, 0.9, 10.0}, x, t_x, T);
    // The branches (alpha >= beta, alpha < beta) meet without a jump: the
    // second difference across alpha = beta is ~0.
    for (double eps : {1e-12, 1e-9, 1e-6}) {
        const double up = log_likelihood({0.7, 10.0 + eps, 0.9, 10.0}, x, t_x, T);
        const double down = log_likelihood({0.7, 10.0 - eps, 0.9, 10.0}, x, t_x, T);
        EXPECT_NEAR(up + down - 2 * at, 0.0, 1e-13) << eps;
        EXPECT_NEAR(up, at, 0.05 * eps + 1e-13) << eps;
    }
}

TEST(ParetoNbd, PredictionsMatchReference) {
    for (const PredictionReference &k : kPredictions) {
        const ParetoNbdModel model({k.r, k.alpha, k.s, k.beta});
        const LifetimeCustomer c{k.x, k.t_x, k.T};
        SCOPED_TRACE(std::to_string(k.r) + " x=" + std::to_string(k.x));
        EXPECT_NEAR(model.probability_alive(c), k.alive, 1e-12);
        EXPECT_NEAR(model.expected_purchases(39, c), k.expected, rel(k.expected));
        EXPECT_NEAR(model.probability_purchases(0, 20, c), k.p0, 1e-11);
        EXPECT_NEAR(model.probability_purchases(1, 20, c), k.p1, 1e-11);
        EXPECT_NEAR(model.probability_purchases(4, 20, c), k.p4, 1e-11);
    }
    // New customers, t = 10: P(X = 0, 1, 2).
    const ParetoNbdModel p({0.55, 10.58, 0.61, 11.67});
    EXPECT_NEAR(p.probability_purchases_new(0, 10), 0.74144240617097951, 1e-12);
    EXPECT_NEAR(p.probability_purchases_new(1, 10), 0.16242995294367149, 1e-12);
    EXPECT_NEAR(p.probability_purchases_new(2, 10), 0.056701456122095396, 1e-12);
    const ParetoNbdModel q({2.0, 1.0, 0.3, 50.0});
    EXPECT_NEAR(q.probability_purchases_new(0, 10), 0.013066300335868602, 1e-12);
    EXPECT_NEAR(q.probability_purchases_new(2, 10), 0.023561272821107414, 1e-12);
    // E[X(t)] at s = 1 is the limit r beta/alpha ln(1 + t/beta).
    EXPECT_NEAR(ParetoNbdModel({0.5, 4.0, 1.0, 8.0}).expected_purchases_new(12.0), 0.5 * 8.0 / 4.0 * std::log1p(1.5),
                1e-14);
}

TEST(ParetoNbd, ProbabilitiesSumToOneAndAverageToTheExpectation) {
    const ParetoNbdModel model({0.55, 10.58, 0.61, 11.67});
    for (const LifetimeCustomer c : {LifetimeCustomer{0, 0, 38.86}, LifetimeCustomer{2, 30.43, 38.86},
                                     LifetimeCustomer{12, 37.0, 38.0}})
        expect_distribution_of_purchases(model, c, 52, 200, 1e-9, 1e-7);
}

TEST(ParetoNbd, GradientMatchesFiniteDifferences) {
    ParetoNbdFitState state;
    for (const LlReference &k : kLl) state.add(k.x, k.t_x, k.T, 1.0 + k.x);
    for (const ParetoNbdParams p : {ParetoNbdParams{0.55, 10.58, 0.61, 11.67}, ParetoNbdParams{2.0, 1.0, 0.3, 50.0},
                                    ParetoNbdParams{0.8, 20.0, 1.5, 3.0}, ParetoNbdParams{0.4, 7.0, 2.0, 7.0}})
        expect_gradient_matches_finite_differences(state, p);
}

TEST(ParetoNbd, SimulationRecoversParameters) {
    const std::vector<double> truth = {0.6, 8.0, 0.8, 12.0};
    const auto state = transaction_state<ParetoNbdFitState>(
        simulate_pareto_nbd(truth[0], truth[1], truth[2], truth[3], simulation(20000, 77, 20, 60)));
    expect_recovers(state.fit(), truth, 0.35);
}

TEST(ParetoNbd, WeightedMergedAndSerializedEqualTheWhole) {
    SimulationSpec spec = simulation(3000, 11);
    spec.granularity = 1.0 / 7;
    const auto customers = simulate_pareto_nbd(0.5, 10.0, 0.6, 12.0, spec);
    ParetoNbdFitState whole, left, right;
    for (std::size_t i = 0; i < customers.size(); ++i) {
        const auto &c = customers[i];
        whole.add(c.x, c.t_x, c.T);
        (i % 2 ? left : right).add(c.x, c.t_x, c.T);
    }
    const auto grouped = grouped_state<ParetoNbdFitState>(customers);
    left.merge(round_trip(right));
    const FitResult a = whole.fit(), b = grouped.fit(), c = left.fit();
    ASSERT_TRUE(a.converged) << a.message;
    EXPECT_EQ(a.params, b.params);
    EXPECT_EQ(a.params, c.params);
    EXPECT_EQ(a.log_likelihood, c.log_likelihood);
    EXPECT_EQ(a.customers, 3000.0);
}

TEST(ParetoNbd, DegenerateInputsGiveFiniteResults) {
    ParetoNbdFitState none;
    for (int i = 0; i < 100; ++i) none.add(0, 0, 10 + i % 30);
    const FitResult fit = none.fit();
    EXPECT_FALSE(fit.converged);
    expect_finite_fit(fit);

    ParetoNbdFitState one;
    one.add(4, 20, 30);
    expect_finite_fit(one.fit());
}

TEST(ParetoNbd, RejectsBadInput) {
    ParetoNbdFitState s;
    try {
        s.add(2, 5, 4);
        FAIL();
    } catch (const Error &e) {
        EXPECT_EQ(e.code(), ErrorCode::InvalidParameter);
        EXPECT_STREQ(e.what(), "pareto_nbd: \"recency\" must not exceed \"age\"");
    }
    EXPECT_THROW(s.add(2, 0, 4), Error);
    EXPECT_THROW(s.add(2, 1, 4, 0), Error);
    EXPECT_THROW(s.fit(), Error);
    EXPECT_THROW(ParetoNbdModel({1, 1, -1, 1}).probability_alive({1, 1, 2}), Error);
    EXPECT_THROW(ParetoNbdModel({1, 1, 1, 1}).probability_purchases(-1, 1, {1, 1, 2}), Error);
}

TEST(ParetoNbd, ModelInterface) {
    const ParetoNbdModel model({0.55, 10.58, 0.61, 11.67});
    const LifetimeCustomer c{2, 30.43, 38.86};
    EXPECT_STREQ(model.model(), "pareto_nbd");
    EXPECT_NEAR(model.probability_alive(c), 0.86841091713209172, 1e-12);
    EXPECT_NEAR(model.probability_any_purchase(20, c), 1.0 - 0.53799450475186663, 1e-11);
    // The limit: alive and buying before dying.
    const double limit = model.probability_any_purchase_limit(c);
    EXPECT_GT(limit, model.probability_any_purchase(1000, c));
    EXPECT_NEAR(limit, model.probability_any_purchase(1e9, c), 1e-6);
    EXPECT_LT(limit, model.probability_alive(c));
}

}  // namespace
}  // namespace personalize::lifetime
