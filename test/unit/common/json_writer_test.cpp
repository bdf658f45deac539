#include "core/common/json_writer.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <limits>

using personalize::number_text;
using personalize::put_json_number;
using personalize::put_json_numbers;
using personalize::put_json_string;

namespace {

std::string number(double v) {
    std::string out;
    put_json_number(out, v);
    return out;
}

}  // namespace

TEST(JsonWriter, NumbersAreTheShortestTextThatReadsBack) {
    EXPECT_EQ(number(0.1), "0.1");
    EXPECT_EQ(number(30), "30");
    EXPECT_EQ(number(-2.5e-12), "-2.5e-12");
    const double third = 1.0 / 3.0;
    EXPECT_EQ(std::strtod(number(third).c_str(), nullptr), third);
    const double tiny = std::numeric_limits<double>::denorm_min();
    EXPECT_EQ(std::strtod(number(tiny).c_str(), nullptr), tiny);
}

TEST(JsonWriter, NonFiniteNumbersAreNull) {
    EXPECT_EQ(number(std::nan("")), "null");
    EXPECT_EQ(number(std::numeric_limits<double>::infinity()), "null");
    std::string out;
    put_json_numbers(out, {1, -std::numeric_limits<double>::infinity(), 0.5});
    EXPECT_EQ(out, "[1,null,0.5]");
    out.clear();
    put_json_numbers(out, {});
    EXPECT_EQ(out, "[]");
}

TEST(JsonWriter, StringsEscapeQuotesBackslashesAndControlCharacters) {
    std::string out;
    put_json_string(out, "a \"b\" \\ c\n\x01 £");
    EXPECT_EQ(out, "\"a \\\"b\\\" \\\\ c\\u000a\\u0001 £\"");
}

TEST(JsonWriter, NumberTextSpellsNonFiniteValuesAsPostgreSQLDoes) {
    EXPECT_EQ(number_text(std::nan("")), "NaN");
    EXPECT_EQ(number_text(std::numeric_limits<double>::infinity()), "Infinity");
    EXPECT_EQ(number_text(-std::numeric_limits<double>::infinity()), "-Infinity");
    EXPECT_EQ(number_text(0.5), "0.5");
    EXPECT_EQ(number_text(0.1), "0.10000000000000001");
}
