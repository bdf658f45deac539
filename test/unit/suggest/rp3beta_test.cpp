#include "core/suggest/rp3beta.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>
#include <set>
#include <string>
#include <utility>
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

std::vector<SimilarityRow> rows_of(const mining::BasketCollection &baskets, const Rp3betaOptions &options) {
    std::vector<SimilarityRow> rows;
    MemoryBudget budget;
    const SimilarityStats s =
        rp3beta_similarities(baskets, options, budget, Interrupt(), [&](const SimilarityRow &r) { rows.push_back(r); });
    EXPECT_EQ(s.rows, static_cast<std::int64_t>(rows.size()));
    EXPECT_EQ(budget.used(), 0u);
    return rows;
}

// Counts: 1 in 3 baskets, 2 in 4, 3 in 2, 4 in 1; basket sizes 3, 2, 2, 3.
const std::vector<std::vector<std::int64_t>> kSmall = {{1, 2, 3}, {1, 2}, {2, 3}, {1, 2, 4}};

TEST(Rp3beta, HandComputedRows) {
    Rp3betaOptions o;
    o.alpha = 1.0;
    o.beta = 0.5;
    o.min_count = 1;
    const auto rows = rows_of(collection(kSmall), o);
    // Item 1: (1/3) * sum over its baskets holding j of 1/n_u, / sqrt(c_j).
    //   own: (1/3)(1/3 + 1/2 + 1/3) / sqrt(3); 2: (1/3)(7/6) / 2 = 7/36;
    //   3: (1/3)(1/3) / sqrt(2); 4: (1/3)(1/3) / 1 = 1/9.
    ASSERT_GE(rows.size(), 4u);
    EXPECT_EQ(rows[0].item, 1);
    EXPECT_EQ(rows[0].neighbour, 1);
    EXPECT_NEAR(rows[0].score, (7.0 / 18.0) / std::sqrt(3.0), 1e-15);
    EXPECT_EQ(rows[0].together, 3);
    EXPECT_EQ(rows[1].neighbour, 2);
    EXPECT_NEAR(rows[1].score, 7.0 / 36.0, 1e-15);
    EXPECT_EQ(rows[1].together, 3);
    EXPECT_EQ(rows[2].neighbour, 4);
    EXPECT_NEAR(rows[2].score, 1.0 / 9.0, 1e-15);
    EXPECT_EQ(rows[2].together, 1);
    EXPECT_EQ(rows[3].neighbour, 3);
    EXPECT_NEAR(rows[3].score, 1.0 / (9.0 * std::sqrt(2.0)), 1e-15);
    EXPECT_EQ(rows[3].together, 1);
    // Item 4 (one basket, {1, 2, 4}): 1 and 2 each (1/1)(1/3) / sqrt(c).
    std::map<std::int64_t, double> four;
    for (const auto &r : rows)
        if (r.item == 4) four[r.neighbour] = r.score;
    EXPECT_EQ(four.size(), 3u);
    EXPECT_NEAR(four[1], (1.0 / 3.0) / std::sqrt(3.0), 1e-15);
    EXPECT_NEAR(four[2], (1.0 / 3.0) / 2.0, 1e-15);
    EXPECT_NEAR(four[4], 1.0 / 3.0, 1e-15);
}

TEST(Rp3beta, MatchesTheDefinitionOnRandomData) {
    std::mt19937 rng(17);
    std::vector<std::vector<std::int64_t>> baskets(300);
    for (auto &b : baskets) {
        const int size = 1 + static_cast<int>(rng() % 7);
        for (int s = 0; s < size; ++s) b.push_back(static_cast<std::int64_t>(rng() % 25) * (rng() % 25) / 5);
    }
    for (const auto &[alpha, beta] : std::vector<std::pair<double, double>>{{1.0, 0.0}, {0.7, 0.3}, {0.0, 1.2}}) {
        Rp3betaOptions o;
        o.alpha = alpha;
        o.beta = beta;
        o.min_count = 3;
        o.neighbours = 4;
        // The definition: the kept items, their counts, baskets restricted to them.
        std::map<std::int64_t, int> count;
        std::vector<std::set<std::int64_t>> sets;
        for (const auto &b : baskets) sets.emplace_back(b.begin(), b.end());
        for (const auto &s : sets)
            for (const auto x : s) ++count[x];
        for (auto &s : sets)
            for (auto it = s.begin(); it != s.end();) it = count[*it] < 3 ? s.erase(it) : std::next(it);
        std::map<std::pair<std::int64_t, std::int64_t>, double> w;
        for (const auto &s : sets)
            for (const auto i : s)
                for (const auto j : s)
                    w[{i, j}] += std::pow(1.0 / s.size(), alpha);
        const auto rows = rows_of(collection(baskets), o);
        std::map<std::int64_t, std::vector<SimilarityRow>> by_item;
        for (const auto &r : rows) by_item[r.item].push_back(r);
        for (const auto &[item, list] : by_item) {
            ASSERT_GE(count[item], 3);
            const auto expect = [&](std::int64_t j) {
                return std::pow(1.0 / count[item], alpha) * w[{item, j}] / std::pow(count[j], beta);
            };
            EXPECT_NEAR(list[0].score, expect(item), 1e-12);
            // The best 4 of the definition, ties by id.
            std::vector<std::pair<double, std::int64_t>> all;
            for (const auto &[pair, mass] : w)
                if (pair.first == item && pair.second != item) all.push_back({-expect(pair.second), pair.second});
            std::sort(all.begin(), all.end());
            ASSERT_EQ(list.size() - 1, std::min<std::size_t>(4, all.size()));
            for (std::size_t r = 1; r < list.size(); ++r) {
                EXPECT_EQ(list[r].neighbour, all[r - 1].second);
                EXPECT_NEAR(list[r].score, -all[r - 1].first, 1e-12);
            }
        }
    }
}

std::string error_of(const std::vector<std::vector<std::int64_t>> &baskets, const Rp3betaOptions &options) {
    MemoryBudget budget;
    try {
        rp3beta_similarities(collection(baskets), options, budget, Interrupt(), [](const SimilarityRow &) {});
    } catch (const Error &e) {
        return e.what();
    }
    return "no error";
}

TEST(Rp3beta, BadInput) {
    Rp3betaOptions o;
    o.beta = -0.1;
    EXPECT_EQ(error_of(kSmall, o), "rp3beta_similarities: \"beta\" must be a finite number >= 0");
    o = Rp3betaOptions();
    o.alpha = INFINITY;
    EXPECT_EQ(error_of(kSmall, o), "rp3beta_similarities: \"alpha\" must be a finite number >= 0");
    o = Rp3betaOptions();
    o.neighbours = 0;
    EXPECT_EQ(error_of(kSmall, o), "rp3beta_similarities: \"neighbours\" must be at least 1");
    o = Rp3betaOptions();
    EXPECT_EQ(error_of({{1, 2}}, o), "rp3beta_similarities: \"baskets\" must hold at least 2 baskets, got 1");
    EXPECT_EQ(error_of({{1, 2}, {1, 3}}, o),
              "rp3beta_similarities: \"baskets\" must hold at least 2 items in at least 2 baskets (\"min_count\"), got 1");
}

}  // namespace
}  // namespace personalize::suggest
