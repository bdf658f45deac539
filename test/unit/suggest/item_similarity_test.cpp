#include "core/suggest/item_similarity.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "core/common/error.hpp"

namespace personalize::suggest {
namespace {

mining::BasketCollection collection(const std::vector<std::vector<std::int64_t>> &baskets) {
    mining::BasketBuilder builder{MemoryBudget()};
    for (std::size_t b = 0; b < baskets.size(); ++b)
        for (const std::int64_t item : baskets[b]) builder.add(static_cast<std::int64_t>(b), item);
    return builder.finish(Interrupt());
}

std::vector<SimilarityRow> rows_of(const mining::BasketCollection &baskets, const SimilarityOptions &options,
                                   SimilarityStats *stats = nullptr) {
    std::vector<SimilarityRow> rows;
    MemoryBudget budget;
    const SimilarityStats s =
        item_similarities(baskets, options, budget, Interrupt(), [&](const SimilarityRow &r) { rows.push_back(r); });
    EXPECT_EQ(s.rows, static_cast<std::int64_t>(rows.size()));
    if (stats) *stats = s;
    return rows;
}

// Counts: 1 in 3 baskets, 2 in 4, 3 in 2, 4 in 1; together (1,2) 3, (1,3) 1,
// (2,3) 2, (1,4) 1, (2,4) 1; n = 4.
const std::vector<std::vector<std::int64_t>> kSmall = {{1, 2, 3}, {1, 2}, {2, 3}, {1, 2, 4}};

TEST(ItemSimilarity, CosineRowsByItemThenScore) {
    SimilarityOptions o;
    o.min_count = 1;
    SimilarityStats stats;
    const auto rows = rows_of(collection(kSmall), o, &stats);
    ASSERT_EQ(rows.size(), 4u + 10u);  // an own row per item, both directions of 5 pairs
    EXPECT_EQ(stats.baskets, 4);
    EXPECT_EQ(stats.items, 4);
    EXPECT_EQ(stats.pairs, 5);
    // Item 1: own row, then 2 (3/sqrt(12)), 4 (1/sqrt(3)), 3 (1/sqrt(6)).
    EXPECT_EQ(rows[0].item, 1);
    EXPECT_EQ(rows[0].neighbour, 1);
    EXPECT_DOUBLE_EQ(rows[0].score, 1.0);
    EXPECT_EQ(rows[0].together, 3);
    EXPECT_EQ(rows[1].neighbour, 2);
    EXPECT_DOUBLE_EQ(rows[1].score, 3.0 / std::sqrt(12.0));
    EXPECT_EQ(rows[1].together, 3);
    EXPECT_EQ(rows[2].neighbour, 4);
    EXPECT_DOUBLE_EQ(rows[2].score, 1.0 / std::sqrt(3.0));
    EXPECT_EQ(rows[3].neighbour, 3);
    EXPECT_DOUBLE_EQ(rows[3].score, 1.0 / std::sqrt(6.0));
    // Item 4 last: own row (1 basket), then 1 (1/sqrt(3)) and 2 (1/sqrt(4)).
    const SimilarityRow &last = rows.back();
    EXPECT_EQ(last.item, 4);
    EXPECT_EQ(last.neighbour, 2);
    EXPECT_DOUBLE_EQ(last.score, 0.5);
}

TEST(ItemSimilarity, MeasuresFollowTheirDefinitions) {
    SimilarityOptions o;
    o.min_count = 1;
    std::map<SimilarityMeasure, std::map<std::pair<std::int64_t, std::int64_t>, double>> got;
    for (const auto m : {SimilarityMeasure::Cosine, SimilarityMeasure::Jaccard, SimilarityMeasure::Lift,
                         SimilarityMeasure::Confidence}) {
        o.measure = m;
        for (const auto &r : rows_of(collection(kSmall), o)) got[m][{r.item, r.neighbour}] = r.score;
    }
    EXPECT_DOUBLE_EQ((got[SimilarityMeasure::Jaccard][{1, 2}]), 3.0 / (3 + 4 - 3));
    EXPECT_DOUBLE_EQ((got[SimilarityMeasure::Jaccard][{2, 3}]), 2.0 / (4 + 2 - 2));
    EXPECT_DOUBLE_EQ((got[SimilarityMeasure::Lift][{1, 2}]), 4.0 * 3 / (3 * 4));
    EXPECT_DOUBLE_EQ((got[SimilarityMeasure::Lift][{3, 3}]), 4.0 / 2);  // own row: n / c_a
    EXPECT_DOUBLE_EQ((got[SimilarityMeasure::Confidence][{1, 2}]), 1.0);   // P(2 | 1)
    EXPECT_DOUBLE_EQ((got[SimilarityMeasure::Confidence][{2, 1}]), 0.75);  // P(1 | 2)
    EXPECT_DOUBLE_EQ((got[SimilarityMeasure::Confidence][{4, 4}]), 1.0);
    EXPECT_DOUBLE_EQ((got[SimilarityMeasure::Jaccard][{4, 4}]), 1.0);
}

TEST(ItemSimilarity, NeighboursKeepsTheBestWithTiesToTheSmallerId) {
    SimilarityOptions o;
    o.min_count = 1;
    o.neighbours = 1;
    const auto rows = rows_of(collection({{1, 2}, {1, 3}, {1, 4}}), o);
    // Item 1: 2, 3 and 4 all at 1/sqrt(3): 2 is kept; 2, 3 and 4 keep 1.
    ASSERT_EQ(rows.size(), 4u + 4u);
    EXPECT_EQ(rows[0].neighbour, 1);
    EXPECT_EQ(rows[1].neighbour, 2);
    EXPECT_EQ(rows[2].item, 2);
    EXPECT_EQ(rows[3].neighbour, 1);
}

TEST(ItemSimilarity, MinCountDropsRarePairsAndItems) {
    SimilarityOptions o;
    o.min_count = 2;
    const auto rows = rows_of(collection(kSmall), o);
    std::set<std::pair<std::int64_t, std::int64_t>> keys;
    for (const auto &r : rows) keys.insert({r.item, r.neighbour});
    // Items 1, 2, 3 (4 is in one basket); pairs (1,2) x3 and (2,3) x2.
    EXPECT_EQ(keys, (std::set<std::pair<std::int64_t, std::int64_t>>{
                        {1, 1}, {1, 2}, {2, 2}, {2, 1}, {2, 3}, {3, 3}, {3, 2}}));
}

TEST(ItemSimilarity, MaxBasketSizeSkipsLargeBaskets) {
    SimilarityOptions o;
    o.min_count = 1;
    o.max_basket_size = 2;
    SimilarityStats stats;
    const auto rows = rows_of(collection(kSmall), o, &stats);
    EXPECT_EQ(stats.skipped_baskets, 2);
    EXPECT_EQ(stats.baskets, 2);
    // {1,2} and {2,3} remain: items 1, 2, 3; pairs (1,2) and (2,3), both ways.
    ASSERT_EQ(rows.size(), 3u + 4u);
    EXPECT_EQ(rows[1].neighbour, 2);
    EXPECT_DOUBLE_EQ(rows[1].score, 1.0 / std::sqrt(2.0));
}

TEST(ItemSimilarity, EmptyInputGivesNoRows) {
    SimilarityOptions o;
    EXPECT_TRUE(rows_of(mining::BasketCollection(), o).empty());
    o.min_count = 5;
    EXPECT_TRUE(rows_of(collection(kSmall), o).empty());  // nothing in 5 baskets
    o.min_count = 1;
    const auto single = rows_of(collection({{7}}), o);
    ASSERT_EQ(single.size(), 1u);  // one item, no pair: its own row
    EXPECT_EQ(single[0].neighbour, 7);
}

// Brute force: every pair counted directly, sorted, cut at k.
TEST(ItemSimilarity, EqualsBruteForceOnRandomBaskets) {
    std::mt19937 rng(11);
    for (int round = 0; round < 6; ++round) {
        std::vector<std::vector<std::int64_t>> baskets;
        for (int b = 0; b < 400; ++b) {
            std::set<std::int64_t> items;
            const int size = 1 + static_cast<int>(rng() % 8);
            while (static_cast<int>(items.size()) < size) items.insert(1 + static_cast<std::int64_t>(rng() % 60) * (rng() % 3 + 1));
            baskets.emplace_back(items.begin(), items.end());
        }
        std::map<std::int64_t, double> count;
        std::map<std::pair<std::int64_t, std::int64_t>, double> together;
        for (const auto &b : baskets)
            for (std::size_t i = 0; i < b.size(); ++i) {
                count[b[i]] += 1;
                for (std::size_t j = 0; j < b.size(); ++j)
                    if (i != j) together[{b[i], b[j]}] += 1;
            }
        SimilarityOptions o;
        o.measure = static_cast<SimilarityMeasure>(round % 4);
        o.min_count = 1 + round % 3;
        o.neighbours = round < 3 ? 5 : 1000;
        std::vector<SimilarityRow> expected;
        for (const auto &[item, c] : count) {
            if (c < o.min_count) continue;
            expected.push_back({item, item, similarity(o.measure, c, c, c, 400), static_cast<std::int64_t>(c)});
            std::vector<SimilarityRow> list;
            for (const auto &[key, t] : together)
                if (key.first == item && t >= o.min_count)
                    list.push_back({item, key.second, similarity(o.measure, t, c, count[key.second], 400),
                                    static_cast<std::int64_t>(t)});
            std::sort(list.begin(), list.end(), [](const SimilarityRow &a, const SimilarityRow &b) {
                return a.score > b.score || (a.score == b.score && a.neighbour < b.neighbour);
            });
            if (list.size() > static_cast<std::size_t>(o.neighbours)) list.resize(o.neighbours);
            expected.insert(expected.end(), list.begin(), list.end());
        }
        const auto got = rows_of(collection(baskets), o);
        ASSERT_EQ(got.size(), expected.size()) << "round " << round;
        for (std::size_t i = 0; i < got.size(); ++i) {
            EXPECT_EQ(got[i].item, expected[i].item) << "round " << round << " row " << i;
            EXPECT_EQ(got[i].neighbour, expected[i].neighbour) << "round " << round << " row " << i;
            EXPECT_DOUBLE_EQ(got[i].score, expected[i].score) << "round " << round << " row " << i;
            EXPECT_EQ(got[i].together, expected[i].together) << "round " << round << " row " << i;
        }
    }
}

TEST(ItemSimilarity, BadOptionsNameTheArgument) {
    SimilarityOptions o;
    auto message = [&](const SimilarityOptions &opts) {
        try {
            validate(opts);
        } catch (const Error &e) {
            EXPECT_EQ(e.code(), ErrorCode::InvalidParameter);
            return std::string(e.what());
        }
        return std::string("no error");
    };
    o.neighbours = 0;
    EXPECT_EQ(message(o), "item_similarities: \"neighbours\" must be at least 1");
    o = {};
    o.min_count = 0;
    EXPECT_EQ(message(o), "item_similarities: \"min_count\" must be at least 1");
    o = {};
    o.max_basket_size = -1;
    EXPECT_EQ(message(o), "item_similarities: \"max_basket_size\" must not be negative");
    EXPECT_EQ(parse_similarity_measure("lift"), SimilarityMeasure::Lift);
    EXPECT_STREQ(similarity_measure_name(SimilarityMeasure::Jaccard), "jaccard");
    try {
        parse_similarity_measure("Cosine");
        FAIL();
    } catch (const Error &e) {
        EXPECT_STREQ(e.what(), "item_similarities: \"measure\" must be one of cosine, jaccard, lift, confidence, not \"Cosine\"");
    }
}

TEST(ItemSimilarity, MemoryLimitAndCancellation) {
    std::vector<std::vector<std::int64_t>> baskets;
    for (int b = 0; b < 300; ++b) {
        std::vector<std::int64_t> items;
        for (int i = 0; i < 40; ++i) items.push_back((b * 7 + i * 13) % 500);
        std::sort(items.begin(), items.end());
        items.erase(std::unique(items.begin(), items.end()), items.end());
        baskets.push_back(items);
    }
    const mining::BasketCollection data = collection(baskets);
    SimilarityOptions o;
    MemoryBudget small(64 * 1024, "personalize.memory_limit");
    try {
        item_similarities(data, o, small, Interrupt(), [](const SimilarityRow &) {});
        FAIL() << "no memory error";
    } catch (const Error &e) {
        EXPECT_EQ(e.code(), ErrorCode::OutOfMemory);
        EXPECT_EQ(std::string(e.what()).rfind("item_similarities: ", 0), 0u) << e.what();
        EXPECT_NE(std::string(e.what()).find("personalize.memory_limit"), std::string::npos);
    }
    MemoryBudget budget;
    const Interrupt canceled([] { return true; });
    try {
        item_similarities(data, o, budget, canceled, [](const SimilarityRow &) {});
        FAIL() << "not canceled";
    } catch (const Error &e) {
        EXPECT_EQ(e.code(), ErrorCode::Canceled);
    }
}

}  // namespace
}  // namespace personalize::suggest
