// jsonb <-> text for model values. PostgreSQL code: call outside cpp(...).
#pragma once

#include "pg/common/postgres.hpp"

namespace personalize::pg {

// The canonical text of a jsonb argument (palloc'd).
char *jsonb_to_cstring(Datum jsonb);

// A jsonb value parsed from text produced by core code.
Datum cstring_to_jsonb(const char *text);

}  // namespace personalize::pg
