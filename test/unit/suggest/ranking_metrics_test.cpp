#include "core/suggest/ranking_metrics.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "core/common/error.hpp"

namespace personalize::suggest {
namespace {

RankingMetrics metrics(const std::vector<std::int64_t> &recommended, const std::vector<std::int64_t> &relevant,
                       std::int64_t k, const std::vector<bool> &nulls = {}) {
    std::vector<char> flags(recommended.size(), 0);
    for (std::size_t i = 0; i < nulls.size(); ++i) flags[i] = nulls[i];
    return ranking_metrics(recommended.data(), nulls.empty() ? nullptr : reinterpret_cast<const bool *>(flags.data()),
                           recommended.size(), relevant.data(), relevant.size(), k);
}

TEST(RankingMetrics, HandComputedValues) {
    // Hits at ranks 1 and 3 of 4 recommended, 3 relevant, k = 4.
    const auto m = metrics({10, 20, 30, 40}, {30, 10, 99}, 4);
    EXPECT_EQ(m.hits, 2);
    EXPECT_DOUBLE_EQ(m.precision, 0.5);
    EXPECT_DOUBLE_EQ(m.recall, 2.0 / 3.0);
    const double dcg = 1.0 + 1.0 / std::log2(4.0);
    const double idcg = 1.0 + 1.0 / std::log2(3.0) + 1.0 / std::log2(4.0);
    EXPECT_DOUBLE_EQ(m.ndcg, dcg / idcg);
}

TEST(RankingMetrics, OnlyTheFirstKCountAndShortListsAreNotRewarded) {
    auto m = metrics({1, 2, 3}, {3}, 2);
    EXPECT_EQ(m.hits, 0);
    EXPECT_EQ(m.ndcg, 0.0);
    m = metrics({3}, {3, 4}, 10);  // one item recommended of k = 10
    EXPECT_DOUBLE_EQ(m.precision, 0.1);
    EXPECT_DOUBLE_EQ(m.recall, 0.5);
    EXPECT_DOUBLE_EQ(m.ndcg, 1.0 / (1.0 + 1.0 / std::log2(3.0)));
    m = metrics({}, {3}, 10);
    EXPECT_EQ(m.precision, 0.0);
    EXPECT_EQ(m.recall, 0.0);
}

TEST(RankingMetrics, PerfectListScoresOne) {
    const auto m = metrics({5, 6, 7}, {7, 6, 5}, 3);
    EXPECT_DOUBLE_EQ(m.precision, 1.0);
    EXPECT_DOUBLE_EQ(m.recall, 1.0);
    EXPECT_DOUBLE_EQ(m.ndcg, 1.0);
    // More relevant items than k: recall < 1, nDCG 1.
    const auto big = metrics({1, 2}, {1, 2, 3, 4}, 2);
    EXPECT_DOUBLE_EQ(big.ndcg, 1.0);
    EXPECT_DOUBLE_EQ(big.recall, 0.5);
}

TEST(RankingMetrics, RepeatsAndNulls) {
    // 5 twice: one hit, the second copy still takes rank 2; 6 at rank 3 counts.
    auto m = metrics({5, 5, 6}, {5, 6, 6}, 3);
    EXPECT_EQ(m.hits, 2);
    EXPECT_DOUBLE_EQ(m.recall, 1.0);
    EXPECT_DOUBLE_EQ(m.ndcg, (1.0 + 1.0 / std::log2(4.0)) / (1.0 + 1.0 / std::log2(3.0)));
    // A NULL at rank 1 takes the rank and never hits.
    m = metrics({0, 5}, {0, 5}, 2, {true, false});
    EXPECT_EQ(m.hits, 1);
    EXPECT_DOUBLE_EQ(m.ndcg, (1.0 / std::log2(3.0)) / (1.0 + 1.0 / std::log2(3.0)));
}

TEST(RankingMetrics, BadArguments) {
    try {
        metrics({1}, {1}, 0);
        FAIL();
    } catch (const Error &e) {
        EXPECT_EQ(e.code(), ErrorCode::InvalidParameter);
        EXPECT_STREQ(e.what(), "ranking_metrics: \"k\" must be at least 1");
    }
    EXPECT_THROW(metrics({1}, {}, 10), Error);
}

TEST(RankingMetrics, LongListsAreLinearChargedAndInterruptible) {
    std::vector<std::int64_t> recommended(200000), relevant(200000);
    for (std::size_t i = 0; i < recommended.size(); ++i) {
        recommended[i] = static_cast<std::int64_t>(i);
        relevant[i] = static_cast<std::int64_t>(i + 100000);
    }
    const auto m = metrics(recommended, relevant, 200000);
    EXPECT_EQ(m.hits, 100000);
    EXPECT_DOUBLE_EQ(m.precision, 0.5);
    MemoryBudget small(1024);
    EXPECT_THROW(ranking_metrics(recommended.data(), nullptr, recommended.size(), relevant.data(), relevant.size(),
                                 10, &small),
                 Error);
    const Interrupt canceled([] { return true; });
    try {
        ranking_metrics(recommended.data(), nullptr, recommended.size(), relevant.data(), relevant.size(), 10,
                        nullptr, canceled);
        FAIL() << "not canceled";
    } catch (const Error &e) {
        EXPECT_EQ(e.code(), ErrorCode::Canceled);
    }
}

}  // namespace
}  // namespace personalize::suggest
