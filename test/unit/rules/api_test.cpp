// Offer rules: the API around compile() — Rule introspection, RuleCache
// (LRU, errors not cached), the field catalogue, truth names, and the
// timestamp and money helpers.
#include <atomic>
#include <set>
#include <string>
#include <thread>

#include "core/rules/fields.hpp"
#include "core/rules/money.hpp"
#include "core/rules/time.hpp"
#include "test_util.hpp"

namespace personalize::rules {
namespace {

using testing::compile_error;
using testing::kNow;

TEST(OfferRuleApi, TruthNames) {
    EXPECT_STREQ(truth_name(Truth::False), "false");
    EXPECT_STREQ(truth_name(Truth::True), "true");
    EXPECT_STREQ(truth_name(Truth::Unknown), "unknown");
}

TEST(OfferRuleApi, RuleIntrospection) {
    const std::string text = "customer.orders = 0 and cart.total >= 30 GBP and customer.orders < 9 and now > "
                             "customer.attributes.since";
    const RulePtr r = compile(text);
    EXPECT_EQ(r->text(), text);
    EXPECT_EQ(r->fields(), (std::vector<std::string>{"customer.orders", "cart.total", "now", "customer.attributes.since"}));
    EXPECT_EQ(r->field_type("cart.total"), "money");
    EXPECT_EQ(r->field_type("customer.attributes.since"), "timestamp");
    EXPECT_EQ(r->field_type("cart.items"), "");
    // Compact: two loads, a constant and a comparison per condition, and the jumps of "and".
    EXPECT_EQ(compile("customer.orders = 0")->code_size(), 3u);
    EXPECT_EQ(compile("customer.orders = 0 and cart.total >= 30 GBP")->code_size(), 8u);
}

TEST(OfferRuleApi, CurrenciesOfTheMoneyLiterals) {
    EXPECT_EQ(compile("true")->currencies(), std::vector<std::string>{});
    EXPECT_EQ(compile("cart.total >= 30 GBP and cart.total - 5 GBP < 100 GBP")->currencies(),
              std::vector<std::string>{"GBP"});
    EXPECT_EQ(compile("cart.total >= 30 GBP or cart.total in [1 EUR, 2 EUR]")->currencies(),
              (std::vector<std::string>{"EUR", "GBP"}));
    EXPECT_EQ(compile("cart.total > customer.clv")->currencies(), std::vector<std::string>{});  // no literal
    EXPECT_TRUE(is_currency_code("GBP"));
    EXPECT_TRUE(is_currency_code("XAU"));
    EXPECT_FALSE(is_currency_code("gbp"));
    EXPECT_FALSE(is_currency_code("ZZZ"));
    EXPECT_FALSE(is_currency_code("GBPX"));
    EXPECT_FALSE(is_currency_code(""));
}

TEST(OfferRuleApi, ACurrencyMismatchIsNotApplicable) {
    const RulePtr r = compile("cart.total >= 30 GBP");
    const OwnedContextTree tree = OwnedContextTree::parse(R"({"cart":{"total":"42 EUR"}})");
    Evaluator evaluator(tree.view(), kNow);
    EXPECT_THROW(evaluator.evaluate(*r), NotApplicable);
    // A context field of the wrong type is the context's error, not NotApplicable.
    const OwnedContextTree bad = OwnedContextTree::parse(R"({"cart":{"total":"lots"}})");
    Evaluator on_bad(bad.view(), kNow);
    try {
        on_bad.evaluate(*r);
        FAIL() << "no error";
    } catch (const NotApplicable &) {
        FAIL() << "a malformed context is not NotApplicable";
    } catch (const Error &e) {
        EXPECT_EQ(e.code(), ErrorCode::InvalidParameter);
    }
}

TEST(OfferRuleApi, ARuleIsSharedSafelyAcrossEvaluators) {
    const RulePtr r = compile("contains(cart.items, 5) and customer.segment = 'a'");
    const OwnedContextTree yes = OwnedContextTree::parse(R"({"cart":{"items":[5]},"customer":{"segment":"a"}})");
    const OwnedContextTree no = OwnedContextTree::parse(R"({"cart":{"items":[4]},"customer":{"segment":"a"}})");
    Evaluator a(yes.view(), kNow), b(no.view(), kNow);
    EXPECT_EQ(a.evaluate(*r), Truth::True);
    EXPECT_EQ(b.evaluate(*r), Truth::False);
    EXPECT_EQ(a.evaluate(*r), Truth::True);
    // Rules are immutable: evaluating from several threads at once is fine.
    std::vector<std::thread> threads;
    std::atomic<int> trues{0};
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&] {
            for (int i = 0; i < 1000; ++i) {
                Evaluator e(yes.view(), kNow);
                if (e.evaluate(*r) == Truth::True) ++trues;
            }
        });
    for (auto &t : threads) t.join();
    EXPECT_EQ(trues.load(), 4000);
}

TEST(OfferRuleCache, HitsMissesAndLeastRecentlyUsedEviction) {
    RuleCache cache(3);
    EXPECT_EQ(cache.capacity(), 3u);
    const RulePtr a = cache.get("customer.orders = 1");
    const RulePtr b = cache.get("customer.orders = 2");
    const RulePtr c = cache.get("customer.orders = 3");
    EXPECT_EQ(cache.size(), 3u);
    EXPECT_EQ(cache.misses(), 3u);
    EXPECT_EQ(cache.get("customer.orders = 1"), a);  // hit: the same compiled rule; now most recent
    EXPECT_EQ(cache.hits(), 1u);
    cache.get("customer.orders = 4");                 // evicts the least recently used: "= 2"
    EXPECT_EQ(cache.size(), 3u);
    EXPECT_EQ(cache.get("customer.orders = 1"), a);
    EXPECT_EQ(cache.get("customer.orders = 3"), c);
    EXPECT_EQ(cache.hits(), 3u);
    const RulePtr b2 = cache.get("customer.orders = 2");  // compiled again
    EXPECT_NE(b2, b);
    EXPECT_EQ(cache.misses(), 5u);
    EXPECT_EQ(b->text(), "customer.orders = 2");  // an evicted rule stays valid for whoever holds it
    // The key is the exact text: whitespace makes another entry.
    EXPECT_NE(cache.get("customer.orders  = 2"), b2);
    cache.clear();
    EXPECT_EQ(cache.size(), 0u);
}

TEST(OfferRuleCache, CompileErrorsPropagateAndAreNotCached) {
    RuleCache cache(10);
    for (int i = 0; i < 3; ++i) {
        try {
            cache.get("customer.orders = ");
            FAIL() << "no error";
        } catch (const Error &e) {
            EXPECT_EQ(e.code(), ErrorCode::Syntax);
        }
    }
    EXPECT_EQ(cache.size(), 0u);
    EXPECT_EQ(cache.misses(), 3u);
    RuleCache tiny(0);  // taken as 1
    EXPECT_EQ(tiny.capacity(), 1u);
    tiny.get("true");
    tiny.get("false");
    EXPECT_EQ(tiny.size(), 1u);
}

TEST(OfferRuleCatalogue, OneTableWithTypesAndDescriptions) {
    const auto &fields = field_catalogue();
    ASSERT_EQ(fields.size(), detail::catalogue().size() + 3);
    EXPECT_LE(detail::catalogue().size(), detail::kMaxCatalogueFields);
    std::set<std::string> paths;
    const std::set<std::string> types = {"bool", "number", "money", "text", "timestamp", "list of numbers",
                                         "list of text", "inferred"};
    for (const FieldInfo &f : fields) {
        EXPECT_TRUE(paths.insert(f.path).second) << f.path;
        EXPECT_TRUE(types.count(f.type)) << f.path << " " << f.type;
        EXPECT_GT(std::string(f.description).size(), 5u) << f.path;
    }
    EXPECT_TRUE(paths.count("customer.p_alive"));
    EXPECT_TRUE(paths.count("session.complements"));
    EXPECT_TRUE(paths.count("now"));
    EXPECT_TRUE(paths.count("customer.attributes.NAME"));
    // Every catalogue field compiles with its type.
    for (const auto &f : detail::catalogue()) {
        const std::string rule = std::string(f.path) + " is not null";
        const RulePtr r = compile(rule);
        EXPECT_EQ(r->field_type(f.path), detail::type_name(f.type));
    }
}

// ---- helpers: timestamps and money -----------------------------------------------------

std::int64_t ts(const std::string &text) {
    std::int64_t t = 0;
    std::string why;
    EXPECT_TRUE(detail::parse_timestamp(text, t, why)) << text << ": " << why;
    return t;
}
std::string bad_ts(const std::string &text) {
    std::int64_t t = 0;
    std::string why;
    EXPECT_FALSE(detail::parse_timestamp(text, t, why)) << text;
    return why;
}

TEST(OfferRuleTime, ParsesIso8601AsPostgresWritesIt) {
    EXPECT_EQ(ts("1970-01-01"), 0);
    EXPECT_EQ(ts("2026-01-01"), kNow);
    EXPECT_EQ(ts("2026-01-01T00:00:00Z"), kNow);
    EXPECT_EQ(ts("2026-01-01 01:00:00+01:00"), kNow);
    EXPECT_EQ(ts("2025-12-31T19:00:00-05"), kNow);
    EXPECT_EQ(ts("2026-01-01T05:30:00+0530"), kNow);
    EXPECT_EQ(ts("2026-01-01T00:00:00.123456Z"), kNow + 123456);
    EXPECT_EQ(ts("2026-01-01T00:00:00.1234565Z"), kNow + 123457);  // rounded
    EXPECT_EQ(ts("2026-01-01T00:00:00.9999999Z"), kNow + 1000000);  // carries into the next second
    EXPECT_EQ(ts("2026-01-01T00:01:15+00:01:15"), kNow);             // historical offsets with seconds
    EXPECT_EQ(ts("1969-12-31T23:59:59Z"), -1000000);
    EXPECT_EQ(ts("0001-01-01"), -62135596800LL * 1000000);
    EXPECT_EQ(ts("9999-12-31T23:59:59.999999Z"), 253402300799999999LL);
    EXPECT_EQ(ts("2024-02-29"), ts("2024-03-01") - 86400LL * 1000000);
    EXPECT_EQ(ts("2000-02-29"), ts("2000-03-01") - 86400LL * 1000000);
    EXPECT_EQ(ts("infinity"), detail::kInfinityTime);
    EXPECT_EQ(ts("-infinity"), detail::kMinusInfinityTime);
}

TEST(OfferRuleTime, RejectsWithAReason) {
    EXPECT_EQ(bad_ts(""), "expected a four-digit year");
    EXPECT_EQ(bad_ts("26-01-01"), "expected a four-digit year");
    EXPECT_EQ(bad_ts("2026/01/01"), "expected -MM after the year");
    EXPECT_EQ(bad_ts("2026-1-01"), "expected -MM after the year");
    EXPECT_EQ(bad_ts("0000-01-01"), "year 0000 (the first year is 0001)");
    EXPECT_EQ(bad_ts("2026-00-10"), "month 0");
    EXPECT_EQ(bad_ts("2026-04-31"), "day 31 of month 4");
    EXPECT_EQ(bad_ts("1900-02-29"), "day 29 of month 2");
    EXPECT_EQ(bad_ts("2026-01-01X10:00"), "expected \"T\" or a space before the time");
    EXPECT_EQ(bad_ts("2026-01-01T24:00:00Z"), "hour 24");
    EXPECT_EQ(bad_ts("2026-01-01T10:60Z"), "minute 60");
    EXPECT_EQ(bad_ts("2026-01-01T10:00:60Z"), "second 60");
    EXPECT_EQ(bad_ts("2026-01-01T10"), "expected :MM after the hour");
    EXPECT_EQ(bad_ts("2026-01-01T10:00:00."), "expected digits after the decimal point of the seconds");
    EXPECT_EQ(bad_ts("2026-01-01T10:00:00.1234567891Z"), "more than 9 digits of fractional seconds");
    EXPECT_EQ(bad_ts("2026-01-01T10:00:00 +01:00"), "expected an offset such as Z or +01:00 after the time");
    EXPECT_EQ(bad_ts("2026-01-01T10:00:00+16:00"), "offset out of range (at most +-15:59)");
    EXPECT_EQ(bad_ts("2026-01-01T10:00:00Zulu"), "unexpected text after \"Z\"");
    EXPECT_EQ(bad_ts("2026-01-01T10:00:00+01:00 BC"), "unexpected text after the offset");
    EXPECT_EQ(bad_ts(" 2026-01-01"), "expected a four-digit year");
    EXPECT_EQ(bad_ts("Infinity"), "expected a four-digit year");
}

TEST(OfferRuleTime, FormatsUtc) {
    EXPECT_EQ(detail::format_timestamp(kNow), "2026-01-01T00:00:00Z");
    EXPECT_EQ(detail::format_timestamp(kNow + 250000), "2026-01-01T00:00:00.25Z");
    EXPECT_EQ(detail::format_timestamp(kNow + 1), "2026-01-01T00:00:00.000001Z");
    EXPECT_EQ(detail::format_timestamp(-1), "1969-12-31T23:59:59.999999Z");
    EXPECT_EQ(detail::format_timestamp(0), "1970-01-01T00:00:00Z");
    EXPECT_EQ(detail::format_timestamp(detail::kInfinityTime), "infinity");
    EXPECT_EQ(detail::format_timestamp(detail::kMinusInfinityTime), "-infinity");
    for (const char *t : {"0001-01-01T00:00:00Z", "2024-02-29T23:59:59.5Z", "9999-12-31T23:59:59.999999Z"})
        EXPECT_EQ(detail::format_timestamp(ts(t)), t);
}

TEST(OfferRuleMoneyText, CodesAndAmounts) {
    EXPECT_NE(detail::iso_currency("GBP"), 0u);
    EXPECT_EQ(detail::iso_currency("gbp"), 0u);
    EXPECT_EQ(detail::iso_currency("GBPX"), 0u);
    EXPECT_EQ(detail::iso_currency("ABC"), 0u);
    EXPECT_EQ(detail::currency_text(detail::iso_currency("JPY")), "JPY");
    EXPECT_EQ(detail::closest_currency("GPB"), "GBP");
    EXPECT_EQ(detail::closest_currency("QQQ"), "");
    EXPECT_EQ(detail::format_money(42.5, detail::iso_currency("GBP")), "42.50 GBP");
    EXPECT_EQ(detail::format_money(-3.005, detail::iso_currency("EUR")), "-3.00 EUR");  // 3.005 is 3.00499... as a double
    EXPECT_EQ(detail::format_money(-0.0, detail::iso_currency("EUR")), "0.00 EUR");
    double amount = 0;
    detail::Currency c = 0;
    std::string bad;
    EXPECT_TRUE(detail::parse_money_text("42.50 GBP", amount, c, bad));
    EXPECT_EQ(amount, 42.5);
    EXPECT_EQ(detail::currency_text(c), "GBP");
    EXPECT_TRUE(detail::parse_money_text("+.5eur", amount, c, bad));
    EXPECT_EQ(amount, 0.5);
    EXPECT_EQ(detail::currency_text(c), "EUR");
    EXPECT_FALSE(detail::parse_money_text("42.50", amount, c, bad));
    EXPECT_FALSE(detail::parse_money_text("GBP 42.50", amount, c, bad));
    EXPECT_FALSE(detail::parse_money_text("1e999 GBP", amount, c, bad));
    EXPECT_FALSE(detail::parse_money_text("NaN GBP", amount, c, bad));
    EXPECT_FALSE(detail::parse_money_text("4 2 GBP", amount, c, bad));
    EXPECT_FALSE(detail::parse_money_text("1 ZZZ", amount, c, bad));
    EXPECT_EQ(bad, "ZZZ");
}

TEST(OfferRuleFields, SuggestionsAndAttributePaths) {
    EXPECT_TRUE(detail::is_attribute_path("customer.attributes.x"));
    EXPECT_TRUE(detail::is_attribute_path("session.attributes.a.b.c"));
    EXPECT_FALSE(detail::is_attribute_path("customer.attributes"));
    EXPECT_FALSE(detail::is_attribute_path("customer.attributesx.y"));
    EXPECT_FALSE(detail::is_attribute_path("order.attributes.x"));
    EXPECT_EQ(detail::unknown_field_message("session.exitintent"),
              "unknown field \"session.exitintent\"; did you mean \"session.exit_intent\"?");
    EXPECT_EQ(detail::unknown_field_message("cart.itmes"), "unknown field \"cart.itmes\"; did you mean \"cart.items\"?");
}

}  // namespace
}  // namespace personalize::rules
