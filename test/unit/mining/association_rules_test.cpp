#include "core/mining/association_rules.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/common/error.hpp"
#include "core/mining/pair_counting.hpp"

namespace personalize::mining {
namespace {

struct MinedRule {
    std::vector<std::int64_t> antecedent;
    std::int64_t consequent;
    std::int64_t count;
    Rule metrics;  // antecedent pointer not valid after the callback
};

BasketCollection collection(const std::vector<std::vector<std::int64_t>> &baskets) {
    BasketBuilder builder{MemoryBudget()};
    for (std::size_t b = 0; b < baskets.size(); ++b)
        for (const std::int64_t item : baskets[b]) builder.add(static_cast<std::int64_t>(b), item);
    return builder.finish(Interrupt());
}

std::vector<MinedRule> mine(const BasketCollection &baskets, const RuleOptions &options, MiningStats *stats = nullptr,
                            MemoryBudget *budget = nullptr) {
    std::vector<MinedRule> rules;
    MemoryBudget own;
    const MiningStats s = mine_rules(baskets, options, budget ? *budget : own, Interrupt(), [&](const Rule &r) {
        EXPECT_TRUE(std::is_sorted(r.antecedent, r.antecedent + r.antecedent_len));
        rules.push_back({std::vector<std::int64_t>(r.antecedent, r.antecedent + r.antecedent_len), r.consequent,
                         r.count, r});
    });
    EXPECT_EQ(s.rules, static_cast<std::int64_t>(rules.size()));
    if (stats) *stats = s;
    return rules;
}

std::string describe(const MinedRule &r) {
    std::string s = "{";
    for (std::size_t i = 0; i < r.antecedent.size(); ++i) s += (i ? "," : "") + std::to_string(r.antecedent[i]);
    return s + "} => " + std::to_string(r.consequent) + " (" + std::to_string(r.count) + ")";
}

std::vector<std::string> describe(const std::vector<MinedRule> &rules) {
    std::vector<std::string> out;
    for (const auto &r : rules) out.push_back(describe(r));
    return out;
}

// ---------------------------------------------------------------------------
// A hand-checked fixture: 10 baskets over items 1 bread, 2 milk, 3 butter,
// 4 beer, 5 diapers.
//   counts: 1:7  2:7  3:5  4:4  5:4
//   pairs:  {1,2}:5 {1,3}:4 {2,3}:4 {4,5}:3, all others <= 2
//   triple: {1,2,3}:3, all others <= 1
const std::vector<std::vector<std::int64_t>> kShop = {
    {1, 2}, {1, 3}, {1, 2, 3}, {2, 4, 5}, {1, 2, 3, 5}, {4, 5}, {1, 2}, {2, 3}, {1, 4, 5}, {1, 2, 3, 4},
};

RuleOptions shop_options(int max_len) {
    RuleOptions o;
    o.min_support = 0.3;  // ceil(10 * 0.3) = 3 baskets
    o.min_confidence = 0.6;
    o.max_len = max_len;
    return o;
}

TEST(AssociationRules, HandCheckedPairs) {
    MiningStats stats;
    const auto rules = mine(collection(kShop), shop_options(2), &stats);
    // Frequent pairs {1,2}:5 {1,3}:4 {2,3}:4 {4,5}:3. Confidences: 2=>1 5/7,
    // 1=>2 5/7, 3=>1 4/5, 1=>3 4/7 (< 0.6), 3=>2 4/5, 2=>3 4/7 (< 0.6),
    // 5=>4 3/4, 4=>5 3/4. Ordered by itemset, then consequent.
    EXPECT_EQ(describe(rules), (std::vector<std::string>{"{2} => 1 (5)", "{1} => 2 (5)", "{3} => 1 (4)",
                                                         "{3} => 2 (4)", "{5} => 4 (3)", "{4} => 5 (3)"}));
    EXPECT_EQ(stats.baskets, 10);
    EXPECT_EQ(stats.min_count, 3);
    EXPECT_EQ(stats.frequent_items, 5);
    EXPECT_EQ(stats.frequent_itemsets, 4);
    EXPECT_EQ(stats.rules, 6);
    ASSERT_EQ(rules.size(), 6u);

    // {4} => 5: sA = 0.4, sC = 0.4, sAC = 0.3.
    const Rule &beer = rules[5].metrics;
    EXPECT_DOUBLE_EQ(beer.antecedent_support, 0.4);
    EXPECT_DOUBLE_EQ(beer.consequent_support, 0.4);
    EXPECT_DOUBLE_EQ(beer.support, 0.3);
    EXPECT_DOUBLE_EQ(beer.confidence, 0.75);                 // 0.3 / 0.4
    EXPECT_DOUBLE_EQ(beer.lift, 1.875);                      // 0.75 / 0.4
    EXPECT_NEAR(beer.leverage, 0.14, 1e-12);                 // 0.3 - 0.4 * 0.4
    EXPECT_NEAR(beer.conviction, 2.4, 1e-12);                // (1 - 0.4) / (1 - 0.75)
    EXPECT_NEAR(beer.jaccard, 0.6, 1e-12);                   // 0.3 / (0.4 + 0.4 - 0.3)
    EXPECT_NEAR(beer.certainty, 0.35 / 0.6, 1e-12);          // (0.75 - 0.4) / (1 - 0.4) = 0.58333
    EXPECT_NEAR(beer.kulczynski, 0.75, 1e-12);               // (0.3/0.4 + 0.3/0.4) / 2
    EXPECT_NEAR(beer.zhangs_metric, 0.14 / 0.18, 1e-12);     // 0.14 / max(0.3*0.6, 0.4*0.1) = 0.77778

    // {3} => 1: sA = 0.5, sC = 0.7, sAC = 0.4.
    const Rule &butter = rules[2].metrics;
    EXPECT_NEAR(butter.confidence, 0.8, 1e-12);              // 0.4 / 0.5
    EXPECT_NEAR(butter.lift, 0.8 / 0.7, 1e-12);              // 1.142857
    EXPECT_NEAR(butter.leverage, 0.05, 1e-12);               // 0.4 - 0.35
    EXPECT_NEAR(butter.conviction, 1.5, 1e-12);              // 0.3 / 0.2
    EXPECT_NEAR(butter.jaccard, 0.5, 1e-12);                 // 0.4 / 0.8
    EXPECT_NEAR(butter.certainty, 0.1 / 0.3, 1e-12);         // (0.8 - 0.7) / 0.3 = 0.33333
    EXPECT_NEAR(butter.kulczynski, (0.8 + 0.4 / 0.7) / 2, 1e-12);  // 0.685714
    EXPECT_NEAR(butter.zhangs_metric, 0.25, 1e-12);          // 0.05 / max(0.4*0.5, 0.5*0.3)

    // {1} => 2: sA = sC = 0.7, sAC = 0.5.
    const Rule &bread = rules[1].metrics;
    EXPECT_NEAR(bread.confidence, 5.0 / 7, 1e-12);
    EXPECT_NEAR(bread.lift, 5.0 / 7 / 0.7, 1e-12);           // 1.020408
    EXPECT_NEAR(bread.leverage, 0.01, 1e-12);                // 0.5 - 0.49
    EXPECT_NEAR(bread.conviction, 1.05, 1e-12);              // 0.3 / (2/7)
    EXPECT_NEAR(bread.jaccard, 0.5 / 0.9, 1e-12);
    EXPECT_NEAR(bread.certainty, (5.0 / 7 - 0.7) / 0.3, 1e-12);  // 0.047619
    EXPECT_NEAR(bread.kulczynski, 5.0 / 7, 1e-12);
    EXPECT_NEAR(bread.zhangs_metric, 0.01 / 0.15, 1e-12);    // 0.01 / max(0.5*0.3, 0.7*0.2)
}

TEST(AssociationRules, HandCheckedTriples) {
    MiningStats stats;
    const auto rules = mine(collection(kShop), shop_options(3), &stats);
    // Pairs as above, then {1,2,3}:3 with {2,3}=>1 3/4, {1,3}=>2 3/4 and
    // {1,2}=>3 3/5 = 0.6 exactly (kept: the threshold is inclusive).
    EXPECT_EQ(describe(rules),
              (std::vector<std::string>{"{2} => 1 (5)", "{1} => 2 (5)", "{3} => 1 (4)", "{3} => 2 (4)",
                                        "{5} => 4 (3)", "{4} => 5 (3)", "{2,3} => 1 (3)", "{1,3} => 2 (3)",
                                        "{1,2} => 3 (3)"}));
    EXPECT_EQ(stats.frequent_itemsets, 5);
    // {1,2} => 3: sA = 0.5, sC = 0.5, sAC = 0.3.
    const Rule &r = rules.back().metrics;
    EXPECT_NEAR(r.confidence, 0.6, 1e-12);
    EXPECT_NEAR(r.lift, 1.2, 1e-12);
    EXPECT_NEAR(r.leverage, 0.05, 1e-12);
    EXPECT_NEAR(r.conviction, 1.25, 1e-12);                  // 0.5 / 0.4
    EXPECT_NEAR(r.jaccard, 0.3 / 0.7, 1e-12);
    EXPECT_NEAR(r.certainty, 0.2, 1e-12);                    // (0.6 - 0.5) / 0.5
    EXPECT_NEAR(r.kulczynski, 0.6, 1e-12);
    EXPECT_NEAR(r.zhangs_metric, 0.05 / 0.15, 1e-12);        // 0.05 / max(0.3*0.5, 0.5*0.2)
}

TEST(AssociationRules, ConvictionIsInfiniteAtConfidenceOne) {
    const auto rules = mine(collection({{1, 2}, {1, 2}, {1}, {3}}), [] {
        RuleOptions o;
        o.min_count = 2;
        o.min_confidence = 0.9;
        return o;
    }());
    // {2} => 1: sA = 0.5, sC = 0.75, sAC = 0.5; {1} => 2 has confidence 2/3.
    ASSERT_EQ(describe(rules), (std::vector<std::string>{"{2} => 1 (2)"}));
    const Rule &r = rules[0].metrics;
    EXPECT_EQ(r.confidence, 1.0);
    EXPECT_TRUE(std::isinf(r.conviction) && r.conviction > 0);
    EXPECT_NEAR(r.lift, 1.0 / 0.75, 1e-12);
    EXPECT_NEAR(r.certainty, 1.0, 1e-12);                    // (1 - 0.75) / 0.25
    EXPECT_NEAR(r.zhangs_metric, 0.5, 1e-12);                // 0.125 / max(0.5*0.5, 0.5*0.25)
}

TEST(AssociationRules, FillMetricsNeverNaN) {
    Rule r{};
    for (const auto &s : std::vector<std::array<double, 3>>{
             {1, 1, 1}, {0.5, 1, 0.5}, {1, 0.5, 0.5}, {0, 0, 0}, {0.2, 0.3, 0}, {1, 1, 0.5}}) {
        fill_metrics(s[0], s[1], s[2], r);
        for (const double v : {r.confidence, r.lift, r.leverage, r.conviction, r.jaccard, r.certainty, r.kulczynski,
                               r.zhangs_metric})
            EXPECT_FALSE(std::isnan(v)) << s[0] << " " << s[1] << " " << s[2];
    }
    fill_metrics(0.5, 1.0, 0.5, r);  // consequent in every basket
    EXPECT_EQ(r.certainty, 0.0);
    EXPECT_TRUE(std::isinf(r.conviction));
    EXPECT_EQ(r.zhangs_metric, 0.0);  // leverage 0 over max(0.25, 0.25)
    fill_metrics(0.4, 0.4, 0.0, r);   // never together
    EXPECT_EQ(r.confidence, 0.0);
    EXPECT_NEAR(r.zhangs_metric, -1.0, 1e-12);  // -0.16 / max(0, 0.16)
}

// ---------------------------------------------------------------------------
// Reference: enumerate the itemsets level by level, count by scanning.

std::vector<MinedRule> brute_force(std::vector<std::vector<std::int64_t>> baskets, const RuleOptions &o) {
    std::vector<std::vector<std::int64_t>> mined;
    for (auto &b : baskets) {
        std::sort(b.begin(), b.end());
        b.erase(std::unique(b.begin(), b.end()), b.end());
        if (b.empty()) continue;
        if (o.max_basket_size > 0 && static_cast<std::int64_t>(b.size()) > o.max_basket_size) continue;
        mined.push_back(b);
    }
    const auto n = static_cast<std::int64_t>(mined.size());
    const std::int64_t minc =
        o.min_count > 0 ? o.min_count
                        : std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil(n * o.min_support - 1e-9)));
    auto support = [&](const std::vector<std::int64_t> &set) {
        std::int64_t c = 0;
        for (const auto &b : mined) c += std::includes(b.begin(), b.end(), set.begin(), set.end()) ? 1 : 0;
        return c;
    };
    std::set<std::int64_t> all;
    for (const auto &b : mined) all.insert(b.begin(), b.end());
    std::map<std::vector<std::int64_t>, std::int64_t> frequent;
    std::vector<std::vector<std::int64_t>> level;
    for (const std::int64_t i : all) {
        const std::int64_t c = support({i});
        if (c >= minc) {
            frequent[{i}] = c;
            level.push_back({i});
        }
    }
    for (int len = 2; len <= o.max_len && !level.empty(); ++len) {
        std::vector<std::vector<std::int64_t>> next;
        for (const auto &set : level)
            for (const std::int64_t i : all) {
                if (i <= set.back()) continue;
                auto bigger = set;
                bigger.push_back(i);
                const std::int64_t c = support(bigger);
                if (c >= minc) {
                    frequent[bigger] = c;
                    next.push_back(bigger);
                }
            }
        level = std::move(next);
    }
    std::vector<std::pair<std::vector<std::int64_t>, std::int64_t>> sets(frequent.begin(), frequent.end());
    std::stable_sort(sets.begin(), sets.end(),
                     [](const auto &a, const auto &b) { return a.first.size() < b.first.size(); });
    auto in = [](const std::vector<std::int64_t> &v, std::int64_t x) {
        return std::find(v.begin(), v.end(), x) != v.end();
    };
    std::vector<MinedRule> rules;
    for (const auto &[set, count] : sets) {
        if (set.size() < 2) continue;
        for (std::size_t p = 0; p < set.size(); ++p) {
            if (!o.consequents.empty() && !in(o.consequents, set[p])) continue;
            std::vector<std::int64_t> a;
            for (std::size_t q = 0; q < set.size(); ++q)
                if (q != p) a.push_back(set[q]);
            if (!o.antecedents.empty() &&
                !std::all_of(a.begin(), a.end(), [&](std::int64_t x) { return in(o.antecedents, x); }))
                continue;
            const std::int64_t ac = frequent.at(a);
            if (static_cast<double>(count) / ac < o.min_confidence - 1e-12) continue;
            MinedRule r{a, set[p], count, Rule{}};
            fill_metrics(static_cast<double>(ac) / n, static_cast<double>(frequent.at({set[p]})) / n,
                         static_cast<double>(count) / n, r.metrics);
            rules.push_back(r);
        }
    }
    return rules;
}

std::vector<std::vector<std::int64_t>> random_baskets(std::mt19937 &rng, int baskets, int items, int max_size,
                                                      std::int64_t scale) {
    // Skewed popularity so that itemsets of several lengths are frequent.
    std::vector<double> weights(static_cast<std::size_t>(items));
    for (int i = 0; i < items; ++i) weights[static_cast<std::size_t>(i)] = 1.0 / (1 + i);
    std::discrete_distribution<int> item(weights.begin(), weights.end());
    std::uniform_int_distribution<int> size(1, max_size);
    std::vector<std::vector<std::int64_t>> out(static_cast<std::size_t>(baskets));
    for (auto &b : out) {
        const int k = size(rng);
        for (int j = 0; j < k; ++j) b.push_back((item(rng) - items / 3) * scale);  // duplicates on purpose
    }
    return out;
}

void expect_same_rules(const std::vector<MinedRule> &got, const std::vector<MinedRule> &want, const std::string &what) {
    ASSERT_EQ(describe(got), describe(want)) << what;
    for (std::size_t i = 0; i < got.size(); ++i) {
        const Rule &a = got[i].metrics, &b = want[i].metrics;
        EXPECT_DOUBLE_EQ(a.support, b.support) << what;
        EXPECT_DOUBLE_EQ(a.antecedent_support, b.antecedent_support) << what;
        EXPECT_DOUBLE_EQ(a.consequent_support, b.consequent_support) << what;
        EXPECT_DOUBLE_EQ(a.confidence, b.confidence) << what;
        EXPECT_DOUBLE_EQ(a.lift, b.lift) << what;
        EXPECT_DOUBLE_EQ(a.zhangs_metric, b.zhangs_metric) << what;
    }
}

TEST(AssociationRules, AgreesWithBruteForce) {
    for (unsigned seed = 1; seed <= 12; ++seed) {
        std::mt19937 rng(seed);
        // Odd seeds: item ids spread wide (the hash item index).
        const auto data = random_baskets(rng, 60 + static_cast<int>(seed) * 10, 14, 8, seed % 2 ? 1000000007LL : 1);
        RuleOptions o;
        o.min_support = 0.04 + 0.01 * (seed % 4);
        o.min_confidence = 0.1 * (seed % 7);
        o.max_len = 2 + static_cast<int>(seed % 4);
        if (seed % 3 == 0) o.max_basket_size = 6;
        const auto want = brute_force(data, o);
        const auto got = mine(collection(data), o);
        expect_same_rules(got, want, "seed " + std::to_string(seed));
        EXPECT_GT(want.size(), 0u) << "seed " << seed << " tests nothing";
    }
}

TEST(AssociationRules, FiltersAgreeWithBruteForce) {
    for (unsigned seed = 1; seed <= 12; ++seed) {
        std::mt19937 rng(seed + 100);
        const auto data = random_baskets(rng, 120, 12, 7, 1);
        RuleOptions o;
        o.min_support = 0.03;
        o.max_len = 2 + static_cast<int>(seed % 3);
        std::vector<std::int64_t> pool = {-4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6, 7, 99};
        std::shuffle(pool.begin(), pool.end(), rng);
        if (seed % 3 != 1) o.antecedents.assign(pool.begin(), pool.begin() + 1 + seed % 6);
        if (seed % 3 != 2) o.consequents.assign(pool.begin() + 3, pool.begin() + 5 + seed % 3);
        const auto want = brute_force(data, o);
        expect_same_rules(mine(collection(data), o), want, "seed " + std::to_string(seed));
    }
}

TEST(AssociationRules, PairPathEqualsFpGrowthPairs) {
    for (unsigned seed = 1; seed <= 3; ++seed) {
        std::mt19937 rng(seed);
        // Seed 3 has > 6000 frequent items: the hash pair counters.
        const bool many = seed == 3;
        std::vector<std::vector<std::int64_t>> data;
        if (many) {
            std::uniform_int_distribution<int> item(0, 6499);
            for (int b = 0; b < 30000; ++b) data.push_back({item(rng), item(rng), item(rng), item(rng) % 50});
        } else {
            data = random_baskets(rng, 400, 40, 10, 1);
        }
        RuleOptions o;
        o.min_count = many ? 2 : 4;
        o.min_confidence = many ? 0.0 : 0.2;
        o.max_len = 2;
        const auto pairs = mine(collection(data), o);
        o.max_len = 3;
        std::vector<MinedRule> fp;
        for (auto &r : mine(collection(data), o))
            if (r.antecedent.size() == 1) fp.push_back(r);
        EXPECT_GT(pairs.size(), many ? 1000u : 50u);
        expect_same_rules(pairs, fp, "seed " + std::to_string(seed));
    }
}

// The three pair counters (forced) find the same frequent pairs.
TEST(AssociationRules, PairCountersAgree) {
    using namespace mining;
    for (unsigned seed = 1; seed <= 4; ++seed) {
        std::mt19937 rng(seed);
        const std::uint32_t f = 50 + 30 * seed;
        // Global ids in reverse rank order, so rank != global id.
        std::vector<std::uint32_t> rank_to_global(f);
        for (std::uint32_t r = 0; r < f; ++r) rank_to_global[r] = f - 1 - r;
        std::vector<std::uint8_t> role(f, kCanBeAntecedent | kCanBeConsequent);
        const bool filtered = seed % 2 == 0;
        if (filtered)
            for (auto &x : role) x = static_cast<std::uint8_t>(1 + rng() % 3);
        std::vector<std::multiset<std::vector<std::uint32_t>>> results;
        for (const PairCounter counter : {PairCounter::Dense, PairCounter::Rows, PairCounter::Hash}) {
            MemoryBudget budget;
            MiningStats stats;
            Transactions tx(budget);
            std::mt19937 data_rng(seed);
            for (int t = 0; t < 2000; ++t) {
                std::set<std::uint32_t> basket;
                const int k = 2 + static_cast<int>(data_rng() % 9);
                while (static_cast<int>(basket.size()) < k)
                    basket.insert(std::min<std::uint32_t>(
                        f - 1, static_cast<std::uint32_t>(data_rng() % f) % (1 + data_rng() % f)));
                for (const auto r : basket) tx.items.push_back(r);
                tx.ends.push_back(tx.items.size());
            }
            const Interrupt interrupt;
            const MiningContext ctx{budget,      interrupt, 3,    2, filtered, filtered, rank_to_global.data(),
                                    role.data(), f,         stats};
            ItemsetStore store(budget);
            count_pairs(ctx, tx, store, counter);
            std::multiset<std::vector<std::uint32_t>> pairs;
            for (std::size_t i = 0; i < store.count(2); ++i) {
                const std::uint32_t *r = store.record(2, i);
                EXPECT_LT(r[0], r[1]);
                pairs.insert({r[0], r[1], r[2]});
            }
            EXPECT_EQ(stats.frequent_itemsets, static_cast<std::int64_t>(pairs.size()));
            results.push_back(pairs);
        }
        EXPECT_GT(results[0].size(), 20u) << "seed " << seed;
        EXPECT_EQ(results[0], results[1]) << "dense vs rows, seed " << seed;
        EXPECT_EQ(results[0], results[2]) << "dense vs hash, seed " << seed;
    }
}

TEST(AssociationRules, ConsequentAndAntecedentFilters) {
    RuleOptions o = shop_options(3);
    o.consequents = {1};
    EXPECT_EQ(describe(mine(collection(kShop), o)),
              (std::vector<std::string>{"{2} => 1 (5)", "{3} => 1 (4)", "{2,3} => 1 (3)"}));
    o.consequents.clear();
    o.antecedents = {3, 2};
    EXPECT_EQ(describe(mine(collection(kShop), o)),
              (std::vector<std::string>{"{2} => 1 (5)", "{3} => 1 (4)", "{3} => 2 (4)", "{2,3} => 1 (3)"}));
    o.antecedents = {1, 2};
    o.consequents = {3, 42};
    EXPECT_EQ(describe(mine(collection(kShop), o)), (std::vector<std::string>{"{1,2} => 3 (3)"}));
    o.antecedents = {42};
    EXPECT_TRUE(mine(collection(kShop), o).empty());
}

TEST(AssociationRules, MaxBasketSizeSkipsBaskets) {
    std::vector<std::vector<std::int64_t>> data = {{1, 2}, {1, 2}, {1, 3}, {1, 2, 3, 4, 5}};
    RuleOptions o;
    o.min_count = 2;
    o.max_basket_size = 3;
    MiningStats stats;
    const auto rules = mine(collection(data), o, &stats);
    EXPECT_EQ(stats.baskets, 3);
    EXPECT_EQ(stats.skipped_baskets, 1);
    // Without the big basket, {1,3} occurs once only: just 1 <=> 2 are left.
    ASSERT_EQ(describe(rules), (std::vector<std::string>{"{2} => 1 (2)", "{1} => 2 (2)"}));
    EXPECT_NEAR(rules[0].metrics.support, 2.0 / 3, 1e-12);  // n excludes the skipped basket
    o.max_basket_size = 0;
    const auto all = mine(collection(data), o, &stats);
    EXPECT_EQ(stats.skipped_baskets, 0);
    EXPECT_EQ(all.size(), 4u);  // {1,2}:3 and {1,3}:2 both ways; {2,3} occurs once
}

TEST(AssociationRules, MinCountAndMinSupport) {
    const auto data = collection(kShop);
    RuleOptions by_support = shop_options(3);
    by_support.min_support = 0.25;  // ceil(2.5) = 3
    RuleOptions by_count = shop_options(3);
    by_count.min_support = 0.9;     // ignored
    by_count.min_count = 3;
    MiningStats a, b;
    EXPECT_EQ(describe(mine(data, by_support, &a)), describe(mine(data, by_count, &b)));
    EXPECT_EQ(a.min_count, 3);
    EXPECT_EQ(b.min_count, 3);
    by_count.min_count = 11;  // more than there are baskets
    EXPECT_TRUE(mine(data, by_count, &b).empty());
    EXPECT_EQ(b.min_count, 11);

    // n * min_support just above an integer through rounding: 100 * 0.07 =
    // 7.000000000000001 in doubles; the minimum count is 7, not 8.
    std::vector<std::vector<std::int64_t>> hundred(100, std::vector<std::int64_t>{9});
    for (int b2 = 0; b2 < 7; ++b2) hundred[static_cast<std::size_t>(b2)] = {1, 2};
    RuleOptions seven;
    seven.min_support = 0.07;
    ASSERT_GT(100 * 0.07, 7.0);
    MiningStats s;
    EXPECT_EQ(mine(collection(hundred), seven, &s).size(), 2u);
    EXPECT_EQ(s.min_count, 7);
    // 9835 baskets at 0.001: 9.835 -> 10 (arules).
    RuleOptions groceries;
    groceries.min_support = 0.001;
    std::vector<std::vector<std::int64_t>> many(9835, std::vector<std::int64_t>{1});
    mine(collection(many), groceries, &s);
    EXPECT_EQ(s.min_count, 10);
}

TEST(AssociationRules, EmptyInputsYieldNoRules) {
    MiningStats stats;
    EXPECT_TRUE(mine(BasketCollection(), shop_options(2), &stats).empty());
    EXPECT_EQ(stats.baskets, 0);
    EXPECT_TRUE(mine(BasketCollection(), shop_options(5), &stats).empty());
    // Every item is frequent (min count ceil(3 * 0.3) = 1) but none co-occur.
    EXPECT_TRUE(mine(collection({{1}, {2}, {3}}), shop_options(3), &stats).empty());
    EXPECT_EQ(stats.frequent_items, 3);
    EXPECT_EQ(stats.frequent_itemsets, 0);
}

ErrorCode code_of(const std::function<void()> &f, std::string *message = nullptr) {
    try {
        f();
    } catch (const Error &e) {
        if (message) *message = e.what();
        return e.code();
    }
    ADD_FAILURE() << "no Error thrown";
    return ErrorCode::Internal;
}

TEST(AssociationRules, ValidationNamesTheOption) {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    auto check = [&](RuleOptions o, const std::string &name) {
        std::string message;
        EXPECT_EQ(code_of([&] { validate(o); }, &message), ErrorCode::InvalidParameter) << name;
        EXPECT_NE(message.find("\"" + name + "\""), std::string::npos) << message;
        MemoryBudget budget;
        EXPECT_EQ(code_of([&] { mine_rules(BasketCollection(), o, budget, Interrupt(), nullptr); }),
                  ErrorCode::InvalidParameter);
    };
    RuleOptions o;
    for (const double s : {0.0, -0.1, 1.5, nan}) {
        o = RuleOptions();
        o.min_support = s;
        check(o, "min_support");
    }
    std::string message;
    o = RuleOptions();
    o.min_support = 0.0;
    code_of([&] { validate(o); }, &message);
    EXPECT_EQ(message, "association_rules: \"min_support\" must be in (0, 1]");
    for (const double c : {-0.01, 1.01, nan}) {
        o = RuleOptions();
        o.min_confidence = c;
        check(o, "min_confidence");
    }
    o = RuleOptions();
    o.max_len = 1;
    check(o, "max_len");
    o = RuleOptions();
    o.min_count = -1;
    check(o, "min_count");
    o = RuleOptions();
    o.max_basket_size = -2;
    check(o, "max_basket_size");
    o = RuleOptions();
    o.min_support = 1.0;
    o.min_confidence = 1.0;
    EXPECT_NO_THROW(validate(o));
}

long probes = 0;
long cancel_after = 0;  // < 0: never
bool counting_probe() { return ++probes > cancel_after && cancel_after >= 0; }

TEST(AssociationRules, InterruptCancelsMining) {
    std::mt19937 rng(5);
    const auto data = collection(random_baskets(rng, 20000, 200, 12, 1));
    for (const int max_len : {2, 4}) {
        RuleOptions o;
        o.min_count = 5;
        o.max_len = max_len;
        // How often a full run probes, then cancel early, midway and late.
        probes = 0;
        cancel_after = -1;
        MemoryBudget full;
        mine_rules(data, o, full, Interrupt(&counting_probe), nullptr);
        const long total = probes;
        ASSERT_GT(total, 20);
        for (const long at : {total / 20, total / 2, total - 2}) {
            probes = 0;
            cancel_after = at;
            MemoryBudget budget;
            EXPECT_EQ(code_of([&] { mine_rules(data, o, budget, Interrupt(&counting_probe), nullptr); }),
                      ErrorCode::Canceled)
                << "max_len " << max_len << " after " << at << " of " << total << " probes";
            EXPECT_EQ(budget.used(), 0u);  // everything charged was released while unwinding
        }
    }
}

TEST(AssociationRules, MemoryBudgetLimitsMining) {
    std::mt19937 rng(8);
    const auto data = collection(random_baskets(rng, 5000, 300, 20, 1));
    for (const int max_len : {2, 5}) {
        RuleOptions o;
        o.min_count = 2;
        o.max_len = max_len;
        MemoryBudget budget(256 << 10, "personalize.memory_limit");
        std::string message;
        EXPECT_EQ(code_of([&] { mine_rules(data, o, budget, Interrupt(), nullptr); }, &message),
                  ErrorCode::OutOfMemory);
        EXPECT_NE(message.find("association_rules"), std::string::npos) << message;
        EXPECT_EQ(budget.used(), 0u);
        MemoryBudget unlimited;
        const MiningStats s = mine_rules(data, o, unlimited, Interrupt(), nullptr);
        EXPECT_GT(s.peak_bytes, std::size_t{256} << 10);
        EXPECT_EQ(unlimited.used(), 0u);
    }
}

TEST(AssociationRules, HugeBasketWithMostlyRareItems) {
    std::vector<std::vector<std::int64_t>> data;
    std::vector<std::int64_t> huge;
    for (std::int64_t i = 0; i < 100000; ++i) huge.push_back(i * 7);
    data.push_back(huge);
    for (int b = 0; b < 50; ++b) data.push_back({0, 7, 14 + 7 * (b % 3)});
    RuleOptions o;
    o.min_count = 10;
    for (const int max_len : {2, 3}) {
        o.max_len = max_len;
        MiningStats stats;
        const auto rules = mine(collection(data), o, &stats);
        EXPECT_EQ(stats.frequent_items, 5);  // 0, 7, 14, 21, 28
        EXPECT_FALSE(rules.empty());
    }
    // Skipped when over max_basket_size: then the pair {0, 7} is in exactly 50 baskets.
    o.max_basket_size = 1000;
    MiningStats stats;
    const auto rules = mine(collection(data), o, &stats);
    EXPECT_EQ(stats.skipped_baskets, 1);
    EXPECT_EQ(rules.front().count, 50);
}

// ---------------------------------------------------------------------------
// Groceries (arules): reference rule counts from R's arules::apriori.

std::string shared_data() {
    const char *env = std::getenv("PERSONALIZE_SHARED_DATA");
    return env && *env ? env : "/work/shared/data";
}

struct Groceries {
    BasketCollection baskets;
    std::vector<std::string> names;  // item id -> name
};

bool load_groceries(Groceries &out) {
    std::ifstream in(shared_data() + "/groceries/groceries.csv");
    if (!in) return false;
    std::vector<std::vector<std::string>> lines;
    std::set<std::string> names;
    std::string line;
    while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        std::vector<std::string> items;
        std::stringstream ss(line);
        std::string item;
        while (std::getline(ss, item, ',')) {
            items.push_back(item);  // kept exactly, e.g. "cream cheese " with its trailing space
            names.insert(item);
        }
        lines.push_back(items);
    }
    out.names.assign(names.begin(), names.end());
    BasketBuilder builder{MemoryBudget()};
    for (std::size_t b = 0; b < lines.size(); ++b)
        for (const auto &item : lines[b])
            builder.add(static_cast<std::int64_t>(b),
                        std::lower_bound(out.names.begin(), out.names.end(), item) - out.names.begin());
    out.baskets = builder.finish(Interrupt());
    return true;
}

TEST(AssociationRules, GroceriesMatchesArules) {
    Groceries g;
    if (!load_groceries(g)) GTEST_SKIP() << "no " << shared_data() << "/groceries/groceries.csv";
    ASSERT_EQ(g.baskets.size(), 9835u);
    ASSERT_EQ(g.names.size(), 169u);
    ASSERT_TRUE(std::binary_search(g.names.begin(), g.names.end(), "cream cheese "));

    auto run = [&](double support, double confidence, int max_len, MiningStats *stats = nullptr) {
        RuleOptions o;
        o.min_support = support;
        o.min_confidence = confidence;
        o.max_len = max_len;
        return mine(g.baskets, o, stats);
    };
    MiningStats stats;
    const auto rules = run(0.001, 0.8, 10, &stats);
    EXPECT_EQ(stats.min_count, 10);
    EXPECT_EQ(rules.size(), 410u);
    ASSERT_FALSE(rules.empty());
    const auto top = *std::max_element(rules.begin(), rules.end(), [](const MinedRule &a, const MinedRule &b) {
        return a.metrics.lift < b.metrics.lift;
    });
    std::vector<std::string> antecedent;
    for (const auto id : top.antecedent) antecedent.push_back(g.names[static_cast<std::size_t>(id)]);
    EXPECT_EQ(antecedent, (std::vector<std::string>{"liquor", "red/blush wine"}));
    EXPECT_EQ(g.names[static_cast<std::size_t>(top.consequent)], "bottled beer");
    EXPECT_NEAR(top.metrics.lift, 11.2353, 5e-5);
    EXPECT_NEAR(top.metrics.confidence, 0.9048, 5e-5);
    EXPECT_EQ(top.count, 19);

    EXPECT_EQ(run(0.001, 0.5, 10).size(), 5668u);
    EXPECT_EQ(run(0.01, 0.5, 10).size(), 15u);
    EXPECT_EQ(run(0.006, 0.25, 10).size(), 463u);
}

}  // namespace
}  // namespace personalize::mining
