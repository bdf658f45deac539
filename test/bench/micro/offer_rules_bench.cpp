// Offer rule micro benchmarks: rule evaluations per second against varied
// customer contexts, measured from prebuilt context trees (binding and
// evaluation), and separately the JSON -> tree parsing the benchmark needs
// (in the database the glue builds trees from jsonb instead), compiling,
// cache hits, explain, and contains() on a 10,000-item cart.
//
// The ten rules are the five use cases of issue 6 and variations: first
// order and free shipping at 30 GBP, win-back of lapsed customers,
// exit intent on a high-value cart without an offer shown, a complementary
// bundle on the product page, e-mail deals for opted-in segments, plus VIPs,
// session propensity, cart categories and a shop-specific attribute.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/rules/context_tree.hpp"
#include "core/rules/rules.hpp"

namespace {

using personalize::OwnedContextTree;
namespace rules = personalize::rules;

constexpr std::int64_t kNow = 1767225600000000LL;  // 2026-01-01T00:00:00Z
constexpr int kContexts = 1000;

const std::vector<std::string> kRules = {
    "customer.orders = 0 and cart.total >= 30 GBP",
    "cart.total >= 30 GBP and customer.country = 'GB'",
    "days_since(customer.last_order_at) > 90 and customer.p_alive < 0.5",
    "session.exit_intent and cart.items > 0 and not session.offer_shown and cart.total >= 100 GBP",
    "session.product_id in [1001, 1002, 1003] and contains(session.complements, 2001) and not contains(cart.items, 2001)",
    "customer.email_opt_in and customer.segment in ['champions', 'loyal', 'potential_loyalist']",
    "customer.clv > 500 GBP or any_in(customer.tags, ['vip', 'staff'])",
    "session.propensity >= 0.7 and session.pages_viewed > 3 and session.channel != 'email'",
    "any_in(cart.categories, ['shoes', 'bags']) and cart.quantity >= 2",
    "customer.attributes.loyalty_points >= 1000 and hours_since(session.started_at) < 2",
};

// A deterministic generator (no dependence on the platform's <random>).
struct Lcg {
    std::uint64_t state;
    std::uint32_t next() {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        return static_cast<std::uint32_t>(state >> 33);
    }
    int below(int n) { return static_cast<int>(next() % static_cast<std::uint32_t>(n)); }
    bool chance(int percent) { return below(100) < percent; }
};

// A customer context as the glue would build it: some fields missing, carts
// of 0-8 items, money as plain numbers in the shop currency.
std::string make_context(Lcg &g) {
    static const char *segments[] = {"champions", "loyal", "potential_loyalist", "at_risk", "hibernating", "new"};
    static const char *countries[] = {"GB", "IE", "FR", "DE"};
    static const char *categories[] = {"shoes", "bags", "hats", "books", "garden", "toys"};
    static const char *channels[] = {"email", "search", "social", "direct"};
    std::string c = R"({"currency":"GBP","customer":{"id":)" + std::to_string(g.next() % 1000000);
    const int orders = g.chance(30) ? 0 : g.below(40);
    c += ",\"orders\":" + std::to_string(orders);
    if (orders > 0) {
        c += ",\"last_order_at\":\"2025-0" + std::to_string(1 + g.below(9)) + "-1" + std::to_string(g.below(9)) +
             "T10:00:00+00:00\"";
        c += ",\"total_spent\":" + std::to_string(orders * (20 + g.below(80)));
    }
    if (g.chance(90)) c += ",\"p_alive\":" + std::to_string(g.below(1000) / 1000.0);
    if (g.chance(80)) c += ",\"clv\":" + std::to_string(g.below(1200));
    c += std::string(",\"segment\":\"") + segments[g.below(6)] + "\"";
    c += std::string(",\"country\":\"") + countries[g.below(4)] + "\"";
    c += std::string(",\"email_opt_in\":") + (g.chance(60) ? "true" : "false");
    c += ",\"tags\":[";
    if (g.chance(10)) c += "\"vip\"";
    c += "]";
    if (g.chance(50)) c += ",\"attributes\":{\"loyalty_points\":" + std::to_string(g.below(3000)) + "}";
    c += "},\"cart\":{\"total\":" + std::to_string(g.below(20000) / 100.0) + ",\"items\":[";
    const int items = g.below(9);
    for (int i = 0; i < items; ++i) c += (i ? "," : "") + std::to_string(2000 + g.below(20));
    c += "],\"quantity\":" + std::to_string(items + g.below(3)) + ",\"categories\":[";
    for (int i = 0; i < items && i < 3; ++i) c += std::string(i ? "," : "") + "\"" + categories[g.below(6)] + "\"";
    c += "]},\"session\":{";
    c += std::string("\"exit_intent\":") + (g.chance(20) ? "true" : "false");
    if (g.chance(70)) c += std::string(",\"offer_shown\":") + (g.chance(30) ? "true" : "false");
    c += ",\"pages_viewed\":" + std::to_string(g.below(12));
    c += ",\"propensity\":" + std::to_string(g.below(100) / 100.0);
    c += std::string(",\"channel\":\"") + channels[g.below(4)] + "\"";
    c += ",\"product_id\":" + std::to_string(1000 + g.below(6));
    c += ",\"complements\":[2001,2002,2003]";
    c += ",\"started_at\":\"2025-12-31T2" + std::to_string(g.below(4)) + ":00:00Z\"";
    c += "}}";
    return c;
}

struct Fixture {
    std::vector<std::string> texts;
    std::vector<OwnedContextTree> trees;
    std::vector<rules::RulePtr> compiled;
    std::size_t bytes = 0;

    Fixture() {
        Lcg g{2026};
        for (int i = 0; i < kContexts; ++i) {
            texts.push_back(make_context(g));
            bytes += texts.back().size();
            trees.push_back(OwnedContextTree::parse(texts.back()));
        }
        for (const std::string &r : kRules) compiled.push_back(rules::compile(r));
    }
};

const Fixture &fixture() {
    static const Fixture f;
    return f;
}

// The target case: several offers against each customer's context.
void BM_OfferRulesEvaluateTenRules(benchmark::State &state) {
    const Fixture &f = fixture();
    std::int64_t evaluations = 0, trues = 0;
    for (auto _ : state) {
        for (const OwnedContextTree &tree : f.trees) {
            rules::Evaluator evaluator(tree.view(), kNow);
            for (const rules::RulePtr &r : f.compiled) trues += evaluator.evaluate(*r) == rules::Truth::True;
            evaluations += static_cast<std::int64_t>(f.compiled.size());
        }
    }
    state.SetItemsProcessed(evaluations);
    state.counters["true_share"] = static_cast<double>(trues) / static_cast<double>(evaluations);
}
BENCHMARK(BM_OfferRulesEvaluateTenRules);

// Evaluation alone: the same ten rules again on contexts whose fields are
// already bound (what an Evaluator does for the second and later offers that
// read the same fields).
void BM_OfferRulesEvaluateBound(benchmark::State &state) {
    const Fixture &f = fixture();
    std::vector<std::unique_ptr<rules::Evaluator>> evaluators;
    for (const OwnedContextTree &tree : f.trees) {
        evaluators.push_back(std::make_unique<rules::Evaluator>(tree.view(), kNow));
        for (const rules::RulePtr &r : f.compiled) evaluators.back()->evaluate(*r);
    }
    std::int64_t evaluations = 0;
    for (auto _ : state) {
        for (auto &evaluator : evaluators)
            for (const rules::RulePtr &r : f.compiled) benchmark::DoNotOptimize(evaluator->evaluate(*r));
        evaluations += static_cast<std::int64_t>(evaluators.size() * f.compiled.size());
    }
    state.SetItemsProcessed(evaluations);
}
BENCHMARK(BM_OfferRulesEvaluateBound);

// Each rule alone with a fresh Evaluator per context (all binding charged to it).
void BM_OfferRulesEvaluateOneRule(benchmark::State &state) {
    const Fixture &f = fixture();
    const rules::Rule &rule = *f.compiled[static_cast<std::size_t>(state.range(0))];
    std::int64_t evaluations = 0;
    for (auto _ : state) {
        for (const OwnedContextTree &tree : f.trees) {
            rules::Evaluator evaluator(tree.view(), kNow);
            benchmark::DoNotOptimize(evaluator.evaluate(rule));
        }
        evaluations += kContexts;
    }
    state.SetItemsProcessed(evaluations);
    state.SetLabel(kRules[static_cast<std::size_t>(state.range(0))].substr(0, 40));
}
BENCHMARK(BM_OfferRulesEvaluateOneRule)->DenseRange(0, 9);

// JSON text -> tree (not part of an evaluation in the database).
void BM_OfferRulesParseContext(benchmark::State &state) {
    const Fixture &f = fixture();
    for (auto _ : state)
        for (const std::string &text : f.texts) benchmark::DoNotOptimize(OwnedContextTree::parse(text).size());
    state.SetItemsProcessed(state.iterations() * kContexts);
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(f.bytes));
}
BENCHMARK(BM_OfferRulesParseContext);

void BM_OfferRulesCompile(benchmark::State &state) {
    for (auto _ : state)
        for (const std::string &r : kRules) benchmark::DoNotOptimize(rules::compile(r));
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(kRules.size()));
}
BENCHMARK(BM_OfferRulesCompile);

void BM_OfferRulesCacheHit(benchmark::State &state) {
    rules::RuleCache cache;
    for (auto _ : state)
        for (const std::string &r : kRules) benchmark::DoNotOptimize(cache.get(r));
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(kRules.size()));
}
BENCHMARK(BM_OfferRulesCacheHit);

void BM_OfferRulesExplain(benchmark::State &state) {
    const Fixture &f = fixture();
    for (auto _ : state)
        for (const OwnedContextTree &tree : f.trees) {
            rules::Evaluator evaluator(tree.view(), kNow);
            benchmark::DoNotOptimize(evaluator.explain(*f.compiled[3]));
        }
    state.SetItemsProcessed(state.iterations() * kContexts);
}
BENCHMARK(BM_OfferRulesExplain);

// contains() on a 10,000-item cart: 20 probes of the same list per context.
void BM_OfferRulesContains10kCart(benchmark::State &state) {
    std::string json = R"({"cart":{"items":[)";
    for (int i = 0; i < 10000; ++i) json += (i ? "," : "") + std::to_string(i * 7);
    json += "]}}";
    const OwnedContextTree tree = OwnedContextTree::parse(json);
    std::string text = "cart.items > 0";
    for (int i = 0; i < 20; ++i) text += " and contains(cart.items, " + std::to_string(i * 7 * 499) + ")";
    const rules::RulePtr r = rules::compile(text);
    for (auto _ : state) {
        rules::Evaluator evaluator(tree.view(), kNow);
        if (evaluator.evaluate(*r) != rules::Truth::True) state.SkipWithError("wrong answer");
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_OfferRulesContains10kCart)->Unit(benchmark::kMicrosecond);

}  // namespace
