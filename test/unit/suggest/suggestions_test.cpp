#include "core/suggest/suggestions.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "core/common/error.hpp"

namespace personalize::suggest {
namespace {

constexpr double kDay = 86400.0;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Similarities: 1 -> 2 0.5, 1 -> 3 0.2, 2 -> 3 0.4, 2 -> 1 0.5, 4 -> 5 0.9,
// 3 -> 6 0.1; own rows 1.0 for 1..6. Popular overall: 6, 5, 4, 3, 2, 1;
// segment "vip": 5, 1.
struct Fixture {
    MemoryBudget budget;
    Model model{budget};
    Fixture() {
        model.add_similarity(1, 2, 0.5);
        model.add_similarity(1, 3, 0.2);
        model.add_similarity(2, 3, 0.4);
        model.add_similarity(2, 1, 0.5);
        model.add_similarity(4, 5, 0.9);
        model.add_similarity(3, 6, 0.1);
        for (std::int64_t i = 1; i <= 6; ++i) model.add_similarity(i, i, 1.0);
        for (std::int64_t i = 1; i <= 6; ++i) model.add_popular(kNone, i, static_cast<double>(i));
        const std::uint32_t vip = model.segment_index("vip");
        model.add_popular(vip, 5, 2.0);
        model.add_popular(vip, 1, 1.0);
        model.finish(Interrupt());
    }
    Purchase bought(std::int64_t item, double day) { return {model.intern(item), day * kDay}; }
    std::vector<Suggestion> run(const Options &o, const std::vector<Purchase> &history, std::uint32_t segment = kNone,
                                CategoryFetch fetch = {}) {
        Scorer scorer(model, o, budget, std::move(fetch));
        std::vector<Suggestion> out;
        scorer.suggest(history.data(), history.size(), segment, out, Interrupt());
        return out;
    }
};

std::vector<std::int64_t> items(const std::vector<Suggestion> &s) {
    std::vector<std::int64_t> out;
    for (const auto &x : s) out.push_back(x.item);
    return out;
}

std::vector<std::int64_t> because(const Suggestion &s) {
    return std::vector<std::int64_t>(s.because.begin(), s.because.begin() + s.because_count);
}

TEST(Suggestions, ScoresAreRecencyWeightedSumsOfSimilarities) {
    Fixture f;
    Options o;
    o.n = 2;
    o.half_life = 90 * kDay;
    // 1 bought 90 days before 2: w(1) = 0.5, w(2) = 1.
    const auto out = f.run(o, {f.bought(1, 0), f.bought(2, 90)});
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0].item, 3);
    EXPECT_DOUBLE_EQ(out[0].score, 0.5 * 0.2 + 1.0 * 0.4);
    EXPECT_EQ(out[0].source, Source::ItemItem);
    EXPECT_EQ(because(out[0]), (std::vector<std::int64_t>{2, 1}));  // 0.4 before 0.1
    // Nothing else scores: the popular list fills (6 first; 1 and 2 were bought).
    EXPECT_EQ(out[1].item, 6);
    EXPECT_EQ(out[1].source, Source::Popular);
    EXPECT_EQ(out[1].score, 0.0);
    EXPECT_EQ(out[1].because_count, 0);
}

TEST(Suggestions, WithoutDecayEveryItemWeighsOne) {
    Fixture f;
    Options o;
    o.n = 1;
    const auto out = f.run(o, {f.bought(1, 0), f.bought(2, 900)});
    ASSERT_EQ(out.size(), 1u);
    EXPECT_DOUBLE_EQ(out[0].score, 0.2 + 0.4);
}

TEST(Suggestions, LatestPurchaseOfAnItemCounts) {
    Fixture f;
    Options o;
    o.n = 1;
    o.half_life = 10 * kDay;
    // Item 1 bought on day 0 and day 20, item 2 on day 10: w(1) = 1, w(2) = 0.5.
    const auto out = f.run(o, {f.bought(1, 0), f.bought(2, 10), f.bought(1, 20)});
    EXPECT_DOUBLE_EQ(out[0].score, 1.0 * 0.2 + 0.5 * 0.4);
    EXPECT_EQ(because(out[0]), (std::vector<std::int64_t>{1, 2}));  // 0.2 before 0.2: tie, smaller id first
}

TEST(Suggestions, UnknownTimeCountsAsTheEarliestPurchase) {
    Fixture f;
    Options o;
    o.n = 1;
    o.half_life = 10 * kDay;
    const auto out = f.run(o, {{f.model.intern(1), kNaN}, f.bought(2, 10), f.bought(4, 0)});
    // w(1) = w(4) = 0.5 (day 0), w(2) = 1: 3 gets 0.1 + 0.4, 5 gets 0.45.
    EXPECT_EQ(out[0].item, 3);
    EXPECT_DOUBLE_EQ(out[0].score, 0.5 * 0.2 + 0.4);
    // Only unknown times: equal weights.
    const auto all_unknown = f.run(o, {{f.model.intern(1), kNaN}, {f.model.intern(2), kNaN}});
    EXPECT_DOUBLE_EQ(all_unknown[0].score, 0.6);
}

TEST(Suggestions, ReBuyableItemsStayCandidatesAndCountAsTheirOwnNeighbour) {
    Fixture f;
    f.model.set_rebuyable(f.model.find(1), true);
    Options o;
    o.n = 3;
    const auto out = f.run(o, {f.bought(1, 0), f.bought(2, 0)});
    // 1: own 1.0 + 0.5 from 2 = 1.5; 3: 0.6. 2 is bought and not re-buyable.
    ASSERT_GE(out.size(), 2u);
    EXPECT_EQ(out[0].item, 1);
    EXPECT_DOUBLE_EQ(out[0].score, 1.5);
    EXPECT_EQ(because(out[0]), (std::vector<std::int64_t>{1, 2}));
    EXPECT_EQ(out[1].item, 3);
    EXPECT_EQ(out[2].item, 6);  // popular; 2 never comes back
}

TEST(Suggestions, CategoryCapSkipsToTheNextCategory) {
    Fixture f;
    const std::uint32_t a = f.model.category_index("a"), b = f.model.category_index("b");
    int fetches = 0;
    std::vector<std::uint32_t> asked;
    CategoryFetch fetch = [&](const std::vector<std::uint32_t> &items) {
        ++fetches;
        for (const std::uint32_t i : items) {
            asked.push_back(i);
            const std::int64_t id = f.model.item(i);
            f.model.set_category(i, id == 3 || id == 6 || id == 5 ? a : (id == 4 ? b : kNone));
        }
    };
    Options o;
    o.n = 3;
    o.category_cap = 1;
    // Candidates 3 (a), 6 (a, via 3? no: 3 is not bought) -> bought 1, 2, 3.
    const auto out = f.run(o, {f.bought(1, 0), f.bought(3, 0)}, kNone, fetch);
    // Item-item: 2 (0.5 from 1), 6 (0.1 from 3, category a); popular: 6 taken, 5 (a, capped), 4 (b).
    EXPECT_EQ(items(out), (std::vector<std::int64_t>{2, 6, 4}));
    EXPECT_GE(fetches, 1);
    // Every category asked for once at most.
    std::sort(asked.begin(), asked.end());
    EXPECT_TRUE(std::adjacent_find(asked.begin(), asked.end()) == asked.end());
    // Without the cap: 2, 6, then popular 5.
    o.category_cap = 0;
    EXPECT_EQ(items(f.run(o, {f.bought(1, 0), f.bought(3, 0)})), (std::vector<std::int64_t>{2, 6, 5}));
}

TEST(Suggestions, ThinHistoryAndUnknownCustomersGetPopularItemsOfTheirSegment) {
    Fixture f;
    Options o;
    o.n = 3;
    const std::uint32_t vip = f.model.find_segment("vip");
    EXPECT_EQ(f.model.find_segment("nobody"), kNone);
    // No history: the segment's popular items, then overall.
    auto out = f.run(o, {}, vip);
    EXPECT_EQ(items(out), (std::vector<std::int64_t>{5, 1, 6}));
    for (const auto &s : out) EXPECT_EQ(s.source, Source::Popular);
    EXPECT_EQ(items(f.run(o, {}, kNone)), (std::vector<std::int64_t>{6, 5, 4}));
    // One item bought, min_history 2: popular only, the bought item left out.
    o.min_history = 2;
    out = f.run(o, {f.bought(5, 0)}, vip);
    EXPECT_EQ(items(out), (std::vector<std::int64_t>{1, 6, 4}));
    // An item unknown to the model: no neighbours, but still never suggested.
    o.min_history = 1;
    out = f.run(o, {f.bought(99, 0)}, kNone);
    EXPECT_EQ(items(out), (std::vector<std::int64_t>{6, 5, 4}));
}

TEST(Suggestions, HugeNReturnsWhatThereIs) {
    Fixture f;
    Options o;
    o.n = std::numeric_limits<std::int64_t>::max();
    const auto out = f.run(o, {f.bought(1, 0)});
    // 2 and 3 by item-item, then 6, 5, 4 popular: every item but the bought one.
    EXPECT_EQ(items(out), (std::vector<std::int64_t>{2, 3, 6, 5, 4}));
}

TEST(Suggestions, TiesGoToTheSmallerItemId) {
    MemoryBudget budget;
    Model model(budget);
    model.add_similarity(1, 30, 0.5);
    model.add_similarity(1, 20, 0.5);
    model.add_similarity(1, 10, 0.5);
    model.add_similarity(1, 20, 0.25);  // repeated pair: the larger score stays
    model.finish(Interrupt());
    Options o;
    o.n = 2;
    Scorer scorer(model, o, budget);
    std::vector<Suggestion> out;
    const Purchase p{model.intern(1), 0};
    scorer.suggest(&p, 1, kNone, out, Interrupt());
    EXPECT_EQ(items(out), (std::vector<std::int64_t>{10, 20}));
    EXPECT_DOUBLE_EQ(out[1].score, 0.5);
}

TEST(Suggestions, BadInputNamesTheArgument) {
    auto message = [](const std::function<void()> &f) {
        try {
            f();
        } catch (const Error &e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    Options o;
    o.n = 0;
    EXPECT_EQ(message([&] { validate(o, "suggestions"); }), "suggestions: \"n\" must be at least 1");
    o = {};
    o.category_cap = -1;
    EXPECT_EQ(message([&] { validate(o, "suggestions"); }), "suggestions: \"category_cap\" must be at least 1");
    o = {};
    o.half_life = -1;
    EXPECT_EQ(message([&] { validate(o, "suggestions_for"); }), "suggestions_for: \"half_life\" must be a positive interval");
    o = {};
    o.min_history = -1;
    EXPECT_EQ(message([&] { validate(o, "suggestions"); }), "suggestions: \"min_history\" must not be negative");
    MemoryBudget budget;
    Model model(budget);
    EXPECT_EQ(message([&] { model.add_similarity(1, 2, std::nan("")); }),
              "suggestions: \"similarities\" holds a score that is not a finite number (item 1, neighbour 2)");
    EXPECT_EQ(message([&] { model.add_popular(kNone, 3, INFINITY); }),
              "suggestions: \"popular\" holds a score that is not a finite number (item 3)");
}

TEST(Suggestions, BatchEqualsOneCustomerAtATime) {
    MemoryBudget budget;
    Model model(budget);
    std::mt19937 rng(5);
    for (int i = 1; i <= 80; ++i)
        for (int k = 0; k < 6; ++k) model.add_similarity(i, 1 + rng() % 80, (rng() % 1000) / 1000.0);
    for (int i = 1; i <= 80; ++i) model.add_popular(kNone, i, rng() % 50);
    const std::uint32_t seg = model.segment_index("s");
    for (int i = 1; i <= 10; ++i) model.add_popular(seg, i * 3, i);
    for (int i = 1; i <= 80; ++i) model.set_category(model.intern(i), model.category_index(std::to_string(i % 4)));
    for (int i = 1; i <= 80; i += 7) model.set_rebuyable(model.intern(i), true);
    model.finish(Interrupt());
    Options o;
    o.n = 7;
    o.category_cap = 3;
    o.half_life = 30 * kDay;
    ChargedVector<HistoryLine> lines(budget, "test");
    std::vector<std::vector<Purchase>> by_customer(50);
    for (int c = 0; c < 50; ++c)
        for (int k = 0; k < static_cast<int>(rng() % 9); ++k) {
            const Purchase p{model.intern(1 + rng() % 90), static_cast<double>(rng() % 400) * kDay};
            by_customer[c].push_back(p);
            lines.push_back({1000 - c, p.item, p.time});  // customers in descending order
        }
    ChargedVector<Target> targets(budget, "test");
    for (int c = 0; c < 50; c += 2) targets.push_back({1000 - c, c % 4 == 0 ? seg : kNone});
    targets.push_back({5, kNone});  // no history at all
    Scorer batch_scorer(model, o, budget), single(model, o, budget);
    std::vector<std::int64_t> seen;
    suggest_all(batch_scorer, lines, &targets, Interrupt(), [&](std::int64_t customer, const std::vector<Suggestion> &s) {
        seen.push_back(customer);
        std::vector<Suggestion> expected;
        const int c = customer == 5 ? -1 : static_cast<int>(1000 - customer);
        const std::vector<Purchase> none;
        const auto &h = c < 0 ? none : by_customer[c];
        single.suggest(h.data(), h.size(), c >= 0 && c % 4 == 0 ? seg : kNone, expected, Interrupt());
        ASSERT_EQ(s.size(), expected.size()) << customer;
        ASSERT_EQ(s.size(), 7u) << customer;
        for (std::size_t i = 0; i < s.size(); ++i) {
            EXPECT_EQ(s[i].item, expected[i].item) << customer;
            EXPECT_EQ(s[i].score, expected[i].score) << customer;
            EXPECT_EQ(because(s[i]), because(expected[i])) << customer;
        }
    });
    EXPECT_EQ(seen.size(), 26u);
    EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
    // Without targets: every customer with history, once.
    seen.clear();
    suggest_all(batch_scorer, lines, nullptr, Interrupt(),
                [&](std::int64_t customer, const std::vector<Suggestion> &) { seen.push_back(customer); });
    int with_history = 0;
    for (const auto &h : by_customer) with_history += h.empty() ? 0 : 1;
    EXPECT_EQ(static_cast<int>(seen.size()), with_history);
}

TEST(Suggestions, CancellationStopsTheBatch) {
    MemoryBudget budget;
    Model model(budget);
    model.add_similarity(1, 2, 1.0);
    model.finish(Interrupt());
    ChargedVector<HistoryLine> lines(budget, "test");
    for (int c = 0; c < 5000; ++c) lines.push_back({c, model.intern(1), 0});
    Scorer scorer(model, Options(), budget);
    const Interrupt canceled([] { return true; });
    EXPECT_THROW(suggest_all(scorer, lines, nullptr, canceled, [](std::int64_t, const std::vector<Suggestion> &) {}),
                 Error);
}

}  // namespace
}  // namespace personalize::suggest
