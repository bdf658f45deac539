// What an Evaluator remembers about one context: the fields bound so far
// (looked up and converted once, whichever rule reads them), the namespace
// objects found, sorted indexes of large lists. Catalogue fields have fixed
// slots (no lookup by name after the first); attribute fields are found by a
// hash computed when the rule was compiled. Nothing here is allocated unless
// a rule reads an attribute or probes a large list twice.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/rules/context_tree.hpp"
#include "core/rules/fields.hpp"
#include "core/rules/money.hpp"
#include "core/rules/types.hpp"
#include "core/rules/value.hpp"

namespace personalize::rules::detail {

enum class BindState : std::uint8_t { Missing, Null, Value };

struct FieldBinding {
    Slot value;
    BindState state;
};

// An attribute field's memo entry, keyed by namespace, the path after
// "NS.attributes." (short names fit std::string's inline buffer: no
// allocation) and the type this rule reads it as.
struct AttributeBinding {
    std::uint64_t hash;
    Type type;
    int ns;
    std::string name;
    FieldBinding binding;
    ListData list;
};

struct SortedIndex {
    std::vector<double> numbers;
    std::vector<std::string_view> texts;
};

// Node indices found by scanning an object once: -1 absent, -3 JSON null.
constexpr std::int64_t kAbsentNode = -1, kNullNode = -3;

struct EvalState {
    EvalState() = default;
    EvalState(const EvalState &) = delete;
    EvalState &operator=(const EvalState &) = delete;
    ~EvalState() {
        for (std::size_t k = 0; k < attribute_count && k < kInlineAttributes; ++k) inline_attribute(k)->~AttributeBinding();
    }

    ContextTree tree;
    std::int64_t caller_now = 0;
    std::int64_t now = 0;
    bool now_resolved = false;
    // The root, scanned once: its namespaces, "now" and "currency".
    bool root_scanned = false;
    std::int64_t namespace_node[3];  // customer, cart, session
    std::int64_t now_node, currency_node;
    // Each namespace object, scanned once: the node of each of its catalogue
    // fields (field_node), its "attributes" and its "currency".
    bool namespace_scanned[3] = {false, false, false};
    std::int64_t attributes_node[3], namespace_currency_node[3];
    std::array<std::int64_t, kMaxCatalogueFields> field_node;  // valid once its namespace is scanned
    Currency last_currency = 0;  // the last code found valid (most contexts use one)
    std::uint64_t bound = 0;  // bit i: catalogue[i] holds the bound value of catalogue field i
    std::array<FieldBinding, kMaxCatalogueFields> catalogue;  // left uninitialised until bound
    std::array<ListData, kMaxCatalogueFields> catalogue_lists;
    // The first attribute bindings live here, constructed only when used
    // (an Evaluator is made per context: no work for rules without attributes).
    static constexpr std::size_t kInlineAttributes = 8;
    alignas(AttributeBinding) unsigned char inline_storage[kInlineAttributes * sizeof(AttributeBinding)];
    std::size_t attribute_count = 0;
    AttributeBinding *inline_attribute(std::size_t k) {
        return reinterpret_cast<AttributeBinding *>(inline_storage + k * sizeof(AttributeBinding));
    }
    std::vector<std::unique_ptr<AttributeBinding>> more_attributes;
    std::vector<std::unique_ptr<SortedIndex>> sorted;
};

}  // namespace personalize::rules::detail
