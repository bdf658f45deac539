// numeric values inside jsonb as doubles, without going through text.
#pragma once

#include "pg/common/postgres.hpp"

extern "C" {
#include "utils/numeric.h"
}

namespace personalize::pg {

// The double nearest to `value` — the same result as numeric::float8 (both
// round the exact decimal once). Fast for the numbers contexts carry (up to
// 15 significant digits, exponents within 10^±22); anything else goes
// through PostgreSQL's own conversion. PostgreSQL code.
double numeric_to_double(Numeric value);

}  // namespace personalize::pg
