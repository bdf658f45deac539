// Offer rules: the context — JSON to ContextTree, how values of each type
// are read (money currencies, timestamps, lists), the context errors, and
// malformed trees (as the glue could hand over) never crashing.
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "test_util.hpp"

namespace personalize::rules {
namespace {

using testing::eval;
using testing::eval_error;
using testing::kNow;

constexpr Truth T = Truth::True, F = Truth::False, U = Truth::Unknown;

std::string parse_error(const std::string &json, ErrorCode expected = ErrorCode::InvalidText) {
    try {
        OwnedContextTree::parse(json);
    } catch (const Error &e) {
        EXPECT_EQ(e.code(), expected) << e.what();
        return e.what();
    }
    ADD_FAILURE() << "no error for " << json;
    return {};
}

TEST(OfferRuleContextTree, LayoutIsDepthFirstWithEnds) {
    const OwnedContextTree tree = OwnedContextTree::parse(R"({"a":[1,"x",null],"b":{"c":true},"d":false})");
    const ContextTree v = tree.view();
    ASSERT_EQ(v.size, 8u);
    EXPECT_EQ(v.nodes[0].kind, ContextNode::Object);
    EXPECT_EQ(v.nodes[0].end, 8u);
    EXPECT_EQ(std::string(v.nodes[1].key, v.nodes[1].key_len), "a");
    EXPECT_EQ(v.nodes[1].kind, ContextNode::Array);
    EXPECT_EQ(v.nodes[1].end, 5u);
    EXPECT_EQ(v.nodes[2].number, 1.0);
    EXPECT_EQ(v.nodes[2].key, nullptr);
    EXPECT_EQ(std::string(v.nodes[3].str, v.nodes[3].str_len), "x");
    EXPECT_EQ(v.nodes[4].kind, ContextNode::Null);
    EXPECT_EQ(v.nodes[5].kind, ContextNode::Object);
    EXPECT_EQ(v.nodes[5].end, 7u);
    EXPECT_EQ(v.nodes[6].kind, ContextNode::True);
    EXPECT_EQ(std::string(v.nodes[7].key, v.nodes[7].key_len), "d");
    EXPECT_EQ(v.nodes[7].kind, ContextNode::False);
    EXPECT_EQ(v.nodes[7].end, 8u);
}

TEST(OfferRuleContextTree, StringsAreDecodedAndTheTreeSurvivesAMove) {
    OwnedContextTree tree = OwnedContextTree::parse(R"({"k\u00e9y":"a\"b\\c\/\n\t\u20ac\ud83d\ude00"})");
    OwnedContextTree moved = std::move(tree);
    const ContextTree v = moved.view();
    EXPECT_EQ(std::string(v.nodes[1].key, v.nodes[1].key_len), "k\xC3\xA9y");
    EXPECT_EQ(std::string(v.nodes[1].str, v.nodes[1].str_len), "a\"b\\c/\n\t\xE2\x82\xAC\xF0\x9F\x98\x80");
    // A short string (small-string buffer) still reads right after moves.
    std::vector<OwnedContextTree> many;
    for (int i = 0; i < 50; ++i) many.push_back(OwnedContextTree::parse(R"({"s":"x"})"));
    for (const auto &t : many) EXPECT_EQ(std::string(t.view().nodes[1].str, 1), "x");
}

TEST(OfferRuleContextTree, NumbersLikePostgresFloat8) {
    const OwnedContextTree tree = OwnedContextTree::parse("[0, -0.5, 1e3, 12345678901234567890, 1e400, -1e400, 1e-400]");
    const ContextNode *n = tree.view().nodes;
    EXPECT_EQ(n[1].number, 0.0);
    EXPECT_EQ(n[2].number, -0.5);
    EXPECT_EQ(n[3].number, 1000.0);
    EXPECT_EQ(n[4].number, 12345678901234567890.0);
    EXPECT_TRUE(std::isinf(n[5].number) && n[5].number > 0);
    EXPECT_TRUE(std::isinf(n[6].number) && n[6].number < 0);
    EXPECT_EQ(n[7].number, 0.0);
}

TEST(OfferRuleContextTree, BadJsonNamesWhereAndWhat) {
    EXPECT_EQ(parse_error(""), "context: invalid JSON at line 1, column 1: expected a value, found the end of the text");
    EXPECT_EQ(parse_error("{\"a\":1,}"), "context: invalid JSON at line 1, column 8: expected a key in quotes, found \"}\"");
    EXPECT_EQ(parse_error("{\"a\" 1}"), "context: invalid JSON at line 1, column 6: expected \":\" after a key, found \"1\"");
    EXPECT_EQ(parse_error("[1 2]"), "context: invalid JSON at line 1, column 4: expected \",\" or \"]\" in an array, found \"2\"");
    EXPECT_EQ(parse_error("{\n  \"a\": tru\n}"), "context: invalid JSON at line 2, column 8: expected a value, found \"t\"");
    EXPECT_EQ(parse_error("NaN"), "context: invalid JSON at line 1, column 1: expected a value, found \"N\"");
    EXPECT_EQ(parse_error("{\"a\": Infinity}"), "context: invalid JSON at line 1, column 7: expected a value, found \"I\"");
    EXPECT_EQ(parse_error("-"), "context: invalid JSON at line 1, column 2: expected digits after \"-\"");
    EXPECT_EQ(parse_error("1."), "context: invalid JSON at line 1, column 3: expected digits after the decimal point");
    EXPECT_EQ(parse_error("\"abc"), "context: invalid JSON at line 1, column 5: unterminated string");
    EXPECT_EQ(parse_error("\"a\nb\""), "context: invalid JSON at line 1, column 3: control character in a string (write it as \\u00XX)");
    EXPECT_EQ(parse_error("\"\\x\""), "context: invalid JSON at line 1, column 3: invalid escape \\x");
    EXPECT_EQ(parse_error("\"\\ud800\""), "context: invalid JSON at line 1, column 8: high surrogate without a low surrogate in a \\u escape");
    EXPECT_EQ(parse_error("\"\\udc00\""), "context: invalid JSON at line 1, column 8: lone low surrogate in a \\u escape");
    EXPECT_EQ(parse_error("\"\\u0000\""), "context: invalid JSON at line 1, column 8: \\u0000 is not allowed in a string (PostgreSQL text cannot hold it)");
    EXPECT_EQ(parse_error("\"\xFF\""), "context: invalid JSON at line 1, column 2: invalid UTF-8 in a string");
    EXPECT_EQ(parse_error("{} {}"), "context: invalid JSON at line 1, column 4: unexpected text after the JSON value");
    EXPECT_EQ(parse_error(R"({"a":1,"b":2,"a":3})"), "context: duplicate key \"a\" in a JSON object");
    EXPECT_EQ(parse_error(std::string(33, '[') + std::string(33, ']'), ErrorCode::ProgramLimit),
              "context: JSON nested more than 32 levels deep exceeds the limit");
    OwnedContextTree::parse(std::string(32, '[') + std::string(32, ']'));  // 32 levels are fine
}

TEST(OfferRuleContext, EveryPartMayBeMissing) {
    EXPECT_EQ(eval("customer.orders = 0", "{}"), U);
    EXPECT_EQ(eval("customer.orders = 0", R"({"customer":{}})"), U);
    EXPECT_EQ(eval("customer.attributes.x = 1", R"({"customer":{"attributes":{}}})"), U);
    EXPECT_EQ(eval("customer.attributes.x = 1", R"({"customer":{}})"), U);
    EXPECT_EQ(eval("true", R"({"unrelated":[1,{"deep":null}],"customer":5})"), T);  // unread parts are not checked
}

TEST(OfferRuleContext, MoneyForms) {
    EXPECT_EQ(eval("cart.total = 42.5 GBP", R"({"cart":{"total":42.5,"currency":"GBP"}})"), T);
    EXPECT_EQ(eval("cart.total = 42.5 GBP", R"({"currency":"GBP","cart":{"total":42.5}})"), T);
    EXPECT_EQ(eval("cart.total = 42.5 EUR", R"({"currency":"GBP","cart":{"total":42.5,"currency":"EUR"}})"), T);  // nearest wins
    EXPECT_EQ(eval("cart.total = 42.5 GBP", R"({"cart":{"total":"42.50 GBP"}})"), T);
    EXPECT_EQ(eval("cart.total = 42.5 GBP", R"({"cart":{"total":"42.5GBP"}})"), T);
    EXPECT_EQ(eval("cart.total = -3 USD", R"({"cart":{"total":"-3 usd"}})"), T);  // contexts may write lower case
    EXPECT_EQ(eval("cart.total = 1000 JPY", R"({"cart":{"total":"1e3 JPY"}})"), T);
    EXPECT_EQ(eval("cart.total = 42.5 GBP", R"({"cart":{"total":{"amount":42.5,"currency":"GBP"}}})"), T);
    EXPECT_EQ(eval("cart.total is null", R"({"cart":{"total":{"amount":null,"currency":"GBP"}}})"), T);
    EXPECT_EQ(eval("cart.total = 1 GBP", R"({"cart":{"currency":"gbp","total":1}})"), T);
    EXPECT_EQ(eval("customer.attributes.credit = 5 EUR", R"({"customer":{"currency":"EUR","attributes":{"credit":5}}})"), T);
    EXPECT_EQ(eval("customer.attributes.credit = 5 CHF",
                   R"({"currency":"EUR","customer":{"attributes":{"currency":"CHF","credit":5}}})"),
              T);
    EXPECT_EQ(eval("cart.total = 1 GBP", R"({"currency":"GBP","cart":{"currency":null,"total":1}})"), T);
}

TEST(OfferRuleContext, ContextErrorsNameTheFieldAndWhatWasFound) {
    const auto error = [](const std::string &rule, const std::string &ctx) {
        const auto c = eval_error(rule, ctx);
        EXPECT_TRUE(c.thrown) << rule << " " << ctx;
        EXPECT_EQ(c.code, ErrorCode::InvalidParameter) << c.message;
        return c.message;
    };
    EXPECT_EQ(error("cart.total > 1 GBP", R"({"cart":{"total":true}})"),
              "context: \"cart.total\" must be money (a number with a currency, \"12.50 GBP\" or {\"amount\": ..., "
              "\"currency\": ...}), got true");
    EXPECT_EQ(error("cart.total > 1 GBP", R"({"cart":{"total":"lots"}})"),
              "context: \"cart.total\" must be money (a number with a currency, \"12.50 GBP\" or {\"amount\": ..., "
              "\"currency\": ...}), got \"lots\"");
    EXPECT_EQ(error("cart.total > 1 GBP", R"({"cart":{"total":{"amount":1}}})"),
              "context: \"cart.total\" must be money (a number with a currency, \"12.50 GBP\" or {\"amount\": ..., "
              "\"currency\": ...}), got an object");
    EXPECT_EQ(error("cart.total > 1 GBP", R"({"cart":{"total":{"amount":"1","currency":"GBP"}}})"),
              "context: \"cart.total.amount\" must be a finite number, got \"1\"");
    EXPECT_EQ(error("cart.total > 1 GBP", R"({"cart":{"total":42.5}})"),
              "context: \"cart.total\" is a number without a currency; add \"currency\": \"GBP\" to \"cart\" or to the top "
              "level of the context, or write the amount as \"42.50 GBP\"");
    EXPECT_EQ(error("cart.total > 1 GBP", R"({"cart":{"total":42.5,"currency":"pounds"}})"),
              "context: \"cart.currency\" must be an ISO 4217 currency code such as \"GBP\", got \"pounds\"");
    EXPECT_EQ(error("cart.total > 1 GBP", R"({"currency":7,"cart":{"total":42.5}})"),
              "context: \"currency\" must be an ISO 4217 currency code such as \"GBP\", got 7");
    EXPECT_EQ(error("cart.total > 1 GBP", R"({"cart":{"total":"12.50 XYZ"}})"),
              "context: \"cart.total\" has an unknown currency \"XYZ\" (not ISO 4217): \"12.50 XYZ\"");
    EXPECT_EQ(error("cart.total > 1 GBP", R"({"cart":{"total":{"amount":1,"currency":"XX"}}})"),
              "context: \"cart.total.currency\" must be an ISO 4217 currency code such as \"GBP\", got \"XX\"");
    EXPECT_EQ(error("customer.orders = 1", R"({"customer":{"orders":"5"}})"),
              "context: \"customer.orders\" must be a number, got \"5\"");
    EXPECT_EQ(error("customer.orders = 1", R"({"customer":{"orders":1e400}})"),
              "context: \"customer.orders\" must be a finite number, got Infinity");
    EXPECT_EQ(error("customer.segment = 'a'", R"({"customer":{"segment":3}})"),
              "context: \"customer.segment\" must be text (a JSON string), got 3");
    EXPECT_EQ(error("session.returning", R"({"session":{"returning":"yes"}})"),
              "context: \"session.returning\" must be true or false, got \"yes\"");
    EXPECT_EQ(error("session.returning", R"({"session":{"returning":1}})"),
              "context: \"session.returning\" must be true or false, got 1");
    EXPECT_EQ(error("now > customer.last_order_at", R"({"customer":{"last_order_at":1700000000}})"),
              "context: \"customer.last_order_at\" must be a timestamp (an ISO 8601 string such as "
              "\"2026-01-01T10:00:00Z\"), got 1700000000");
    EXPECT_EQ(error("now > customer.last_order_at", R"({"customer":{"last_order_at":"2025-02-30"}})"),
              "context: \"customer.last_order_at\" is not a valid timestamp (day 30 of month 2): \"2025-02-30\"");
    EXPECT_EQ(error("now > customer.last_order_at", R"({"customer":{"last_order_at":"yesterday"}})"),
              "context: \"customer.last_order_at\" is not a valid timestamp (expected a four-digit year): \"yesterday\"");
    EXPECT_EQ(error("cart.items > 0", R"({"cart":{"items":"1,2,3"}})"),
              "context: \"cart.items\" must be a list of numbers (a JSON array), got \"1,2,3\"");
    EXPECT_EQ(error("contains(cart.items, 1)", R"({"cart":{"items":[1, null, "abc"]}})"),
              "context: \"cart.items\" must be a list of numbers, but item 3 is \"abc\"");
    EXPECT_EQ(error("contains(cart.items, 1)", R"({"cart":{"items":[1, [2]]}})"),
              "context: \"cart.items\" must be a list of numbers, but item 2 is an array");
    EXPECT_EQ(error("contains(customer.tags, 'a')", R"({"customer":{"tags":["a", 1]}})"),
              "context: \"customer.tags\" must be a list of text, but item 2 is 1");
    EXPECT_EQ(error("count(customer.attributes.l) > 0", R"({"customer":{"attributes":{"l":{}}}})"),
              "context: \"customer.attributes.l\" must be a list (a JSON array), got an object");
    EXPECT_EQ(error("customer.orders = 1", R"({"customer":[1]})"), "context: \"customer\" must be an object, got an array");
    EXPECT_EQ(error("customer.attributes.x.y = 1", R"({"customer":{"attributes":{"x":"s"}}})"),
              "context: \"customer.attributes.x\" must be an object, got \"s\"");
    EXPECT_EQ(error("customer.orders = 1", "[1]"), "context: the context must be a JSON object, got an array");
    EXPECT_EQ(error("customer.orders = 1", "null"), "context: the context must be a JSON object, got null");
    EXPECT_EQ(error("now = '2026-01-01'", R"({"now":"soon"})"),
              "context: \"now\" is not a valid timestamp (expected a four-digit year): \"soon\"");
    EXPECT_EQ(error("now = '2026-01-01'", R"({"now":1})"),
              "context: \"now\" must be a timestamp (an ISO 8601 string such as \"2026-01-01T10:00:00Z\"), got 1");
    EXPECT_EQ(error("customer.attributes.t = 1", R"({"customer":{"attributes":{"t":"long text )" + std::string(100, 'x') + "\"}}}"),
              "context: \"customer.attributes.t\" must be a number, got \"long text xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...\"");
}

TEST(OfferRuleContext, TimestampsAsPostgresWritesThem) {
    for (const char *ts : {"2025-09-01T10:00:00+00:00", "2025-09-01T10:00:00", "2025-09-01T12:00:00+02:00",
                           "2025-09-01T05:30:00-04:30", "2025-09-01 10:00:00Z", "2025-09-01T10:00:00.000000+00:00",
                           "2025-09-01T10:00Z", "2025-09-01T11:00:00+0100", "2025-09-01T11:00:00+01",
                           "2025-09-01T10:00:00,0Z"}) {
        const std::string ctx = std::string(R"({"customer":{"last_order_at":")") + ts + "\"}}";
        EXPECT_EQ(eval("customer.last_order_at = '2025-09-01T10:00:00Z'", ctx), T) << ts;
    }
    EXPECT_EQ(eval("customer.last_order_at > '2025-09-01T10:00:00Z'",
                   R"({"customer":{"last_order_at":"2025-09-01T10:00:00.000001+00:00"}})"),
              T);
    EXPECT_EQ(eval("customer.last_order_at = '2025-09-01T10:00:00.0000005Z'",
                   R"({"customer":{"last_order_at":"2025-09-01T10:00:00.000001Z"}})"),
              T);  // rounded to microseconds
    EXPECT_EQ(eval("customer.last_order_at = 'infinity'", R"({"customer":{"last_order_at":"infinity"}})"), T);
    EXPECT_EQ(eval("customer.first_order_at < '1970-01-01'", R"({"customer":{"first_order_at":"1969-12-31T23:59:59Z"}})"), T);
}

TEST(OfferRuleContext, BindingIsMemoisedAcrossRules) {
    const OwnedContextTree tree = OwnedContextTree::parse(R"({"customer":{"orders":2,"attributes":{"p":3}}})");
    Evaluator evaluator(tree.view(), kNow);
    const RulePtr a = compile("customer.orders = 2 and customer.attributes.p > 1");
    const RulePtr b = compile("customer.orders + customer.attributes.p = 5");
    const RulePtr c = compile("customer.attributes.p = 'x'");  // the same attribute as text: its own binding
    EXPECT_EQ(evaluator.evaluate(*a), T);
    EXPECT_EQ(evaluator.evaluate(*b), T);
    EXPECT_THROW(evaluator.evaluate(*c), Error);
    EXPECT_EQ(evaluator.evaluate(*a), T);  // the failed binding did not disturb the others
}

// ---- malformed trees ------------------------------------------------------------------

ContextNode node(ContextNode::Kind kind, std::uint32_t end, const char *key = nullptr) {
    ContextNode n{};
    n.kind = kind;
    n.end = end;
    n.key = key;
    n.key_len = key ? static_cast<std::uint32_t>(std::strlen(key)) : 0;
    return n;
}

std::string malformed(const std::vector<ContextNode> &nodes, const std::string &rule = "customer.orders = 1") {
    const RulePtr r = compile(rule);
    Evaluator evaluator(ContextTree{nodes.data(), nodes.size()}, kNow);
    try {
        evaluator.evaluate(*r);
    } catch (const Error &e) {
        EXPECT_EQ(e.code(), ErrorCode::DataCorrupted) << e.what();
        return e.what();
    }
    ADD_FAILURE() << "no error";
    return {};
}

TEST(OfferRuleContext, MalformedTreesAreErrorsNotCrashes) {
    EXPECT_EQ(malformed({}), "context tree is malformed: the tree has no nodes");
    EXPECT_EQ(malformed({node(ContextNode::Object, 5)}),
              "context tree is malformed: node 0 ends at 5, outside its parent (which ends at 1)");
    EXPECT_EQ(malformed({node(ContextNode::Object, 0)}),
              "context tree is malformed: node 0 ends at 0, outside its parent (which ends at 1)");
    EXPECT_EQ(malformed({node(ContextNode::Object, 2), node(ContextNode::Object, 9, "customer")}),
              "context tree is malformed: node 1 ends at 9, outside its parent (which ends at 2)");
    EXPECT_EQ(malformed({node(ContextNode::Object, 3), node(ContextNode::Number, 3, "customer"), node(ContextNode::Null, 3)}),
              "context tree is malformed: leaf node 1 ends at 3");
    EXPECT_EQ(malformed({node(ContextNode::Object, 2), node(static_cast<ContextNode::Kind>(9), 2, "customer")}),
              "context tree is malformed: node 1 has an unknown kind");
    ContextNode keyless = node(ContextNode::Number, 2);
    keyless.key_len = 4;
    EXPECT_EQ(malformed({node(ContextNode::Object, 2), keyless}),
              "context tree is malformed: node 1 has a key length but no key");
    ContextNode textless = node(ContextNode::String, 3, "segment");
    textless.str_len = 2;
    EXPECT_EQ(malformed({node(ContextNode::Object, 3), node(ContextNode::Object, 3, "customer"), textless},
                        "customer.segment = 'a'"),
              "context tree is malformed: string node 2 has no text");
    // An array whose items overrun it.
    EXPECT_EQ(malformed({node(ContextNode::Object, 4), node(ContextNode::Object, 4, "cart"), node(ContextNode::Array, 4, "items"),
                         node(ContextNode::Array, 6)},
                        "cart.items > 0"),
              "context tree is malformed: node 3 ends at 6, outside its parent (which ends at 4)");
    // A well-formed tree built by hand works.
    std::vector<ContextNode> good = {node(ContextNode::Object, 3), node(ContextNode::Object, 3, "customer"),
                                     node(ContextNode::Number, 3, "orders")};
    good[2].number = 1;
    const RulePtr r = compile("customer.orders = 1");
    Evaluator evaluator(ContextTree{good.data(), good.size()}, kNow);
    EXPECT_EQ(evaluator.evaluate(*r), T);
    // NaN from a broken conversion is a context error, not a wrong answer.
    good[2].number = std::numeric_limits<double>::quiet_NaN();
    Evaluator nan(ContextTree{good.data(), good.size()}, kNow);
    EXPECT_THROW(nan.evaluate(*r), Error);
}

}  // namespace
}  // namespace personalize::rules
