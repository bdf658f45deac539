#include "core/lifetime/data.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "core/common/error.hpp"
#include "../common/bytes_test_util.hpp"

namespace personalize::lifetime {
namespace {

TEST(LifetimeData, AggregatesIdenticalCustomers) {
    RfAccumulator acc("bgnbd");
    acc.add(0, 0, 10);
    acc.add(0, -0.0, 10, 2.0);  // -0 is 0
    acc.add(2, 5, 10);
    acc.add(1, 3, 12, 0.5);
    acc.add(2, 5, 10, 4);
    EXPECT_EQ(acc.distinct(), 3u);
    EXPECT_DOUBLE_EQ(acc.total_weight(), 8.5);
    const std::vector<RfRow> rows = acc.rows();
    ASSERT_EQ(rows.size(), 3u);
    EXPECT_EQ(rows[0].x, 0);
    EXPECT_EQ(rows[0].w, 3.0);
    EXPECT_EQ(rows[1].x, 1);
    EXPECT_EQ(rows[2].w, 5.0);
    EXPECT_GT(acc.memory_bytes(), 0u);
}

TEST(LifetimeData, MergeAndSerializationRoundTrip) {
    RfAccumulator a("pareto_nbd"), b("pareto_nbd");
    a.add(1, 2, 3);
    a.add(0, 0, 3);
    b.add(1, 2, 3, 2);
    b.add(5, 2.5, 9);
    a.merge(b);
    EXPECT_EQ(a.distinct(), 3u);
    auto bytes = to_bytes(a);
    const RfAccumulator back = testing::read_as<RfAccumulator>(bytes.data(), bytes.size(), "pareto_nbd");
    const auto x = a.rows(), y = back.rows();
    ASSERT_EQ(x.size(), y.size());
    for (std::size_t i = 0; i < x.size(); ++i) {
        EXPECT_EQ(x[i].x, y[i].x);
        EXPECT_EQ(x[i].t_x, y[i].t_x);
        EXPECT_EQ(x[i].T, y[i].T);
        EXPECT_EQ(x[i].w, y[i].w);
    }
    EXPECT_THROW(testing::read_as<RfAccumulator>(bytes.data(), bytes.size(), "bgnbd"), Error);
    EXPECT_THROW(testing::read_as<RfAccumulator>(nullptr, 0, "pareto_nbd"), Error);
    RfAccumulator empty("bgnbd");
    auto none = to_bytes(empty);
    EXPECT_TRUE(testing::read_as<RfAccumulator>(none.data(), none.size(), "bgnbd").empty());
}

TEST(LifetimeData, DeserializeRejectsInvalidRows) {
    RfAccumulator a("bgnbd");
    a.add(1, 2, 3);
    a.add(2, 2, 3);
    auto bytes = to_bytes(a);
    // Swap the two rows: no longer sorted.
    std::vector<unsigned char> swapped = bytes;
    const std::size_t head = bytes.size() - 2 * 4 * sizeof(double);
    std::copy(bytes.begin() + head, bytes.begin() + head + 32, swapped.begin() + head + 32);
    std::copy(bytes.begin() + head + 32, bytes.end(), swapped.begin() + head);
    EXPECT_THROW(testing::read_as<RfAccumulator>(swapped.data(), swapped.size(), "bgnbd"), Error);
    // Recency beyond age.
    std::vector<unsigned char> bad = bytes;
    const double big = 99.0;
    std::memcpy(bad.data() + head + sizeof(double), &big, sizeof big);
    EXPECT_THROW(testing::read_as<RfAccumulator>(bad.data(), bad.size(), "bgnbd"), Error);
    // Extra bytes.
    std::vector<unsigned char> longer = bytes;
    longer.push_back(0);
    EXPECT_THROW(testing::read_as<RfAccumulator>(longer.data(), longer.size(), "bgnbd"), Error);
}

TEST(LifetimeData, WeightOverflowIsAnErrorAndLeavesNoTrace) {
    RfAccumulator a("bgnbd");
    a.add(1, 2, 3, 1e308);
    EXPECT_THROW(a.add(1, 2, 3, 1e308), Error);
    EXPECT_EQ(a.rows()[0].w, 1e308);
    SpendAccumulator s;
    s.add(0, 0, 1e308);
    EXPECT_THROW(s.add(0, 0, 1e308), Error);
    EXPECT_EQ(s.ignored_weight(), 1e308);
}

TEST(LifetimeData, SpendAccumulatorIgnoresNonRepeatBuyers) {
    SpendAccumulator s;
    s.add(0, 0);
    s.add(0, 12);   // first purchase only
    s.add(3, 0);    // everything returned
    s.add(3, -4);
    s.add(3, 12.5, 2);
    s.add(3, 12.5);
    EXPECT_EQ(s.distinct(), 1u);
    EXPECT_EQ(s.ignored_weight(), 4.0);
    EXPECT_EQ(s.total_weight(), 3.0);
    EXPECT_THROW(s.add(1.5, 3), Error);
    EXPECT_THROW(s.add(1, 3, -1), Error);
}

}  // namespace
}  // namespace personalize::lifetime
