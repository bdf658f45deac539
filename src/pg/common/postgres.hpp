// The one way glue code includes PostgreSQL: C linkage, and the macros that
// break C++ headers removed afterwards. Include C++ headers *before* this one.
#pragma once

extern "C" {
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
}

// c.h defines these as function-like macros; they collide with C++ code
// (Abseil, Eigen, std::numeric_limits users).
#undef Max
#undef Min
#undef Abs
