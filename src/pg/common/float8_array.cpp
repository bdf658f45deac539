#include "pg/common/float8_array.hpp"

#include <string>

#include "pg/common/arguments.hpp"

extern "C" {
#include "utils/array.h"
}

namespace personalize::pg {

Float8Array read_float8_array(ArrayType *array, const char *function, const char *name) {
    if (ARR_ELEMTYPE(array) != FLOAT8OID)
        throw PgError(ERRCODE_DATATYPE_MISMATCH, std::string(function) + ": \"" + name + "\" must be a float8 array", {}, {});
    if (ARR_NDIM(array) > 1) throw_invalid_argument(function, name, nullptr, "must be a one-dimensional array");
    if (ARR_HASNULL(array)) throw_null_elements(function, name);
    Float8Array result;
    result.count = static_cast<std::size_t>(ARR_NDIM(array) == 0 ? 0 : ARR_DIMS(array)[0]);
    result.values = reinterpret_cast<const double *>(ARR_DATA_PTR(array));
    return result;
}

}  // namespace personalize::pg
