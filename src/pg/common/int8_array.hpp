// bigint[] arguments as plain (pointer, count) views.
#pragma once

#include <cstddef>
#include <cstdint>

#include "pg/common/postgres.hpp"

namespace personalize::pg {

struct Int8Array {
    const std::int64_t *items = nullptr;  // NULL elements left out
    std::size_t count = 0;
    std::size_t nulls = 0;                // how many elements were NULL
};

// Reads a bigint[] of any shape (multi-dimensional arrays are read flat).
// `name` appears in errors, which are thrown (pg/common/arguments.hpp): call
// it anywhere but inside pg(...).
Int8Array read_int8_array(ArrayType *array, const char *name);

}  // namespace personalize::pg
