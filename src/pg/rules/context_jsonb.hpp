// jsonb contexts handed to the rule evaluator as a plain tree of nodes
// (core/rules/context_tree.hpp): built by walking the jsonb once, before any C++
// object exists, so no PostgreSQL error can cross C++ frames.
#pragma once

#include "core/rules/context_tree.hpp"
#include "pg/common/postgres.hpp"

extern "C" {
#include "utils/jsonb.h"
}

namespace personalize::pg {

// The nodes (palloc'd in the current memory context) of `value`; strings
// point into `value`, which must stay valid while the tree is used.
// PostgreSQL code: call outside cpp(...).
ContextTree jsonb_context_tree(Jsonb *value);

// True when `value` is a JSON object (not an array or a scalar).
bool jsonb_is_object(Jsonb *value);

}  // namespace personalize::pg
