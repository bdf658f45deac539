#include "core/offers/selection.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace personalize::offers {
namespace {

using O = Outcome;
constexpr Stacking X = Stacking::Exclusive, S = Stacking::Stackable;

TEST(HoldoutDraw, IsStableAndUniform) {
    EXPECT_NE(holdout_draw(42, "first_order"), holdout_draw(43, "first_order"));
    EXPECT_NE(holdout_draw(42, "first_order"), holdout_draw(42, "win_back"));
    int below_005 = 0, below_050 = 0;
    double sum = 0.0;
    const int n = 100000;
    for (int i = 1; i <= n; ++i) {
        const double u = holdout_draw(i, "exp");
        ASSERT_GE(u, 0.0);
        ASSERT_LT(u, 1.0);
        below_005 += u < 0.05;
        below_050 += u < 0.5;
        sum += u;
    }
    // Binomial standard deviations: 69 and 158 customers.
    EXPECT_NEAR(below_005, 5000, 350);
    EXPECT_NEAR(below_050, 50000, 800);
    EXPECT_NEAR(sum / n, 0.5, 0.005);
}

TEST(HoldoutDraw, KnownValues) {
    // Pinned: a change of the formula would silently move customers between
    // control and treatment groups of running experiments.
    EXPECT_DOUBLE_EQ(holdout_draw(1, "x"), 0.050564892021659036);
    EXPECT_DOUBLE_EQ(holdout_draw(42, "first_order"), 0.84545669808497304);
    EXPECT_DOUBLE_EQ(holdout_draw(-1, "x"), 0.8005776113135985);
}

TEST(ChooseOffers, ExclusiveFirstTakesAll) {
    auto out = choose_offers({{10, X, false, false}, {20, S, false, false}, {5, S, false, false}}, 0);
    // Priority 5 (stackable) first, then 10 is exclusive after a stackable: outranked, 20 stackable: shown.
    EXPECT_EQ(out, (std::vector<O>{O::Outranked, O::Shown, O::Shown}));
    out = choose_offers({{1, X, false, false}, {2, S, false, false}}, 0);
    EXPECT_EQ(out, (std::vector<O>{O::Shown, O::Outranked}));
}

TEST(ChooseOffers, CapsSkipToTheNext) {
    auto out = choose_offers({{1, X, false, true}, {2, X, false, false}, {3, S, false, false}}, 0);
    EXPECT_EQ(out, (std::vector<O>{O::OverCap, O::Shown, O::Outranked}));
}

TEST(ChooseOffers, HoldoutOccupiesItsSlot) {
    auto out = choose_offers({{1, X, true, false}, {2, X, false, false}}, 0);
    EXPECT_EQ(out, (std::vector<O>{O::Holdout, O::Outranked}));
    out = choose_offers({{1, S, true, false}, {2, S, false, false}}, 0);
    EXPECT_EQ(out, (std::vector<O>{O::Holdout, O::Shown}));
}

TEST(ChooseOffers, LimitAndTies) {
    auto out = choose_offers({{1, S, false, false}, {1, S, false, false}, {1, S, false, false}}, 2);
    EXPECT_EQ(out, (std::vector<O>{O::Shown, O::Shown, O::Outranked}));
    EXPECT_TRUE(choose_offers({}, 0).empty());
    EXPECT_STREQ(outcome_name(O::OverCap), "over_cap");
}

}  // namespace
}  // namespace personalize::offers
