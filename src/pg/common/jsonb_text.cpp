#include "pg/common/jsonb_text.hpp"

extern "C" {
#include "utils/jsonb.h"
}

namespace personalize::pg {

char *jsonb_to_cstring(Datum jsonb) { return DatumGetCString(DirectFunctionCall1(jsonb_out, jsonb)); }

Datum cstring_to_jsonb(const char *text) { return DirectFunctionCall1(jsonb_in, CStringGetDatum(text)); }

}  // namespace personalize::pg
