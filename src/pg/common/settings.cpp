#include "pg/common/settings.hpp"

#include "pg/common/postgres.hpp"

extern "C" {
#include "utils/guc.h"
}

namespace personalize::pg {

namespace {
int memory_limit_kb = -1;
}

void define_settings() {
    DefineCustomIntVariable(
        "personalize.memory_limit",
        "Largest in-memory structure pg_personalize may build for one call (basket collections, FP-trees).",
        "-1 (the default) uses work_mem x hash_mem_multiplier. A call that would need more fails with an "
        "out-of-memory error instead of exhausting the server's memory.",
        &memory_limit_kb, -1, -1, MAX_KILOBYTES, PGC_USERSET, GUC_UNIT_KB, nullptr, nullptr, nullptr);
    MarkGUCPrefixReserved("personalize");
}

MemoryBudget memory_budget() {
    const std::size_t limit =
        memory_limit_kb >= 0 ? static_cast<std::size_t>(memory_limit_kb) * 1024 : get_hash_memory_limit();
    // 0 would mean "unlimited" to the core; the smallest real limit is 1 kB.
    return MemoryBudget(limit == 0 ? 1024 : limit, "personalize.memory_limit");
}

}  // namespace personalize::pg
