#include "core/lifetime/gamma_gamma.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "core/common/error.hpp"
#include "core/lifetime/simulate.hpp"
#include "../common/bytes_test_util.hpp"
#include "lifetime_test_support.hpp"

namespace personalize::lifetime {
namespace {

using namespace test_support;

// p, q, gamma, x, m, log-density (FHL 2005), mpmath with 40 digits.
struct Reference {
    double p, q, gamma, x, m, ll;
};
const Reference kReferences[] = {
    {6.25, 3.74, 15.44, 1, 20.0, -3.5941964929491958},  {6.25, 3.74, 15.44, 5, 3.5, -12.295160117019133},
    {6.25, 3.74, 15.44, 40, 100.0, -7.1705650390053302}, {0.5, 0.8, 2.0, 1, 20.0, -5.7943030125272481},
    {0.5, 0.8, 2.0, 5, 3.5, -2.7947547290817767},        {0.5, 0.8, 2.0, 40, 100.0, -8.4557431549445128},
};

TEST(GammaGamma, LogLikelihoodMatchesReference) {
    for (const Reference &k : kReferences) {
        const GammaGammaParams p{k.p, k.q, k.gamma};
        EXPECT_NEAR(gamma_gamma_log_likelihood(p, k.x, k.m), k.ll, 1e-12 * std::max(1.0, std::abs(k.ll)));
        GammaGammaFitState s;
        s.add(k.x, k.m, 4.0);
        EXPECT_NEAR(s.log_likelihood(p), 4.0 * k.ll, 4e-12 * std::max(1.0, std::abs(k.ll)));
    }
}

TEST(GammaGamma, ExpectedSpend) {
    const GammaGammaParams p{6.25, 3.74, 15.44};
    EXPECT_NEAR(gamma_gamma_expected_spend(p, 2, 22.35), 6.25 * (15.44 + 2 * 22.35) / (6.25 * 2 + 3.74 - 1), 1e-12);
    EXPECT_NEAR(gamma_gamma_expected_spend(p, 0, 0), 6.25 * 15.44 / 2.74, 1e-12);
    EXPECT_EQ(gamma_gamma_expected_spend(p, 3, -5.0), gamma_gamma_population_mean(p));  // no usable history
    EXPECT_EQ(gamma_gamma_population_mean({1, 0.9, 1}), std::numeric_limits<double>::infinity());
    EXPECT_EQ(gamma_gamma_expected_spend({0.01, 0.5, 1}, 1, 10), std::numeric_limits<double>::infinity());
    EXPECT_THROW(gamma_gamma_expected_spend(p, 1.5, 10), Error);
    EXPECT_THROW(gamma_gamma_expected_spend(p, 1, std::numeric_limits<double>::quiet_NaN()), Error);
    EXPECT_THROW(gamma_gamma_expected_spend({0, 1, 1}, 1, 1), Error);
}

TEST(GammaGamma, GradientMatchesFiniteDifferences) {
    GammaGammaFitState s;
    for (const Reference &k : kReferences) s.add(k.x, k.m, 1 + k.x);
    for (const GammaGammaParams p : {GammaGammaParams{6.25, 3.74, 15.44}, GammaGammaParams{0.5, 0.8, 2.0}})
        expect_gradient_matches_finite_differences(s, p);
}

TEST(GammaGamma, SimulationRecoversParameters) {
    SimulationSpec spec = simulation(20000, 123, 30, 80);
    spec.spend_p = 6.0;
    spec.spend_q = 4.0;
    spec.spend_gamma = 15.0;
    GammaGammaFitState s;
    for (const auto &c : simulate_bgnbd(1.0, 4.0, 0.5, 5.0, spec)) s.add(c.x, c.m);
    const FitResult fit = s.fit();
    ASSERT_TRUE(fit.converged) << fit.message;
    EXPECT_GT(fit.ignored, 0.0);
    EXPECT_EQ(fit.customers + fit.ignored, 20000.0);
    expect_recovers(fit, {6.0, 4.0, 15.0}, 0.25);
}

TEST(GammaGamma, MergeSerializeAndWeights) {
    GammaGammaFitState whole, a, b, weighted;
    const double rows[][2] = {{1, 10.5}, {2, 20.0}, {1, 10.5}, {3, 7.25}, {0, 0}, {4, 30.0}, {2, 20.0}, {5, -1.0}};
    int i = 0;
    for (const auto &row : rows) {
        whole.add(row[0], row[1]);
        (i++ % 2 ? a : b).add(row[0], row[1]);
    }
    weighted.add(1, 10.5, 2);
    weighted.add(2, 20.0, 2);
    weighted.add(3, 7.25);
    weighted.add(4, 30.0);
    weighted.add(0, 0);
    weighted.add(5, -1.0);
    auto bytes = to_bytes(b);
    a.merge(testing::read_as<GammaGammaFitState>(bytes.data(), bytes.size()));
    EXPECT_EQ(whole.ignored_weight(), 2.0);
    EXPECT_EQ(a.ignored_weight(), 2.0);
    const FitResult x = whole.fit(), y = a.fit(), z = weighted.fit();
    EXPECT_EQ(x.params, y.params);
    EXPECT_EQ(x.params, z.params);
    EXPECT_EQ(x.customers, 6.0);
    EXPECT_EQ(x.ignored, 2.0);
    for (std::size_t cut = 0; cut < bytes.size(); ++cut)
        EXPECT_THROW(testing::read_as<GammaGammaFitState>(bytes.data(), cut), Error) << cut;
}

TEST(GammaGamma, NoRepeatBuyersIsAnError) {
    GammaGammaFitState s;
    s.add(0, 0);
    s.add(2, 0);
    try {
        s.fit();
        FAIL();
    } catch (const Error &e) {
        EXPECT_EQ(e.code(), ErrorCode::InvalidParameter);
        EXPECT_NE(std::string(e.what()).find("without repeat customers"), std::string::npos);
    }
    EXPECT_THROW(s.add(-1, 5), Error);
    EXPECT_THROW(s.add(1, std::numeric_limits<double>::infinity()), Error);
    EXPECT_THROW(s.add(1, 5, 0), Error);
}

TEST(GammaGamma, IdenticalSpendsAreDegenerateNotNaN) {
    // Everyone spends exactly 10 every time: p -> infinity.
    GammaGammaFitState s;
    for (int x = 1; x <= 5; ++x) s.add(x, 10.0, 20);
    expect_finite_fit(s.fit());
}

}  // namespace
}  // namespace personalize::lifetime
