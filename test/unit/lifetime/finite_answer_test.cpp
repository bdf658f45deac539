#include "core/lifetime/finite_answer.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <string>

#include "core/common/error.hpp"

using namespace personalize;
using namespace personalize::lifetime;

namespace {

FitResult pareto() {
    FitResult fit;
    fit.model = "pareto_nbd";
    fit.names = {"r", "alpha", "s", "beta"};
    fit.params = {1e300, 1e-300, 1e-300, 1e300};
    return fit;
}

std::string message_of(double value, bool infinity_allowed = false) {
    try {
        finite_answer(value, "expected_purchases", "model", pareto(), infinity_allowed);
    } catch (const Error &e) {
        EXPECT_EQ(e.code(), ErrorCode::InvalidParameter);
        return e.what();
    }
    return "no error";
}

}  // namespace

TEST(FiniteAnswer, PassesFiniteValuesAndNamesTheParametersOtherwise) {
    EXPECT_EQ(finite_answer(1.5, "f", "model", pareto()), 1.5);
    EXPECT_EQ(message_of(std::numeric_limits<double>::quiet_NaN()),
              "expected_purchases: \"model\" gives no finite answer (NaN): its pareto_nbd parameters r = 1e+300, "
              "alpha = 1e-300, s = 1e-300, beta = 1e+300 are outside the range its formulas hold");
    EXPECT_NE(message_of(std::numeric_limits<double>::infinity()), "no error");
    EXPECT_NE(message_of(-std::numeric_limits<double>::infinity(), true), "no error");
    EXPECT_NE(message_of(std::numeric_limits<double>::quiet_NaN(), true), "no error");
    EXPECT_EQ(message_of(std::numeric_limits<double>::infinity(), true), "no error");
}
