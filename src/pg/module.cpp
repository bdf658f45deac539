// Module entry: the magic block, GUC registration, personalize.version() and
// personalize.live_cpp_objects(), personalize.memory_limit().
#include "pg/common/boundary.hpp"
#include "pg/common/settings.hpp"

extern "C" {
PG_MODULE_MAGIC;

void _PG_init(void);
void _PG_init(void) { personalize::pg::define_settings(); }
}

PERSONALIZE_FUNCTION(personalize_version) {
    PG_RETURN_TEXT_P(cstring_to_text(PERSONALIZE_VERSION));
}

PERSONALIZE_FUNCTION(personalize_live_cpp_objects) {
    PG_RETURN_INT64(personalize::pg::live_owned_objects);
}

PERSONALIZE_FUNCTION(personalize_memory_limit) {
    const std::size_t limit = personalize::pg::memory_budget().limit();
    PG_RETURN_INT64(static_cast<int64>(limit));
}
