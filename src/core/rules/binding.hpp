// Binding a rule's fields to one context: find the JSON value by its path
// (customer.orders -> root["customer"]["orders"]), check it has the field's
// type, convert it (money currencies, ISO timestamps, lists in place) and
// remember the result for every later rule of the same Evaluator. Wrong
// types are InvalidParameter errors starting "context: "; a malformed tree
// is DataCorrupted.
#pragma once

#include <cstdint>

#include "core/rules/eval_state.hpp"
#include "core/rules/program.hpp"

namespace personalize::rules::detail {

// The bound value of an attribute field or a catalogue field not bound yet.
const FieldBinding &bind_slow(EvalState &s, const FieldRef &field);

inline const FieldBinding &bind(EvalState &s, const FieldRef &field) {
    if (field.catalogue >= 0 && static_cast<std::size_t>(field.catalogue) < kMaxCatalogueFields &&
        (s.bound >> field.catalogue & 1))
        return s.catalogue[static_cast<std::size_t>(field.catalogue)];
    return bind_slow(s, field);
}

// The evaluation time: the context's "now" if present (and not null), else the caller's.
std::int64_t resolve_now(EvalState &s);

}  // namespace personalize::rules::detail
