// Runtime values of the rule evaluator: one untyped Slot per stack entry (the
// compiler knows every type, so slots carry no type tag), lists either read
// from the context tree in place or taken from the rule's constants.
#pragma once

#include <cstdint>
#include <string_view>

#include "core/rules/context_tree.hpp"
#include "core/rules/money.hpp"

namespace personalize::rules::detail {

struct TextRef {
    const char *ptr;
    std::uint32_t len;
    std::string_view view() const { return std::string_view(ptr, len); }
};

// A list value. Context lists are not copied: their items are the direct
// children of an array node (nulls skipped), checked once when bound. A
// sorted index of distinct items exists for constant lists, and is built for
// a context list the second time contains()/any_in()/all_in() probe it.
struct ListData {
    const ContextNode *nodes;   // context lists: the tree
    std::uint32_t first, end;   // ... the array's children are in [first, end)
    std::uint32_t size;         // items (nulls not counted)
    std::uint32_t probes;       // lookups so far (context lists)
    std::uint32_t sorted_size;  // distinct items in the sorted index
    const double *sorted_numbers;
    const std::string_view *sorted_texts;
    bool from_context;
};

struct Slot {
    union {
        double number;       // Number, Money amount
        std::int64_t time;   // Timestamp
        bool truth;          // Bool
        TextRef text;        // Text
        const ListData *list;
    };
    Currency currency;  // Money
    bool known;         // false: unknown (missing, null, or a computation without a value)
};

}  // namespace personalize::rules::detail
