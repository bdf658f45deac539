#include "core/rules/checker.hpp"

#include <algorithm>
#include <map>

#include "core/rules/fields.hpp"
#include "core/rules/format.hpp"
#include "core/rules/functions.hpp"
#include "core/rules/limits.hpp"
#include "core/rules/text.hpp"
#include "core/rules/time.hpp"

namespace personalize::rules::detail {

namespace {

constexpr int kMaxPasses = 4 * static_cast<int>(kMaxRuleFields) + 4;

bool numeric(Type t) { return t == Type::Number || t == Type::Money; }

class Checker {
public:
    explicit Checker(Ast &ast) : ast_(ast) {}

    std::vector<FieldUse> run() {
        check_field_count();
        for (int pass = 0; pass < kMaxPasses; ++pass) {
            reset();
            changed_ = false;
            check_root();
            if (!changed_) break;
        }
        reset();
        strict_ = true;
        check_root();
        return field_table();
    }

private:
    // ---- helpers -------------------------------------------------------------------------
    Node &node(std::uint32_t id) { return ast_.nodes[id]; }
    [[noreturn]] void fail(std::size_t at, const std::string &message) const {
        fail_at(ErrorCode::InvalidParameter, ast_.text, at, message);
    }
    std::string src(std::uint32_t id) const { return truncate_utf8(ast_.source(ast_.nodes[id]), 60); }
    std::string src_range(std::uint32_t from, std::uint32_t to) const {
        return truncate_utf8(ast_.source(ast_.nodes[from].outer_begin, ast_.nodes[to].outer_end), 60);
    }
    bool is_string_literal(std::uint32_t id) const { return ast_.nodes[id].kind == NodeKind::String; }

    // "money (cart.total)", with where an attribute's type came from.
    std::string describe(std::uint32_t id) const {
        const Node &n = ast_.nodes[id];
        std::string out = std::string(type_phrase(n.type)) + " (" + src(id);
        if (n.kind == NodeKind::Field && n.catalogue < 0) {
            const auto it = attrs_.find(n.text);
            if (it != attrs_.end() && it->second.offset != n.begin)
                out += ", " + std::string(type_phrase(it->second.type)) + " because of its use at " +
                       where(ast_.text, it->second.offset);
        }
        return out + ")";
    }
    std::string describe_range(Type t, std::uint32_t from, std::uint32_t to) const {
        return std::string(type_phrase(t)) + " (" + src_range(from, to) + ")";
    }

    static std::string example_condition(const std::string &s, Type t) {
        switch (t) {
            case Type::Number: return s + " > 0";
            case Type::Money: return s + " >= 30 GBP";
            case Type::Text: return s + " = 'gold'";
            case Type::Timestamp: return "days_since(" + s + ") > 30";
            case Type::NumberList: return "contains(" + s + ", 123)";
            case Type::TextList: return "contains(" + s + ", 'gold')";
            default: return s + " is not null";
        }
    }

    void reset() {
        for (Node &n : ast_.nodes) {
            n.type = Type::Unknown;
            n.static_currency = 0;
            n.as_length = false;
            n.as_time = false;
            n.field = -1;
        }
    }

    void check_field_count() {
        std::vector<const Node *> fields;
        for (const Node &n : ast_.nodes)
            if (n.kind == NodeKind::Field) fields.push_back(&n);
        std::sort(fields.begin(), fields.end(), [](const Node *a, const Node *b) { return a->begin < b->begin; });
        std::vector<std::string_view> seen;
        for (const Node *f : fields) {
            if (std::find(seen.begin(), seen.end(), f->text) != seen.end()) continue;
            if (seen.size() == kMaxRuleFields)
                fail_at(ErrorCode::ProgramLimit, ast_.text, f->begin,
                        "the rule reads more than " + std::to_string(kMaxRuleFields) +
                            " different fields, which exceeds the limit");
            seen.push_back(f->text);
        }
    }

    std::vector<FieldUse> field_table() {
        std::vector<std::uint32_t> ids;
        for (std::uint32_t i = 0; i < ast_.nodes.size(); ++i)
            if (ast_.nodes[i].kind == NodeKind::Field) ids.push_back(i);
        std::sort(ids.begin(), ids.end(), [&](std::uint32_t a, std::uint32_t b) { return node(a).begin < node(b).begin; });
        std::vector<FieldUse> out;
        for (const std::uint32_t id : ids) {
            Node &n = node(id);
            int index = -1;
            for (std::size_t k = 0; k < out.size(); ++k)
                if (out[k].path == n.text) index = static_cast<int>(k);
            if (index < 0) {
                Type t = n.catalogue >= 0 ? catalogue()[static_cast<std::size_t>(n.catalogue)].type : Type::Any;
                if (n.catalogue < 0) {
                    const auto it = attrs_.find(n.text);
                    if (it != attrs_.end()) t = it->second.type;
                }
                out.push_back(FieldUse{n.text, t, n.catalogue});
                index = static_cast<int>(out.size() - 1);
            }
            n.field = index;
        }
        return out;
    }

    // The first attribute field under id whose type is still unknown.
    const Node *unresolved(std::uint32_t id) const {
        const Node &n = ast_.nodes[id];
        if (n.kind == NodeKind::Field && n.catalogue < 0 && n.type == Type::Unknown) return &n;
        for (const std::uint32_t c : n.children)
            if (const Node *u = unresolved(c)) return u;
        return nullptr;
    }
    // In the strict pass: an expression whose type is still unknown is an error.
    void require_known(std::uint32_t id) {
        if (!strict_ || node(id).type != Type::Unknown) return;
        const Node *u = unresolved(id);
        const Node &at = u ? *u : node(id);
        const std::string name = u ? u->text : src(id);
        fail(at.begin, "cannot infer the type of " + name +
                           "; compare it with a literal somewhere in the rule, e.g. " + name + " > 0 or " + name +
                           " = 'gold'");
    }

    // ---- nodes ---------------------------------------------------------------------------
    void check_root() {
        const Type t = check(ast_.root, Type::Bool);
        require_known(ast_.root);
        if (t != Type::Bool)
            fail(node(ast_.root).begin, std::string("the rule must be a condition (true/false), but it is ") +
                                            type_phrase(t) + "; write e.g. " +
                                            example_condition(src(ast_.root), t));
    }

    Type check(std::uint32_t id, Type hint) {
        Type t = Type::Unknown;
        switch (node(id).kind) {
            case NodeKind::Number: t = Type::Number; break;
            case NodeKind::Money:
                t = Type::Money;
                node(id).static_currency = node(id).currency;
                break;
            case NodeKind::String: t = hint == Type::Timestamp ? as_timestamp(id) : Type::Text; break;
            case NodeKind::Bool: t = Type::Bool; break;
            case NodeKind::List:
                t = node(id).list_type;
                node(id).static_currency = node(id).currency;
                break;
            case NodeKind::Field: t = field(id, hint); break;
            case NodeKind::Call: t = call(id, hint); break;
            case NodeKind::Neg: t = negate(id, node(id).children[0], hint, "minus"); break;
            case NodeKind::Not:
                condition(node(id).children[0], "\"not\" needs a condition (true/false)");
                t = Type::Bool;
                break;
            case NodeKind::And:
            case NodeKind::Or: {
                const std::string what = std::string(node(id).kind == NodeKind::And ? "\"and\"" : "\"or\"") +
                                         " needs a condition (true/false) on each side";
                for (const std::uint32_t c : std::vector<std::uint32_t>(node(id).children)) condition(c, what);
                t = Type::Bool;
                break;
            }
            case NodeKind::Compare: t = compare(id); break;
            case NodeKind::In: t = in(id); break;
            case NodeKind::IsNull:
                check(node(id).children[0], Type::Unknown);
                t = Type::Bool;
                break;
            case NodeKind::Sum: t = sum(id, hint); break;
            case NodeKind::Product: t = product(id, hint); break;
        }
        node(id).type = t;
        return t;
    }

    Type as_timestamp(std::uint32_t id) {
        Node &n = node(id);
        std::string why;
        std::int64_t t = 0;
        if (!parse_timestamp(n.text, t, why))
            fail(n.begin, truncate_utf8(ast_.source(n), 60) + " is not a valid timestamp (" + why +
                              "); write e.g. '2026-01-01', '2026-01-01T10:00:00Z' or '2026-01-01 10:00:00+01:00'");
        n.as_time = true;
        n.time = t;
        return Type::Timestamp;
    }

    Type field(std::uint32_t id, Type hint) {
        Node &n = node(id);
        n.catalogue = find_catalogue_field(n.text);
        if (n.catalogue >= 0) return catalogue()[static_cast<std::size_t>(n.catalogue)].type;
        if (!is_attribute_path(n.text)) fail(n.begin, unknown_field_message(n.text));
        auto it = attrs_.find(n.text);
        if (it != attrs_.end()) {
            if (it->second.type == Type::AnyList && (hint == Type::NumberList || hint == Type::TextList)) {
                it->second.type = hint;  // count() first, contains() later: the list's items are now known
                changed_ = true;
            }
            return it->second.type;
        }
        if (!is_concrete(hint) || hint == Type::MoneyList) return Type::Unknown;
        attrs_.emplace(n.text, Inferred{hint, n.begin});
        changed_ = true;
        return hint;
    }

    void condition(std::uint32_t id, const std::string &what) {
        const Type t = check(id, Type::Bool);
        require_known(id);
        if (t == Type::Bool || t == Type::Unknown) return;
        fail(node(id).begin, what + ", but " + src(id) + " is " + type_phrase(t) + "; write e.g. " +
                                 example_condition(src(id), t));
    }

    // A list where a number is needed: its length.
    Type length_if_list(std::uint32_t id, Type t) {
        if (!is_list(t)) return t;
        node(id).as_length = true;
        return Type::Number;
    }

    // ---- comparisons ---------------------------------------------------------------------
    Type compare(std::uint32_t id) {
        const std::uint32_t l = node(id).children[0], r = node(id).children[1];
        const CmpOp op = node(id).cmp;
        Type a = check(l, Type::Unknown), b = check(r, Type::Unknown);
        const auto hint_from = [](Type t) { return is_list(t) ? Type::Number : t; };
        if (a == Type::Unknown && is_concrete(b)) a = check(l, hint_from(b));
        if (b == Type::Unknown && is_concrete(a)) b = check(r, hint_from(a));
        if (a == Type::Timestamp && is_string_literal(r)) b = check(r, Type::Timestamp);
        if (b == Type::Timestamp && is_string_literal(l)) a = check(l, Type::Timestamp);
        if (is_list(a) && is_list(b))
            fail(node(l).outer_begin, "cannot compare two lists (" + src(l) + " and " + src(r) +
                                          "); use any_in(...), all_in(...), contains(...) or count(...)");
        if (is_list(a) && b == Type::Number) a = length_if_list(l, a);
        if (is_list(b) && a == Type::Number) b = length_if_list(r, b);
        if (a == Type::Unknown || b == Type::Unknown) {
            require_known(a == Type::Unknown ? l : r);
            return Type::Bool;
        }
        if (a != b) mismatch(id, l, r);
        if (a == Type::Bool && op != CmpOp::Eq && op != CmpOp::Ne)
            fail(node(l).outer_begin, std::string("cannot use ") + cmp_text(op) +
                                          " on conditions (true/false); only = and != compare them");
        if (a == Type::Money) same_currency(node(l).outer_begin, l, r, "cannot compare ", " with ");
        return Type::Bool;
    }

    void same_currency(std::size_t at, std::uint32_t l, std::uint32_t r, const char *before, const char *between) {
        const Currency x = node(l).static_currency, y = node(r).static_currency;
        if (x != 0 && y != 0 && x != y)
            fail(at, std::string(before) + currency_text(x) + between + currency_text(y));
    }

    [[noreturn]] void mismatch(std::uint32_t id, std::uint32_t l, std::uint32_t r) {
        const Type a = node(l).type, b = node(r).type;
        std::string message = "cannot compare " + describe(l) + " with " + describe(r);
        const auto literal_number = [&](std::uint32_t k) {
            return node(k).kind == NodeKind::Number ? format_number(node(k).number) : std::string();
        };
        if (a == Type::Money && !literal_number(r).empty())
            message += "; write a money literal such as " + literal_number(r) + " " +
                       (node(l).static_currency ? currency_text(node(l).static_currency) : "GBP");
        else if (b == Type::Money && !literal_number(l).empty())
            message += "; write a money literal such as " + literal_number(l) + " " +
                       (node(r).static_currency ? currency_text(node(r).static_currency) : "GBP");
        else if (a == Type::Text && !literal_number(r).empty())
            message += "; write text in quotes, e.g. '" + literal_number(r) + "'";
        else if (b == Type::Text && !literal_number(l).empty())
            message += "; write text in quotes, e.g. '" + literal_number(l) + "'";
        else if (a == Type::Timestamp && b == Type::Number)
            message += "; use days_since(" + src(l) + ") or hours_since(" + src(l) + ") to compare with days or hours";
        else if (b == Type::Timestamp && a == Type::Number)
            message += "; use days_since(" + src(r) + ") or hours_since(" + src(r) + ") to compare with days or hours";
        else if ((a == Type::Timestamp && b == Type::Text) || (a == Type::Text && b == Type::Timestamp))
            message += "; only a text literal such as '2026-01-01' is read as a timestamp";
        fail(node(id).begin, message);
    }

    Type in(std::uint32_t id) {
        const std::uint32_t x = node(id).children[0], list = node(id).children[1];
        const Type lt = check(list, Type::Unknown);
        const Type elem = element_of(lt);
        Type t = check(x, elem);
        if (is_list(t))
            fail(node(x).begin, "\"in\" tests one value, but " + src(x) + " is " + type_phrase(t) + "; write any_in(" +
                                    src(x) + ", [...]) to test its items, or count(" + src(x) +
                                    ") in [...] for its length");
        if (t == Type::Unknown) {
            require_known(x);
            return Type::Bool;
        }
        if (t != Type::Number && t != Type::Text && t != Type::Money)
            fail(node(x).begin, "\"in\" works on numbers, text and money, but " + src(x) + " is " + type_phrase(t));
        if (lt != Type::AnyList && elem != t)
            fail(node(x).begin, "cannot look for " + describe(x) + " in a list of " +
                                    (lt == Type::NumberList ? "numbers" : lt == Type::TextList ? "text" : "amounts") +
                                    " (" + src(list) + ")");
        if (t == Type::Money) same_currency(node(x).begin, x, list, "cannot compare ", " with ");
        return Type::Bool;
    }

    // ---- arithmetic ----------------------------------------------------------------------
    Type negate(std::uint32_t id, std::uint32_t child, Type hint, const char *what) {
        Type t = check(child, numeric(hint) ? hint : Type::Unknown);
        t = length_if_list(child, t);
        if (t == Type::Unknown) {
            require_known(child);
            return Type::Unknown;
        }
        if (!numeric(t))
            fail(node(child).begin, std::string(what) + " works on numbers and money, not on " + describe(child));
        node(id).static_currency = node(child).static_currency;
        return t;
    }

    [[noreturn]] void no_arithmetic(std::uint32_t child, const char *ops) {
        const Type t = node(child).type;
        if (t == Type::Timestamp)
            fail(node(child).begin, std::string("timestamps have no arithmetic (") + src(child) +
                                        "); use days_since(...) or hours_since(...) to get a number of days or hours");
        fail(node(child).begin, std::string(ops) + " work on numbers and money, not on " + describe(child));
    }

    Type sum(std::uint32_t id, Type hint) {
        const std::vector<std::uint32_t> kids = node(id).children;
        const std::vector<ArithOp> ops = node(id).ops;
        std::vector<Type> t(kids.size());
        for (std::size_t i = 0; i < kids.size(); ++i) t[i] = length_if_list(kids[i], check(kids[i], Type::Unknown));
        Type chain = Type::Unknown;
        for (const Type x : t)
            if (x == Type::Money) chain = Type::Money;
        if (chain == Type::Unknown)
            for (const Type x : t)
                if (x == Type::Number) chain = Type::Number;
        if (chain == Type::Unknown && numeric(hint)) chain = hint;
        for (std::size_t i = 0; i < kids.size(); ++i) {
            if (t[i] == Type::Unknown && chain != Type::Unknown) t[i] = length_if_list(kids[i], check(kids[i], chain));
            if (t[i] != Type::Unknown && !numeric(t[i])) no_arithmetic(kids[i], "+ and -");
        }
        Currency currency = 0;
        for (std::size_t i = 0; i < kids.size(); ++i) {
            if (t[i] == Type::Unknown) {
                require_known(kids[i]);
                return Type::Unknown;
            }
            if (i > 0 && t[i] != t[0]) {
                const bool add = ops[i - 1] == ArithOp::Add;
                std::string message = std::string(add ? "cannot add " : "cannot subtract ") +
                                      (add ? describe_range(t[0], kids[0], kids[i - 1]) + " and " + describe(kids[i])
                                           : describe(kids[i]) + " from " + describe_range(t[0], kids[0], kids[i - 1]));
                const std::uint32_t number_side = t[i] == Type::Number ? kids[i] : kids[0];
                if (node(number_side).kind == NodeKind::Number && (number_side == kids[i] || i == 1))
                    message += "; write " + format_number(node(number_side).number) + " " +
                               (currency ? currency_text(currency) : "GBP");
                fail(node(kids[0]).outer_begin, message);
            }
            const Currency c = node(kids[i]).static_currency;
            if (t[i] == Type::Money && c != 0) {
                if (currency != 0 && c != currency) {
                    const bool add = ops[i - 1] == ArithOp::Add;
                    fail(node(kids[0]).outer_begin, add ? "cannot add " + currency_text(currency) + " and " + currency_text(c)
                                                        : "cannot subtract " + currency_text(c) + " from " +
                                                              currency_text(currency));
                }
                currency = c;
            }
        }
        node(id).static_currency = currency;
        return t[0];
    }

    // Type of a * b or a / b, or Unknown when not allowed.
    static Type multiply(Type a, ArithOp op, Type b) {
        if (op == ArithOp::Mul) {
            if (a == Type::Number && b == Type::Number) return Type::Number;
            if ((a == Type::Money && b == Type::Number) || (a == Type::Number && b == Type::Money)) return Type::Money;
            return Type::Unknown;
        }
        if (a == Type::Number && b == Type::Number) return Type::Number;
        if (a == Type::Money && b == Type::Number) return Type::Money;
        if (a == Type::Money && b == Type::Money) return Type::Number;
        return Type::Unknown;
    }
    static Type fold(const std::vector<Type> &t, const std::vector<ArithOp> &ops) {
        Type acc = t[0];
        for (std::size_t i = 1; i < t.size(); ++i) acc = multiply(acc, ops[i - 1], t[i]);
        return acc;
    }

    Type product(std::uint32_t id, Type hint) {
        const std::vector<std::uint32_t> kids = node(id).children;
        const std::vector<ArithOp> ops = node(id).ops;
        std::vector<Type> t(kids.size());
        std::vector<std::size_t> unknown;
        for (std::size_t i = 0; i < kids.size(); ++i) {
            t[i] = length_if_list(kids[i], check(kids[i], Type::Unknown));
            if (t[i] == Type::Unknown) unknown.push_back(i);
            else if (!numeric(t[i])) no_arithmetic(kids[i], "* and /");
        }
        if (unknown.size() == 1) {
            // Try number and money for the one unknown operand.
            Type only = Type::Unknown;
            int valid = 0;
            for (const Type candidate : {Type::Number, Type::Money}) {
                std::vector<Type> trial = t;
                trial[unknown[0]] = candidate;
                const Type r = fold(trial, ops);
                if (r != Type::Unknown && (!numeric(hint) || r == hint)) {
                    ++valid;
                    only = candidate;
                }
            }
            if (valid == 1) t[unknown[0]] = check(kids[unknown[0]], only);
        }
        for (std::size_t i = 0; i < kids.size(); ++i)
            if (t[i] == Type::Unknown) {
                require_known(kids[i]);
                return Type::Unknown;
            }
        Type acc = t[0];
        Currency currency = node(kids[0]).static_currency;
        for (std::size_t i = 1; i < kids.size(); ++i) {
            const Type next = multiply(acc, ops[i - 1], t[i]);
            const Currency c = node(kids[i]).static_currency;
            if (next == Type::Unknown) {
                const std::string left = describe_range(acc, kids[0], kids[i - 1]);
                if (ops[i - 1] == ArithOp::Mul)
                    fail(node(kids[0]).outer_begin, "cannot multiply " + left + " by " + describe(kids[i]) +
                                                        "; only one side of * may be money");
                fail(node(kids[0]).outer_begin, "cannot divide " + left + " by " + describe(kids[i]) +
                                                    "; divide money by a number or by money");
            }
            if (acc == Type::Money && t[i] == Type::Money) {  // money / money: a ratio
                if (currency != 0 && c != 0 && currency != c)
                    fail(node(kids[0]).outer_begin, "cannot divide " + currency_text(currency) + " by " + currency_text(c));
                currency = 0;
            } else if (t[i] == Type::Money) {
                currency = c;
            }
            acc = next;
        }
        node(id).static_currency = acc == Type::Money ? currency : 0;
        return acc;
    }

    // ---- functions -----------------------------------------------------------------------
    Type call(std::uint32_t id, Type hint) {
        const Node &n = node(id);
        const FunctionInfo *f = find_function(n.text);
        if (f == nullptr) {
            if (find_catalogue_field(n.text) >= 0)
                fail(n.begin, n.text + " is a field, not a function; write " + n.text);
            std::vector<std::string_view> names;
            for (const auto &fn : functions()) names.emplace_back(fn.name);
            const std::string_view guess = closest_match(n.text, names);
            fail(n.begin, "unknown function \"" + truncate_utf8(n.text, 60) + "\"" +
                              (guess.empty() ? std::string() : " (did you mean " + std::string(guess) + "?)") +
                              "; known: " + function_names());
        }
        if (static_cast<int>(n.children.size()) != f->arity)
            fail(n.begin, std::string(f->name) + "() takes " + std::to_string(f->arity) +
                              (f->arity == 1 ? " argument (" : " arguments (") + f->arguments + "), got " +
                              std::to_string(n.children.size()));
        const std::vector<std::uint32_t> args = n.children;
        switch (f->id) {
            case Function::Contains: return contains(args);
            case Function::AnyIn:
            case Function::AllIn: return any_all(f->name, args);
            case Function::Count: {
                const Type t = check(args[0], Type::AnyList);
                require_known(args[0]);
                if (!is_list(t)) fail(node(args[0]).begin, "count() needs a list, found " + describe(args[0]));
                return Type::Number;
            }
            case Function::DaysSince:
            case Function::HoursSince: {
                const Type t = check(args[0], Type::Timestamp);
                require_known(args[0]);
                if (t != Type::Timestamp)
                    fail(node(args[0]).begin, std::string(f->name) + "() needs a timestamp, found " + describe(args[0]));
                return Type::Number;
            }
            case Function::Coalesce: return coalesce(id, args, hint);
            case Function::Min:
            case Function::Max: return min_max(id, f->name, args, hint);
            case Function::Abs: return negate(id, args[0], hint, "abs()");
        }
        return Type::Unknown;
    }

    Type contains(const std::vector<std::uint32_t> &args) {
        Type l = check(args[0], Type::Unknown), x = check(args[1], Type::Unknown);
        if ((l == Type::Unknown || l == Type::AnyList) && (x == Type::Number || x == Type::Text))
            l = check(args[0], list_of(x));
        if (x == Type::Unknown && (l == Type::NumberList || l == Type::TextList)) x = check(args[1], element_of(l));
        if (l == Type::Unknown || x == Type::Unknown) {
            require_known(l == Type::Unknown ? args[0] : args[1]);
            return Type::Bool;
        }
        if (!is_list(l) || l == Type::MoneyList)
            fail(node(args[0]).begin, "contains() needs a list of numbers or text as its first argument, found " +
                                          describe(args[0]));
        if (is_list(x))
            fail(node(args[1]).begin, "contains() looks for one value, but " + src(args[1]) +
                                          " is a list; to look for several write any_in(...) or all_in(...)");
        if (x != Type::Number && x != Type::Text)
            fail(node(args[1]).begin, "contains() looks for a number or text, found " + describe(args[1]));
        if (l != Type::AnyList && element_of(l) != x)
            fail(node(args[1]).begin, "cannot look for " + describe(args[1]) + " in " + describe(args[0]));
        return Type::Bool;
    }

    Type any_all(const char *name, const std::vector<std::uint32_t> &args) {
        Type a = check(args[0], Type::Unknown), b = check(args[1], Type::Unknown);
        const auto specific = [](Type t) { return t == Type::NumberList || t == Type::TextList; };
        if ((a == Type::Unknown || a == Type::AnyList) && specific(b)) a = check(args[0], b);
        if ((b == Type::Unknown || b == Type::AnyList) && specific(a)) b = check(args[1], a);
        for (const std::uint32_t k : args) {
            const Type t = node(k).type;
            if (t == Type::Unknown) {
                require_known(k);
                return Type::Bool;
            }
            if (!is_list(t) || t == Type::MoneyList)
                fail(node(k).begin, std::string(name) + "() needs two lists of numbers or text, e.g. " + name +
                                        "(cart.categories, ['shoes', 'bags']), found " + describe(k));
        }
        if (a != Type::AnyList && b != Type::AnyList && a != b)
            fail(node(args[1]).begin, std::string(name) + "() cannot compare " + describe(args[0]) + " with " +
                                          describe(args[1]));
        return Type::Bool;
    }

    Type coalesce(std::uint32_t id, const std::vector<std::uint32_t> &args, Type hint) {
        Type a = check(args[0], hint), b = check(args[1], hint);
        if (a == Type::Unknown && is_concrete(b)) a = check(args[0], b);
        if (b == Type::Unknown && is_concrete(a)) b = check(args[1], a);
        if (a == Type::Timestamp && is_string_literal(args[1])) b = check(args[1], Type::Timestamp);
        if (b == Type::Timestamp && is_string_literal(args[0])) a = check(args[0], Type::Timestamp);
        if (a == Type::Unknown || b == Type::Unknown) {
            require_known(a == Type::Unknown ? args[0] : args[1]);
            return Type::Unknown;
        }
        const bool lists_match = is_list(a) && is_list(b) && (a == Type::AnyList || b == Type::AnyList);
        if (a != b && !lists_match)
            fail(node(args[0]).begin, "coalesce() needs two values of the same type, found " + describe(args[0]) +
                                          " and " + describe(args[1]));
        if (a == Type::Money) same_currency(node(args[0]).begin, args[0], args[1], "coalesce() of ", " and ");
        node(id).static_currency = node(args[0]).static_currency ? node(args[0]).static_currency : node(args[1]).static_currency;
        return a == Type::AnyList ? b : a;
    }

    Type min_max(std::uint32_t id, const char *name, const std::vector<std::uint32_t> &args, Type hint) {
        Type a = length_if_list(args[0], check(args[0], numeric(hint) ? hint : Type::Unknown));
        Type b = length_if_list(args[1], check(args[1], numeric(hint) ? hint : Type::Unknown));
        if (a == Type::Unknown && numeric(b)) a = length_if_list(args[0], check(args[0], b));
        if (b == Type::Unknown && numeric(a)) b = length_if_list(args[1], check(args[1], a));
        if (a == Type::Unknown || b == Type::Unknown) {
            require_known(a == Type::Unknown ? args[0] : args[1]);
            return Type::Unknown;
        }
        for (const std::uint32_t k : args)
            if (!numeric(node(k).as_length ? Type::Number : node(k).type))
                fail(node(k).begin, std::string(name) + "() works on numbers and money, not on " + describe(k));
        if (a != b)
            fail(node(args[0]).begin, std::string(name) + "() needs two numbers or two amounts, found " +
                                          describe(args[0]) + " and " + describe(args[1]));
        if (a == Type::Money) {
            same_currency(node(args[0]).begin, args[0], args[1], (std::string("cannot take the ") + name + " of ").c_str(), " and ");
            node(id).static_currency =
                node(args[0]).static_currency ? node(args[0]).static_currency : node(args[1]).static_currency;
        }
        return a;
    }

    struct Inferred {
        Type type;
        std::uint32_t offset;  // the use that decided it
    };

    Ast &ast_;
    std::map<std::string, Inferred, std::less<>> attrs_;
    bool changed_ = false;
    bool strict_ = false;
};

}  // namespace

std::vector<FieldUse> check(Ast &ast) { return Checker(ast).run(); }

}  // namespace personalize::rules::detail
