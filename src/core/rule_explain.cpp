#include "core/rule_explain.hpp"

#include "core/rule_binding.hpp"
#include "core/rule_format.hpp"
#include "core/rule_lists.hpp"
#include "core/rule_text.hpp"
#include "core/rule_time.hpp"
#include "core/rule_vm.hpp"

namespace personalize::rules::detail {

namespace {

Truth truth_of(const Slot &v) { return !v.known ? Truth::Unknown : v.truth ? Truth::True : Truth::False; }

Truth kleene_and(Truth a, Truth b) {
    if (a == Truth::False || b == Truth::False) return Truth::False;
    if (a == Truth::True && b == Truth::True) return Truth::True;
    return Truth::Unknown;
}
Truth kleene_or(Truth a, Truth b) {
    if (a == Truth::True || b == Truth::True) return Truth::True;
    if (a == Truth::False && b == Truth::False) return Truth::False;
    return Truth::Unknown;
}
Truth kleene_not(Truth a) { return a == Truth::Unknown ? a : a == Truth::True ? Truth::False : Truth::True; }

template <typename Item, typename Each>
std::string format_list(std::uint32_t size, Each each) {
    std::string out = "[";
    std::uint32_t shown = 0;
    each([&](const Item &item) {
        if (shown == kShownListItems) return;
        if (shown++) out += ", ";
        out += item;
    });
    if (size > shown) out += std::string(shown ? ", " : "") + "... (" + format_count(size) + " items)";
    return out + "]";
}

// How one operand looked: {"cart.total = 42.50 GBP", "42.50 GBP"} or, when
// unknown, {"customer.p_alive is missing", "missing"}.
struct Shown {
    std::string full;   // for explain
    std::string brief;  // for reason, when it is the condition's only operand
};

Shown show(EvalState &s, const Program &p, const Operand &o) {
    const Slot v = run(s, p, o.code_begin, o.code_end);
    if (v.known && (o.type == Type::Any || o.type == Type::Unknown)) return {o.text + " is present", "present"};
    if (v.known) {
        const std::string value = format_value(v, o.type);
        return {o.text + " = " + value, value};
    }
    std::string parts, brief;
    for (const std::uint32_t f : o.fields) {
        const FieldRef &field = p.fields[f];
        if (field.path == "now") continue;
        const FieldBinding &b = bind(s, field);
        if (b.state == BindState::Value) continue;
        const char *how = b.state == BindState::Missing ? "missing" : "null";
        if (!parts.empty()) parts += ", ";
        parts += field.path + " is " + how;
        brief = how;
    }
    if (parts.empty()) return {o.text + " is unknown", "unknown"};
    if (!o.single_field) brief = parts;
    return {parts, brief};
}

std::string leaf_values(EvalState &s, const Program &p, const LogicNode &leaf, bool brief) {
    std::string out;
    if (brief && leaf.bare_field) return out;
    for (const Operand &o : leaf.operands) {
        const Shown shown = show(s, p, o);
        if (!out.empty()) out += ", ";
        out += brief && leaf.operands.size() == 1 ? shown.brief : shown.full;
    }
    return out;
}

std::string leaf_reason(EvalState &s, const Program &p, const LogicNode &leaf, bool negated) {
    const std::string values = leaf_values(s, p, leaf, true);
    return (negated ? "not " : "") + leaf.text + (values.empty() ? "" : " (" + values + ")");
}

Truth truth(EvalState &s, const Program &p, const LogicNode &n) { return truth_of(run(s, p, n.code_begin, n.code_end)); }

std::string false_reason(EvalState &s, const Program &p, const LogicNode &n);

// Why node n (which is true) is true.
std::string true_reason(EvalState &s, const Program &p, const LogicNode &n) {
    switch (n.kind) {
        case LogicNode::Leaf: return leaf_reason(s, p, n, false);
        case LogicNode::Not: return false_reason(s, p, p.logic[n.children[0]]);
        case LogicNode::Or:
            for (const std::uint32_t c : n.children)
                if (truth(s, p, p.logic[c]) == Truth::True) return true_reason(s, p, p.logic[c]);
            return std::string();
        case LogicNode::And: {
            std::string out;
            for (const std::uint32_t c : n.children) {
                if (!out.empty()) out += " and ";
                out += true_reason(s, p, p.logic[c]);
            }
            return out;
        }
    }
    return std::string();
}

// Why node n (which is false) is false, as conditions that hold: "not x (...)".
std::string false_reason(EvalState &s, const Program &p, const LogicNode &n) {
    switch (n.kind) {
        case LogicNode::Leaf: return leaf_reason(s, p, n, true);
        case LogicNode::Not: return true_reason(s, p, p.logic[n.children[0]]);
        case LogicNode::And:
            for (const std::uint32_t c : n.children)
                if (truth(s, p, p.logic[c]) == Truth::False) return false_reason(s, p, p.logic[c]);
            return std::string();
        case LogicNode::Or: {
            std::string out;
            for (const std::uint32_t c : n.children) {
                if (!out.empty()) out += " and ";
                out += false_reason(s, p, p.logic[c]);
            }
            return out;
        }
    }
    return std::string();
}

// Appends the leaves under n (depth-first, source order) and returns n's truth.
Truth walk(EvalState &s, const Program &p, const LogicNode &n, int depth, std::vector<ExplainStep> &steps) {
    if (n.kind == LogicNode::Leaf) {
        const Truth t = truth(s, p, n);
        if (depth > 0) steps.push_back(ExplainStep{depth, n.text, leaf_values(s, p, n, false), t});
        return t;
    }
    // A nested and / or / not is a step of its own, before its conditions,
    // so "not session.offer_shown" shows as failing, not only its true leaf.
    const std::size_t self = steps.size();
    if (depth > 0) steps.push_back(ExplainStep{depth, n.text, std::string(), Truth::Unknown});
    Truth acc = n.kind == LogicNode::And ? Truth::True : Truth::False;
    for (const std::uint32_t c : n.children) {
        const Truth t = walk(s, p, p.logic[c], depth + 1, steps);
        acc = n.kind == LogicNode::And ? kleene_and(acc, t) : n.kind == LogicNode::Or ? kleene_or(acc, t) : kleene_not(t);
    }
    if (depth > 0) steps[self].result = acc;
    return acc;
}

}  // namespace

std::string format_value(const Slot &v, Type type) {
    if (!v.known) return "unknown";
    switch (type) {
        case Type::Bool: return v.truth ? "true" : "false";
        case Type::Number: return format_shown_number(v.number);
        case Type::Money: return format_money(v.number, v.currency);
        case Type::Text: return quote_text(truncate_utf8(v.text.view(), kShownTextBytes));
        case Type::Timestamp: return format_timestamp(v.time);
        case Type::NumberList:
            return format_list<std::string>(v.list->size, [&](auto &&add) {
                for_each_number(*v.list, [&](double x) { add(format_shown_number(x)); });
            });
        case Type::TextList:
            return format_list<std::string>(v.list->size, [&](auto &&add) {
                for_each_text(*v.list, [&](std::string_view x) { add(quote_text(truncate_utf8(x, kShownTextBytes))); });
            });
        case Type::AnyList:
        case Type::MoneyList:
            return "a list of " + format_count(v.list->size) + (v.list->size == 1 ? " item" : " items");
        default: return "present";
    }
}

std::string reason(EvalState &s, const Program &p) {
    if (truth_of(run(s, p, 0, static_cast<std::uint32_t>(p.code.size()))) != Truth::True) return std::string();
    return true_reason(s, p, p.logic[0]);
}

std::vector<ExplainStep> explain(EvalState &s, const Program &p) {
    std::vector<ExplainStep> steps;
    const LogicNode &root = p.logic[0];
    steps.push_back(ExplainStep{0, root.text, std::string(), Truth::Unknown});
    const Truth t = walk(s, p, root, 0, steps);
    steps[0].result = t;
    if (root.kind == LogicNode::Leaf) steps[0].value = leaf_values(s, p, root, false);
    return steps;
}

}  // namespace personalize::rules::detail
