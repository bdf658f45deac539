#include "core/customers/summary.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/common/error.hpp"
#include "../common/bytes_test_util.hpp"

namespace personalize::customers {
namespace {

constexpr std::int64_t kDay = 86400LL * 1000000LL;

SummaryParams weekly(std::int32_t as_of_day) { return {as_of_day * kDay, as_of_day, 7.0}; }

void add_on(CustomerSummary &s, const SummaryParams &p, std::int32_t day, double amount, std::int64_t offset = 0) {
    s.add(p, day * kDay + offset, day, amount);
}

// CDNOW sample customer 1: purchases on days 0, 17 and 213 of 1997, as_of day 272.
TEST(CustomerSummary, MatchesCdnowCustomerOne) {
    CustomerSummary s;
    const auto p = weekly(272);
    add_on(s, p, 0, 29.33);
    add_on(s, p, 17, 29.73);
    add_on(s, p, 213, 14.96);
    const SummaryResult r = s.result();
    EXPECT_EQ(r.orders, 3);
    EXPECT_EQ(r.frequency, 2);
    EXPECT_NEAR(r.recency, 30.43, 0.005);
    EXPECT_NEAR(r.age, 38.86, 0.005);
    EXPECT_NEAR(r.monetary, 22.345, 1e-9);
    EXPECT_NEAR(r.total, 74.02, 1e-9);
    EXPECT_EQ(r.first_order_at, 0);
    EXPECT_EQ(r.last_order_at, 213 * kDay);
}

TEST(CustomerSummary, SameDayOrdersAreOnePurchase) {
    CustomerSummary s;
    const auto p = weekly(100);
    add_on(s, p, 10, 5.0, 1);
    add_on(s, p, 10, 7.0, 2);
    add_on(s, p, 20, 4.0, 3);
    add_on(s, p, 20, 6.0, 4);
    const SummaryResult r = s.result();
    EXPECT_EQ(r.orders, 4);
    EXPECT_EQ(r.frequency, 1);
    EXPECT_DOUBLE_EQ(r.monetary, 10.0);  // the repeat day's orders summed
    EXPECT_DOUBLE_EQ(r.total, 22.0);
}

TEST(CustomerSummary, SingleDayHasNoRepeatValue) {
    CustomerSummary s;
    const auto p = weekly(30);
    add_on(s, p, 3, 12.5);
    const SummaryResult r = s.result();
    EXPECT_EQ(r.frequency, 0);
    EXPECT_EQ(r.recency, 0.0);
    EXPECT_DOUBLE_EQ(r.age, 27.0 / 7.0);
    EXPECT_EQ(r.monetary, 0.0);
}

TEST(CustomerSummary, OutOfOrderInputGivesSameResult) {
    const auto p = weekly(400);
    const std::vector<std::pair<int, double>> rows = {{5, 1.0}, {300, 2.0}, {40, 4.0}, {5, 8.0}, {120, 16.0}};
    CustomerSummary forward, backward;
    for (const auto &[day, amount] : rows) add_on(forward, p, day, amount);
    for (auto it = rows.rbegin(); it != rows.rend(); ++it) add_on(backward, p, it->first, it->second);
    const SummaryResult a = forward.result(), b = backward.result();
    EXPECT_EQ(a.frequency, 3);
    EXPECT_EQ(a.frequency, b.frequency);
    EXPECT_EQ(a.monetary, b.monetary);
    EXPECT_DOUBLE_EQ(a.monetary, 22.0 / 3.0);
    EXPECT_EQ(a.first_order_at, b.first_order_at);
}

TEST(CustomerSummary, MergeEqualsSingleState) {
    const auto p = weekly(400);
    CustomerSummary whole, left, right;
    for (int day = 0; day < 50; ++day) {
        const double amount = 1.0 + day % 7;
        add_on(whole, p, day * 3, amount);
        add_on(day % 2 ? left : right, p, day * 3, amount);
    }
    add_on(whole, p, 9, 100.0);
    add_on(left, p, 9, 100.0);  // a day both halves saw
    left.merge(right);
    const SummaryResult a = whole.result(), b = left.result();
    EXPECT_EQ(a.orders, b.orders);
    EXPECT_EQ(a.frequency, b.frequency);
    EXPECT_DOUBLE_EQ(a.monetary, b.monetary);
    EXPECT_DOUBLE_EQ(a.total, b.total);
    EXPECT_EQ(a.recency, b.recency);
}

TEST(CustomerSummary, MergeIntoEmpty) {
    const auto p = weekly(10);
    CustomerSummary empty, one;
    add_on(one, p, 2, 3.0);
    empty.merge(one);
    EXPECT_EQ(empty.result().orders, 1);
    one.merge(CustomerSummary{});
    EXPECT_EQ(one.result().orders, 1);
}

TEST(CustomerSummary, NegativeAmountsAreSummedIntoTheirDay) {
    const auto p = weekly(100);
    CustomerSummary s;
    add_on(s, p, 1, 50.0);
    add_on(s, p, 8, 30.0);
    add_on(s, p, 8, -30.0);  // returned the same day
    const SummaryResult r = s.result();
    EXPECT_EQ(r.frequency, 1);
    EXPECT_DOUBLE_EQ(r.monetary, 0.0);
    EXPECT_DOUBLE_EQ(r.total, 50.0);
}

TEST(CustomerSummary, RejectsBadArguments) {
    const auto p = weekly(100);
    CustomerSummary s;
    EXPECT_THROW(add_on(s, p, 1, std::numeric_limits<double>::quiet_NaN()), Error);
    EXPECT_THROW(add_on(s, p, 1, std::numeric_limits<double>::infinity()), Error);
    EXPECT_THROW(add_on(s, p, 101, 1.0), Error);  // after as_of
    EXPECT_THROW(s.add({p.as_of, p.as_of_day, 0.0}, 0, 0, 1.0), Error);
    EXPECT_THROW(s.add({p.as_of, p.as_of_day, -7.0}, 0, 0, 1.0), Error);
    add_on(s, p, 1, 1.0);
    try {
        add_on(s, weekly(200), 2, 1.0);
        FAIL() << "a different as_of must be rejected";
    } catch (const Error &e) {
        EXPECT_EQ(e.code(), ErrorCode::InvalidParameter);
        EXPECT_NE(std::string(e.what()).find("\"as_of\""), std::string::npos);
    }
    EXPECT_THROW(s.add({p.as_of, p.as_of_day, 1.0}, 0, 0, 1.0), Error);  // unit differs
    EXPECT_EQ(s.result().orders, 1);  // rejected rows left no trace
}

TEST(CustomerSummary, SerializationRoundTrips) {
    const auto p = weekly(500);
    CustomerSummary s;
    for (int day = 0; day < 100; day += 3) add_on(s, p, day, day * 0.25);
    auto bytes = to_bytes(s);
    const CustomerSummary back = CustomerSummary::deserialize(bytes.data(), bytes.size());
    const SummaryResult a = s.result(), b = back.result();
    EXPECT_EQ(a.orders, b.orders);
    EXPECT_EQ(a.frequency, b.frequency);
    EXPECT_EQ(a.monetary, b.monetary);
    EXPECT_EQ(a.age, b.age);
}

TEST(CustomerSummary, CorruptedStateIsAnError) {
    const auto p = weekly(500);
    CustomerSummary s;
    add_on(s, p, 1, 1.0);
    add_on(s, p, 2, 1.0);
    auto bytes = to_bytes(s);
    testing::expect_truncations_rejected(bytes, CustomerSummary::deserialize);
    auto swapped = bytes;  // the two purchase days out of order
    std::swap_ranges(swapped.end() - 24, swapped.end() - 12, swapped.end() - 12);
    EXPECT_EQ(testing::error_code([&] { CustomerSummary::deserialize(swapped.data(), swapped.size()); }),
              ErrorCode::DataCorrupted);
    bytes[0] ^= 0xff;
    EXPECT_EQ(testing::error_code([&] { CustomerSummary::deserialize(bytes.data(), bytes.size()); }),
              ErrorCode::DataCorrupted);
}

}  // namespace
}  // namespace personalize::customers
