#include "core/customers/rfm.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "core/common/error.hpp"
#include "../common/bytes_test_util.hpp"

namespace personalize::customers {
namespace {

// NTILE(bins) OVER (ORDER BY v) for distinct values: the bucket of each input.
std::vector<int> ntile(const std::vector<double> &values, int bins) {
    std::vector<std::size_t> order(values.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return values[a] < values[b]; });
    const std::size_t n = values.size(), q = n / bins, r = n % bins;
    std::vector<int> out(n);
    std::size_t pos = 0;
    for (int k = 1; k <= bins; ++k) {
        const std::size_t size = q + (static_cast<std::size_t>(k) <= r ? 1 : 0);
        for (std::size_t j = 0; j < size; ++j) out[order[pos++]] = k;
    }
    return out;
}

TEST(RfmNtile, StartsMatchNtileBucketSizes) {
    EXPECT_EQ(ntile_starts(10, 5), (std::vector<std::size_t>{0, 2, 4, 6, 8}));
    EXPECT_EQ(ntile_starts(12, 5), (std::vector<std::size_t>{0, 3, 6, 8, 10}));  // 3,3,2,2,2
    EXPECT_EQ(ntile_starts(7, 3), (std::vector<std::size_t>{0, 3, 5}));          // 3,2,2
    EXPECT_EQ(ntile_starts(3, 5), (std::vector<std::size_t>{0, 1, 2, 3, 3}));    // 1,1,1,0,0
    EXPECT_EQ(ntile_starts(0, 2), (std::vector<std::size_t>{0, 0}));
}

TEST(RfmNtile, TieFreeScoresEqualNtileForEverySizeAndBins) {
    std::mt19937_64 rng(7);
    std::uniform_real_distribution<double> u(-1000.0, 1000.0);
    for (int bins = kRfmMinBins; bins <= kRfmMaxBins; ++bins) {
        for (std::size_t n : {1u, 2u, 3u, 4u, 5u, 9u, 10u, 11u, 23u, 100u, 101u, 997u}) {
            std::vector<double> values(n);
            for (double &v : values) v = u(rng);
            std::vector<double> work = values;
            const std::vector<double> b = quantile_breakpoints(work, bins);
            EXPECT_EQ(b.size(), std::min<std::size_t>(n == 0 ? 0 : n - 1, bins - 1));
            const std::vector<int> expected = ntile(values, bins);
            for (std::size_t i = 0; i < n; ++i)
                ASSERT_EQ(score_ascending(b, values[i]), expected[i]) << "bins " << bins << " n " << n << " i " << i;
        }
    }
}

TEST(RfmNtile, TiesStayInTheBucketWhereTheirRunBegins) {
    // Sorted: 1 1 2 2 2 2 3 3 9 9; NTILE(5) starts at 0,2,4,6,8. The run of 2s
    // begins at 2 and reaches 4, so the breakpoint for bucket 3 is the next
    // value, 3: breakpoints 2,3,3,9.
    std::vector<double> values = {2, 9, 1, 3, 2, 2, 9, 3, 1, 2};
    std::vector<double> work = values;
    const std::vector<double> b = quantile_breakpoints(work, 5);
    EXPECT_EQ(b, (std::vector<double>{2, 3, 3, 9}));
    EXPECT_EQ(score_ascending(b, 1), 1);
    EXPECT_EQ(score_ascending(b, 2), 2);  // the run 2 2 2 2 spans buckets 2 and 3: all get 2
    EXPECT_EQ(score_ascending(b, 3), 4);
    EXPECT_EQ(score_ascending(b, 9), 5);
    EXPECT_EQ(score_ascending(b, 100), 5);
    EXPECT_EQ(score_ascending(b, -100), 1);
    // All equal: everyone in the bottom bucket, and no breakpoints.
    std::vector<double> same(7, 4.0);
    const std::vector<double> bs = quantile_breakpoints(same, 3);
    EXPECT_TRUE(bs.empty());
    EXPECT_EQ(score_ascending(bs, 4.0), 1);
    // A third bought once (frequency 0): they all get score 1.
    std::vector<double> freq = {0, 0, 0, 0, 1, 1, 2, 3, 5, 8, 13, 21};
    const std::vector<double> bf = quantile_breakpoints(freq, 5);
    EXPECT_EQ(score_ascending(bf, 0), 1);
    EXPECT_EQ(score_ascending(bf, 1), 2);
}

TEST(RfmNtile, RecencyLowerIsBetter) {
    RfmCollector c;
    c.set_bins(5);
    for (int i = 1; i <= 10; ++i) c.add(i, i, i);  // recency 1 = most recent
    const RfmBreakpoints b = c.breakpoints();
    EXPECT_EQ(b.customers, 10);
    EXPECT_EQ(b.recency, (std::vector<double>{2, 4, 6, 8}));
    EXPECT_EQ(b.frequency, (std::vector<double>{3, 5, 7, 9}));
    for (int i = 1; i <= 10; ++i) {
        const RfmScore s = b.score(i, i, i);
        EXPECT_EQ(s.r, 5 - (i - 1) / 2) << i;
        EXPECT_EQ(s.f, 1 + (i - 1) / 2) << i;
        EXPECT_EQ(s.m, s.f);
    }
    // Recency equals NTILE(5) OVER (ORDER BY recency DESC) on tie-free data.
    std::vector<double> neg;
    for (int i = 1; i <= 10; ++i) neg.push_back(-i);
    const std::vector<int> expected = ntile(neg, 5);
    for (int i = 1; i <= 10; ++i) EXPECT_EQ(b.score(i, 0, 0).r, expected[i - 1]);
    // A zero recency breakpoint is written as 0, not -0.
    RfmCollector z;
    z.set_bins(2);
    z.add(0, 0, 0);
    z.add(1, 1, 1);
    EXPECT_EQ(z.breakpoints().to_json(), "{\"bins\":2,\"customers\":2,\"recency\":[0],\"frequency\":[1],\"monetary\":[1]}");
}

TEST(RfmNtile, BinsAreChecked) {
    RfmCollector c;
    EXPECT_THROW(c.set_bins(1), Error);
    EXPECT_THROW(c.set_bins(11), Error);
    try {
        c.set_bins(1);
    } catch (const Error &e) {
        EXPECT_STREQ(e.what(), "rfm_breakpoints: \"bins\" must be between 2 and 10, not 1");
        EXPECT_EQ(e.code(), ErrorCode::InvalidParameter);
    }
    c.set_bins(3);
    EXPECT_THROW(c.set_bins(4), Error);
    c.set_bins(3);
}

TEST(RfmNtile, NonFiniteValuesNameTheArgument) {
    RfmCollector c;
    try {
        c.add(1, std::nan(""), 1);
        FAIL();
    } catch (const Error &e) {
        EXPECT_STREQ(e.what(), "rfm_breakpoints: \"frequency\" must be a finite number, not NaN");
    }
    try {
        c.add(1, 1, -std::numeric_limits<double>::infinity());
        FAIL();
    } catch (const Error &e) {
        EXPECT_STREQ(e.what(), "rfm_breakpoints: \"monetary\" must be a finite number, not -Infinity");
    }
    EXPECT_TRUE(c.empty());
}

TEST(RfmNtile, JsonRoundTripsExactly) {
    RfmCollector c;
    c.set_bins(4);
    std::mt19937_64 rng(3);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    for (int i = 0; i < 1000; ++i) c.add(u(rng) * 365, std::floor(u(rng) * 20), u(rng) * 1e3 - 5);
    const RfmBreakpoints b = c.breakpoints();
    const RfmBreakpoints back = RfmBreakpoints::from_json(b.to_json());
    EXPECT_EQ(back.bins, 4);
    EXPECT_EQ(back.customers, 1000);
    EXPECT_EQ(back.recency, b.recency);
    EXPECT_EQ(back.frequency, b.frequency);
    EXPECT_EQ(back.monetary, b.monetary);
    // jsonb reorders keys and adds spaces.
    const RfmBreakpoints spaced = RfmBreakpoints::from_json(
        "{\"bins\": 3, \"monetary\": [1.5, 2], \"recency\": [0.1, 7], \"frequency\": [], \"customers\": 3}");
    EXPECT_EQ(spaced.bins, 3);
    EXPECT_EQ(spaced.monetary, (std::vector<double>{1.5, 2}));
    EXPECT_EQ(spaced.score(0.05, 100, 1.7).r, 3);
    EXPECT_EQ(spaced.score(0.05, 100, 1.7).f, 1);
    EXPECT_EQ(spaced.score(0.05, 100, 1.7).m, 2);
    for (const char *bad : {"", "[]", "{}", "{\"bins\":5}", "{\"bins\":5,\"customers\":1,\"recency\":[2,1],\"frequency\":[],\"monetary\":[]}",
                            "{\"bins\":1,\"customers\":1,\"recency\":[],\"frequency\":[],\"monetary\":[]}",
                            "{\"bins\":2,\"customers\":1,\"recency\":[1,2],\"frequency\":[],\"monetary\":[]}",
                            "{\"bins\":2,\"customers\":1,\"recency\":[],\"frequency\":[],\"monetary\":[],\"x\":1}"})
        EXPECT_THROW(RfmBreakpoints::from_json(bad), Error) << bad;
}

TEST(RfmNtile, MergeAndSerializationKeepEveryValue) {
    RfmCollector a, b;
    a.set_bins(5);
    for (int i = 0; i < 50; ++i) a.add(i, i * 2, i * 3);
    b.set_bins(5);
    for (int i = 50; i < 100; ++i) b.add(i, i * 2, i * 3);
    auto bytes = to_bytes(b);
    RfmCollector b2 = RfmCollector::deserialize(bytes.data(), bytes.size(), MemoryBudget());
    a.merge(b2);
    RfmCollector all;
    all.set_bins(5);
    for (int i = 99; i >= 0; --i) all.add(i, i * 2, i * 3);
    const RfmBreakpoints x = a.breakpoints(), y = all.breakpoints();
    EXPECT_EQ(x.to_json(), y.to_json());
    testing::expect_truncations_rejected(bytes, [](const unsigned char *data, std::size_t size) {
        RfmCollector::deserialize(data, size, MemoryBudget());
    });
    bytes[0] ^= 1;
    EXPECT_THROW(RfmCollector::deserialize(bytes.data(), bytes.size(), MemoryBudget()), Error);
}

TEST(RfmNtile, MemoryIsChargedToTheBudget) {
    RfmCollector c(MemoryBudget(1 << 16, "personalize.memory_limit"));
    c.set_bins(5);
    try {
        for (int i = 0; i < 100000; ++i) c.add(i, i, i);
        FAIL();
    } catch (const Error &e) {
        EXPECT_EQ(e.code(), ErrorCode::OutOfMemory);
    }
}

}  // namespace
}  // namespace personalize::customers
