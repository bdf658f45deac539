#include "core/rules/explain.hpp"

#include "core/rules/binding.hpp"
#include "core/rules/format.hpp"
#include "core/rules/lists.hpp"
#include "core/rules/text.hpp"
#include "core/rules/time.hpp"
#include "core/rules/vm.hpp"

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

// How one operand looked, appended to `out`: "cart.total = 42.50 GBP" (full,
// for explain) or "42.50 GBP" (brief, for a reason whose condition has this
// one operand); when unknown, "customer.p_alive is missing" / "missing".
void append_shown(EvalState &s, const Program &p, const Operand &o, bool brief, std::string &out) {
    const Slot v = run(s, p, o.code_begin, o.code_end);
    if (v.known && (o.type == Type::Any || o.type == Type::Unknown)) {
        if (!brief) out += o.text + " is ";
        out += "present";
        return;
    }
    if (v.known) {
        if (!brief) out.append(o.text).append(" = ");
        out += format_value(v, o.type);
        return;
    }
    const std::size_t begin = out.size();
    const char *last = nullptr;
    int missing = 0;
    for (const std::uint32_t f : o.fields) {
        const FieldRef &field = p.fields[f];
        if (field.path == "now") continue;
        const FieldBinding &b = bind(s, field);
        if (b.state == BindState::Value) continue;
        last = b.state == BindState::Missing ? "missing" : "null";
        if (brief && o.single_field) continue;  // only the last word is shown
        if (missing++ > 0) out += ", ";
        out.append(field.path).append(" is ").append(last);
    }
    if (last == nullptr) {
        out.resize(begin);
        if (!brief) out.append(o.text).append(" is ");
        out += "unknown";
    } else if (brief && o.single_field) {
        out += last;
    }
}

void append_leaf_values(EvalState &s, const Program &p, const LogicNode &leaf, bool brief, std::string &out) {
    if (brief && leaf.bare_field) return;
    bool first = true;
    for (const Operand &o : leaf.operands) {
        if (!first) out += ", ";
        first = false;
        append_shown(s, p, o, brief && leaf.operands.size() == 1, out);
    }
}

std::string leaf_values(EvalState &s, const Program &p, const LogicNode &leaf, bool brief) {
    std::string out;
    append_leaf_values(s, p, leaf, brief, out);
    return out;
}

void append_leaf_reason(EvalState &s, const Program &p, const LogicNode &leaf, bool negated, std::string &out) {
    if (negated) out += "not ";
    out += leaf.text;
    if (leaf.bare_field || leaf.operands.empty()) return;
    out += " (";
    append_leaf_values(s, p, leaf, true, out);
    out += ')';
}

Truth truth(EvalState &s, const Program &p, const LogicNode &n) { return truth_of(run(s, p, n.code_begin, n.code_end)); }

void append_false_reason(EvalState &s, const Program &p, const LogicNode &n, std::string &out);

// Why node n (which is true) is true.
void append_true_reason(EvalState &s, const Program &p, const LogicNode &n, std::string &out) {
    switch (n.kind) {
        case LogicNode::Leaf: append_leaf_reason(s, p, n, false, out); return;
        case LogicNode::Not: append_false_reason(s, p, p.logic[n.children[0]], out); return;
        case LogicNode::Or:
            for (const std::uint32_t c : n.children)
                if (truth(s, p, p.logic[c]) == Truth::True) {
                    append_true_reason(s, p, p.logic[c], out);
                    return;
                }
            return;
        case LogicNode::And: {
            bool first = true;
            for (const std::uint32_t c : n.children) {
                if (!first) out += " and ";
                first = false;
                append_true_reason(s, p, p.logic[c], out);
            }
            return;
        }
    }
}

// Why node n (which is false) is false, as conditions that hold: "not x (...)".
void append_false_reason(EvalState &s, const Program &p, const LogicNode &n, std::string &out) {
    switch (n.kind) {
        case LogicNode::Leaf: append_leaf_reason(s, p, n, true, out); return;
        case LogicNode::Not: append_true_reason(s, p, p.logic[n.children[0]], out); return;
        case LogicNode::And:
            for (const std::uint32_t c : n.children)
                if (truth(s, p, p.logic[c]) == Truth::False) {
                    append_false_reason(s, p, p.logic[c], out);
                    return;
                }
            return;
        case LogicNode::Or: {
            bool first = true;
            for (const std::uint32_t c : n.children) {
                if (!first) out += " and ";
                first = false;
                append_false_reason(s, p, p.logic[c], out);
            }
            return;
        }
    }
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
    std::string out;
    append_true_reason(s, p, p.logic[0], out);
    return out;
}

void append_reason_of_true(EvalState &s, const Program &p, std::string &out) { append_true_reason(s, p, p.logic[0], out); }

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
