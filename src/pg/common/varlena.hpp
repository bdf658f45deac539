// Moving core objects with a byte form (core/common/bytes.hpp) in and out of
// varlena values.
#pragma once

#include <cstddef>

#include "core/common/bytes.hpp"
#include "core/common/error.hpp"
#include "pg/common/boundary.hpp"

namespace personalize::pg {

// A new varlena holding the byte form of `object` (its write(ByteWriter &)
// is run twice: to measure, then to write). Call inside cpp(...): the
// allocation goes through pg(...). `what` names the value in the error when
// it would exceed PostgreSQL's 1 GB limit for one value.
template <typename T>
varlena *to_varlena(const T &object, const char *what) {
    const std::size_t size = byte_size(object);
    if (size > MaxAllocSize - VARHDRSZ)
        throw Error(ErrorCode::ProgramLimit,
                    std::string(what) + " would take " + std::to_string(size >> 20) +
                        " MB; PostgreSQL values are limited to 1 GB");
    varlena *out = nullptr;
    pg([&] { out = static_cast<varlena *>(palloc(VARHDRSZ + size)); });
    SET_VARSIZE(out, VARHDRSZ + size);
    write_bytes(object, reinterpret_cast<unsigned char *>(VARDATA(out)), size);
    return out;
}

inline const unsigned char *varlena_bytes(const varlena *value) {
    return reinterpret_cast<const unsigned char *>(VARDATA_ANY(value));
}
inline std::size_t varlena_size(const varlena *value) { return VARSIZE_ANY_EXHDR(value); }

}  // namespace personalize::pg
