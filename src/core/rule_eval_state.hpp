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

#include "core/context_tree.hpp"
#include "core/rule_fields.hpp"
#include "core/rule_types.hpp"
#include "core/rule_value.hpp"

namespace personalize::rules::detail {

enum class BindState : std::uint8_t { Missing, Null, Value };

struct FieldBinding {
    Slot value;
    BindState state;
};

struct AttributeBinding {
    std::uint64_t hash;
    Type type;
    std::string path;
    FieldBinding binding;
    ListData list;
};

struct SortedIndex {
    std::vector<double> numbers;
    std::vector<std::string_view> texts;
};

struct EvalState {
    ContextTree tree;
    std::int64_t caller_now = 0;
    std::int64_t now = 0;
    bool now_resolved = false;
    bool root_checked = false;
    // Node of the customer / cart / session object: -2 not looked up yet, -1 absent or null.
    std::int64_t namespace_node[3] = {-2, -2, -2};
    std::uint64_t bound = 0;  // bit i: catalogue[i] holds the bound value of catalogue field i
    std::array<FieldBinding, kMaxCatalogueFields> catalogue;  // left uninitialised until bound
    std::array<ListData, kMaxCatalogueFields> catalogue_lists;
    std::vector<std::unique_ptr<AttributeBinding>> attributes;
    std::vector<std::unique_ptr<SortedIndex>> sorted;
};

}  // namespace personalize::rules::detail
