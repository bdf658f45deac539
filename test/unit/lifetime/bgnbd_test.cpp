#include "core/lifetime/bgnbd.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "core/common/error.hpp"
#include "core/lifetime/fit_state.hpp"
#include "core/lifetime/gamma_gamma.hpp"
#include "core/lifetime/pareto_nbd.hpp"
#include "core/lifetime/simulate.hpp"
#include "../common/bytes_test_util.hpp"
#include "lifetime_test_support.hpp"

namespace personalize::lifetime {
namespace {

using namespace test_support;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// r, alpha, a, b, x, t_x, T, then log-likelihood, P(alive), E[X(39) | ...],
// P(X(20) = 0 | ...), P(X(20) = 1 | ...), P(X(20) = 3 | ...): FHL (2005)
// eqs. 6, 10 and 8 (posterior) evaluated by mpmath with 40 digits.
struct Reference {
    double r, alpha, a, b, x, t_x, T, ll, alive, expected, p0, p1, p3;
};
const Reference kReferences[] = {
    {0.243, 4.414, 0.793, 2.426, 0, 0, 38.86, -0.55471327643815845, 1.0, 0.19509805201126264, 0.9118122559432419, 0.074507079363489626, 0.002096136669659444},
    {0.243, 4.414, 0.793, 2.426, 2, 30.43, 38.86, -9.4586063070662712, 0.72657857008067291, 1.2260281747671445, 0.58329997699913474, 0.24963117323745067, 0.040015094626019305},
    {0.243, 4.414, 0.793, 2.426, 7, 35.0, 38.0, -22.012920134497155, 0.86199106509343288, 4.5561852765897226, 0.19052890686482123, 0.17525259112972078, 0.15669640473031345},
    {0.243, 4.414, 0.793, 2.426, 1, 1.71, 38.86, -4.4690932750325885, 0.21210098537737908, 0.20318698707975406, 0.920165514806675, 0.057204761646329063, 0.004611472902639932},
    {0.243, 4.414, 0.793, 2.426, 25, 30.0, 31.0, -37.331092791249254, 0.94176262383607553, 19.411404146851681, 0.058249006131319622, 0.026567720928077654, 0.024866010327136799},
    {0.243, 4.414, 0.793, 2.426, 3, 12.0, 12.0, -9.5939321873262221, 0.84805518298524621, 4.3351703759112116, 0.21594351290367873, 0.19943478776021913, 0.12972424026963458},
    {1.2, 3.0, 3.5, 1.1, 0, 0, 38.86, -3.1628621140196926, 1.0, 0.63114567206666262, 0.62584555205055196, 0.34274625064897443, 0.0033937876691712038},
    {1.2, 3.0, 3.5, 1.1, 2, 30.43, 38.86, -10.585567809141389, 0.22610581112503492, 0.320610329608009, 0.83869157855030406, 0.11703036289093878, 0.0088605037074300598},
    {1.2, 3.0, 3.5, 1.1, 7, 35.0, 38.0, -24.625901968644232, 0.52104939600325116, 1.6405095459214732, 0.49899541080208426, 0.18879593153471253, 0.081414093886199119},
    {1.2, 3.0, 3.5, 1.1, 1, 1.71, 38.86, -2.1793832586303505, 0.002563878470869259, 0.0026761587989297416, 0.99852193172121727, 0.0012134122696066137, 4.202326351884457e-5},
    {1.2, 3.0, 3.5, 1.1, 25, 30.0, 31.0, -41.003300805682576, 0.76637551973199932, 7.3062277649986139, 0.23362865350205656, 0.090653941007478187, 0.066757236655754833},
    {1.2, 3.0, 3.5, 1.1, 3, 12.0, 12.0, -10.333121747966096, 0.4696969696969697, 1.1136070342121029, 0.54367869151293375, 0.22746593236976077, 0.055366821954314497},
    {0.5, 20.0, 1.0, 5.0, 0, 0, 38.86, -0.53971473462566786, 1.0, 0.3074356339334654, 0.86393634054091508, 0.11397158933973538, 0.0032589832658156429},
    {0.5, 20.0, 1.0, 5.0, 2, 30.43, 38.86, -9.0948253962895834, 0.80302684635732323, 1.1710602126157762, 0.58346361255362947, 0.26648446635311664, 0.033840769532419086},
    {0.5, 20.0, 1.0, 5.0, 7, 35.0, 38.0, -22.741946796596725, 0.88075208959638472, 3.6863071131972359, 0.21471509471540545, 0.22987490569370876, 0.1529080749622968},
    {0.5, 20.0, 1.0, 5.0, 1, 1.71, 38.86, -4.8522701173394014, 0.52830838807924544, 0.47263269394144658, 0.81236070447483174, 0.1378893364458691, 0.0095172563268434017},
    {0.5, 20.0, 1.0, 5.0, 25, 30.0, 31.0, -44.683081330931375, 0.94595248809295512, 14.198563913338912, 0.05425254356426629, 0.031933236602646341, 0.03957341638343069},
    {0.5, 20.0, 1.0, 5.0, 3, 12.0, 12.0, -10.340073100220886, 0.875, 2.9305515635070514, 0.28496363867438588, 0.27085796676621374, 0.11835244021756707},
    {3.0, 2.0, 0.2, 0.4, 0, 0, 38.86, -9.051013226488592, 1.0, 2.0197103862212304, 0.30262112596658243, 0.43135619120201383, 0.06693596047640086},
    {3.0, 2.0, 0.2, 0.4, 2, 30.43, 38.86, -14.151373090172189, 0.68795409473755233, 2.8470063795158366, 0.40588666848505161, 0.18803136229824375, 0.10811220914967546},
    {3.0, 2.0, 0.2, 0.4, 7, 35.0, 38.0, -23.422538079680875, 0.93620266087554452, 8.2570618075388151, 0.080032525575310832, 0.076902819386759187, 0.13837856171540751},
    {3.0, 2.0, 0.2, 0.4, 1, 1.71, 38.86, -3.1645500387562652, 0.00013591680374812716, 0.00043268414881160409, 0.99989169779964069, 4.5299560079698266e-5, 1.6844262512189449e-5},
    {3.0, 2.0, 0.2, 0.4, 25, 30.0, 31.0, -32.981395148366624, 0.98096793532416489, 29.496575965703912, 0.019033764174311945, 0.0076816153936370927, 0.0073615230420894765},
    {3.0, 2.0, 0.2, 0.4, 3, 12.0, 12.0, -10.199554374522302, 0.92307692307692307, 12.101530279655844, 0.081422249019615601, 0.066029337598483607, 0.07274312241222298},
};

// E[X(t)] of a new customer (FHL eq. 9), mpmath with 60 digits (a = 1 as the limit).
struct NewReference {
    double r, alpha, a, b, t, expected;
};
const NewReference kNewReferences[] = {
    {0.243, 4.414, 0.793, 2.426, 1000.0, 6.5803916137382321},
    {0.243, 4.414, 0.793, 2.426, 0.01, 0.00055033024992570447},
    {1.2, 3.0, 3.5, 1.1, 0.1, 0.038915038845706339},
    {50.0, 1.0, 0.5, 0.3, 0.4, 3.8093222269043634},
    {50.0, 1.0, 0.5, 0.3, 40.0, 35.115397256706226},
    {0.5, 2.0, 1.0, 0.4, 10.0, 0.84688064593750585},
    {0.5, 2.0, 1.0, 0.4, 0.5, 0.11069911779666257},
    {2.0, 1.0, 5.0, 0.5, 3.0, 1.0367710730758037},
    {0.01, 100.0, 20.0, 30.0, 100000.0, 0.14888799734956157},
    {5.0, 10.0, 0.05, 0.05, 25.0, 6.1731796536308768},
};

double rel(double want) { return 1e-10 * std::max(1.0, std::abs(want)); }

TEST(BgNbd, LogLikelihoodMatchesReference) {
    for (const Reference &k : kReferences) {
        const BgNbdParams p{k.r, k.alpha, k.a, k.b};
        EXPECT_NEAR(BgNbdModel(p).log_likelihood({k.x, k.t_x, k.T}), k.ll, rel(k.ll)) << k.r << " " << k.x;
        BgNbdFitState state;
        state.add(k.x, k.t_x, k.T, 3.0);
        EXPECT_NEAR(state.log_likelihood(p), 3.0 * k.ll, 3.0 * rel(k.ll));
    }
}

TEST(BgNbd, PredictionsMatchReference) {
    for (const Reference &k : kReferences) {
        const BgNbdModel model({k.r, k.alpha, k.a, k.b});
        const LifetimeCustomer c{k.x, k.t_x, k.T};
        SCOPED_TRACE(std::to_string(k.r) + " x=" + std::to_string(k.x));
        EXPECT_NEAR(model.probability_alive(c), k.alive, 1e-12);
        // The a = 1 reference is a limit (mpmath at a = 1 +- 1e-25).
        EXPECT_NEAR(model.expected_purchases(39, c), k.expected, 1e-10 * std::max(1.0, k.expected));
        EXPECT_NEAR(model.probability_purchases(0, 20, c), k.p0, 1e-12);
        EXPECT_NEAR(model.probability_purchases(1, 20, c), k.p1, 1e-12);
        EXPECT_NEAR(model.probability_purchases(3, 20, c), k.p3, 1e-12);
    }
}

TEST(BgNbd, ExpectedPurchasesNewMatchesReference) {
    for (const NewReference &k : kNewReferences) {
        const BgNbdModel model({k.r, k.alpha, k.a, k.b});
        SCOPED_TRACE(std::to_string(k.r) + " a=" + std::to_string(k.a) + " t=" + std::to_string(k.t));
        EXPECT_NEAR(model.expected_purchases_new(k.t), k.expected, 1e-10 * std::max(1.0, k.expected));
        // The quadrature fallback on its own agrees too.
        EXPECT_NEAR(bgnbd_detail::expected_new_quadrature(k.r, k.alpha, k.a, k.b, k.t), k.expected,
                    1e-8 * std::max(1.0, k.expected));
    }
    EXPECT_EQ(BgNbdModel({1, 1, 1, 1}).expected_purchases_new(0.0), 0.0);
}

TEST(BgNbd, SeriesAndQuadratureAgreeOnAGrid) {
    for (double r : {0.05, 0.7, 3.0, 30.0})
        for (double a : {0.1, 0.9, 1.0, 1.1, 4.0})
            for (double b : {0.2, 1.0, 7.0})
                for (double t : {0.05, 0.9, 1.2, 6.0, 300.0}) {
                    const double alpha = 2.0;
                    const double series = bgnbd_detail::expected_new_series(r, alpha, a, b, t);
                    const double quad = bgnbd_detail::expected_new_quadrature(r, alpha, a, b, t);
                    const double used = BgNbdModel({r, alpha, a, b}).expected_purchases_new(t);
                    ASSERT_TRUE(std::isfinite(used) && used > 0) << r << " " << a << " " << b << " " << t;
                    EXPECT_NEAR(quad, used, 1e-7 * used) << r << " " << a << " " << b << " " << t;
                    if (std::isfinite(series)) {
                        EXPECT_EQ(series, used);
                    }
                }
}

TEST(BgNbd, ExpectedPurchasesPathEqualsSingleCalls) {
    std::vector<double> ts;
    for (int k = 0; k <= 60; ++k) ts.push_back(k * 4.345);
    ts.push_back(0.01);
    ts.push_back(5000.0);
    for (const Reference &k : kReferences) {
        const BgNbdModel model({k.r, k.alpha, k.a, k.b});
        const LifetimeCustomer c{k.x, k.t_x, k.T};
        const std::vector<double> path = model.expected_purchases_path(ts, c);
        ASSERT_EQ(path.size(), ts.size());
        for (std::size_t i = 0; i < ts.size(); ++i) {
            const double one = model.expected_purchases(ts[i], c);
            EXPECT_NEAR(path[i], one, 1e-12 * std::max(1.0, one)) << ts[i];
        }
    }
}

TEST(BgNbd, ProbabilitiesSumToOneAndAverageToTheExpectation) {
    const BgNbdModel model({0.243, 4.414, 0.793, 2.426});
    for (const LifetimeCustomer c : {LifetimeCustomer{0, 0, 38.86}, LifetimeCustomer{2, 30.43, 38.86},
                                     LifetimeCustomer{12, 37.0, 38.0}})
        expect_distribution_of_purchases(model, c, 52, 400, 1e-10, 1e-8);
    EXPECT_EQ(model.probability_purchases_new(0, 0), 1.0);
    EXPECT_EQ(model.probability_purchases_new(2, 0), 0.0);
}

TEST(BgNbd, GradientMatchesFiniteDifferences) {
    BgNbdFitState state;
    for (const Reference &k : kReferences) state.add(k.x, k.t_x, k.T, 1.0 + k.x);
    for (const BgNbdParams p : {BgNbdParams{0.243, 4.414, 0.793, 2.426}, BgNbdParams{3.0, 0.5, 12.0, 0.3}})
        expect_gradient_matches_finite_differences(state, p);
}

TEST(BgNbd, SimulationRecoversParameters) {
    // 20,000 customers from known parameters; every estimate within 4
    // standard errors of the truth (and the standard errors small enough for
    // that to mean something).
    const std::vector<double> truth = {0.5, 6.0, 0.9, 3.0};
    const auto state = transaction_state<BgNbdFitState>(
        simulate_bgnbd(truth[0], truth[1], truth[2], truth[3], simulation(20000, 20240601, 20, 60)));
    expect_recovers(state.fit(), truth, 0.2);
}

TEST(BgNbd, WeightedEqualsUnweighted) {
    SimulationSpec spec = simulation(3000, 5);
    spec.granularity = 1.0 / 7;  // days in weekly units: many identical customers
    const auto customers = simulate_bgnbd(0.3, 5.0, 0.8, 2.5, spec);
    const auto raw = transaction_state<BgNbdFitState>(customers);
    const auto grouped = grouped_state<BgNbdFitState>(customers);
    EXPECT_LT(raw.distinct(), customers.size());
    const FitResult a = raw.fit(), b = grouped.fit();
    ASSERT_TRUE(a.converged);
    EXPECT_EQ(a.params, b.params);
    EXPECT_EQ(a.log_likelihood, b.log_likelihood);
    EXPECT_EQ(a.customers, 3000.0);
    EXPECT_EQ(b.customers, 3000.0);
}

TEST(BgNbd, MergeAndSerializationEqualTheWhole) {
    const auto customers = simulate_bgnbd(0.3, 5.0, 0.8, 2.5, simulation(2000, 9));
    BgNbdFitState whole, left, right;
    for (std::size_t i = 0; i < customers.size(); ++i) {
        const auto &c = customers[i];
        whole.add(c.x, c.t_x, c.T);
        (i % 3 == 0 ? left : right).add(c.x, c.t_x, c.T);
    }
    left.merge(round_trip(right));
    const FitResult a = whole.fit(), b = left.fit();
    EXPECT_EQ(a.params, b.params);
    EXPECT_EQ(a.log_likelihood, b.log_likelihood);
    EXPECT_EQ(a.to_json(), b.to_json());
}

TEST(BgNbd, CorruptedStateIsAnError) {
    BgNbdFitState s;
    s.add(1, 2, 3);
    s.add(0, 0, 3, 2.5);
    auto bytes = to_bytes(s);
    for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
        try {
            testing::read_as<BgNbdFitState>(bytes.data(), cut);
            FAIL() << "truncated at " << cut;
        } catch (const Error &e) {
            EXPECT_EQ(e.code(), ErrorCode::DataCorrupted);
        }
    }
    std::vector<unsigned char> bad = bytes;
    bad[0] ^= 0xff;
    EXPECT_THROW(testing::read_as<BgNbdFitState>(bad.data(), bad.size()), Error);
    bad = bytes;
    bad[bad.size() - 1] ^= 0x80;  // the last weight becomes negative
    EXPECT_THROW(testing::read_as<BgNbdFitState>(bad.data(), bad.size()), Error);
    // A Pareto/NBD state is not a BG/NBD state.
    ParetoNbdFitState other;
    other.add(1, 2, 3);
    auto other_bytes = to_bytes(other);
    EXPECT_THROW(testing::read_as<BgNbdFitState>(other_bytes.data(), other_bytes.size()), Error);
    EXPECT_NO_THROW(testing::read_as<ParetoNbdFitState>(other_bytes.data(), other_bytes.size()));
}

// The aggregate's state: the customers and the penalty option.
TEST(BgNbd, PenalizedFitStateRoundTrip) {
    PenalizedFitState<BgNbdFitState> s;
    s.set_penalty(0.25, "bgnbd_fit");
    s.core.add(1, 2, 3);
    s.core.add(0, 0, 3, 2.5);
    const auto bytes = to_bytes(s);
    const auto back = PenalizedFitState<BgNbdFitState>::deserialize(bytes.data(), bytes.size(), "bgnbd_fit");
    EXPECT_TRUE(back.has_penalty);
    EXPECT_EQ(back.penalty, 0.25);
    EXPECT_EQ(back.core.distinct(), 2u);
    EXPECT_EQ(to_bytes(back), bytes);
    testing::expect_truncations_rejected(bytes, [](const unsigned char *data, std::size_t size) {
        PenalizedFitState<BgNbdFitState>::deserialize(data, size, "bgnbd_fit");
    });
    auto bad = bytes;
    bad[15] ^= 0x80;  // the penalty becomes negative
    EXPECT_EQ(testing::error_code([&] { PenalizedFitState<BgNbdFitState>::deserialize(bad.data(), bad.size(), "bgnbd_fit"); }),
              ErrorCode::DataCorrupted);
    // A Gamma-Gamma state inside is not a BG/NBD state.
    PenalizedFitState<GammaGammaFitState> spend;
    spend.core.add(2, 10.0);
    const auto spend_bytes = to_bytes(spend);
    EXPECT_EQ(testing::error_code([&] {
                  PenalizedFitState<BgNbdFitState>::deserialize(spend_bytes.data(), spend_bytes.size(), "bgnbd_fit");
              }),
              ErrorCode::DataCorrupted);
}

TEST(BgNbd, RejectsBadInput) {
    BgNbdFitState s;
    expect_invalid([&] { s.add(-1, 0, 5); }, "bgnbd: \"frequency\" must not be negative");
    expect_invalid([&] { s.add(1.5, 2, 5); }, "\"frequency\" must be a whole number");
    expect_invalid([&] { s.add(1, -2, 5); }, "\"recency\" must not be negative");
    expect_invalid([&] { s.add(1, 2, -5); }, "\"age\" must not be negative");
    expect_invalid([&] { s.add(1, 6, 5); }, "bgnbd: \"recency\" must not exceed \"age\"");
    expect_invalid([&] { s.add(kNaN, 0, 5); }, "\"frequency\" must be a finite number, got NaN");
    expect_invalid([&] { s.add(1, kInf, 5); }, "\"recency\" must be a finite number, got Infinity");
    expect_invalid([&] { s.add(1, 1, -kInf); }, "\"age\" must be a finite number, got -Infinity");
    expect_invalid([&] { s.add(1, 1, 5, 0); }, "\"weight\" must be positive");
    expect_invalid([&] { s.add(1, 1, 5, -2); }, "\"weight\" must be positive");
    expect_invalid([&] { s.add(1, 1, 5, kNaN); }, "\"weight\" must be a finite number");
    expect_invalid([&] { s.add(2, 0, 5); }, "\"recency\" must be positive when \"frequency\" is positive");
    expect_invalid([&] { s.add(0, 1, 5); }, "\"recency\" must be 0 when \"frequency\" is 0");
    EXPECT_TRUE(s.empty());  // rejected rows left no trace
    expect_invalid([&] { s.fit(); }, "bgnbd: cannot fit a model without customers");
    const BgNbdModel model({1, 1, 1, 1});
    expect_invalid([&] { model.expected_purchases(-1, {1, 1, 2}); }, "\"t\"");
    expect_invalid([&] { model.probability_purchases(0.5, 1, {1, 1, 2}); }, "\"n\"");
    expect_invalid([&] { BgNbdModel({1, 0, 1, 1}).probability_alive({1, 1, 2}); }, "parameter \"alpha\"");
    expect_invalid([&] { model.probability_alive({1, 3, 2}); }, "must not exceed");
    FitOptions o;
    o.penalty = -1;
    s.add(1, 1, 2);
    expect_invalid([&] { s.fit(o); }, "\"penalty\"");
    o = FitOptions();
    o.start = {1, 2, 3};
    expect_invalid([&] { s.fit(o); }, "starting point");
}

TEST(BgNbd, NoRepeatPurchasesIsDegenerateNotNaN) {
    BgNbdFitState s;
    for (int i = 0; i < 100; ++i) s.add(0, 0, 10 + i % 30);
    const FitResult fit = s.fit();
    EXPECT_FALSE(fit.converged);
    EXPECT_FALSE(fit.message.empty());
    for (double v : fit.params) EXPECT_TRUE(std::isfinite(v) && v > 0);
    EXPECT_TRUE(std::isfinite(fit.log_likelihood));
    EXPECT_LE(fit.log_likelihood, 0.0);
    const std::string json = fit.to_json();
    EXPECT_EQ(json.find("nan"), std::string::npos);
    EXPECT_EQ(json.find("inf"), std::string::npos);
    EXPECT_NE(json.find("\"converged\":false"), std::string::npos);
    EXPECT_NO_THROW(FitResult::from_json(json, "bgnbd"));
}

TEST(BgNbd, SingleCustomerGivesAFiniteResult) {
    for (const LifetimeCustomer c : {LifetimeCustomer{3, 20, 30}, LifetimeCustomer{0, 0, 30}}) {
        BgNbdFitState s;
        s.add(c.x, c.t_x, c.T);
        expect_finite_fit(s.fit());
    }
}

TEST(BgNbd, PenaltyPullsTowardsOne) {
    const auto s = transaction_state<BgNbdFitState>(simulate_bgnbd(0.3, 8.0, 0.5, 4.0, simulation(500, 3)));
    const FitResult plain = s.fit();
    FitOptions o;
    o.penalty = 0.05;
    const FitResult penalized = s.fit(o);
    ASSERT_TRUE(plain.converged && penalized.converged) << plain.message << penalized.message;
    double sum_plain = 0, sum_pen = 0;
    for (int i = 0; i < 4; ++i) {
        sum_plain += std::pow(std::log(plain.params[i]), 2);
        sum_pen += std::pow(std::log(penalized.params[i]), 2);
    }
    EXPECT_LT(sum_pen, sum_plain);
    EXPECT_LT(penalized.log_likelihood, plain.log_likelihood);
    EXPECT_EQ(penalized.penalty, 0.05);
}

TEST(BgNbd, ExplicitStartGivesTheSameOptimum) {
    const auto s = transaction_state<BgNbdFitState>(simulate_bgnbd(0.3, 8.0, 0.5, 4.0, simulation(1000, 4)));
    const FitResult a = s.fit();
    FitOptions o;
    o.start = {3.0, 0.5, 10.0, 0.2};
    const FitResult b = s.fit(o);
    ASSERT_TRUE(a.converged && b.converged);
    for (int i = 0; i < 4; ++i) EXPECT_NEAR(a.params[i], b.params[i], 1e-5 * a.params[i]);
}

bool always_interrupted() { return true; }

TEST(BgNbd, InterruptCancelsTheFit) {
    BgNbdFitState s;
    s.add(1, 2, 3);
    s.add(0, 0, 3);
    try {
        s.fit(FitOptions(), Interrupt(&always_interrupted));
        FAIL() << "expected Canceled";
    } catch (const Error &e) {
        EXPECT_EQ(e.code(), ErrorCode::Canceled);
    }
}

TEST(BgNbd, ModelInterface) {
    const BgNbdModel model({0.243, 4.414, 0.793, 2.426});
    const LifetimeCustomer c{2, 30.43, 38.86};
    EXPECT_STREQ(model.model(), "bgnbd");
    EXPECT_NEAR(model.expected_purchases(39, c), 1.2260281747671445, 1e-10);
    EXPECT_NEAR(model.probability_any_purchase(20, c), 1.0 - 0.58329997699913474, 1e-12);
    EXPECT_NEAR(model.probability_any_purchase_limit(c), 0.72657857008067291, 1e-12);
    EXPECT_NEAR(model.log_likelihood(c), -9.4586063070662712, 1e-10);
    const auto other = model.with_parameters({1, 2, 3, 4});
    EXPECT_EQ(other->parameters(), (std::vector<double>{1, 2, 3, 4}));
    EXPECT_THROW(model.with_parameters({1, 2, 3}), Error);
}

}  // namespace
}  // namespace personalize::lifetime
