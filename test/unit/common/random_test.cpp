// The RNG's gamma sampler is total: any shape gives an answer at once (NaN
// for a shape that is not a finite number > 0), never a loop or a recursion.
#include "core/common/random.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace personalize {
namespace {

TEST(RandomGamma, ShapesThatAreNotFinitePositiveNumbersGiveNaN) {
    Random rng(7);
    const double inf = std::numeric_limits<double>::infinity();
    for (double shape : {-1e6, -1.0, 0.0, -0.0, inf, -inf, std::numeric_limits<double>::quiet_NaN()})
        EXPECT_TRUE(std::isnan(rng.gamma(shape, 1.0))) << shape;
}

TEST(RandomGamma, ExtremeShapesEndAndStayFinite) {
    Random rng(7);
    for (double shape : {4.9e-324, 1e-300, 1e-9, 0.5, 1.0, 2.5, 1e9, 1e300, 1.7976931348623157e308}) {
        const double g = rng.gamma(shape, 1.0);
        EXPECT_TRUE(std::isfinite(g) && g >= 0.0) << shape << " gave " << g;
    }
}

TEST(RandomGamma, SmallShapesKeepTheirStream) {
    // shape < 1 is Gamma(shape + 1) * u^(1/shape) with the uniform drawn last,
    // so a seed gives the values it always gave.
    Random a(11), b(11);
    const double boosted = a.gamma(0.25, 2.0);
    const double base = b.gamma(1.25, 2.0);
    EXPECT_DOUBLE_EQ(boosted, base * std::pow(b.uniform_open(), 1.0 / 0.25));
    EXPECT_EQ(a.next(), b.next());
}

}  // namespace
}  // namespace personalize
