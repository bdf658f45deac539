// float8[] feature vectors as plain (pointer, count) views.
#pragma once

#include <cstddef>

#include "pg/common/postgres.hpp"

namespace personalize::pg {

struct Float8Array {
    const double *values = nullptr;
    std::size_t count = 0;
};

// Reads a one-dimensional float8[] without NULL elements; `function` and
// `name` appear in the error otherwise, which is thrown
// (pg/common/arguments.hpp): call it anywhere but inside pg(...).
Float8Array read_float8_array(ArrayType *array, const char *function, const char *name);

}  // namespace personalize::pg
