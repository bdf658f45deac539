#include "pg/common/float8_array.hpp"

extern "C" {
#include "utils/array.h"
}

namespace personalize::pg {

Float8Array read_float8_array(ArrayType *array, const char *function, const char *name) {
    if (ARR_ELEMTYPE(array) != FLOAT8OID)
        ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH), errmsg("%s: \"%s\" must be a float8 array", function, name)));
    if (ARR_NDIM(array) > 1)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("%s: \"%s\" must be a one-dimensional array", function, name)));
    if (ARR_HASNULL(array))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
                        errmsg("%s: \"%s\" must not contain NULL elements", function, name)));
    Float8Array result;
    result.count = static_cast<std::size_t>(ArrayGetNItems(ARR_NDIM(array), ARR_DIMS(array)));
    result.values = reinterpret_cast<const double *>(ARR_DATA_PTR(array));
    return result;
}

}  // namespace personalize::pg
