// Offer rules: the type rules of every operator and function, the type
// errors (exact messages), and type inference of attribute fields.
#include <string>

#include "test_util.hpp"

namespace personalize::rules {
namespace {

using testing::compile_error;
using testing::eval;

bool compiles(const std::string &rule) { return !compile_error(rule).thrown; }

TEST(OfferRuleTypes, WholeRuleMustBeACondition) {
    EXPECT_TYPE_ERROR("customer.orders", "rule: line 1, column 1: the rule must be a condition (true/false), but it is a "
                                         "number; write e.g. customer.orders > 0");
    EXPECT_TYPE_ERROR("cart.total", "rule: line 1, column 1: the rule must be a condition (true/false), but it is money; "
                                    "write e.g. cart.total >= 30 GBP");
    EXPECT_TYPE_ERROR("'yes'", "rule: line 1, column 1: the rule must be a condition (true/false), but it is text; write "
                               "e.g. 'yes' = 'gold'");
    EXPECT_TYPE_ERROR("cart.items", "rule: line 1, column 1: the rule must be a condition (true/false), but it is a list "
                                    "of numbers; write e.g. contains(cart.items, 123)");
    EXPECT_TYPE_ERROR("customer.last_order_at",
                      "rule: line 1, column 1: the rule must be a condition (true/false), but it is a timestamp; write e.g. "
                      "days_since(customer.last_order_at) > 30");
    EXPECT_TYPE_ERROR("  (1 + 2)", "rule: line 1, column 4: the rule must be a condition (true/false), but it is a "
                                   "number; write e.g. 1 + 2 > 0");
}

TEST(OfferRuleTypes, AndOrNotNeedConditions) {
    EXPECT_TYPE_ERROR("session.exit_intent and customer.orders",
                      "rule: line 1, column 25: \"and\" needs a condition (true/false) on each side, but customer.orders is "
                      "a number; write e.g. customer.orders > 0");
    EXPECT_TYPE_ERROR("customer.segment or true",
                      "rule: line 1, column 1: \"or\" needs a condition (true/false) on each side, but customer.segment is "
                      "text; write e.g. customer.segment = 'gold'");
    EXPECT_TYPE_ERROR("not cart.categories",
                      "rule: line 1, column 5: \"not\" needs a condition (true/false), but cart.categories is a list of "
                      "text; write e.g. contains(cart.categories, 'gold')");
}

TEST(OfferRuleTypes, ComparisonTypePairs) {
    // = and != on any same-type pair; ordering on number, money, timestamp, text.
    for (const char *ok :
         {"customer.orders = 1", "customer.orders != 1", "customer.orders <> 1", "customer.orders < 1",
          "customer.orders <= 1", "customer.orders > 1", "customer.orders >= 1", "cart.total = 1 GBP",
          "cart.total < 1 GBP", "customer.segment = 'a'", "customer.segment < 'a'", "customer.segment >= 'a'",
          "now > customer.last_order_at", "customer.last_order_at <= '2026-01-01'", "session.returning = true",
          "session.returning != session.exit_intent", "(1 < 2) = (2 < 3)", "cart.items = 0", "0 < cart.items",
          "cart.items > customer.orders"})
        EXPECT_TRUE(compiles(ok)) << ok << ": " << compile_error(ok).message;
    EXPECT_TYPE_ERROR("cart.total >= 30", "rule: line 1, column 1: cannot compare money (cart.total) with a number (30); "
                                          "write a money literal such as 30 GBP");
    EXPECT_TYPE_ERROR("cart.items > 0 and cart.total >= 30",
                      "rule: line 1, column 20: cannot compare money (cart.total) with a number (30); write a money "
                      "literal such as 30 GBP");
    EXPECT_TYPE_ERROR("0 < customer.clv",
                      "rule: line 1, column 1: cannot compare a number (0) with money (customer.clv); write a money literal "
                      "such as 0 GBP");
    EXPECT_TYPE_ERROR("customer.segment = 3",
                      "rule: line 1, column 1: cannot compare text (customer.segment) with a number (3); write text in "
                      "quotes, e.g. '3'");
    EXPECT_TYPE_ERROR("customer.last_order_at > 90",
                      "rule: line 1, column 1: cannot compare a timestamp (customer.last_order_at) with a number (90); use "
                      "days_since(customer.last_order_at) or hours_since(customer.last_order_at) to compare with days or "
                      "hours");
    EXPECT_TYPE_ERROR("customer.last_order_at > customer.segment",
                      "rule: line 1, column 1: cannot compare a timestamp (customer.last_order_at) with text "
                      "(customer.segment); only a text literal such as '2026-01-01' is read as a timestamp");
    EXPECT_TYPE_ERROR("session.returning = 1",
                      "rule: line 1, column 1: cannot compare a condition (true/false) (session.returning) with a number "
                      "(1)");
    EXPECT_TYPE_ERROR("session.returning < true",
                      "rule: line 1, column 1: cannot use < on conditions (true/false); only = and != compare them");
    EXPECT_TYPE_ERROR("cart.items = session.complements",
                      "rule: line 1, column 1: cannot compare two lists (cart.items and session.complements); use "
                      "any_in(...), all_in(...), contains(...) or count(...)");
    EXPECT_TYPE_ERROR("cart.categories = 'shoes'",
                      "rule: line 1, column 1: cannot compare a list of text (cart.categories) with text ('shoes')");
    EXPECT_TYPE_ERROR("cart.items > 1 GBP",
                      "rule: line 1, column 1: cannot compare a list of numbers (cart.items) with money (1 GBP)");
}

TEST(OfferRuleTypes, CurrenciesOfLiteralsAreCheckedAtCompileTime) {
    EXPECT_TYPE_ERROR("customer.orders = 0 and\n  30 GBP > 20 EUR", "rule: line 2, column 3: cannot compare GBP with EUR");
    EXPECT_TYPE_ERROR("cart.total + 5 GBP > 10 EUR", "rule: line 1, column 1: cannot compare GBP with EUR");
    EXPECT_TYPE_ERROR("1 GBP + 1 EUR > 0 GBP", "rule: line 1, column 1: cannot add GBP and EUR");
    EXPECT_TYPE_ERROR("1 GBP - 1 EUR > 0 GBP", "rule: line 1, column 1: cannot subtract EUR from GBP");
    EXPECT_TYPE_ERROR("1 GBP / 1 EUR > 0", "rule: line 1, column 1: cannot divide GBP by EUR");
    EXPECT_TYPE_ERROR("cart.total in [1 EUR] and 1 GBP in [1 EUR]", "rule: line 1, column 27: cannot compare GBP with EUR");
    EXPECT_TYPE_ERROR("min(1 GBP, 2 USD) > 0 GBP", "rule: line 1, column 5: cannot take the min of GBP and USD");
    EXPECT_TYPE_ERROR("coalesce(cart.total + 1 GBP, 2 USD) > 0 GBP", "rule: line 1, column 10: coalesce() of GBP and USD");
    // The currency of a field is only known at evaluation: no compile error.
    EXPECT_TRUE(compiles("cart.total > 30 GBP and cart.total < 100 EUR"));
}

TEST(OfferRuleTypes, TimestampLiterals) {
    EXPECT_TRUE(compiles("customer.last_order_at > '2026-01-01'"));
    EXPECT_TRUE(compiles("'2026-01-01T10:00:00Z' <= now"));
    EXPECT_TRUE(compiles("coalesce(customer.last_order_at, '2020-01-01') < now"));
    EXPECT_TRUE(compiles("days_since('2020-02-29') > 0"));
    EXPECT_TYPE_ERROR("customer.last_order_at > '2026-13-01'",
                      "rule: line 1, column 26: '2026-13-01' is not a valid timestamp (month 13); write e.g. '2026-01-01', "
                      "'2026-01-01T10:00:00Z' or '2026-01-01 10:00:00+01:00'");
    EXPECT_TYPE_ERROR("now < '2025-02-29'",
                      "rule: line 1, column 7: '2025-02-29' is not a valid timestamp (day 29 of month 2); write e.g. "
                      "'2026-01-01', '2026-01-01T10:00:00Z' or '2026-01-01 10:00:00+01:00'");
    EXPECT_TYPE_ERROR("now < 'tomorrow'",
                      "rule: line 1, column 7: 'tomorrow' is not a valid timestamp (expected a four-digit year); write e.g. "
                      "'2026-01-01', '2026-01-01T10:00:00Z' or '2026-01-01 10:00:00+01:00'");
    // A text literal compared with text stays text.
    EXPECT_EQ(eval("'2026-13-01' > '2026-12-01'"), Truth::True);
}

TEST(OfferRuleTypes, Arithmetic) {
    for (const char *ok : {"1 + 2 - 3 * 4 / 5 = 0.6", "cart.total + 1 GBP > 0 GBP", "cart.total - customer.clv > 0 GBP",
                           "cart.total * 2 > 10 GBP", "2 * cart.total > 10 GBP", "cart.total / 2 > 1 GBP",
                           "cart.total / customer.clv > 0.5", "-cart.total < 0 GBP", "-customer.orders < 0",
                           "cart.items + 1 > 2", "cart.items * 2 GBP > 1 GBP"})
        EXPECT_TRUE(compiles(ok)) << ok << ": " << compile_error(ok).message;
    EXPECT_TYPE_ERROR("cart.total + 5 > 10 GBP",
                      "rule: line 1, column 1: cannot add money (cart.total) and a number (5); write 5 GBP");
    EXPECT_TYPE_ERROR("cart.total - 5 GBP - 1 > 10 GBP",
                      "rule: line 1, column 1: cannot subtract a number (1) from money (cart.total - 5 GBP); write 1 GBP");
    EXPECT_TYPE_ERROR("cart.total * cart.total > 1 GBP",
                      "rule: line 1, column 1: cannot multiply money (cart.total) by money (cart.total); only one side of "
                      "* may be money");
    EXPECT_TYPE_ERROR("2 / cart.total > 1",
                      "rule: line 1, column 1: cannot divide a number (2) by money (cart.total); divide money by a number "
                      "or by money");
    EXPECT_TYPE_ERROR("customer.segment + 1 = 2",
                      "rule: line 1, column 1: + and - work on numbers and money, not on text (customer.segment)");
    EXPECT_TYPE_ERROR("now - customer.last_order_at > 3",
                      "rule: line 1, column 1: timestamps have no arithmetic (now); use days_since(...) or hours_since(...) "
                      "to get a number of days or hours");
    EXPECT_TYPE_ERROR("session.returning * 2 = 2",
                      "rule: line 1, column 1: * and / work on numbers and money, not on a condition (true/false) "
                      "(session.returning)");
    EXPECT_TYPE_ERROR("-customer.segment = 'a'", "rule: line 1, column 2: minus works on numbers and money, not on text "
                                                 "(customer.segment)");
}

TEST(OfferRuleTypes, InAndIsNull) {
    EXPECT_TRUE(compiles("customer.segment in ['a', 'b']"));
    EXPECT_TRUE(compiles("cart.total in [10 GBP, 20 GBP]"));
    EXPECT_TRUE(compiles("customer.orders not in []"));
    EXPECT_TRUE(compiles("cart.items is null and customer.last_order_at is not null and (1 / 0) is null"));
    EXPECT_TYPE_ERROR("customer.orders in ['a']",
                      "rule: line 1, column 1: cannot look for a number (customer.orders) in a list of text (['a'])");
    EXPECT_TYPE_ERROR("cart.items in [1, 2]",
                      "rule: line 1, column 1: \"in\" tests one value, but cart.items is a list of numbers; write "
                      "any_in(cart.items, [...]) to test its items, or count(cart.items) in [...] for its length");
    EXPECT_TYPE_ERROR("now in ['2026-01-01']",
                      "rule: line 1, column 1: \"in\" works on numbers, text and money, but now is a timestamp");
    EXPECT_TYPE_ERROR("cart.total in [1, 2]",
                      "rule: line 1, column 1: cannot look for money (cart.total) in a list of numbers ([1, 2])");
}

TEST(OfferRuleTypes, Functions) {
    for (const char *ok :
         {"contains(cart.items, 1)", "contains(customer.tags, 'vip')", "any_in(cart.categories, ['a'])",
          "all_in(cart.items, [1, 2])", "any_in(cart.items, session.complements)", "count(cart.items) > 1",
          "count(customer.tags) = 0", "count([1, 2]) = 2", "days_since(customer.last_order_at) > 1",
          "hours_since(session.started_at) < 2", "coalesce(customer.orders, 0) = 0",
          "coalesce(session.offer_shown, false)", "min(customer.orders, 3) = 3", "max(cart.total, 1 GBP) > 0 GBP",
          "abs(customer.orders - 3) < 1", "abs(cart.total) > 1 GBP", "contains([], 1) or any_in([], cart.items)"})
        EXPECT_TRUE(compiles(ok)) << ok << ": " << compile_error(ok).message;
    EXPECT_TYPE_ERROR("not days_sinse(now) > 1",
                      "rule: line 1, column 5: unknown function \"days_sinse\" (did you mean days_since?); known: contains, "
                      "any_in, all_in, count, days_since, hours_since, coalesce, min, max, abs");
    EXPECT_TYPE_ERROR("frobnicate(1)", "rule: line 1, column 1: unknown function \"frobnicate\"; known: contains, any_in, "
                                       "all_in, count, days_since, hours_since, coalesce, min, max, abs");
    EXPECT_TYPE_ERROR("now() > '2026-01-01'", "rule: line 1, column 1: now is a field, not a function; write now");
    EXPECT_TYPE_ERROR("days_since > 3", "rule: line 1, column 1: \"days_since\" is a function; write days_since(...)");
    EXPECT_TYPE_ERROR("days_since() > 1",
                      "rule: line 1, column 1: days_since() takes 1 argument (a timestamp), got 0");
    EXPECT_TYPE_ERROR("contains(cart.items) ",
                      "rule: line 1, column 1: contains() takes 2 arguments (a list and a value), got 1");
    EXPECT_TYPE_ERROR("contains(customer.orders, 1)",
                      "rule: line 1, column 10: contains() needs a list of numbers or text as its first argument, found a "
                      "number (customer.orders)");
    EXPECT_TYPE_ERROR("contains(cart.items, 'x')",
                      "rule: line 1, column 22: cannot look for text ('x') in a list of numbers (cart.items)");
    EXPECT_TYPE_ERROR("contains(cart.items, session.complements)",
                      "rule: line 1, column 22: contains() looks for one value, but session.complements is a list; to look "
                      "for several write any_in(...) or all_in(...)");
    EXPECT_TYPE_ERROR("contains(cart.items, now)",
                      "rule: line 1, column 22: contains() looks for a number or text, found a timestamp (now)");
    EXPECT_TYPE_ERROR("any_in(cart.categories, 'shoes')",
                      "rule: line 1, column 25: any_in() needs two lists of numbers or text, e.g. any_in(cart.categories, "
                      "['shoes', 'bags']), found text ('shoes')");
    EXPECT_TYPE_ERROR("all_in(cart.items, ['a'])",
                      "rule: line 1, column 20: all_in() cannot compare a list of numbers (cart.items) with a list of text "
                      "(['a'])");
    EXPECT_TYPE_ERROR("count(customer.orders) > 1",
                      "rule: line 1, column 7: count() needs a list, found a number (customer.orders)");
    EXPECT_TYPE_ERROR("days_since(customer.orders) > 1",
                      "rule: line 1, column 12: days_since() needs a timestamp, found a number (customer.orders)");
    EXPECT_TYPE_ERROR("days_since('soon') > 1",
                      "rule: line 1, column 12: 'soon' is not a valid timestamp (expected a four-digit year); write e.g. "
                      "'2026-01-01', '2026-01-01T10:00:00Z' or '2026-01-01 10:00:00+01:00'");
    EXPECT_TYPE_ERROR("coalesce(customer.orders, 'none') = 'x'",
                      "rule: line 1, column 10: coalesce() needs two values of the same type, found a number "
                      "(customer.orders) and text ('none')");
    EXPECT_TYPE_ERROR("min(cart.total, 1) > 0 GBP",
                      "rule: line 1, column 5: min() needs two numbers or two amounts, found money (cart.total) and a number "
                      "(1)");
    EXPECT_TYPE_ERROR("max(customer.segment, 'a') = 'a'",
                      "rule: line 1, column 5: max() works on numbers and money, not on text (customer.segment)");
    EXPECT_TYPE_ERROR("abs(now) > 1", "rule: line 1, column 5: abs() works on numbers and money, not on a timestamp (now)");
}

TEST(OfferRuleTypes, UnknownFields) {
    EXPECT_TYPE_ERROR("customer.ordrs = 1",
                      "rule: line 1, column 1: unknown field \"customer.ordrs\"; did you mean \"customer.orders\"?");
    EXPECT_TYPE_ERROR("custmer.orders = 1",
                      "rule: line 1, column 1: unknown field \"custmer.orders\"; did you mean \"customer.orders\"?");
    EXPECT_TYPE_ERROR("cart.colour = 'red'",
                      "rule: line 1, column 1: unknown field \"cart.colour\"; the cart fields are total, items, quantity, "
                      "categories, currency; shop-specific values go under cart.attributes.NAME");
    EXPECT_TYPE_ERROR("order.total > 1 GBP", "rule: line 1, column 1: unknown field \"order.total\"; fields start with "
                                             "customer., cart. or session., or are now");
    EXPECT_TYPE_ERROR("customer = 1",
                      "rule: line 1, column 1: \"customer\" is not a field; write one of its fields, e.g. customer.orders");
    EXPECT_TYPE_ERROR("session.attributes is null",
                      "rule: line 1, column 1: \"session.attributes\" is not a field; write session.attributes.NAME for a "
                      "shop-specific value");
    EXPECT_TYPE_ERROR("true and x", "rule: line 1, column 10: unknown field \"x\"; fields start with customer., cart. or "
                                    "session., or are now");
}

// ---- attribute fields: type inference ---------------------------------------------------

std::string type_of(const std::string &rule, const std::string &path) { return compile(rule)->field_type(path); }

TEST(OfferRuleInference, FromLiteralsFunctionsAndPlaces) {
    EXPECT_EQ(type_of("customer.attributes.points > 100", "customer.attributes.points"), "number");
    EXPECT_EQ(type_of("customer.attributes.tier = 'gold'", "customer.attributes.tier"), "text");
    EXPECT_EQ(type_of("customer.attributes.credit >= 5 GBP", "customer.attributes.credit"), "money");
    EXPECT_EQ(type_of("customer.attributes.vip", "customer.attributes.vip"), "bool");
    EXPECT_EQ(type_of("not session.attributes.bot", "session.attributes.bot"), "bool");
    EXPECT_EQ(type_of("true and cart.attributes.gift", "cart.attributes.gift"), "bool");
    EXPECT_EQ(type_of("customer.attributes.since < now", "customer.attributes.since"), "timestamp");
    EXPECT_EQ(type_of("days_since(customer.attributes.since) > 3", "customer.attributes.since"), "timestamp");
    EXPECT_EQ(type_of("contains(customer.attributes.wish, 5)", "customer.attributes.wish"), "list of numbers");
    EXPECT_EQ(type_of("contains(customer.attributes.badges, 'x')", "customer.attributes.badges"), "list of text");
    EXPECT_EQ(type_of("any_in(customer.attributes.b, ['x'])", "customer.attributes.b"), "list of text");
    EXPECT_EQ(type_of("all_in(cart.items, customer.attributes.allowed)", "customer.attributes.allowed"), "list of numbers");
    EXPECT_EQ(type_of("count(customer.attributes.any) > 2", "customer.attributes.any"), "list");
    EXPECT_EQ(type_of("customer.attributes.s in ['a', 'b']", "customer.attributes.s"), "text");
    EXPECT_EQ(type_of("customer.attributes.m in [1 EUR]", "customer.attributes.m"), "money");
    EXPECT_EQ(type_of("customer.attributes.x is null", "customer.attributes.x"), "any");
    EXPECT_EQ(type_of("customer.attributes.deep.er.path = 1", "customer.attributes.deep.er.path"), "number");
    EXPECT_EQ(type_of("coalesce(customer.attributes.c, 0) > 1", "customer.attributes.c"), "number");
    EXPECT_EQ(type_of("min(customer.attributes.c, 2 GBP) > 1 GBP", "customer.attributes.c"), "money");
    EXPECT_EQ(type_of("abs(customer.attributes.c) > 1", "customer.attributes.c"), "number");
    EXPECT_EQ(type_of("-customer.attributes.c > 1 GBP", "customer.attributes.c"), "money");
    EXPECT_EQ(type_of("customer.attributes.c = customer.orders", "customer.attributes.c"), "number");
    EXPECT_EQ(type_of("customer.attributes.c = cart.items", "customer.attributes.c"), "number");  // a list's length
}

TEST(OfferRuleInference, FromArithmetic) {
    EXPECT_EQ(type_of("customer.attributes.a + 1 > 2", "customer.attributes.a"), "number");
    EXPECT_EQ(type_of("customer.attributes.a - 1 GBP > 2 GBP", "customer.attributes.a"), "money");
    EXPECT_EQ(type_of("customer.attributes.a * 2 > 10 GBP", "customer.attributes.a"), "money");
    EXPECT_EQ(type_of("customer.attributes.a * 2 > 10", "customer.attributes.a"), "number");
    EXPECT_EQ(type_of("customer.attributes.a / 2 GBP > 0.5", "customer.attributes.a"), "money");  // money / money
    EXPECT_EQ(type_of("customer.attributes.a * 2 GBP > 1 GBP", "customer.attributes.a"), "number");
    EXPECT_EQ(type_of("(customer.attributes.a + customer.attributes.b) * 3 > 1", "customer.attributes.b"), "number");
}

TEST(OfferRuleInference, LaterUseDecidesEarlierOne) {
    const RulePtr r = compile("customer.attributes.a = customer.attributes.b and customer.attributes.a > 3");
    EXPECT_EQ(r->field_type("customer.attributes.a"), "number");
    EXPECT_EQ(r->field_type("customer.attributes.b"), "number");
    const RulePtr chain = compile("customer.attributes.a = customer.attributes.b and customer.attributes.b = "
                                  "customer.attributes.c and customer.attributes.c = 'x'");
    EXPECT_EQ(chain->field_type("customer.attributes.a"), "text");
    // count() first, contains() later: the list's items become known.
    EXPECT_EQ(type_of("count(customer.attributes.w) > 1 and contains(customer.attributes.w, 'x')",
                      "customer.attributes.w"),
              "list of text");
    EXPECT_EQ(type_of("customer.attributes.x is null or customer.attributes.x > 1 GBP", "customer.attributes.x"), "money");
}

TEST(OfferRuleInference, ErrorsWhenItCannotBeInferredOrConflicts) {
    EXPECT_TYPE_ERROR("customer.attributes.a = customer.attributes.b",
                      "rule: line 1, column 1: cannot infer the type of customer.attributes.a; compare it with a literal "
                      "somewhere in the rule, e.g. customer.attributes.a > 0 or customer.attributes.a = 'gold'");
    EXPECT_TYPE_ERROR("customer.attributes.a * 2 > customer.attributes.b",
                      "rule: line 1, column 1: cannot infer the type of customer.attributes.a; compare it with a literal "
                      "somewhere in the rule, e.g. customer.attributes.a > 0 or customer.attributes.a = 'gold'");
    EXPECT_TYPE_ERROR("contains(customer.attributes.l, customer.attributes.x)",
                      "rule: line 1, column 10: cannot infer the type of customer.attributes.l; compare it with a literal "
                      "somewhere in the rule, e.g. customer.attributes.l > 0 or customer.attributes.l = 'gold'");
    EXPECT_TYPE_ERROR("customer.attributes.a in []",
                      "rule: line 1, column 1: cannot infer the type of customer.attributes.a; compare it with a literal "
                      "somewhere in the rule, e.g. customer.attributes.a > 0 or customer.attributes.a = 'gold'");
    EXPECT_TYPE_ERROR("customer.attributes.a > 3 and customer.attributes.a = 'x'",
                      "rule: line 1, column 31: cannot compare a number (customer.attributes.a, a number because of its use "
                      "at line 1, column 1) with text ('x')");
    EXPECT_TYPE_ERROR("customer.attributes.v and customer.attributes.v > 1",
                      "rule: line 1, column 27: cannot compare a condition (true/false) (customer.attributes.v, a condition "
                      "(true/false) because of its use at line 1, column 1) with a number (1)");
}

}  // namespace
}  // namespace personalize::rules
