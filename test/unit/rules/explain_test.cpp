// Offer rules: reason() (why a TRUE rule holds) and explain() (every
// condition with what it saw), including missing values, NOT, OR branches
// and value formatting.
#include <string>
#include <vector>

#include "test_util.hpp"

namespace personalize::rules {
namespace {

using testing::explain;
using testing::reason;

constexpr Truth T = Truth::True, F = Truth::False, U = Truth::Unknown;

const std::string kShop = R"({"currency":"GBP","now":"2026-01-01T00:00:00Z",
  "customer":{"orders":0,"last_order_at":"2025-06-01T12:00:00Z","p_alive":0.3,"segment":"loyal","clv":"812.349 GBP",
              "tags":["vip","it's"],"attributes":{"points":1200}},
  "cart":{"total":42.5,"items":[1,2,123],"categories":["shoes"]},
  "session":{"exit_intent":true,"offer_shown":false,"channel":"email"}})";

TEST(OfferRuleReason, TheConditionsThatMadeItTrue) {
    EXPECT_EQ(reason("customer.orders = 0 and cart.total >= 30 GBP", kShop),
              "customer.orders = 0 (0) and cart.total >= 30 GBP (42.50 GBP)");
    EXPECT_EQ(reason("days_since(customer.last_order_at) > 90 and customer.p_alive < 0.5", kShop),
              "days_since(customer.last_order_at) > 90 (213.5) and customer.p_alive < 0.5 (0.3)");
    EXPECT_EQ(reason("session.exit_intent and cart.items > 0 and not session.offer_shown", kShop),
              "session.exit_intent and cart.items > 0 ([1, 2, 123]) and not session.offer_shown");
    // OR: only the branch that holds.
    EXPECT_EQ(reason("customer.orders > 5 or customer.segment in ['loyal', 'champions'] or true", kShop),
              "customer.segment in ['loyal', 'champions'] ('loyal')");
    // NOT of a compound: the refuted conditions, each with "not".
    EXPECT_EQ(reason("not (customer.orders > 3 or session.channel = 'search')", kShop),
              "not customer.orders > 3 (0) and not session.channel = 'search' ('email')");
    EXPECT_EQ(reason("not (customer.orders > 3 and session.exit_intent)", kShop), "not customer.orders > 3 (0)");
    EXPECT_EQ(reason("not not session.exit_intent", kShop), "session.exit_intent");
    // Two non-literal operands: both named.
    EXPECT_EQ(reason("customer.clv > cart.total", kShop), "customer.clv > cart.total (customer.clv = 812.35 GBP, cart.total = 42.50 GBP)");
    // Literal-only conditions have no values.
    EXPECT_EQ(reason("1 < 2", kShop), "1 < 2");
    // is null on a missing field says so.
    EXPECT_EQ(reason("customer.email_opt_in is null and customer.orders is not null", kShop),
              "customer.email_opt_in is null (missing) and customer.orders is not null (0)");
    EXPECT_EQ(reason("coalesce(customer.email_opt_in, true)", kShop),
              "coalesce(customer.email_opt_in, true) (missing)");
    EXPECT_EQ(reason("contains(customer.tags, 'vip') and customer.attributes.points >= 1000", kShop),
              "contains(customer.tags, 'vip') (['vip', 'it''s']) and customer.attributes.points >= 1000 (1200)");
    // Comments and line breaks are not part of the condition text.
    EXPECT_EQ(reason("customer.orders = 0 -- new\n  and\n  cart.total\n  >= 30 GBP", kShop),
              "customer.orders = 0 (0) and cart.total >= 30 GBP (42.50 GBP)");
    EXPECT_EQ(reason("(customer.orders = 0)", kShop), "customer.orders = 0 (0)");
}

TEST(OfferRuleReason, EmptyUnlessTrue) {
    EXPECT_EQ(reason("customer.orders = 1", kShop), "");
    EXPECT_EQ(reason("customer.cluster = 1", kShop), "");  // unknown
    EXPECT_EQ(reason("false or customer.cluster = 1", kShop), "");
}

void expect_step(const ExplainStep &s, int depth, const std::string &condition, const std::string &value, Truth result) {
    EXPECT_EQ(s.depth, depth) << s.condition;
    EXPECT_EQ(s.condition, condition);
    EXPECT_EQ(s.value, value) << s.condition;
    EXPECT_EQ(s.result, result) << s.condition;
}

TEST(OfferRuleExplain, EveryConditionInSourceOrderWithDepth) {
    const auto steps = explain(
        "customer.orders = 0 and (cart.total >= 30 GBP or not session.exit_intent) and customer.p_alive < 0.5", kShop);
    ASSERT_EQ(steps.size(), 7u);
    expect_step(steps[0], 0,
                "customer.orders = 0 and (cart.total >= 30 GBP or not session.exit_intent) and customer.p_alive < 0.5", "",
                T);
    expect_step(steps[1], 1, "customer.orders = 0", "customer.orders = 0", T);
    expect_step(steps[2], 1, "cart.total >= 30 GBP or not session.exit_intent", "", T);  // the or, then its parts
    expect_step(steps[3], 2, "cart.total >= 30 GBP", "cart.total = 42.50 GBP", T);
    expect_step(steps[4], 2, "not session.exit_intent", "", F);  // the not fails ...
    expect_step(steps[5], 3, "session.exit_intent", "session.exit_intent = true", T);  // ... because this holds
    expect_step(steps[6], 1, "customer.p_alive < 0.5", "customer.p_alive = 0.3", T);
}

TEST(OfferRuleExplain, NoShortCircuitAndMissingValues) {
    const auto steps = explain("customer.orders > 0 and customer.r >= 4 and days_since(customer.first_order_at) > 30", kShop);
    ASSERT_EQ(steps.size(), 4u);
    expect_step(steps[0], 0, "customer.orders > 0 and customer.r >= 4 and days_since(customer.first_order_at) > 30", "", F);
    expect_step(steps[1], 1, "customer.orders > 0", "customer.orders = 0", F);
    expect_step(steps[2], 1, "customer.r >= 4", "customer.r is missing", U);  // evaluated although the rule is already false
    expect_step(steps[3], 1, "days_since(customer.first_order_at) > 30", "customer.first_order_at is missing", U);
    const auto nulls = explain("customer.p_alive < 0.5", R"({"customer":{"p_alive":null}})");
    ASSERT_EQ(nulls.size(), 1u);
    expect_step(nulls[0], 0, "customer.p_alive < 0.5", "customer.p_alive is null", U);
    const auto unknown = explain("customer.orders / 0 > 1", kShop);
    expect_step(unknown[0], 0, "customer.orders / 0 > 1", "customer.orders / 0 is unknown", U);
}

TEST(OfferRuleExplain, SingleConditionIsStepZero) {
    const auto steps = explain("contains(cart.items, 123)", kShop);
    ASSERT_EQ(steps.size(), 1u);
    expect_step(steps[0], 0, "contains(cart.items, 123)", "cart.items = [1, 2, 123]", T);
    const auto in = explain("customer.segment not in ['a', 'b']", kShop);
    expect_step(in[0], 0, "customer.segment not in ['a', 'b']", "customer.segment = 'loyal'", T);
    const auto lit = explain("true", kShop);
    expect_step(lit[0], 0, "true", "", T);
}

TEST(OfferRuleExplain, ValueFormats) {
    const std::string ctx = R"({"currency":"EUR","customer":{"clv":-0.004,"last_order_at":"2025-06-01T12:00:00.250Z",
        "segment":"x)" + std::string(100, 'y') + R"(","signed_up_at":"-infinity","expected_orders":12345678901234567890,
        "p_alive":1e-300,"attributes":{"w":[null,"a"]}},"cart":{"quantity":1700000000,"total":"1e20 JPY"}})";
    const auto value = [&](const std::string &rule) {
        const auto steps = explain(rule, ctx);
        return steps[0].value;
    };
    EXPECT_EQ(value("customer.clv < 1 EUR"), "customer.clv = 0.00 EUR");  // -0.004 rounds to 0.00, not -0.00
    EXPECT_EQ(value("customer.last_order_at < now"), "customer.last_order_at = 2025-06-01T12:00:00.25Z, now = 2026-01-01T00:00:00Z");
    EXPECT_EQ(value("customer.signed_up_at < now"), "customer.signed_up_at = -infinity, now = 2026-01-01T00:00:00Z");
    EXPECT_EQ(value("customer.segment = 'x'"), "customer.segment = 'x" + std::string(79, 'y') + "...'");
    EXPECT_EQ(value("customer.expected_orders > 1"), "customer.expected_orders = 1.23457e+19");
    EXPECT_EQ(value("days_since(customer.last_order_at) > 1"), "days_since(customer.last_order_at) = 213.5");
    EXPECT_EQ(value("customer.p_alive > 0"), "customer.p_alive = 1e-300");
    EXPECT_EQ(value("cart.quantity > 0"), "cart.quantity = 1700000000");
    EXPECT_EQ(value("cart.total > 0 JPY"), "cart.total = 100000000000000000000.00 JPY");
    EXPECT_EQ(value("count(customer.attributes.w) > 0"), "count(customer.attributes.w) = 1");
    EXPECT_EQ(value("customer.attributes.w is not null"), "customer.attributes.w is present");
    EXPECT_EQ(value("contains(customer.attributes.v, 'a')"), "customer.attributes.v is missing");
    EXPECT_EQ(value("customer.p_alive * 0.5 > 0"), "customer.p_alive * 0.5 = 5e-301");
}

TEST(OfferRuleExplain, ExplainAndReasonThrowWhatEvaluateThrows) {
    const std::string ctx = R"({"cart":{"total":"5 EUR"},"customer":{"orders":1}})";
    const RulePtr r = compile("customer.orders = 0 and cart.total > 1 GBP");
    const OwnedContextTree tree = OwnedContextTree::parse(ctx);
    Evaluator evaluator(tree.view(), testing::kNow);
    EXPECT_EQ(evaluator.evaluate(*r), F);   // short circuit: the mismatch is never reached
    EXPECT_EQ(evaluator.reason(*r), "");
    try {
        evaluator.explain(*r);  // explain evaluates every condition
        FAIL() << "no error";
    } catch (const Error &e) {
        EXPECT_EQ(std::string(e.what()), "cannot compare cart.total (EUR) with 1 GBP");
    }
}

}  // namespace
}  // namespace personalize::rules
