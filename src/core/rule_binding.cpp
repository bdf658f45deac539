#include "core/rule_binding.hpp"

#include <cmath>
#include <cstring>
#include <string>

#include "core/error.hpp"
#include "core/rule_format.hpp"
#include "core/rule_time.hpp"

namespace personalize::rules::detail {

namespace {

[[noreturn]] void corrupted(const std::string &what) {
    throw Error(ErrorCode::DataCorrupted, "context tree is malformed: " + what);
}
[[noreturn]] void context_error(const std::string &message) {
    throw Error(ErrorCode::InvalidParameter, "context: " + message);
}
std::string quoted(std::string_view path) { return "\"" + std::string(path) + "\""; }

// Checks node i as a child of a container ending at `limit`; returns its end.
std::uint32_t checked_end(const EvalState &s, std::uint64_t i, std::uint64_t limit) {
    if (i >= s.tree.size) corrupted("node " + std::to_string(i) + " is past the end of the tree");
    const ContextNode &n = s.tree.nodes[i];
    if (n.kind > ContextNode::Object) corrupted("node " + std::to_string(i) + " has an unknown kind");
    if (n.end <= i || n.end > limit)
        corrupted("node " + std::to_string(i) + " ends at " + std::to_string(n.end) + ", outside its parent (which ends at " +
                  std::to_string(limit) + ")");
    if (n.kind != ContextNode::Array && n.kind != ContextNode::Object && n.end != i + 1)
        corrupted("leaf node " + std::to_string(i) + " ends at " + std::to_string(n.end));
    if (n.kind == ContextNode::String && n.str == nullptr && n.str_len != 0)
        corrupted("string node " + std::to_string(i) + " has no text");
    if (n.key == nullptr && n.key_len != 0) corrupted("node " + std::to_string(i) + " has a key length but no key");
    return n.end;
}

void check_root(EvalState &s) {
    if (s.root_checked) return;
    if (s.tree.nodes == nullptr || s.tree.size == 0) corrupted("the tree has no nodes");
    if (s.tree.size > 0xFFFFFFFFu) corrupted("the tree has more than 2^32 - 1 nodes");
    checked_end(s, 0, s.tree.size);
    if (s.tree.nodes[0].kind != ContextNode::Object)
        context_error("the context must be a JSON object, got " + describe_json(s.tree.nodes[0]));
    s.root_checked = true;
}

// The member `key` of object node `obj` (already checked), or -1.
std::int64_t member(const EvalState &s, std::uint32_t obj, std::string_view key) {
    const std::uint32_t end = s.tree.nodes[obj].end;
    for (std::uint64_t i = obj + 1ULL; i < end;) {
        const std::uint32_t e = checked_end(s, i, end);
        const ContextNode &m = s.tree.nodes[i];
        if (m.key_len == key.size() && (key.empty() || std::memcmp(m.key, key.data(), key.size()) == 0)) return static_cast<std::int64_t>(i);
        i = e;
    }
    return -1;
}

std::string prefix(const FieldRef &f, std::size_t segments) {
    std::string out;
    for (std::size_t i = 0; i < segments; ++i) {
        if (i) out += '.';
        out += f.segments[i];
    }
    return out;
}

constexpr std::int64_t kNotLookedUp = -2, kMissing = -1, kNull = -3;

// Member `key` of `obj` that must be an object to go on: its index, kMissing or kNull.
std::int64_t object_member(EvalState &s, std::uint32_t obj, std::string_view key, const std::string &path) {
    const std::int64_t m = member(s, obj, key);
    if (m < 0) return kMissing;
    const ContextNode &n = s.tree.nodes[m];
    if (n.kind == ContextNode::Null) return kNull;
    if (n.kind != ContextNode::Object) context_error(quoted(path) + " must be an object, got " + describe_json(n));
    return m;
}

struct Found {
    BindState state;
    std::uint32_t node;
};

Found find(EvalState &s, const FieldRef &f) {
    check_root(s);
    std::uint32_t obj = 0;
    std::size_t i = 0;
    if (f.ns >= 0) {
        std::int64_t &cached = s.namespace_node[f.ns];
        if (cached == kNotLookedUp) cached = object_member(s, 0, f.segments[0], f.segments[0]);
        if (cached == kMissing) return {BindState::Missing, 0};
        if (cached == kNull) return {BindState::Null, 0};
        obj = static_cast<std::uint32_t>(cached);
        i = 1;
    }
    for (; i + 1 < f.segments.size(); ++i) {
        const std::int64_t next = object_member(s, obj, f.segments[i], prefix(f, i + 1));
        if (next == kMissing) return {BindState::Missing, 0};
        if (next == kNull) return {BindState::Null, 0};
        obj = static_cast<std::uint32_t>(next);
    }
    const std::int64_t m = member(s, obj, f.segments.back());
    if (m < 0) return {BindState::Missing, 0};
    if (s.tree.nodes[m].kind == ContextNode::Null) return {BindState::Null, 0};
    return {BindState::Value, static_cast<std::uint32_t>(m)};
}

std::string_view text_of(const ContextNode &n) {
    return n.str_len == 0 ? std::string_view() : std::string_view(n.str, n.str_len);
}

Currency currency_code(const ContextNode &n, const std::string &path) {
    if (n.kind == ContextNode::String) {
        const Currency c = letters_code(text_of(n));
        if (c != 0 && is_iso_currency(c)) return c;
    }
    context_error(quoted(path) + " must be an ISO 4217 currency code such as \"GBP\", got " + describe_json(n));
}

// The currency of an amount written as a plain number: the "currency" of the
// nearest enclosing object that has one, up to the top level.
Currency enclosing_currency(EvalState &s, const FieldRef &f) {
    // The objects along the path: root, then each prefix that is an object.
    std::uint32_t chain[64];
    std::size_t depth = 0;
    chain[depth++] = 0;
    std::uint32_t obj = 0;
    for (std::size_t i = 0; i + 1 < f.segments.size() && depth < 64; ++i) {
        const std::int64_t next = object_member(s, obj, f.segments[i], prefix(f, i + 1));
        if (next < 0) break;
        obj = static_cast<std::uint32_t>(next);
        chain[depth++] = obj;
    }
    for (std::size_t k = depth; k-- > 0;) {
        const std::int64_t m = member(s, chain[k], "currency");
        if (m < 0 || s.tree.nodes[m].kind == ContextNode::Null) continue;
        return currency_code(s.tree.nodes[m], k == 0 ? std::string("currency") : prefix(f, k) + ".currency");
    }
    const std::string parent = f.segments.size() > 1 ? prefix(f, f.segments.size() - 1) : std::string();
    context_error(quoted(f.path) + " is a number without a currency; add \"currency\": \"GBP\" to " +
                  (parent.empty() ? std::string() : quoted(parent) + " or to ") +
                  "the top level of the context, or write the amount as \"42.50 GBP\"");
}

[[noreturn]] void not_money(const FieldRef &f, const ContextNode &n) {
    context_error(quoted(f.path) + " must be money (a number with a currency, \"12.50 GBP\" or {\"amount\": ..., "
                                   "\"currency\": ...}), got " +
                  describe_json(n));
}

void bind_money(EvalState &s, const FieldRef &f, std::uint32_t index, FieldBinding &b) {
    const ContextNode &n = s.tree.nodes[index];
    if (n.kind == ContextNode::Number) {
        if (!std::isfinite(n.number)) context_error(quoted(f.path) + " must be a finite amount, got " + describe_json(n));
        b.value.number = n.number;
        b.value.currency = enclosing_currency(s, f);
        return;
    }
    if (n.kind == ContextNode::String) {
        std::string bad;
        double amount = 0;
        Currency c = 0;
        if (parse_money_text(text_of(n), amount, c, bad)) {
            b.value.number = amount;
            b.value.currency = c;
            return;
        }
        if (!bad.empty())
            context_error(quoted(f.path) + " has an unknown currency \"" + bad + "\" (not ISO 4217): " + describe_json(n));
        not_money(f, n);
    }
    if (n.kind == ContextNode::Object) {
        const std::int64_t a = member(s, index, "amount"), c = member(s, index, "currency");
        if (a < 0 || c < 0) not_money(f, n);
        const ContextNode &amount = s.tree.nodes[a];
        if (amount.kind == ContextNode::Null) {
            b.state = BindState::Null;
            b.value.known = false;
            return;
        }
        if (amount.kind != ContextNode::Number || !std::isfinite(amount.number))
            context_error(quoted(f.path + ".amount") + " must be a finite number, got " + describe_json(amount));
        b.value.number = amount.number;
        b.value.currency = currency_code(s.tree.nodes[c], f.path + ".currency");
        return;
    }
    not_money(f, n);
}

void bind_list(EvalState &s, const FieldRef &f, std::uint32_t index, FieldBinding &b, ListData &list) {
    const ContextNode &n = s.tree.nodes[index];
    const char *what = f.type == Type::NumberList ? "a list of numbers" : f.type == Type::TextList ? "a list of text" : "a list";
    if (n.kind != ContextNode::Array)
        context_error(quoted(f.path) + " must be " + what + " (a JSON array), got " + describe_json(n));
    list = ListData{};
    list.nodes = s.tree.nodes;
    list.first = index + 1;
    list.end = n.end;
    list.from_context = true;
    std::uint32_t items = 0, position = 0;
    for (std::uint64_t i = index + 1ULL; i < n.end;) {
        const std::uint32_t e = checked_end(s, i, n.end);
        const ContextNode &item = s.tree.nodes[i];
        ++position;
        if (item.kind != ContextNode::Null) {
            const bool ok = f.type == Type::AnyList ||
                            (f.type == Type::NumberList && item.kind == ContextNode::Number && std::isfinite(item.number)) ||
                            (f.type == Type::TextList && item.kind == ContextNode::String);
            if (!ok)
                context_error(quoted(f.path) + " must be " + what + ", but item " + std::to_string(position) + " is " +
                              describe_json(item));
            ++items;
        }
        i = e;
    }
    list.size = items;
    b.value.list = &list;
}

void convert(EvalState &s, const FieldRef &f, std::uint32_t index, FieldBinding &b, ListData &list) {
    const ContextNode &n = s.tree.nodes[index];
    b.value.known = true;
    b.value.currency = 0;
    switch (f.type) {
        case Type::Any: return;
        case Type::Bool:
            if (n.kind != ContextNode::True && n.kind != ContextNode::False)
                context_error(quoted(f.path) + " must be true or false, got " + describe_json(n));
            b.value.truth = n.kind == ContextNode::True;
            return;
        case Type::Number:
            if (n.kind != ContextNode::Number) context_error(quoted(f.path) + " must be a number, got " + describe_json(n));
            if (!std::isfinite(n.number))
                context_error(quoted(f.path) + " must be a finite number, got " + describe_json(n));
            b.value.number = n.number;
            return;
        case Type::Text:
            if (n.kind != ContextNode::String)
                context_error(quoted(f.path) + " must be text (a JSON string), got " + describe_json(n));
            b.value.text = TextRef{n.str_len == 0 ? "" : n.str, n.str_len};
            return;
        case Type::Timestamp: {
            if (n.kind != ContextNode::String)
                context_error(quoted(f.path) + " must be a timestamp (an ISO 8601 string such as \"2026-01-01T10:00:00Z\"), got " +
                              describe_json(n));
            std::string why;
            if (!parse_timestamp(text_of(n), b.value.time, why))
                context_error(quoted(f.path) + " is not a valid timestamp (" + why + "): " + describe_json(n));
            return;
        }
        case Type::Money: return bind_money(s, f, index, b);
        case Type::NumberList:
        case Type::TextList:
        case Type::AnyList: return bind_list(s, f, index, b, list);
        default: throw Error(ErrorCode::Internal, "rule evaluator: field " + f.path + " has no type");
    }
}

void bind_into(EvalState &s, const FieldRef &f, FieldBinding &b, ListData &list) {
    const Found found = find(s, f);
    b.state = found.state;
    b.value = Slot{};
    b.value.known = false;
    if (found.state != BindState::Value) return;
    b.state = BindState::Value;
    convert(s, f, found.node, b, list);
}

}  // namespace

const FieldBinding &bind_slow(EvalState &s, const FieldRef &f) {
    if (f.catalogue >= 0) {
        if (static_cast<std::size_t>(f.catalogue) >= kMaxCatalogueFields)
            throw Error(ErrorCode::Internal, "rule evaluator: catalogue index out of range");
        const auto c = static_cast<std::size_t>(f.catalogue);
        if (s.bound >> c & 1) return s.catalogue[c];
        bind_into(s, f, s.catalogue[c], s.catalogue_lists[c]);
        s.bound |= std::uint64_t{1} << c;
        return s.catalogue[c];
    }
    for (const auto &a : s.attributes)
        if (a->hash == f.hash && a->type == f.type && a->path == f.path) return a->binding;
    auto a = std::make_unique<AttributeBinding>();
    a->hash = f.hash;
    a->type = f.type;
    a->path = f.path;
    bind_into(s, f, a->binding, a->list);
    s.attributes.push_back(std::move(a));
    return s.attributes.back()->binding;
}

std::int64_t resolve_now(EvalState &s) {
    if (s.now_resolved) return s.now;
    check_root(s);
    s.now = s.caller_now;
    const std::int64_t m = member(s, 0, "now");
    if (m >= 0) {
        const ContextNode &n = s.tree.nodes[m];
        if (n.kind == ContextNode::String) {
            std::string why;
            if (!parse_timestamp(text_of(n), s.now, why))
                context_error("\"now\" is not a valid timestamp (" + why + "): " + describe_json(n));
        } else if (n.kind != ContextNode::Null) {
            context_error("\"now\" must be a timestamp (an ISO 8601 string such as \"2026-01-01T10:00:00Z\"), got " +
                          describe_json(n));
        }
    }
    s.now_resolved = true;
    return s.now;
}

}  // namespace personalize::rules::detail
