// Saved SPI plans: the glue's per-backend plan caches prepare each query once
// and keep the plan for the backend's life.
#pragma once

#include "pg/common/postgres.hpp"

extern "C" {
#include "executor/spi.h"
}

namespace personalize::pg {

// SPI_prepare + SPI_keepplan (SPI connected by the caller). An ERROR naming
// `what` (e.g. "the offers query") when the query does not prepare.
SPIPlanPtr prepare_kept_plan(const char *what, const char *query, int nargs, Oid *types);

}  // namespace personalize::pg
