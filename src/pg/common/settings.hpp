// pg_personalize's configuration parameters (GUCs).
#pragma once

#include "core/common/memory_budget.hpp"

namespace personalize::pg {

// Registers the GUCs; called from _PG_init.
void define_settings();

// A budget for one large structure, limited by personalize.memory_limit
// (default: work_mem x hash_mem_multiplier, PostgreSQL's own limit for one
// hash table).
MemoryBudget memory_budget();

}  // namespace personalize::pg
