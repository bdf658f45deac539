// Streaming a query's rows to C++ through SPI, without materializing them
// (a DestReceiver sees each row as the executor produces it). The query is
// planned as a one-shot plan that may use parallel workers. Used by the batch
// suggestions, which read millions of history lines.
#pragma once

#include <utility>

#include "pg/common/boundary.hpp"

namespace personalize::pg {

// Runs `query` (read only; SPI connected by the caller) and calls
// row(slot) for every row, after slot_getallattrs. PostgreSQL code: call it
// inside pg(...) when C++ objects are alive. `row` runs behind the boundary:
// an exception it throws becomes a PostgreSQL error, and pg(...) turns that
// back into an exception.
void scan_rows_raw(const char *query, void (*row)(void *arg, TupleTableSlot *slot), void *arg);

template <typename F>
void scan_rows(const char *query, F &row) {
    scan_rows_raw(
        query, [](void *arg, TupleTableSlot *slot) { cpp([&] { (*static_cast<F *>(arg))(slot); }); }, &row);
}

}  // namespace personalize::pg
