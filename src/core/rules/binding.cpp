#include "core/rules/binding.hpp"

#include <array>
#include <cmath>
#include <cstring>
#include <new>
#include <string>

#include "core/common/error.hpp"
#include "core/rules/fields.hpp"
#include "core/rules/format.hpp"
#include "core/rules/time.hpp"

namespace personalize::rules::detail {

namespace {

[[noreturn]] void corrupted(const std::string &what) {
    throw Error(ErrorCode::DataCorrupted, "context tree is malformed: " + what);
}
[[noreturn]] void context_error(const std::string &message) {
    throw Error(ErrorCode::InvalidParameter, "context: " + message);
}
std::string quoted(std::string_view path) { return "\"" + std::string(path) + "\""; }

// Says what is wrong with node i (a child of a container ending at `limit`).
[[noreturn]] __attribute__((noinline, cold)) void bad_node(const EvalState &s, std::uint64_t i, std::uint64_t limit) {
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
    corrupted("node " + std::to_string(i) + " has a key length but no key");
}

// Checks node i as a child of a container ending at `limit`; returns its end.
inline std::uint32_t checked_end(const EvalState &s, std::uint64_t i, std::uint64_t limit) {
    if (__builtin_expect(i >= s.tree.size, 0)) bad_node(s, i, limit);
    const ContextNode &n = s.tree.nodes[i];
    const bool container = n.kind == ContextNode::Array || n.kind == ContextNode::Object;
    const bool bad = n.kind > ContextNode::Object || n.end <= i || n.end > limit || (!container && n.end != i + 1) ||
                     (n.kind == ContextNode::String && n.str == nullptr && n.str_len != 0) ||
                     (n.key == nullptr && n.key_len != 0);
    if (__builtin_expect(bad, 0)) bad_node(s, i, limit);
    return n.end;
}

// Keys are short: comparing words in place beats calling memcmp.
inline bool same_bytes(const char *a, const char *b, std::size_t n) {
    const auto load64 = [](const char *p) { std::uint64_t v; std::memcpy(&v, p, 8); return v; };
    const auto load32 = [](const char *p) { std::uint32_t v; std::memcpy(&v, p, 4); return v; };
    if (n >= 8) {
        for (std::size_t i = 0; i + 8 < n; i += 8)
            if (load64(a + i) != load64(b + i)) return false;
        return load64(a + n - 8) == load64(b + n - 8);
    }
    if (n >= 4) return load32(a) == load32(b) && load32(a + n - 4) == load32(b + n - 4);
    for (std::size_t i = 0; i < n; ++i)
        if (a[i] != b[i]) return false;
    return true;
}
inline bool key_is(const ContextNode &m, std::string_view key) {
    return m.key_len == key.size() && same_bytes(m.key, key.data(), key.size());
}

// Which member names matter in an object: an open-addressing table from a
// key to what it is (a catalogue field, "attributes", "currency", a
// namespace), so scanning an object costs one probe per member.
class KeyTable {
public:
    struct Entry {
        std::string_view key;
        int field = -1;  // catalogue index
        int role = -1;   // kRole*
    };
    void add(std::string_view key, int field, int role) {
        std::uint32_t h = hash(key.data(), static_cast<std::uint32_t>(key.size()));
        while (!slots_[h].key.empty()) {
            if (slots_[h].key == key) {
                if (field >= 0) slots_[h].field = field;
                if (role >= 0) slots_[h].role = role;
                return;
            }
            h = (h + 1) & (kSlots - 1);
        }
        slots_[h] = Entry{key, field, role};
    }
    const Entry *find(const ContextNode &m) const {
        if (m.key_len == 0 || m.key_len > kLongestKey) return nullptr;
        for (std::uint32_t h = hash(m.key, m.key_len); !slots_[h].key.empty(); h = (h + 1) & (kSlots - 1))
            if (slots_[h].key.size() == m.key_len && same_bytes(slots_[h].key.data(), m.key, m.key_len)) return &slots_[h];
        return nullptr;
    }

private:
    static constexpr std::uint32_t kSlots = 128, kLongestKey = 64;
    static std::uint32_t hash(const char *k, std::uint32_t len) {
        const auto b = [&](std::uint32_t i) { return static_cast<std::uint32_t>(static_cast<unsigned char>(k[i])); };
        return (len * 131u + b(0) * 31u + b(len / 2) * 7u + b(len - 1)) & (kSlots - 1);
    }
    std::array<Entry, kSlots> slots_{};
};

constexpr int kRoleAttributes = 0, kRoleCurrency = 1, kRoleNow = 2, kRoleCustomer = 3;  // + ns for namespaces
constexpr std::string_view kNamespaceNames[] = {"customer", "cart", "session"};

// tables[0..2]: the namespace objects; tables[3]: the root.
const std::array<KeyTable, 4> &key_tables() {
    static const std::array<KeyTable, 4> tables = [] {
        std::array<KeyTable, 4> t;
        const auto &fields = catalogue();
        for (std::size_t c = 0; c < fields.size(); ++c) {
            const std::string_view path = fields[c].path;
            for (int ns = 0; ns < 3; ++ns) {
                const std::string prefix = std::string(kNamespaceNames[ns]) + ".";
                if (path.substr(0, prefix.size()) == prefix)
                    t[static_cast<std::size_t>(ns)].add(path.substr(prefix.size()), static_cast<int>(c), -1);
            }
        }
        for (int ns = 0; ns < 3; ++ns) {
            t[static_cast<std::size_t>(ns)].add("attributes", -1, kRoleAttributes);
            t[static_cast<std::size_t>(ns)].add("currency", -1, kRoleCurrency);
            t[3].add(kNamespaceNames[ns], -1, kRoleCustomer + ns);
        }
        t[3].add("now", -1, kRoleNow);
        t[3].add("currency", -1, kRoleCurrency);
        return t;
    }();
    return tables;
}

// Catalogue indices of each namespace's fields (to mark them absent before a scan).
const std::array<std::vector<int>, 3> &namespace_fields() {
    static const std::array<std::vector<int>, 3> fields = [] {
        std::array<std::vector<int>, 3> out;
        const auto &cat = catalogue();
        for (std::size_t c = 0; c < cat.size(); ++c)
            for (int ns = 0; ns < 3; ++ns)
                if (std::string_view(cat[c].path).substr(0, kNamespaceNames[ns].size() + 1) ==
                    std::string(kNamespaceNames[ns]) + ".")
                    out[static_cast<std::size_t>(ns)].push_back(static_cast<int>(c));
        return out;
    }();
    return fields;
}

// The root, once: where the namespaces, "now" and "currency" are.
void scan_root(EvalState &s) {
    if (s.root_scanned) return;
    if (s.tree.nodes == nullptr || s.tree.size == 0) corrupted("the tree has no nodes");
    if (s.tree.size > 0xFFFFFFFFu) corrupted("the tree has more than 2^32 - 1 nodes");
    checked_end(s, 0, s.tree.size);
    const ContextNode &root = s.tree.nodes[0];
    if (root.kind != ContextNode::Object) context_error("the context must be a JSON object, got " + describe_json(root));
    for (std::int64_t &n : s.namespace_node) n = kAbsentNode;
    s.now_node = s.currency_node = kAbsentNode;
    const KeyTable &table = key_tables()[3];
    for (std::uint64_t i = 1; i < root.end;) {
        const std::uint32_t e = checked_end(s, i, root.end);
        const ContextNode &m = s.tree.nodes[i];
        if (const KeyTable::Entry *k = table.find(m)) {
            std::int64_t *slot = k->role == kRoleNow        ? &s.now_node
                                 : k->role == kRoleCurrency ? &s.currency_node
                                                            : &s.namespace_node[k->role - kRoleCustomer];
            if (*slot == kAbsentNode) *slot = m.kind == ContextNode::Null ? kNullNode : static_cast<std::int64_t>(i);
        }
        i = e;
    }
    s.root_scanned = true;
}

// A namespace object, once: the node of each of its catalogue fields, its
// "attributes" and "currency".
void scan_namespace(EvalState &s, int ns) {
    scan_root(s);
    if (s.namespace_scanned[ns]) return;
    for (const int c : namespace_fields()[static_cast<std::size_t>(ns)]) s.field_node[static_cast<std::size_t>(c)] = kAbsentNode;
    s.attributes_node[ns] = s.namespace_currency_node[ns] = kAbsentNode;
    const std::int64_t obj = s.namespace_node[ns];
    if (obj >= 0) {
        const ContextNode &o = s.tree.nodes[obj];
        if (o.kind != ContextNode::Object)
            context_error(quoted(kNamespaceNames[ns]) + " must be an object, got " + describe_json(o));
        const KeyTable &table = key_tables()[static_cast<std::size_t>(ns)];
        for (std::uint64_t i = static_cast<std::uint64_t>(obj) + 1; i < o.end;) {
            const std::uint32_t e = checked_end(s, i, o.end);
            const ContextNode &m = s.tree.nodes[i];
            if (const KeyTable::Entry *k = table.find(m)) {
                const std::int64_t value = m.kind == ContextNode::Null ? kNullNode : static_cast<std::int64_t>(i);
                if (k->field >= 0 && s.field_node[static_cast<std::size_t>(k->field)] == kAbsentNode)
                    s.field_node[static_cast<std::size_t>(k->field)] = value;
                if (k->role == kRoleAttributes && s.attributes_node[ns] == kAbsentNode) s.attributes_node[ns] = value;
                if (k->role == kRoleCurrency && s.namespace_currency_node[ns] == kAbsentNode)
                    s.namespace_currency_node[ns] = value;
            }
            i = e;
        }
    }
    s.namespace_scanned[ns] = true;
}

// The member `key` of object node `obj` (already checked), or -1.
std::int64_t member(const EvalState &s, std::uint32_t obj, std::string_view key) {
    const std::uint32_t end = s.tree.nodes[obj].end;
    for (std::uint64_t i = obj + 1ULL; i < end;) {
        const std::uint32_t e = checked_end(s, i, end);
        if (key_is(s.tree.nodes[i], key)) return static_cast<std::int64_t>(i);
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

// Node `n` (a found member, kNullNode or kAbsentNode) that must be an object
// to go on; it is the first `segments` of f's path.
std::int64_t as_object(const EvalState &s, std::int64_t n, const FieldRef &f, std::size_t segments) {
    if (n < 0) return n;
    const ContextNode &node = s.tree.nodes[n];
    if (node.kind == ContextNode::Null) return kNullNode;
    if (node.kind != ContextNode::Object)
        context_error(quoted(prefix(f, segments)) + " must be an object, got " + describe_json(node));
    return n;
}

struct Found {
    BindState state;
    std::uint32_t node;
    // Attributes: the objects from NS.attributes down to the value's parent
    // (for an amount's currency); objects deeper than kMaxContextDepth are not searched.
    std::uint32_t chain[kMaxContextDepth];
    std::size_t chain_size;
};

BindState state_of(std::int64_t n) { return n == kNullNode ? BindState::Null : BindState::Missing; }

Found find(EvalState &s, const FieldRef &f) {
    Found out;
    out.state = BindState::Missing;
    out.node = 0;
    out.chain_size = 0;
    if (f.ns < 0 || f.ns > 2) throw Error(ErrorCode::Internal, "rule evaluator: field " + f.path + " has no namespace");
    scan_namespace(s, f.ns);
    if (s.namespace_node[f.ns] < 0) {
        out.state = state_of(s.namespace_node[f.ns]);
        return out;
    }
    std::int64_t n;
    if (f.catalogue >= 0) {
        n = s.field_node[static_cast<std::size_t>(f.catalogue)];
    } else {
        n = as_object(s, s.attributes_node[f.ns], f, 2);
        for (std::size_t i = 2; n >= 0 && i < f.segments.size(); ++i) {
            if (out.chain_size < kMaxContextDepth) out.chain[out.chain_size++] = static_cast<std::uint32_t>(n);
            n = member(s, static_cast<std::uint32_t>(n), f.segments[i]);
            if (n >= 0 && s.tree.nodes[n].kind == ContextNode::Null) n = kNullNode;
            if (i + 1 < f.segments.size()) n = as_object(s, n, f, i + 1);
        }
    }
    if (n < 0) {
        out.state = state_of(n);
        return out;
    }
    out.state = BindState::Value;
    out.node = static_cast<std::uint32_t>(n);
    return out;
}

std::string_view text_of(const ContextNode &n) {
    return n.str_len == 0 ? std::string_view() : std::string_view(n.str, n.str_len);
}

// A currency code node; its path is `path` + `suffix` (built only for the message).
Currency currency_code(EvalState &s, const ContextNode &n, std::string_view path, const char *suffix) {
    if (n.kind == ContextNode::String) {
        const Currency c = letters_code(text_of(n));
        if (c != 0 && (c == s.last_currency || is_iso_currency(c))) {
            s.last_currency = c;
            return c;
        }
    }
    context_error(quoted(std::string(path) + suffix) + " must be an ISO 4217 currency code such as \"GBP\", got " +
                  describe_json(n));
}

// The currency of an amount written as a plain number: the "currency" of the
// nearest enclosing object that has one (for attributes, the objects inside
// NS.attributes first), then the namespace's, then the top level's.
Currency enclosing_currency(EvalState &s, const FieldRef &f, const Found &found) {
    for (std::size_t k = found.chain_size; k-- > 0;) {
        const std::int64_t m = member(s, found.chain[k], "currency");
        if (m < 0 || s.tree.nodes[m].kind == ContextNode::Null) continue;
        return currency_code(s, s.tree.nodes[m], prefix(f, k + 2), ".currency");
    }
    if (s.namespace_currency_node[f.ns] >= 0)
        return currency_code(s, s.tree.nodes[s.namespace_currency_node[f.ns]], kNamespaceNames[f.ns], ".currency");
    if (s.currency_node >= 0) return currency_code(s, s.tree.nodes[s.currency_node], "currency", "");
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

void bind_money(EvalState &s, const FieldRef &f, const Found &found, FieldBinding &b) {
    const std::uint32_t index = found.node;
    const ContextNode &n = s.tree.nodes[index];
    if (n.kind == ContextNode::Number) {
        if (!std::isfinite(n.number)) context_error(quoted(f.path) + " must be a finite amount, got " + describe_json(n));
        b.value.number = n.number;
        b.value.currency = enclosing_currency(s, f, found);
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
        b.value.currency = currency_code(s, s.tree.nodes[c], f.path, ".currency");
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

void convert(EvalState &s, const FieldRef &f, const Found &found, FieldBinding &b, ListData &list) {
    const std::uint32_t index = found.node;
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
        case Type::Money: return bind_money(s, f, found, b);
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
    convert(s, f, found, b, list);
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
    for (std::size_t k = 0; k < s.attribute_count; ++k) {
        AttributeBinding &a = k < EvalState::kInlineAttributes ? *s.inline_attribute(k)
                                                               : *s.more_attributes[k - EvalState::kInlineAttributes];
        if (a.hash == f.hash && a.type == f.type && a.ns == f.ns && a.name == f.attribute) return a.binding;
    }
    AttributeBinding fresh;
    bind_into(s, f, fresh.binding, fresh.list);  // throws before anything is kept
    fresh.hash = f.hash;
    fresh.type = f.type;
    fresh.ns = f.ns;
    fresh.name = f.attribute;
    AttributeBinding *a;
    if (s.attribute_count < EvalState::kInlineAttributes) {
        a = new (s.inline_attribute(s.attribute_count)) AttributeBinding(std::move(fresh));
    } else {
        s.more_attributes.push_back(std::make_unique<AttributeBinding>(std::move(fresh)));
        a = s.more_attributes.back().get();
    }
    ++s.attribute_count;
    // A list's slot points at the entry's own ListData, not at `fresh`'s.
    if (a->binding.state == BindState::Value && is_list(f.type)) a->binding.value.list = &a->list;
    return a->binding;
}

std::int64_t resolve_now(EvalState &s) {
    if (s.now_resolved) return s.now;
    scan_root(s);
    s.now = s.caller_now;
    if (s.now_node >= 0) {
        const ContextNode &n = s.tree.nodes[s.now_node];
        if (n.kind != ContextNode::String)
            context_error("\"now\" must be a timestamp (an ISO 8601 string such as \"2026-01-01T10:00:00Z\"), got " +
                          describe_json(n));
        std::string why;
        if (!parse_timestamp(text_of(n), s.now, why))
            context_error("\"now\" is not a valid timestamp (" + why + "): " + describe_json(n));
    }
    s.now_resolved = true;
    return s.now;
}

}  // namespace personalize::rules::detail
