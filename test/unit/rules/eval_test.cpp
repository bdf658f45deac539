// Offer rules: evaluation — three-valued logic, every operator and function,
// money and currencies, timestamps, lists (list-as-length, membership).
#include <cmath>
#include <string>

#include "test_util.hpp"

namespace personalize::rules {
namespace {

using testing::eval;
using testing::eval_error;
using testing::kDay;
using testing::kNow;

constexpr Truth T = Truth::True, F = Truth::False, U = Truth::Unknown;

// A literal of each truth value: unknown is a missing field.
const char *lit(Truth t) { return t == T ? "true" : t == F ? "false" : "session.attributes.missing"; }

TEST(OfferRuleLogic, KleeneAndOrNotTruthTables) {
    const Truth values[] = {T, F, U};
    const Truth and_table[3][3] = {{T, F, U}, {F, F, F}, {U, F, U}};
    const Truth or_table[3][3] = {{T, T, T}, {T, F, U}, {T, U, U}};
    for (int a = 0; a < 3; ++a) {
        for (int b = 0; b < 3; ++b) {
            const std::string x = lit(values[a]), y = lit(values[b]);
            EXPECT_EQ(eval(x + " and " + y), and_table[a][b]) << x << " and " << y;
            EXPECT_EQ(eval(x + " or " + y), or_table[a][b]) << x << " or " << y;
        }
    }
    EXPECT_EQ(eval("not true"), F);
    EXPECT_EQ(eval("not false"), T);
    EXPECT_EQ(eval("not session.attributes.missing"), U);
    EXPECT_EQ(eval("not not session.attributes.missing"), U);
}

TEST(OfferRuleLogic, LongChainsAndPrecedence) {
    EXPECT_EQ(eval("false or true and false"), F);    // and binds tighter than or
    EXPECT_EQ(eval("(false or true) and true"), T);
    EXPECT_EQ(eval("not false and false"), F);        // not binds tighter than and
    EXPECT_EQ(eval("not (false and false)"), T);
    EXPECT_EQ(eval("true and true and session.attributes.m and true"), U);
    EXPECT_EQ(eval("true and session.attributes.m and false and true"), F);
    EXPECT_EQ(eval("false or session.attributes.m or true"), T);
    EXPECT_EQ(eval("not 1 = 2"), T);                  // not (1 = 2)
}

TEST(OfferRuleLogic, UnknownPropagatesThroughComparisonsArithmeticAndFunctions) {
    const std::string none = "{}";
    for (const char *rule :
         {"customer.orders = 0", "customer.orders != 0", "customer.orders + 1 > 0", "-customer.orders < 1",
          "customer.orders * 0 = 0", "customer.segment in ['a']", "customer.segment not in ['a']",
          "contains(cart.items, 1)", "not contains(cart.items, 1)", "any_in(cart.categories, ['a'])",
          "all_in(cart.categories, ['a'])", "count(cart.items) = 0", "cart.items = 0", "days_since(customer.last_order_at) > 1",
          "hours_since(session.started_at) < 1", "min(customer.orders, 1) = 1", "max(customer.orders, 1) >= 1",
          "abs(customer.orders) >= 0", "contains([1], customer.orders)", "customer.segment < 'z'",
          "session.returning = false", "cart.total >= 0 GBP", "customer.last_order_at < now"})
        EXPECT_EQ(eval(rule, none), U) << rule;
    // Division by zero is unknown, not an error.
    EXPECT_EQ(eval("1 / 0 = 1"), U);
    EXPECT_EQ(eval("1 / 0 is null"), T);
    EXPECT_EQ(eval("customer.orders / 0 > 1", R"({"customer":{"orders":3}})"), U);
    EXPECT_EQ(eval("cart.total / 0 > 1 GBP", R"({"cart":{"total":"3 GBP"}})"), U);
    EXPECT_EQ(eval("cart.total / customer.total_spent > 1", R"({"cart":{"total":"3 GBP"},"customer":{"total_spent":"0 GBP"}})"), U);
    // Overflow to infinity is unknown too.
    EXPECT_EQ(eval("1e308 * 10 > 0"), U);
    EXPECT_EQ(eval("1e308 + 1e308 is null"), T);
}

TEST(OfferRuleLogic, MissingAndNullAreUnknownAndIsNullTestsThem) {
    const std::string ctx = R"({"customer":{"orders":null,"segment":"a"}})";
    EXPECT_EQ(eval("customer.orders is null", ctx), T);      // JSON null
    EXPECT_EQ(eval("customer.p_alive is null", ctx), T);     // missing key
    EXPECT_EQ(eval("customer.segment is null", ctx), F);
    EXPECT_EQ(eval("customer.segment is not null", ctx), T);
    EXPECT_EQ(eval("customer.orders is not null", ctx), F);
    EXPECT_EQ(eval("cart.total is null", ctx), T);           // missing namespace
    EXPECT_EQ(eval("cart.total is null", R"({"cart":null})"), T);
    EXPECT_EQ(eval("customer.attributes.a.b is null", R"({"customer":{"attributes":{"a":null}}})"), T);
    EXPECT_EQ(eval("(customer.orders + 1) is null", ctx), T);
}

TEST(OfferRuleLogic, CoalesceSuppliesADefault) {
    EXPECT_EQ(eval("coalesce(session.offer_shown, false) = false"), T);
    EXPECT_EQ(eval("coalesce(session.offer_shown, false)", R"({"session":{"offer_shown":true}})"), T);
    EXPECT_EQ(eval("coalesce(customer.orders, 0) = 0"), T);
    EXPECT_EQ(eval("coalesce(customer.orders, 0) = 4", R"({"customer":{"orders":4}})"), T);
    EXPECT_EQ(eval("coalesce(customer.orders, customer.cluster) = 2", R"({"customer":{"cluster":2}})"), T);
    EXPECT_EQ(eval("coalesce(customer.orders, customer.cluster) = 2"), U);  // both unknown
    EXPECT_EQ(eval("coalesce(customer.last_order_at, '2020-01-01') < '2021-01-01'"), T);
    EXPECT_EQ(eval("coalesce(cart.total, 0 GBP) = 0 GBP"), T);
    EXPECT_EQ(eval("count(coalesce(cart.items, [1, 2])) = 2"), T);
    // The default is not evaluated when the first value is known: no context error from it.
    EXPECT_EQ(eval("coalesce(customer.orders, customer.cluster) = 1", R"({"customer":{"orders":1,"cluster":"x"}})"), T);
}

TEST(OfferRuleLogic, ShortCircuitSkipsWhatIsNotNeeded) {
    // The second condition would be a context error (cart.total is not money), but is never needed.
    const std::string ctx = R"({"customer":{"orders":3},"cart":{"total":true}})";
    EXPECT_EQ(eval("customer.orders = 0 and cart.total > 1 GBP", ctx), F);
    EXPECT_EQ(eval("customer.orders = 3 or cart.total > 1 GBP", ctx), T);
    EXPECT_TRUE(eval_error("customer.orders = 3 and cart.total > 1 GBP", ctx).thrown);
}

TEST(OfferRuleOperators, NumberComparisonsAndArithmetic) {
    const std::string ctx = R"({"customer":{"orders":4,"p_alive":0.25}})";
    EXPECT_EQ(eval("customer.orders = 4", ctx), T);
    EXPECT_EQ(eval("customer.orders != 4", ctx), F);
    EXPECT_EQ(eval("customer.orders <> 5", ctx), T);
    EXPECT_EQ(eval("customer.orders < 4", ctx), F);
    EXPECT_EQ(eval("customer.orders <= 4", ctx), T);
    EXPECT_EQ(eval("customer.orders > 3.999", ctx), T);
    EXPECT_EQ(eval("customer.orders >= 4.001", ctx), F);
    EXPECT_EQ(eval("customer.orders * customer.p_alive = 1", ctx), T);
    EXPECT_EQ(eval("customer.orders / 8 = 0.5", ctx), T);
    EXPECT_EQ(eval("10 - customer.orders - 1 = 5", ctx), T);   // left to right
    EXPECT_EQ(eval("2 * 3 + 4 * 5 = 26", ctx), T);
    EXPECT_EQ(eval("12 / 2 / 3 = 2", ctx), T);
    EXPECT_EQ(eval("-customer.orders = -4", ctx), T);
    EXPECT_EQ(eval("- -customer.orders = 4", ctx), T);
    EXPECT_EQ(eval("0.1 + 0.2 = 0.3"), F);  // doubles, compared exactly (documented)
    EXPECT_EQ(eval("abs(0.1 + 0.2 - 0.3) < 1e-9"), T);
}

TEST(OfferRuleOperators, TextComparesByteWise) {
    const std::string ctx = R"({"customer":{"segment":"gold","country":"GB"}})";
    EXPECT_EQ(eval("customer.segment = 'gold'", ctx), T);
    EXPECT_EQ(eval("customer.segment = 'Gold'", ctx), F);  // case matters
    EXPECT_EQ(eval("customer.segment < 'silver'", ctx), T);
    EXPECT_EQ(eval("'Z' < 'a'"), T);                        // byte order: upper case first
    EXPECT_EQ(eval("'é' > 'z'"), T);                        // UTF-8 bytes >= 0x80 sort after ASCII
    EXPECT_EQ(eval("'e\xCC\x81' = 'é'"), F);                // no Unicode normalisation
    EXPECT_EQ(eval("'' < 'a'"), T);
    EXPECT_EQ(eval("customer.country in ['GB', 'IE']", ctx), T);
    EXPECT_EQ(eval("customer.country not in ['GB', 'IE']", ctx), F);
}

TEST(OfferRuleOperators, BooleanEquality) {
    const std::string ctx = R"({"session":{"returning":true,"exit_intent":false}})";
    EXPECT_EQ(eval("session.returning = true", ctx), T);
    EXPECT_EQ(eval("session.returning != session.exit_intent", ctx), T);
    EXPECT_EQ(eval("(customer.orders > 1) = false", R"({"customer":{"orders":0}})"), T);
}

TEST(OfferRuleMoney, LiteralsFieldsAndArithmetic) {
    const std::string ctx = R"({"currency":"GBP","cart":{"total":42.5},"customer":{"clv":"300 GBP","average_order":{"amount":20,"currency":"GBP"}}})";
    EXPECT_EQ(eval("cart.total >= 30 GBP", ctx), T);
    EXPECT_EQ(eval("cart.total = 42.50 GBP", ctx), T);
    EXPECT_EQ(eval("cart.total + 7.5 GBP = 50 GBP", ctx), T);
    EXPECT_EQ(eval("cart.total - customer.average_order = 22.5 GBP", ctx), T);
    EXPECT_EQ(eval("cart.total * 2 = 85 GBP", ctx), T);
    EXPECT_EQ(eval("2 * cart.total = 85 GBP", ctx), T);
    EXPECT_EQ(eval("cart.total / 2 = 21.25 GBP", ctx), T);
    EXPECT_EQ(eval("customer.clv / cart.total > 7", ctx), T);  // money / money is a number
    EXPECT_EQ(eval("-cart.total < 0 GBP", ctx), T);
    EXPECT_EQ(eval("abs(-cart.total) = cart.total", ctx), T);
    EXPECT_EQ(eval("min(cart.total, 40 GBP) = 40 GBP and max(cart.total, 40 GBP) = 42.5 GBP", ctx), T);
    EXPECT_EQ(eval("cart.total in [10 GBP, 42.50 GBP]", ctx), T);
    EXPECT_EQ(eval("cart.total not in [10 GBP]", ctx), T);
    EXPECT_EQ(eval("cart.items * 2 GBP = 0 GBP", R"({"cart":{"items":[]}})"), T);  // length times an amount
}

TEST(OfferRuleMoney, CurrencyMismatchAtEvaluationIsAnError) {
    const auto c = eval_error("cart.total >= 30 GBP", R"({"cart":{"total":"42 EUR"}})");
    EXPECT_EQ(c.code, ErrorCode::InvalidParameter);
    EXPECT_EQ(c.message, "cannot compare cart.total (EUR) with 30 GBP");
    EXPECT_EQ(eval_error("cart.total > customer.clv", R"({"cart":{"total":"1 EUR"},"customer":{"clv":"1 GBP"}})").message,
              "cannot compare cart.total (EUR) with customer.clv (GBP)");
    EXPECT_EQ(eval_error("cart.total + 1 GBP > 0 GBP", R"({"cart":{"total":"1 EUR"}})").message,
              "cannot add cart.total (EUR) and 1 GBP");
    EXPECT_EQ(eval_error("cart.total - customer.clv > 0 GBP", R"({"cart":{"total":"1 EUR"},"customer":{"clv":"1 GBP"}})").message,
              "cannot subtract customer.clv (GBP) from cart.total (EUR)");
    EXPECT_EQ(eval_error("cart.total / customer.clv > 1", R"({"cart":{"total":"1 EUR"},"customer":{"clv":"1 GBP"}})").message,
              "cannot divide cart.total (EUR) by customer.clv (GBP)");
    EXPECT_EQ(eval_error("max(cart.total, 5 GBP) > 1 GBP", R"({"cart":{"total":"1 EUR"}})").message,
              "cannot take the max of cart.total (EUR) and 5 GBP");
    EXPECT_EQ(eval_error("min(cart.total, 5 GBP) > 1 GBP", R"({"cart":{"total":"1 EUR"}})").message,
              "cannot take the min of cart.total (EUR) and 5 GBP");
    EXPECT_EQ(eval_error("cart.total in [1 GBP, 2 GBP]", R"({"cart":{"total":"1 EUR"}})").message,
              "cannot compare cart.total (EUR) with [1 GBP, 2 GBP]");
    // Where it happened and what to do are in the error's detail and hint.
    try {
        eval("true and\n cart.total >= 30 GBP", R"({"cart":{"total":"42 EUR"}})");
        FAIL() << "no error";
    } catch (const Error &e) {
        EXPECT_EQ(e.detail(), "at line 2, column 2 of the rule");
        EXPECT_EQ(e.hint(), "Convert amounts to one currency when building the context, or write one offer per currency.");
    }
    // Unknown amounts are not compared, so there is no mismatch.
    EXPECT_EQ(eval("cart.total >= 30 GBP", R"({"cart":{"total":null}})"), U);
    EXPECT_EQ(eval("cart.total in []", R"({"cart":{"total":"1 EUR"}})"), F);
}

TEST(OfferRuleTimestamps, ComparisonsAndDaysSince) {
    const std::string ctx =
        R"({"now":"2026-01-01T00:00:00Z","customer":{"last_order_at":"2025-09-01T10:00:00+00:00","signed_up_at":"2024-02-29"},
            "session":{"started_at":"2025-12-31T22:30:00.5Z"}})";
    EXPECT_EQ(eval("customer.last_order_at < '2025-09-01 11:00:00+01:00'", ctx), F);  // the same instant
    EXPECT_EQ(eval("customer.last_order_at = '2025-09-01 11:00:00+01:00'", ctx), T);
    EXPECT_EQ(eval("customer.last_order_at = '2025-09-01T10:00:00'", ctx), T);        // no offset = UTC
    EXPECT_EQ(eval("customer.signed_up_at = '2024-02-29T00:00:00Z'", ctx), T);
    EXPECT_EQ(eval("customer.signed_up_at < customer.last_order_at", ctx), T);
    EXPECT_EQ(eval("now = '2026-01-01'", ctx), T);
    // 2025-09-01T10:00Z to 2026-01-01T00:00Z is 121 days and 14 hours.
    EXPECT_EQ(eval("days_since(customer.last_order_at) = 121 + 14 / 24", ctx), T);
    EXPECT_EQ(eval("days_since(customer.last_order_at) > 90", ctx), T);
    EXPECT_EQ(eval("abs(hours_since(session.started_at) - (1.5 - 0.5 / 3600)) < 1e-12", ctx), T);
    EXPECT_EQ(eval("days_since('2026-01-11') = -10", ctx), T);  // the future: negative
    EXPECT_EQ(eval("'infinity' > now and '-infinity' < now", ctx), T);
    EXPECT_EQ(eval("days_since('infinity') is null", ctx), T);  // not a finite number of days
}

TEST(OfferRuleTimestamps, NowComesFromTheContextElseTheCaller) {
    EXPECT_EQ(eval("now = '2026-01-01'"), T);  // the caller's time (testing::kNow)
    EXPECT_EQ(eval("now = '2026-01-01'", "{}", kNow + kDay), F);
    EXPECT_EQ(eval("now = '2026-01-02'", "{}", kNow + kDay), T);
    EXPECT_EQ(eval("now = '2030-05-05T05:05:05Z'", R"({"now":"2030-05-05T05:05:05Z"})"), T);
    EXPECT_EQ(eval("now = '2026-01-01'", R"({"now":null})"), T);
    EXPECT_EQ(eval("days_since(customer.last_order_at) = 1", R"({"customer":{"last_order_at":"2025-12-31"}})"), T);
    const RulePtr r = compile("true");
    const OwnedContextTree tree = OwnedContextTree::parse(R"({"now":"2027-01-01T00:00:00.000001+00:00"})");
    Evaluator evaluator(tree.view(), 0);
    EXPECT_EQ(evaluator.now(), kNow + 365 * kDay + 1);
}

TEST(OfferRuleLists, ListAsLengthAndCount) {
    const std::string ctx = R"({"cart":{"items":[5, null, 7, 9],"categories":[]}})";
    EXPECT_EQ(eval("cart.items > 0", ctx), T);
    EXPECT_EQ(eval("cart.items = 3", ctx), T);  // nulls inside a list are skipped
    EXPECT_EQ(eval("count(cart.items) = 3", ctx), T);
    EXPECT_EQ(eval("cart.categories = 0", ctx), T);
    EXPECT_EQ(eval("cart.items + 1 = 4", ctx), T);
    EXPECT_EQ(eval("3 = cart.items", ctx), T);
    EXPECT_EQ(eval("max(cart.items, 10) = 10", ctx), T);
    EXPECT_EQ(eval("count([1, 1, 2]) = 3"), T);  // items as written, duplicates included
    EXPECT_EQ(eval("count([]) = 0"), T);
}

TEST(OfferRuleLists, ContainsAnyInAllIn) {
    const std::string ctx = R"({"cart":{"items":[1, 2, 123],"categories":["shoes","bags"]},"customer":{"tags":[]},
                                "session":{"complements":[123, 456]}})";
    EXPECT_EQ(eval("contains(cart.items, 123)", ctx), T);
    EXPECT_EQ(eval("contains(cart.items, 124)", ctx), F);
    EXPECT_EQ(eval("contains(cart.categories, 'bags')", ctx), T);
    EXPECT_EQ(eval("contains(cart.categories, 'Bags')", ctx), F);
    EXPECT_EQ(eval("contains(customer.tags, 'vip')", ctx), F);
    EXPECT_EQ(eval("contains([1, 2], 2)", ctx), T);
    EXPECT_EQ(eval("any_in(cart.categories, ['hats', 'bags'])", ctx), T);
    EXPECT_EQ(eval("any_in(cart.categories, ['hats'])", ctx), F);
    EXPECT_EQ(eval("any_in(cart.categories, [])", ctx), F);
    EXPECT_EQ(eval("any_in(customer.tags, ['vip'])", ctx), F);
    EXPECT_EQ(eval("any_in(cart.items, session.complements)", ctx), T);
    EXPECT_EQ(eval("all_in(cart.categories, ['shoes', 'bags', 'hats'])", ctx), T);  // every cart category is listed
    EXPECT_EQ(eval("all_in(cart.categories, ['shoes'])", ctx), F);
    EXPECT_EQ(eval("all_in(customer.tags, ['vip'])", ctx), T);                      // vacuously true for an empty list
    EXPECT_EQ(eval("all_in([123], cart.items)", ctx), T);
    EXPECT_EQ(eval("all_in(session.complements, cart.items)", ctx), F);
}

TEST(OfferRuleLists, TenThousandItemCart) {
    std::string items, categories;
    for (int i = 0; i < 10000; ++i) {
        items += (i ? "," : "") + std::to_string(i * 3);
        categories += std::string(i ? "," : "") + "\"c" + std::to_string(i % 500) + "\"";
    }
    const std::string ctx = R"({"currency":"GBP","cart":{"total":99999,"items":[)" + items + R"(],"categories":[)" +
                            categories + "]}}";
    const OwnedContextTree tree = OwnedContextTree::parse(ctx);
    EXPECT_EQ(tree.size(), 20006u);
    // Many contains() calls on the same big list: scanned once, then a sorted index.
    std::string rule = "cart.items = 10000 and count(cart.categories) = 10000";
    for (int i = 0; i < 90; ++i) rule += " and contains(cart.items, " + std::to_string(i * 3 * 101) + ")";
    rule += " and not contains(cart.items, 1) and contains(cart.categories, 'c499') and not contains(cart.categories, 'c500')";
    rule += " and any_in(cart.categories, ['x', 'c7']) and all_in([0, 3, 29997], cart.items) and not all_in(cart.items, [0])";
    const RulePtr r = compile(rule);
    Evaluator evaluator(tree.view(), kNow);
    EXPECT_EQ(evaluator.evaluate(*r), T);
    EXPECT_EQ(evaluator.evaluate(*r), T);  // memoised binding and index
    const std::vector<ExplainStep> steps = evaluator.explain(*r);
    ASSERT_GE(steps.size(), 2u);
    EXPECT_EQ(steps[1].value, "cart.items = [0, 3, 6, 9, 12, 15, 18, 21, 24, 27, ... (10,000 items)]");
}

}  // namespace
}  // namespace personalize::rules
