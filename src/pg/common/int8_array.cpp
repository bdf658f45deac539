#include "pg/common/int8_array.hpp"

#include <string>

#include "pg/common/boundary.hpp"

extern "C" {
#include "utils/array.h"
}

namespace personalize::pg {

Int8Array read_int8_array(ArrayType *array, const char *name) {
    if (ARR_ELEMTYPE(array) != INT8OID)
        throw PgError(ERRCODE_DATATYPE_MISMATCH, std::string("\"") + name + "\" must be a bigint array", {}, {});
    Int8Array result;
    std::int64_t n = ARR_NDIM(array) == 0 ? 0 : 1;  // PostgreSQL made the array: no overflow
    for (int d = 0; d < ARR_NDIM(array); ++d) n *= ARR_DIMS(array)[d];
    if (n == 0) return result;
    if (!ARR_HASNULL(array)) {  // the common case: the array's own storage
        result.items = reinterpret_cast<const std::int64_t *>(ARR_DATA_PTR(array));
        result.count = static_cast<std::size_t>(n);
        return result;
    }
    Datum *values;
    bool *nulls;
    int count;
    std::int64_t *items;
    pg([&] {
        deconstruct_array(array, INT8OID, sizeof(int64), true, TYPALIGN_DOUBLE, &values, &nulls, &count);
        items = static_cast<std::int64_t *>(palloc(sizeof(std::int64_t) * count));
    });
    for (int i = 0; i < count; ++i) {
        if (nulls[i])
            ++result.nulls;
        else
            items[result.count++] = DatumGetInt64(values[i]);
    }
    result.items = items;
    return result;
}

}  // namespace personalize::pg
