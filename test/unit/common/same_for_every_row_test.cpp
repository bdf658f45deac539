// The one rule for aggregate options that come with every row.
#include <gtest/gtest.h>

#include <string>

#include "core/common/error.hpp"
#include "core/common/same_for_every_row.hpp"

namespace personalize {
namespace {

struct Options {
    bool known = false;
    int k = 0;
    double tolerance = 0.0;

    void set(int row_k, double row_tolerance) {
        same_for_every_row(
            known, "fit",
            [&] {
                if (row_k < 1) throw_invalid("fit: \"k\" must be at least 1");
                k = row_k;
                tolerance = row_tolerance;
            },
            {{"k", k == row_k}, {"tolerance", tolerance == row_tolerance}});
    }
};

TEST(SameForEveryRow, KeepsTheFirstRowsOptionsAfterChecking) {
    Options o;
    EXPECT_THROW(o.set(0, 1.0), Error);
    EXPECT_FALSE(o.known);  // a row that fails its check keeps nothing
    o.set(3, 0.5);
    EXPECT_TRUE(o.known);
    EXPECT_EQ(o.k, 3);
    EXPECT_EQ(o.tolerance, 0.5);
    o.set(3, 0.5);  // the same again: fine
}

TEST(SameForEveryRow, NamesTheFirstOptionThatDiffers) {
    Options o;
    o.set(3, 0.5);
    try {
        o.set(3, 0.25);
        FAIL() << "expected an error";
    } catch (const Error &e) {
        EXPECT_EQ(e.code(), ErrorCode::InvalidParameter);
        EXPECT_EQ(std::string(e.what()), "fit: \"tolerance\" must be the same for every row");
        EXPECT_NE(e.hint().find("constant"), std::string::npos);
    }
    try {
        o.set(4, 0.25);
        FAIL() << "expected an error";
    } catch (const Error &e) {
        EXPECT_EQ(std::string(e.what()), "fit: \"k\" must be the same for every row");
    }
    EXPECT_EQ(o.k, 3);  // unchanged
}

}  // namespace
}  // namespace personalize
