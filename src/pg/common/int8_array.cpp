#include "pg/common/int8_array.hpp"

extern "C" {
#include "utils/array.h"
#include "utils/lsyscache.h"
}

namespace personalize::pg {

Int8Array read_int8_array(ArrayType *array, const char *name) {
    if (ARR_ELEMTYPE(array) != INT8OID)
        ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH), errmsg("\"%s\" must be a bigint array", name)));
    Int8Array result;
    const int n = ArrayGetNItems(ARR_NDIM(array), ARR_DIMS(array));
    if (n == 0) return result;
    if (!ARR_HASNULL(array)) {  // the common case: the array's own storage
        result.items = reinterpret_cast<const std::int64_t *>(ARR_DATA_PTR(array));
        result.count = static_cast<std::size_t>(n);
        return result;
    }
    Datum *values;
    bool *nulls;
    int count;
    deconstruct_array(array, INT8OID, sizeof(int64), true, TYPALIGN_DOUBLE, &values, &nulls, &count);
    auto *items = static_cast<std::int64_t *>(palloc(sizeof(std::int64_t) * count));
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
