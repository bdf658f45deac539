#include "core/lifetime/math.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/common/random.hpp"

namespace personalize::lifetime {
namespace {

namespace lm = personalize::lifetime::math;

// ln 2F1(1, c; d; z) and its partial derivatives, from mpmath (40 digits).
struct HypCase {
    double c, d, z, value, dc, dd, dz;
};
const HypCase kHypCases[] = {
    {2.55, 4.15, 0.5, 0.39068372999403814, 0.17387295697284199, -0.11133608457610065, 1.0250857686987107},
    {0.5, 1.1, 0.99, 1.9835782847996731, 4.2317529485614859, -2.9738759234613559, 41.288647162949806},
    {0.5, 1.1, 0.9999, 3.8532979847963395, 8.6713906528223276, -7.1763967674101409, 4021.1117829694496},
    {1.6, 1.9, 0.999, 5.1634672965997891, 5.6131572126504684, -5.3885040822214878, 704.25389728268151},
    {50.5, 51.9, 0.999, 4.3574109737833801, 1.1405272828202189, -1.124908779816001, 201.80787527409991},
    {1.3, 100, 0.99, 0.013083877950006252, 0.010130637149164126, -0.00013301467587558313, 0.013438987817024377},
    {0.01, 0.02, 0.3, 0.19353878258181795, 17.657845495279253, -8.8591864006016843, 0.83544228707707597},
    {200.0, 201.5, 0.5, 0.68576619580231382, 0.0049028883205653893, -0.0048665646228605589, 1.970724838370678},
    {1.0, 2.0, 1e-08, 5.0000000208333336e-9, 5.0000000250000003e-9, -2.5000000152777779e-9, 0.5000000041666667},
    {3.0, 3.5, 0.999999, 7.9862500491594087, 10.951202831750753, -10.771203011052691, 500847.76853302765},
};

TEST(LifetimeMath, Hypergeometric2F1MatchesMpmath) {
    for (const HypCase &k : kHypCases) {
        const lm::LogHyp h = lm::log_hyp2f1_1(k.c, k.d, k.z);
        const double tol = 1e-12 * std::max(1.0, std::abs(k.value));
        EXPECT_NEAR(h.value, k.value, tol) << k.c << " " << k.d << " " << k.z;
        EXPECT_NEAR(lm::log_hyp2f1_1_value(k.c, k.d, k.z), k.value, tol);
        EXPECT_NEAR(h.dc, k.dc, 1e-9 * std::max(1.0, std::abs(k.dc))) << k.c << " " << k.d << " " << k.z;
        EXPECT_NEAR(h.dd, k.dd, 1e-9 * std::max(1.0, std::abs(k.dd))) << k.c << " " << k.d << " " << k.z;
        EXPECT_NEAR(h.dz, k.dz, 1e-9 * std::max(1.0, std::abs(k.dz))) << k.c << " " << k.d << " " << k.z;
    }
    const lm::LogHyp zero = lm::log_hyp2f1_1(0.7, 2.0, 0.0);
    EXPECT_EQ(zero.value, 0.0);
    EXPECT_DOUBLE_EQ(zero.dz, 0.35);
}

TEST(LifetimeMath, Hypergeometric2F1StaysFiniteNearOne) {
    for (double z : {0.9, 0.999999, 1.0 - 1e-10, 1.0 - 1e-14}) {
        for (double c : {1e-6, 0.5, 5.0, 1000.0}) {
            const lm::LogHyp h = lm::log_hyp2f1_1(c, c + 0.5, z);
            EXPECT_TRUE(std::isfinite(h.value) && std::isfinite(h.dc) && std::isfinite(h.dd) && std::isfinite(h.dz))
                << c << " " << z;
            EXPECT_GE(h.value, 0.0);
        }
    }
}

TEST(LifetimeMath, ShiftedGammaMatchesLgamma) {
    const std::vector<double> xs = {0, 1, 2, 7, 63, 64, 65, 200, 1000, 100000};
    for (double v : {1e-8, 0.3, 2.5, 1e6}) {
        std::vector<double> lg(xs.size()), dg(xs.size());
        lm::shifted_gamma(v, xs, lg.data(), dg.data());
        for (std::size_t i = 0; i < xs.size(); ++i) {
            const double want = std::lgamma(v + xs[i]) - std::lgamma(v);
            EXPECT_NEAR(lg[i], want, 1e-12 * std::max(1.0, std::abs(std::lgamma(v + xs[i])))) << v << " " << xs[i];
            const double want_dg = lm::digamma(v + xs[i]) - lm::digamma(v);
            EXPECT_NEAR(dg[i], want_dg, 1e-10 * std::max(1.0, std::abs(lm::digamma(v)))) << v << " " << xs[i];
        }
    }
}

TEST(LifetimeMath, LogSpaceHelpers) {
    EXPECT_DOUBLE_EQ(lm::log_add_exp(std::log(2.0), std::log(3.0)), std::log(5.0));
    EXPECT_EQ(lm::log_add_exp(1.5, -lm::kInf), 1.5);
    EXPECT_NEAR(lm::log1mexp(-1e-20), std::log(1e-20), 1e-12);
    EXPECT_NEAR(lm::log1mexp(-50.0), -std::exp(-50.0), 1e-30);
    EXPECT_DOUBLE_EQ(lm::one_minus_exp_over(0.0, 2.0), 2.0);
    EXPECT_NEAR(lm::one_minus_exp_over(1e-12, 2.0), 2.0, 1e-11);
    EXPECT_NEAR(lm::one_minus_exp_over(0.5, 2.0), (1 - std::exp(-1.0)) / 0.5, 1e-15);
}

TEST(LifetimeMath, RandomIsDeterministicAndSane) {
    Random a(42), b(42), c(43);
    for (int i = 0; i < 100; ++i) {
        const auto va = a.next();
        EXPECT_EQ(va, b.next());
        EXPECT_NE(va, c.next());
    }
    Random rng(7);
    double sum = 0, sum2 = 0, gsum = 0, bsum = 0;
    const int n = 200000;
    for (int i = 0; i < n; ++i) {
        const double z = rng.normal();
        sum += z;
        sum2 += z * z;
        gsum += rng.gamma(0.4, 2.0);
        bsum += rng.beta(0.8, 2.4);
        const double u = rng.uniform();
        ASSERT_TRUE(u >= 0 && u < 1);
    }
    EXPECT_NEAR(sum / n, 0.0, 0.01);
    EXPECT_NEAR(sum2 / n, 1.0, 0.01);
    EXPECT_NEAR(gsum / n, 0.2, 0.003);
    EXPECT_NEAR(bsum / n, 0.25, 0.003);
}

}  // namespace
}  // namespace personalize::lifetime
