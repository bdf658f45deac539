#include "core/rules/parser.hpp"

#include <algorithm>

#include "core/rules/limits.hpp"
#include "core/rules/text.hpp"

namespace personalize::rules::detail {

std::string Ast::source(std::uint32_t begin, std::uint32_t end) const {
    // First token at or after begin.
    auto it = std::lower_bound(tokens.begin(), tokens.end(), begin,
                               [](const Token &t, std::uint32_t b) { return t.begin < b; });
    std::string out;
    bool first = true;
    for (; it != tokens.end() && it->kind != Tok::End && it->end <= end; ++it) {
        if (!first && it->space_before) out += ' ';
        out.append(text.substr(it->begin, it->end - it->begin));
        first = false;
    }
    return out;
}

bool is_literal(const Ast &ast, std::uint32_t id) {
    const Node &n = ast.nodes[id];
    switch (n.kind) {
        case NodeKind::Number:
        case NodeKind::Money:
        case NodeKind::String:
        case NodeKind::Bool:
        case NodeKind::List: return true;
        case NodeKind::Neg: return is_literal(ast, n.children[0]);
        default: return false;
    }
}

namespace {

bool is_cmp(Tok k) {
    return k == Tok::Eq || k == Tok::Ne || k == Tok::Lt || k == Tok::Le || k == Tok::Gt || k == Tok::Ge;
}

CmpOp cmp_of(Tok k) {
    switch (k) {
        case Tok::Eq: return CmpOp::Eq;
        case Tok::Ne: return CmpOp::Ne;
        case Tok::Lt: return CmpOp::Lt;
        case Tok::Le: return CmpOp::Le;
        case Tok::Gt: return CmpOp::Gt;
        default: return CmpOp::Ge;
    }
}

class Parser {
public:
    explicit Parser(Ast &ast) : ast_(ast), t_(ast.tokens) {}

    std::uint32_t rule() {
        if (cur().kind == Tok::End)
            fail(ErrorCode::Syntax, cur().begin, "the rule is empty; write a condition such as customer.orders = 0");
        const std::uint32_t root = or_();
        if (cur().kind != Tok::End) {
            if (cur().kind == Tok::RParen)
                fail(ErrorCode::Syntax, cur().begin, "unexpected \")\": there is no \"(\" for it to close");
            after_expression("the end of the rule", root);
        }
        return root;
    }

private:
    const Token &cur() const { return t_[pos_]; }
    const Token &next() const { return t_[std::min(pos_ + 1, t_.size() - 1)]; }
    const Token &take() { return t_[pos_ < t_.size() - 1 ? pos_++ : pos_]; }

    [[noreturn]] void fail(ErrorCode code, std::size_t at, const std::string &message) const {
        fail_at(code, ast_.text, at, message);
    }
    // The current token for "found ...": a whole dotted path when it starts one.
    std::string found() const {
        if (cur().kind != Tok::Name) return describe(cur(), ast_.text);
        std::size_t k = pos_;
        while (k + 2 < t_.size() && t_[k + 1].kind == Tok::Dot && (t_[k + 2].kind == Tok::Name || is_keyword(t_[k + 2].kind)))
            k += 2;
        return "\"" + truncate_utf8(ast_.text.substr(cur().begin, t_[k].end - cur().begin), 60) + "\"";
    }

    // What may follow a complete expression, when something else does.
    [[noreturn]] void after_expression(const char *closer, std::uint32_t expr) const {
        const Node &n = ast_.nodes[expr];
        const bool bare = n.kind != NodeKind::Compare && n.kind != NodeKind::In && n.kind != NodeKind::IsNull &&
                          n.kind != NodeKind::And && n.kind != NodeKind::Or && n.kind != NodeKind::Not;
        const Tok k = cur().kind;
        if (bare && (k == Tok::Name || k == Tok::Number || k == Tok::Money || k == Tok::String || k == Tok::True ||
                     k == Tok::False || k == Tok::LParen || k == Tok::LBracket))
            fail(ErrorCode::Syntax, cur().begin,
                 std::string("expected an operator (such as =, <, in, and, or) or ") + closer + ", found " + found());
        fail(ErrorCode::Syntax, cur().begin, std::string("expected \"and\", \"or\" or ") + closer + ", found " + found());
    }

    void enter(std::size_t at) {
        if (++depth_ > kMaxDepth)
            fail(ErrorCode::ProgramLimit, at,
                 "the rule nests more than " + std::to_string(kMaxDepth) +
                     " levels deep (parentheses, not, minus signs and function calls), which exceeds the limit");
    }
    void leave() { --depth_; }

    std::uint32_t add(Node n) {
        n.outer_begin = n.begin;
        n.outer_end = n.end;
        ast_.nodes.push_back(std::move(n));
        return static_cast<std::uint32_t>(ast_.nodes.size() - 1);
    }
    Node &node(std::uint32_t id) { return ast_.nodes[id]; }

    std::uint32_t chain(NodeKind kind, Tok op, std::uint32_t (Parser::*operand)()) {
        const std::uint32_t first = (this->*operand)();
        if (cur().kind != op) return first;
        Node n;
        n.kind = kind;
        n.children.push_back(first);
        while (cur().kind == op) {
            take();
            n.children.push_back((this->*operand)());
        }
        n.begin = node(n.children.front()).outer_begin;
        n.end = node(n.children.back()).outer_end;
        return add(std::move(n));
    }

    std::uint32_t or_() { return chain(NodeKind::Or, Tok::Or, &Parser::and_); }
    std::uint32_t and_() { return chain(NodeKind::And, Tok::And, &Parser::not_); }

    std::uint32_t not_() {
        if (cur().kind != Tok::Not) return compare();
        const Token &t = take();
        enter(t.begin);
        Node n;
        n.kind = NodeKind::Not;
        n.begin = t.begin;
        n.children.push_back(not_());
        n.end = node(n.children[0]).outer_end;
        leave();
        return add(std::move(n));
    }

    bool at_comparison() const {
        const Tok k = cur().kind;
        return is_cmp(k) || k == Tok::In || k == Tok::Is || (k == Tok::Not && next().kind == Tok::In);
    }

    std::uint32_t compare() {
        const std::uint32_t left = sum();
        if (!at_comparison()) {
            if (cur().kind == Tok::Not)
                fail(ErrorCode::Syntax, next().begin,
                     "expected \"in\" after \"not\" (x not in [...]), found " + describe(next(), ast_.text));
            return left;
        }
        Node n;
        n.begin = node(left).outer_begin;
        n.children.push_back(left);
        const Token &op = take();
        if (is_cmp(op.kind)) {
            n.kind = NodeKind::Compare;
            n.cmp = cmp_of(op.kind);
            n.children.push_back(sum());
        } else if (op.kind == Tok::Is) {
            n.kind = NodeKind::IsNull;
            if (cur().kind == Tok::Not) {
                take();
                n.flag = true;
            }
            if (cur().kind != Tok::Null)
                fail(ErrorCode::Syntax, cur().begin, std::string("expected \"null\" after \"") + (n.flag ? "is not" : "is") +
                                                         "\", found " + found());
            take();
        } else {
            n.kind = NodeKind::In;
            if (op.kind == Tok::Not) {
                n.flag = true;
                take();  // "in"
            }
            if (cur().kind != Tok::LBracket) {
                if (cur().kind == Tok::Name || cur().kind == Tok::LParen)
                    fail(ErrorCode::Syntax, cur().begin,
                         std::string("\"in\" needs a list of literals such as [1, 2, 3] or ['a', 'b'], found ") + found() +
                             "; to look for a value in a list field write contains(list, value)");
                fail(ErrorCode::Syntax, cur().begin, "expected a list such as [1, 2, 3] after \"in\", found " + found());
            }
            n.children.push_back(list());
        }
        n.end = t_[pos_ - 1].end;
        const std::uint32_t id = add(std::move(n));
        if (at_comparison())
            fail(ErrorCode::Syntax, cur().begin,
                 "comparisons cannot be chained; join them with \"and\", e.g. 1 < x and x < 5");
        return id;
    }

    std::uint32_t arith(NodeKind kind, Tok plus, Tok minus, ArithOp p, ArithOp m, std::uint32_t (Parser::*operand)()) {
        const std::uint32_t first = (this->*operand)();
        if (cur().kind != plus && cur().kind != minus) return first;
        Node n;
        n.kind = kind;
        n.children.push_back(first);
        while (cur().kind == plus || cur().kind == minus) {
            n.ops.push_back(take().kind == plus ? p : m);
            n.children.push_back((this->*operand)());
        }
        n.begin = node(n.children.front()).outer_begin;
        n.end = node(n.children.back()).outer_end;
        return add(std::move(n));
    }
    std::uint32_t sum() { return arith(NodeKind::Sum, Tok::Plus, Tok::Minus, ArithOp::Add, ArithOp::Sub, &Parser::term); }
    std::uint32_t term() { return arith(NodeKind::Product, Tok::Star, Tok::Slash, ArithOp::Mul, ArithOp::Div, &Parser::unary); }

    std::uint32_t unary() {
        if (cur().kind != Tok::Minus) return primary();
        const Token &t = take();
        enter(t.begin);
        std::uint32_t id;
        if (cur().kind == Tok::Number || cur().kind == Tok::Money) {
            // A negative literal.
            const Token &lit = take();
            Node n;
            n.kind = lit.kind == Tok::Number ? NodeKind::Number : NodeKind::Money;
            n.number = -lit.number;
            n.currency = lit.currency;
            n.begin = t.begin;
            n.end = lit.end;
            id = add(std::move(n));
        } else {
            Node n;
            n.kind = NodeKind::Neg;
            n.begin = t.begin;
            n.children.push_back(unary());
            n.end = node(n.children[0]).outer_end;
            id = add(std::move(n));
        }
        leave();
        return id;
    }

    std::uint32_t primary() {
        const Token &t = cur();
        Node n;
        n.begin = t.begin;
        n.end = t.end;
        switch (t.kind) {
            case Tok::Number:
            case Tok::Money:
                n.kind = t.kind == Tok::Number ? NodeKind::Number : NodeKind::Money;
                n.number = t.number;
                n.currency = t.currency;
                take();
                return add(std::move(n));
            case Tok::String:
                n.kind = NodeKind::String;
                n.text = t.text;
                take();
                return add(std::move(n));
            case Tok::True:
            case Tok::False:
                n.kind = NodeKind::Bool;
                n.flag = t.kind == Tok::True;
                take();
                return add(std::move(n));
            case Tok::Null:
                fail(ErrorCode::Syntax, t.begin,
                     "null is not a value; test for a missing value with \"... is null\" or \"... is not null\"");
            case Tok::LParen: return group();
            case Tok::LBracket: return list();
            case Tok::Name: return name();
            default: break;
        }
        if (pos_ == 0) fail(ErrorCode::Syntax, t.begin, "expected an expression, found " + found());
        std::string message = "expected an expression after " + describe(t_[pos_ - 1], ast_.text) + ", found " + found();
        if (t.kind == Tok::Not) message += "; put \"not ...\" in parentheses here";
        fail(ErrorCode::Syntax, t.begin, message);
    }

    std::uint32_t group() {
        const Token &open = take();
        enter(open.begin);
        const std::uint32_t inner = or_();
        if (cur().kind != Tok::RParen) {
            const std::string closer = "\")\" to close the \"(\" at " + where(ast_.text, open.begin);
            if (cur().kind == Tok::End || cur().kind == Tok::Comma || cur().kind == Tok::RBracket)
                fail(ErrorCode::Syntax, cur().begin, "expected " + closer + ", found " + found());
            after_expression(closer.c_str(), inner);
        }
        const Token &close = take();
        leave();
        node(inner).outer_begin = open.begin;
        node(inner).outer_end = close.end;
        return inner;
    }

    std::uint32_t name() {
        const Token &first = take();
        Node n;
        n.begin = first.begin;
        n.text = first.text;
        if (cur().kind == Tok::LParen) {
            enter(first.begin);
            take();
            n.kind = NodeKind::Call;
            if (cur().kind != Tok::RParen) {
                for (;;) {
                    n.children.push_back(or_());
                    if (cur().kind == Tok::Comma) {
                        take();
                        continue;
                    }
                    if (cur().kind == Tok::RParen) break;
                    const std::string closer = "\",\" or \")\" in the arguments of " + first.text + "(...)";
                    if (cur().kind == Tok::End || cur().kind == Tok::RBracket)
                        fail(ErrorCode::Syntax, cur().begin, "expected " + closer + ", found " + found());
                    after_expression(closer.c_str(), n.children.back());
                }
            }
            n.end = take().end;
            leave();
            return add(std::move(n));
        }
        n.kind = NodeKind::Field;
        n.end = first.end;
        while (cur().kind == Tok::Dot) {
            const Token &dot = take();
            if (cur().kind != Tok::Name && !is_keyword(cur().kind))
                fail(ErrorCode::Syntax, cur().begin,
                     "expected a name after \"" + ast_.source(n.begin, dot.end) + "\", found " + found());
            n.text += '.';
            n.text += cur().text;
            n.end = take().end;
        }
        if (cur().kind == Tok::LParen && n.text.find('.') != std::string::npos)
            fail(ErrorCode::Syntax, cur().begin, n.text + " is a field, not a function");
        return add(std::move(n));
    }

    std::uint32_t list() {
        const Token &open = take();
        Node n;
        n.kind = NodeKind::List;
        n.begin = open.begin;
        if (cur().kind != Tok::RBracket) {
            for (;;) {
                item(n, open);
                if (cur().kind == Tok::Comma) {
                    take();
                    if (cur().kind == Tok::RBracket)
                        fail(ErrorCode::Syntax, cur().begin, "expected a list item after \",\", found \"]\"");
                    continue;
                }
                if (cur().kind == Tok::RBracket) break;
                fail(ErrorCode::Syntax, cur().begin,
                     "expected \",\" or \"]\" in the list that starts at " + where(ast_.text, open.begin) + ", found " + found());
            }
        }
        n.end = take().end;
        return add(std::move(n));
    }

    void item(Node &list, const Token &open) {
        const std::uint32_t begin = cur().begin;
        bool negative = false;
        if (cur().kind == Tok::Minus) {
            take();
            negative = true;
            if (cur().kind != Tok::Number && cur().kind != Tok::Money)
                fail(ErrorCode::Syntax, cur().begin, "expected a number after \"-\" in a list, found " + found());
        }
        const Token &t = cur();
        Type type;
        ListItem it;
        it.begin = begin;
        it.end = t.end;
        if (t.kind == Tok::Number || t.kind == Tok::Money) {
            type = t.kind == Tok::Number ? Type::NumberList : Type::MoneyList;
            it.number = negative ? -t.number : t.number;
        } else if (t.kind == Tok::String) {
            type = Type::TextList;
            it.text = t.text;
        } else {
            fail(ErrorCode::Syntax, t.begin,
                 "list items must be literals (numbers, text in quotes or amounts such as 30 GBP), found " + found());
        }
        if (list.items.size() == kMaxListItems)
            fail(ErrorCode::ProgramLimit, begin,
                 "the list has more than " + std::to_string(kMaxListItems) + " items, which exceeds the limit");
        const std::string src = ast_.source(begin, t.end);
        if (list.items.empty()) {
            list.list_type = type;
            list.currency = t.currency;
        } else if (type != list.list_type) {
            fail(ErrorCode::InvalidParameter, begin,
                 "list items must all have one type: " + truncate_utf8(src, 40) + " is " +
                     type_phrase(element_of(type)) + ", but the list starting at " + where(ast_.text, open.begin) +
                     " holds " + (list.list_type == Type::NumberList ? "numbers" : list.list_type == Type::TextList ? "text" : "amounts"));
        } else if (type == Type::MoneyList && t.currency != list.currency) {
            fail(ErrorCode::InvalidParameter, begin,
                 "list items must all be in one currency: " + src + ", but the list holds " + currency_text(list.currency));
        }
        take();
        list.items.push_back(std::move(it));
    }

    Ast &ast_;
    const std::vector<Token> &t_;
    std::size_t pos_ = 0;
    int depth_ = 0;
};

}  // namespace

Ast parse(std::string_view rule) {
    Ast ast;
    ast.text = rule;
    ast.tokens = tokenize(rule);
    ast.nodes.reserve(ast.tokens.size() + 1);
    Parser parser(ast);
    ast.root = parser.rule();
    return ast;
}

}  // namespace personalize::rules::detail
