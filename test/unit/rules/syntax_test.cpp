// Offer rules: the lexer and parser — what is accepted, and the exact
// message (with line and column) for malformed rules; the size limits.
#include <string>

#include "test_util.hpp"

namespace personalize::rules {
namespace {

using testing::Caught;
using testing::compile_error;
using testing::eval;

TEST(OfferRuleSyntax, KeywordsAreCaseInsensitive) {
    EXPECT_EQ(eval("TRUE AND NOT FALSE"), Truth::True);
    EXPECT_EQ(eval("True Or false"), Truth::True);
    EXPECT_EQ(eval("customer.orders IS NULL"), Truth::True);
    EXPECT_EQ(eval("customer.orders Is Not Null", R"({"customer":{"orders":1}})"), Truth::True);
    EXPECT_EQ(eval("customer.orders NOT IN [1, 2]", R"({"customer":{"orders":3}})"), Truth::True);
}

TEST(OfferRuleSyntax, FieldNamesAreCaseSensitive) {
    EXPECT_TYPE_ERROR("Customer.orders = 1",
                      "rule: line 1, column 1: unknown field \"Customer.orders\"; did you mean \"customer.orders\"?");
    EXPECT_TYPE_ERROR("customer.Orders = 1",
                      "rule: line 1, column 1: unknown field \"customer.Orders\"; did you mean \"customer.orders\"?");
}

TEST(OfferRuleSyntax, CommentsAndWhitespaceAnywhereBetweenTokens) {
    EXPECT_EQ(eval("-- first orders only\n customer.orders\n\t=\r\n 0 -- none yet\n and -- and\n true",
                   R"({"customer":{"orders":0}})"),
              Truth::True);
    EXPECT_EQ(eval("customer . orders = 0", R"({"customer":{"orders":0}})"), Truth::True);
    EXPECT_EQ(eval("true--comment at the end without newline"), Truth::True);
}

TEST(OfferRuleSyntax, NumbersAndAmounts) {
    EXPECT_EQ(eval("1.5e3 = 1500"), Truth::True);
    EXPECT_EQ(eval("1E-2 = 0.01"), Truth::True);
    EXPECT_EQ(eval("2.5e+1 = 25"), Truth::True);
    EXPECT_EQ(eval("007 = 7"), Truth::True);
    EXPECT_EQ(eval("12.50 EUR = 12.5 EUR"), Truth::True);
    EXPECT_EQ(eval("30\n  GBP > 29.99 GBP"), Truth::True);  // any blanks between amount and code
    EXPECT_EQ(eval("-5 GBP < 0 GBP"), Truth::True);
    EXPECT_EQ(eval("1 = 1 AND 2 = 2"), Truth::True);  // AND after a number is a keyword, not a currency
}

TEST(OfferRuleSyntax, TextLiteralsWithBothQuotesAndDoubledQuotes) {
    EXPECT_EQ(eval("'it''s' = \"it's\""), Truth::True);
    EXPECT_EQ(eval("\"say \"\"hi\"\"\" = 'say \"hi\"'"), Truth::True);
    EXPECT_EQ(eval("'' = \"\""), Truth::True);
    EXPECT_EQ(eval("'café' = 'caf\xC3\xA9'"), Truth::True);
    EXPECT_EQ(eval("'日本' < '日本語'"), Truth::True);
    EXPECT_EQ(eval("'emoji 😀' = 'emoji 😀'"), Truth::True);
    EXPECT_EQ(eval("'two\nlines' != 'two lines'"), Truth::True);
}

TEST(OfferRuleSyntax, EmptyRule) {
    EXPECT_SYNTAX_ERROR("", "rule: line 1, column 1: the rule is empty; write a condition such as customer.orders = 0");
    EXPECT_SYNTAX_ERROR("  -- only a comment\n  ",
                        "rule: line 2, column 3: the rule is empty; write a condition such as customer.orders = 0");
}

TEST(OfferRuleSyntax, MissingOperands) {
    EXPECT_SYNTAX_ERROR("customer.orders = 0 and",
                        "rule: line 1, column 24: expected an expression after \"and\", found the end of the rule");
    EXPECT_SYNTAX_ERROR("customer.orders =",
                        "rule: line 1, column 18: expected an expression after \"=\", found the end of the rule");
    EXPECT_SYNTAX_ERROR("customer.orders = 0 or or true",
                        "rule: line 1, column 24: expected an expression after \"or\", found \"or\"");
    EXPECT_SYNTAX_ERROR("and true", "rule: line 1, column 1: expected an expression, found \"and\"");
    EXPECT_SYNTAX_ERROR("not", "rule: line 1, column 4: expected an expression after \"not\", found the end of the rule");
    EXPECT_SYNTAX_ERROR("1 + * 2", "rule: line 1, column 5: expected an expression after \"+\", found \"*\"");
    EXPECT_SYNTAX_ERROR("customer.orders = not true",
                        "rule: line 1, column 19: expected an expression after \"=\", found \"not\"; put \"not ...\" in "
                        "parentheses here");
}

TEST(OfferRuleSyntax, MultiLinePositions) {
    EXPECT_SYNTAX_ERROR("customer.orders = 0\nand\n  cart.total >=",
                        "rule: line 3, column 16: expected an expression after \">=\", found the end of the rule");
    // Columns count characters, not bytes: 'café' is 6 characters.
    EXPECT_SYNTAX_ERROR("'café' = 'x' and", "rule: line 1, column 17: expected an expression after \"and\", found the end "
                                             "of the rule");
    EXPECT_SYNTAX_ERROR("\t\tcustomer.orders = = 1",
                        "rule: line 1, column 21: expected an expression after \"=\", found \"=\"");
}

TEST(OfferRuleSyntax, TrailingTokens) {
    EXPECT_SYNTAX_ERROR("customer.orders = 0 cart.total > 1 GBP",
                        "rule: line 1, column 21: expected \"and\", \"or\" or the end of the rule, found \"cart.total\"");
    EXPECT_SYNTAX_ERROR("customer.orders 5",
                        "rule: line 1, column 17: expected an operator (such as =, <, in, and, or) or the end of the "
                        "rule, found the number 5");
    EXPECT_SYNTAX_ERROR("true)", "rule: line 1, column 5: unexpected \")\": there is no \"(\" for it to close");
    EXPECT_SYNTAX_ERROR("true ]", "rule: line 1, column 6: expected \"and\", \"or\" or the end of the rule, found \"]\"");
}

TEST(OfferRuleSyntax, Parentheses) {
    EXPECT_EQ(eval("((true))"), Truth::True);
    EXPECT_EQ(eval("(1 + 2) * 3 = 9 and 1 + 2 * 3 = 7"), Truth::True);
    EXPECT_SYNTAX_ERROR("(customer.orders = 0",
                        "rule: line 1, column 21: expected \")\" to close the \"(\" at line 1, column 1, found the end of "
                        "the rule");
    EXPECT_SYNTAX_ERROR("(true and (false)",
                        "rule: line 1, column 18: expected \")\" to close the \"(\" at line 1, column 1, found the end of "
                        "the rule");
    EXPECT_SYNTAX_ERROR("(true true)",
                        "rule: line 1, column 7: expected an operator (such as =, <, in, and, or) or \")\" to close the "
                        "\"(\" at line 1, column 1, found \"true\"");
    EXPECT_SYNTAX_ERROR("()", "rule: line 1, column 2: expected an expression after \"(\", found \")\"");
}

TEST(OfferRuleSyntax, ComparisonChainsAreErrors) {
    EXPECT_SYNTAX_ERROR("1 < customer.orders < 5",
                        "rule: line 1, column 21: comparisons cannot be chained; join them with \"and\", e.g. 1 < x and x < 5");
    EXPECT_SYNTAX_ERROR("1 = 1 = true",
                        "rule: line 1, column 7: comparisons cannot be chained; join them with \"and\", e.g. 1 < x and x < 5");
    EXPECT_SYNTAX_ERROR("1 in [1] is null",
                        "rule: line 1, column 10: comparisons cannot be chained; join them with \"and\", e.g. 1 < x and x < 5");
    EXPECT_EQ(eval("(1 < 2) = true"), Truth::True);  // parentheses make it one comparison of two conditions
}

TEST(OfferRuleSyntax, InAndIsNull) {
    EXPECT_SYNTAX_ERROR("customer.orders in (1, 2)",
                        "rule: line 1, column 20: \"in\" needs a list of literals such as [1, 2, 3] or ['a', 'b'], found "
                        "\"(\"; to look for a value in a list field write contains(list, value)");
    EXPECT_SYNTAX_ERROR("123 in cart.items",
                        "rule: line 1, column 8: \"in\" needs a list of literals such as [1, 2, 3] or ['a', 'b'], found "
                        "\"cart.items\"; to look for a value in a list field write contains(list, value)");
    EXPECT_SYNTAX_ERROR("customer.orders in 5",
                        "rule: line 1, column 20: expected a list such as [1, 2, 3] after \"in\", found the number 5");
    EXPECT_SYNTAX_ERROR("customer.orders not = 5",
                        "rule: line 1, column 21: expected \"in\" after \"not\" (x not in [...]), found \"=\"");
    EXPECT_SYNTAX_ERROR("customer.orders is 5",
                        "rule: line 1, column 20: expected \"null\" after \"is\", found the number 5");
    EXPECT_SYNTAX_ERROR("customer.orders is not",
                        "rule: line 1, column 23: expected \"null\" after \"is not\", found the end of the rule");
    EXPECT_SYNTAX_ERROR("customer.orders = null",
                        "rule: line 1, column 19: null is not a value; test for a missing value with \"... is null\" or "
                        "\"... is not null\"");
}

TEST(OfferRuleSyntax, Lists) {
    EXPECT_EQ(eval("2 in [1, 2, 3]"), Truth::True);
    EXPECT_EQ(eval("-2 in [1, -2]"), Truth::True);
    EXPECT_EQ(eval("'b' in ['a', \"b\"]"), Truth::True);
    EXPECT_EQ(eval("2 in []"), Truth::False);
    EXPECT_SYNTAX_ERROR("1 in [1, 2,]", "rule: line 1, column 12: expected a list item after \",\", found \"]\"");
    EXPECT_SYNTAX_ERROR("1 in [1 2]",
                        "rule: line 1, column 9: expected \",\" or \"]\" in the list that starts at line 1, column 6, found "
                        "the number 2");
    EXPECT_SYNTAX_ERROR("1 in [1, customer.orders]",
                        "rule: line 1, column 10: list items must be literals (numbers, text in quotes or amounts such as "
                        "30 GBP), found \"customer.orders\"");
    EXPECT_SYNTAX_ERROR("1 in [true]",
                        "rule: line 1, column 7: list items must be literals (numbers, text in quotes or amounts such as "
                        "30 GBP), found \"true\"");
    EXPECT_SYNTAX_ERROR("1 in [-'a']", "rule: line 1, column 8: expected a number after \"-\" in a list, found the text 'a'");
    EXPECT_SYNTAX_ERROR("1 in [1", "rule: line 1, column 8: expected \",\" or \"]\" in the list that starts at line 1, "
                                   "column 6, found the end of the rule");
    EXPECT_TYPE_ERROR("1 in [1, 'a']",
                      "rule: line 1, column 10: list items must all have one type: 'a' is text, but the list starting at "
                      "line 1, column 6 holds numbers");
    EXPECT_TYPE_ERROR("cart.total in [1 GBP, 2 EUR]",
                      "rule: line 1, column 23: list items must all be in one currency: 2 EUR, but the list holds GBP");
}

TEST(OfferRuleSyntax, Paths) {
    EXPECT_SYNTAX_ERROR("customer. = 1", "rule: line 1, column 11: expected a name after \"customer.\", found \"=\"");
    EXPECT_SYNTAX_ERROR("customer.orders. > 1",
                        "rule: line 1, column 18: expected a name after \"customer.orders.\", found \">\"");
    EXPECT_SYNTAX_ERROR("customer.orders(1)", "rule: line 1, column 16: customer.orders is a field, not a function");
    // A keyword after a dot is just a name.
    EXPECT_EQ(eval("customer.attributes.in = 1 and customer.attributes.NULL is null",
                   R"({"customer":{"attributes":{"in":1}}})"),
              Truth::True);
}

TEST(OfferRuleSyntax, FunctionCallSyntax) {
    EXPECT_SYNTAX_ERROR("contains(cart.items 1)",
                        "rule: line 1, column 21: expected an operator (such as =, <, in, and, or) or \",\" or \")\" in the "
                        "arguments of contains(...), found the number 1");
    EXPECT_SYNTAX_ERROR("contains(cart.items, 1",
                        "rule: line 1, column 23: expected \",\" or \")\" in the arguments of contains(...), found the end "
                        "of the rule");
    EXPECT_SYNTAX_ERROR("contains(, 1)", "rule: line 1, column 10: expected an expression after \"(\", found \",\"");
}

TEST(OfferRuleSyntax, UsualSlipsGetAdvice) {
    EXPECT_SYNTAX_ERROR("customer.orders == 0", "rule: line 1, column 17: \"==\" is not an operator; write = to compare");
    EXPECT_SYNTAX_ERROR("!session.offer_shown",
                        "rule: line 1, column 1: \"!\" is not an operator; write \"not\" to negate or != to compare");
    EXPECT_SYNTAX_ERROR("true && true", "rule: line 1, column 6: \"&\" is not an operator; write \"and\"");
    EXPECT_SYNTAX_ERROR("true || true", "rule: line 1, column 6: \"|\" is not an operator; write \"or\"");
    EXPECT_SYNTAX_ERROR("true;", "rule: line 1, column 5: unexpected \";\": a rule is one condition; join conditions with "
                                 "\"and\" or \"or\"");
    EXPECT_SYNTAX_ERROR("cart.total >= 30GBP",
                        "rule: line 1, column 17: write a space between the amount and the currency: 30 GBP");
    EXPECT_SYNTAX_ERROR("cart.total >= 30EUR",
                        "rule: line 1, column 17: write a space between the amount and the currency: 30 EUR");
    EXPECT_SYNTAX_ERROR("cart.total >= 30 gbp", "rule: line 1, column 18: currency codes are written in upper case: GBP");
    EXPECT_SYNTAX_ERROR("cart.total >= 30 GPB",
                        "rule: line 1, column 18: unknown currency \"GPB\" (not an ISO 4217 code); did you mean GBP?");
    EXPECT_SYNTAX_ERROR("cart.total >= 30 QQQ", "rule: line 1, column 18: unknown currency \"QQQ\" (not an ISO 4217 code)");
    EXPECT_SYNTAX_ERROR("customer.p_alive < .5",
                        "rule: line 1, column 20: a number must start with a digit: write 0.5");
    EXPECT_SYNTAX_ERROR("customer.orders > 1.", "rule: line 1, column 21: expected digits after the decimal point of 1.");
    EXPECT_SYNTAX_ERROR("customer.orders > 1e+", "rule: line 1, column 22: expected digits in the exponent of 1e+");
    EXPECT_SYNTAX_ERROR("customer.orders > 12abc",
                        "rule: line 1, column 21: unexpected \"abc\" directly after the number 12");
    EXPECT_SYNTAX_ERROR("customer.orders > 1e999", "rule: line 1, column 19: the number 1e999 is out of range");
    EXPECT_SYNTAX_ERROR("customer.segment = 'gold", "rule: line 1, column 20: this text is never closed; end it with '");
    EXPECT_SYNTAX_ERROR("customer.segment = \"gold", "rule: line 1, column 20: this text is never closed; end it with \"");
}

TEST(OfferRuleSyntax, WeirdUnicodeOutsideText) {
    EXPECT_SYNTAX_ERROR("customer.segment = \xE2\x80\x98gold\xE2\x80\x99",
                        "rule: line 1, column 20: unexpected curly quote U+2018; write text in straight quotes, 'like this'");
    EXPECT_SYNTAX_ERROR("customer.orders\xC2\xA0= 0",
                        "rule: line 1, column 16: unexpected invisible or non-breaking space U+00A0; use an ordinary space");
    EXPECT_SYNTAX_ERROR("\xEF\xBB\xBFtrue",
                        "rule: line 1, column 1: unexpected invisible or non-breaking space U+FEFF; use an ordinary space");
    EXPECT_SYNTAX_ERROR("1 \xC3\x97 2 = 2", "rule: line 1, column 3: unexpected character \"\xC3\x97\" (U+00D7); outside "
                                         "quotes a rule is plain ASCII (names are letters, digits and _)");
    EXPECT_SYNTAX_ERROR("customer.ördërs = 1", "rule: line 1, column 10: unexpected character \"ö\" (U+00F6); outside "
                                               "quotes a rule is plain ASCII (names are letters, digits and _)");
    EXPECT_SYNTAX_ERROR(std::string("true\x01"), "rule: line 1, column 5: unexpected control character U+0001");
    EXPECT_SYNTAX_ERROR(std::string("true \0 and true", 15), "rule: line 1, column 6: unexpected control character U+0000");
    EXPECT_SYNTAX_ERROR("'ok' = '\xFF'", "rule: line 1, column 9: invalid UTF-8 (byte 0xFF)");
    EXPECT_SYNTAX_ERROR("'\xC0\xAF' = 'x'", "rule: line 1, column 2: invalid UTF-8 (byte 0xC0)");       // overlong
    EXPECT_SYNTAX_ERROR("'\xED\xA0\x80' = 'x'", "rule: line 1, column 2: invalid UTF-8 (byte 0xED)");   // surrogate
    EXPECT_SYNTAX_ERROR("'abc\xE2\x82' = 'x'", "rule: line 1, column 5: invalid UTF-8 (byte 0xE2)");     // cut short
}

TEST(OfferRuleLimits, RuleLength) {
    // 4,000 bytes compile: "true" followed by " or true" repeated, padded with a comment.
    std::string rule = "true";
    while (rule.size() + 8 <= kMaxRuleBytes) rule += " or true";
    rule += std::string(kMaxRuleBytes - rule.size(), ' ');
    ASSERT_EQ(rule.size(), kMaxRuleBytes);
    EXPECT_EQ(eval(rule), Truth::True);
    rule += " ";
    EXPECT_RULE_ERROR(rule, ErrorCode::ProgramLimit,
                      "rule: line 1, column 4001: the rule is 4,001 bytes long, which exceeds the limit of 4,000 bytes");
}

std::string nested(int levels, const std::string &open, const std::string &inner, const std::string &close) {
    std::string s;
    for (int i = 0; i < levels; ++i) s += open;
    s += inner;
    for (int i = 0; i < levels; ++i) s += close;
    return s;
}

TEST(OfferRuleLimits, NestingDepth) {
    EXPECT_EQ(eval(nested(kMaxDepth, "(", "true", ")")), Truth::True);
    EXPECT_RULE_ERROR(nested(kMaxDepth + 1, "(", "true", ")"), ErrorCode::ProgramLimit,
                      "rule: line 1, column 33: the rule nests more than 32 levels deep (parentheses, not, minus signs "
                      "and function calls), which exceeds the limit");
    EXPECT_EQ(eval(nested(kMaxDepth, "not ", "true", "")), Truth::True);  // 32 nots
    EXPECT_RULE_ERROR(nested(kMaxDepth + 1, "not ", "true", ""), ErrorCode::ProgramLimit,
                      "rule: line 1, column 129: the rule nests more than 32 levels deep (parentheses, not, minus signs "
                      "and function calls), which exceeds the limit");
    EXPECT_EQ(eval(nested(kMaxDepth - 1, "- ", "1", "") + " = -1"), Truth::True);  // 31 minus signs and the literal's
    EXPECT_RULE_ERROR(nested(kMaxDepth + 1, "abs(", "1", ")") + " = 1", ErrorCode::ProgramLimit,
                      "rule: line 1, column 129: the rule nests more than 32 levels deep (parentheses, not, minus signs "
                      "and function calls), which exceeds the limit");
    // Mixed: 20 parentheses around 13 nots.
    EXPECT_RULE_ERROR(nested(20, "(", nested(13, "not ", "true", ""), ")"), ErrorCode::ProgramLimit,
                      "rule: line 1, column 69: the rule nests more than 32 levels deep (parentheses, not, minus signs "
                      "and function calls), which exceeds the limit");
    // A long flat chain is not nesting: 400 conditions in one "and".
    std::string chain = "true";
    for (int i = 0; i < 399; ++i) chain += " and true";
    EXPECT_EQ(eval(chain), Truth::True);
    std::string sum = "1";
    for (int i = 0; i < 999; ++i) sum += "+1";
    EXPECT_EQ(eval(sum + " = 1000"), Truth::True);
}

TEST(OfferRuleLimits, ListItems) {
    std::string list = "[0";
    for (int i = 1; i < static_cast<int>(kMaxListItems); ++i) list += "," + std::to_string(i);
    EXPECT_EQ(eval("999 in " + list + "]"), Truth::True);
    EXPECT_EQ(eval("1000 in " + list + "]"), Truth::False);
    const std::string over = "1 in " + list + ",1000]";
    const Caught c = compile_error(over);
    EXPECT_EQ(c.code, ErrorCode::ProgramLimit);
    EXPECT_EQ(c.message, "rule: line 1, column " + std::to_string(over.size() - 4) +
                             ": the list has more than 1000 items, which exceeds the limit");
}

TEST(OfferRuleLimits, DistinctFields) {
    std::string rule = "true";
    for (int i = 0; i < static_cast<int>(kMaxRuleFields); ++i)
        rule += " and customer.attributes.a" + std::to_string(i) + " is null";
    rule += " and customer.attributes.a0 is null";  // the same field again does not count
    EXPECT_EQ(eval(rule), Truth::True);
    EXPECT_EQ(compile(rule)->fields().size(), kMaxRuleFields);
    const std::string over = rule + " and customer.orders = 1";
    const Caught c = compile_error(over);
    EXPECT_EQ(c.code, ErrorCode::ProgramLimit);
    EXPECT_EQ(c.message, "rule: line 1, column " + std::to_string(over.size() - 18) +
                             ": the rule reads more than 64 different fields, which exceeds the limit");
}

TEST(OfferRuleLimits, NothingInTheRuleReachesSql) {
    // Rule text is data: quotes and SQL in text literals are just bytes to compare.
    EXPECT_EQ(eval("customer.segment = '''; DROP TABLE personalize.offers; --'",
                   R"({"customer":{"segment":"'; DROP TABLE personalize.offers; --"}})"),
              Truth::True);
    EXPECT_SYNTAX_ERROR("true; DELETE FROM orders",
                        "rule: line 1, column 5: unexpected \";\": a rule is one condition; join conditions with \"and\" "
                        "or \"or\"");
}

}  // namespace
}  // namespace personalize::rules
