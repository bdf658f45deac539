// The syntax tree of one rule: nodes in one vector, children by index.
// Chains of the same operator (a and b and c, a + b - c) are one node with
// several children, so the tree is only as deep as the rule's nesting. The
// type checker annotates the nodes in place.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/rules/lexer.hpp"
#include "core/rules/money.hpp"
#include "core/rules/types.hpp"

namespace personalize::rules::detail {

enum class NodeKind : std::uint8_t {
    Number, Money, String, Bool, List,  // literals
    Field,                              // a path: customer.orders, now, customer.attributes.x.y
    Call,                               // name(args)
    Neg, Not,
    And, Or,                            // n-ary
    Compare,                            // children[0] cmp children[1]
    In,                                 // children[0] [not] in list (flag = not)
    IsNull,                             // children[0] is [not] null (flag = not)
    Sum, Product,                       // n-ary with ops[i] between children[i] and children[i + 1]
};

enum class CmpOp : std::uint8_t { Eq, Ne, Lt, Le, Gt, Ge };
enum class ArithOp : std::uint8_t { Add, Sub, Mul, Div };

inline const char *cmp_text(CmpOp op) {
    static const char *const names[] = {"=", "!=", "<", "<=", ">", ">="};
    return names[static_cast<int>(op)];
}

struct ListItem {
    double number = 0;       // Number, Money
    std::string text;        // String
    std::uint32_t begin = 0, end = 0;
};

struct Node {
    NodeKind kind = NodeKind::Number;
    std::uint32_t begin = 0, end = 0;              // source bytes, without enclosing parentheses
    std::uint32_t outer_begin = 0, outer_end = 0;  // with them
    double number = 0;                             // Number, Money
    Currency currency = 0;                         // Money; List of money
    bool flag = false;                             // Bool: its value; In, IsNull: negated
    CmpOp cmp = CmpOp::Eq;                         // Compare
    std::string text;                              // String: value; Field: path; Call: function name
    std::vector<std::uint32_t> children;
    std::vector<ArithOp> ops;                      // Sum, Product
    Type list_type = Type::AnyList;                // List: NumberList, TextList, MoneyList or AnyList ([])
    std::vector<ListItem> items;                   // List

    // Set by the type checker.
    Type type = Type::Unknown;
    Currency static_currency = 0;  // Money whose currency the literals fix, else 0
    bool as_length = false;        // a list used as a number: its length
    bool as_time = false;          // a string literal read as a timestamp
    std::int64_t time = 0;         // ... its value
    int field = -1;                // Field: index in the rule's field table
    int catalogue = -1;            // Field: index in the catalogue, -1 for attributes
};

struct Ast {
    std::string_view text;
    std::vector<Token> tokens;
    std::vector<Node> nodes;
    std::uint32_t root = 0;

    // The node's source as the user wrote it, comments dropped and blanks
    // between tokens collapsed to one space: "cart.total >= 30 GBP".
    std::string source(std::uint32_t begin, std::uint32_t end) const;
    std::string source(const Node &n) const { return source(n.begin, n.end); }
};

// Literal: a number, amount, text, true/false, list, or minus a literal.
bool is_literal(const Ast &ast, std::uint32_t id);

}  // namespace personalize::rules::detail
