#include "core/lifetime/data.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "core/common/error.hpp"

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
    std::vector<unsigned char> bytes(a.serialized_size());
    a.serialize(bytes.data(), bytes.size());
    const RfAccumulator back = RfAccumulator::deserialize("pareto_nbd", bytes.data(), bytes.size());
    const auto x = a.rows(), y = back.rows();
    ASSERT_EQ(x.size(), y.size());
    for (std::size_t i = 0; i < x.size(); ++i) {
        EXPECT_EQ(x[i].x, y[i].x);
        EXPECT_EQ(x[i].t_x, y[i].t_x);
        EXPECT_EQ(x[i].T, y[i].T);
        EXPECT_EQ(x[i].w, y[i].w);
    }
    EXPECT_THROW(RfAccumulator::deserialize("bgnbd", bytes.data(), bytes.size()), Error);
    EXPECT_THROW(RfAccumulator::deserialize("pareto_nbd", nullptr, 0), Error);
    RfAccumulator empty("bgnbd");
    std::vector<unsigned char> none(empty.serialized_size());
    empty.serialize(none.data(), none.size());
    EXPECT_TRUE(RfAccumulator::deserialize("bgnbd", none.data(), none.size()).empty());
}

TEST(LifetimeData, DeserializeRejectsInvalidRows) {
    RfAccumulator a("bgnbd");
    a.add(1, 2, 3);
    a.add(2, 2, 3);
    std::vector<unsigned char> bytes(a.serialized_size());
    a.serialize(bytes.data(), bytes.size());
    // Swap the two rows: no longer sorted.
    std::vector<unsigned char> swapped = bytes;
    const std::size_t head = bytes.size() - 2 * 4 * sizeof(double);
    std::copy(bytes.begin() + head, bytes.begin() + head + 32, swapped.begin() + head + 32);
    std::copy(bytes.begin() + head + 32, bytes.end(), swapped.begin() + head);
    EXPECT_THROW(RfAccumulator::deserialize("bgnbd", swapped.data(), swapped.size()), Error);
    // Recency beyond age.
    std::vector<unsigned char> bad = bytes;
    const double big = 99.0;
    std::memcpy(bad.data() + head + sizeof(double), &big, sizeof big);
    EXPECT_THROW(RfAccumulator::deserialize("bgnbd", bad.data(), bad.size()), Error);
    // Extra bytes.
    std::vector<unsigned char> longer = bytes;
    longer.push_back(0);
    EXPECT_THROW(RfAccumulator::deserialize("bgnbd", longer.data(), longer.size()), Error);
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
