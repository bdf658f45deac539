// Reading the arguments of a SQL-callable function by position. The errors
// name the function and the argument and are worded the same everywhere:
//   22004  FUNCTION: "NAME" must not be NULL
//   22023  FUNCTION: "NAME" must be at least 1 | must be between 0 and 1 | ...
// They are thrown (personalize::Error), never ereported, and a toasted value
// is detoasted without a longjmp reaching C++ frames, so getters and checks
// may run anywhere in a PERSONALIZE_FUNCTION body: in plain glue and inside
// cpp(...) alike (only not inside pg(...), which is PostgreSQL code). They
// allocate nothing beyond what PostgreSQL's own PG_GETARG_* would, so
// aggregates read their arguments on every row.
#pragma once

#include <cstdint>
#include <limits>
#include <string_view>
#include <type_traits>

#include "pg/common/boundary.hpp"
#include "pg/common/float8_array.hpp"
#include "pg/common/int8_array.hpp"

extern "C" {
#include "datatype/timestamp.h"
#include "utils/array.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"
}

namespace personalize::pg {

// 22004 FUNCTION: "NAME" must not be NULL.
[[noreturn]] void throw_null_argument(const char *function, const char *name);
// 22004 FUNCTION: "NAME" must not contain NULL elements.
[[noreturn]] void throw_null_elements(const char *function, const char *name);
// 22023 FUNCTION: "NAME" <requirement> (printf-formatted); `hint` may be nullptr.
[[noreturn]] void throw_invalid_argument(const char *function, const char *name, const char *hint,
                                         const char *requirement, ...) pg_attribute_printf(4, 5);
// The same for ArgumentValue's checks: `requirement` has a %s for each bound,
// printed as SQL prints the number.
[[noreturn]] pg_attribute_cold void throw_out_of_range(const char *function, const char *name, const char *hint,
                                                       const char *requirement, long long low, long long high);
[[noreturn]] pg_attribute_cold void throw_out_of_range(const char *function, const char *name, const char *hint,
                                                       const char *requirement, double low, double high);

// A number read from an argument, with the range checks the functions make.
// Each check returns the value (so `int n = args.int4(2, "n").at_least(1);`)
// or throws 22023 naming the argument. NaN fails every check.
template <typename T>
class ArgumentValue {
    static_assert(std::is_arithmetic_v<T>, "range checks are for numbers");

public:
    ArgumentValue(T value, const char *function, const char *name) : value_(value), function_(function), name_(name) {}

    T value() const { return value_; }
    operator T() const { return value_; }

    // must be at least MIN
    ArgumentValue at_least(T min, const char *hint = nullptr) const {
        if (!(value_ >= min)) fail(hint, "must be at least %s", min);
        return *this;
    }
    // must not be negative
    ArgumentValue not_negative() const {
        if (!(value_ >= 0)) throw_invalid_argument(function_, name_, nullptr, "must not be negative");
        return *this;
    }
    // must be between LOW and HIGH (both allowed)
    ArgumentValue between(T low, T high) const {
        if (!(value_ >= low && value_ <= high)) fail(nullptr, "must be between %s and %s", low, high);
        return *this;
    }
    // must be between LOW and HIGH (exclusive)
    ArgumentValue between_exclusive(T low, T high) const {
        if (!(value_ > low && value_ < high)) fail(nullptr, "must be between %s and %s (exclusive)", low, high);
        return *this;
    }
    // must be a finite timestamp (for a timestamptz: not infinity or -infinity)
    ArgumentValue finite_timestamp() const {
        static_assert(std::is_same_v<T, TimestampTz>, "finite_timestamp is for timestamptz arguments");
        if (TIMESTAMP_NOT_FINITE(value_)) throw_invalid_argument(function_, name_, nullptr, "must be a finite timestamp");
        return *this;
    }
    // must be a finite number >= MIN (rejects NaN and both infinities)
    ArgumentValue finite_at_least(T min) const {
        static_assert(std::is_floating_point_v<T>, "finite_at_least is for float8 arguments");
        if (!(value_ >= min && value_ <= std::numeric_limits<T>::max()))
            fail(nullptr, "must be a finite number >= %s", min);
        return *this;
    }

private:
    using Bound = std::conditional_t<std::is_floating_point_v<T>, double, long long>;
    [[noreturn]] void fail(const char *hint, const char *requirement, T low, T high = T()) const {
        throw_out_of_range(function_, name_, hint, requirement, static_cast<Bound>(low), static_cast<Bound>(high));
    }

    T value_;
    const char *function_;
    const char *name_;
};

// The arguments of one call. Getters take the argument's position and its
// SQL name (for the errors); a NULL where a value is required is 22004.
class Arguments {
public:
    Arguments(FunctionCallInfo fcinfo, const char *function) : fcinfo_(fcinfo), function_(function) {}

    const char *function() const { return function_; }
    // Whether the call passes argument `argno` at all: an aggregate's shorter
    // overloads (kmeans(features, k) vs kmeans(features, k, seed)) do not.
    bool has(int argno) const { return argno < fcinfo_->nargs; }
    bool is_null(int argno) const { return fcinfo_->args[argno].isnull; }
    // Passed and not NULL: for arguments where NULL means "none" or "default".
    bool given(int argno) const { return has(argno) && !is_null(argno); }

    ArgumentValue<std::int32_t> int4(int argno, const char *name) const {
        return {DatumGetInt32(datum(argno, name)), function_, name};
    }
    ArgumentValue<std::int64_t> int8(int argno, const char *name) const {
        return {DatumGetInt64(datum(argno, name)), function_, name};
    }
    ArgumentValue<double> float8(int argno, const char *name) const {
        return {DatumGetFloat8(datum(argno, name)), function_, name};
    }
    bool boolean(int argno, const char *name) const { return DatumGetBool(datum(argno, name)); }
    Oid oid(int argno, const char *name) const { return DatumGetObjectId(datum(argno, name)); }  // regclass too
    ArgumentValue<TimestampTz> timestamptz(int argno, const char *name) const {
        return {DatumGetTimestampTz(datum(argno, name)), function_, name};
    }
    const Interval *interval(int argno, const char *name) const { return DatumGetIntervalP(datum(argno, name)); }

    // The bytes of a text argument (not copied unless it was toasted).
    std::string_view text(int argno, const char *name) const {
        const varlena *value = packed(argno, name);
        return {VARDATA_ANY(value), VARSIZE_ANY_EXHDR(value)};
    }
    // The same as a NUL-terminated copy (palloc'd), for C interfaces.
    const char *cstring(int argno, const char *name) const;
    // A varlena argument (bytea-like types: baskets, als_model), possibly with a short header.
    const varlena *packed(int argno, const char *name) const {
        auto *value = reinterpret_cast<varlena *>(DatumGetPointer(datum(argno, name)));
        return VARATT_IS_COMPRESSED(value) || VARATT_IS_EXTERNAL(value) ? detoast(value) : value;
    }
    Jsonb *jsonb(int argno, const char *name) const { return reinterpret_cast<Jsonb *>(unpacked(argno, name)); }
    // 22023 FUNCTION: "NAME" must be a JSON object, for arrays and scalars.
    Jsonb *jsonb_object(int argno, const char *name) const;
    ArrayType *array(int argno, const char *name) const { return reinterpret_cast<ArrayType *>(unpacked(argno, name)); }
    // A one-dimensional float8[] without NULL elements (float8_array.hpp).
    Float8Array float8_array(int argno, const char *name) const {
        return read_float8_array(array(argno, name), function_, name);
    }
    // A bigint[] of any shape, NULL elements left out (int8_array.hpp).
    Int8Array int8_array(int argno, const char *name) const { return read_int8_array(array(argno, name), name); }

    // A trailing argument that an aggregate's shorter overloads leave out:
    // `absent` when the call does not pass it; passed, it must not be NULL.
    ArgumentValue<std::int32_t> int4(int argno, const char *name, std::int32_t absent) const {
        return has(argno) ? int4(argno, name) : ArgumentValue<std::int32_t>{absent, function_, name};
    }
    ArgumentValue<std::int64_t> int8(int argno, const char *name, std::int64_t absent) const {
        return has(argno) ? int8(argno, name) : ArgumentValue<std::int64_t>{absent, function_, name};
    }
    ArgumentValue<double> float8(int argno, const char *name, double absent) const {
        return has(argno) ? float8(argno, name) : ArgumentValue<double>{absent, function_, name};
    }
    std::string_view text(int argno, const char *name, std::string_view absent) const {
        return has(argno) ? text(argno, name) : absent;
    }

    // 22023 FUNCTION: "NAME" <requirement>, for checks no ArgumentValue
    // method words (the requirement is printf-formatted; `hint` may be nullptr).
    [[noreturn]] void invalid(const char *name, const char *hint, const char *requirement, ...) const
        pg_attribute_printf(4, 5);

private:
    Datum datum(int argno, const char *name) const {
        if (fcinfo_->args[argno].isnull) throw_null_argument(function_, name);
        return fcinfo_->args[argno].value;
    }
    // A value with a 4-byte header (arrays, jsonb), detoasted when needed.
    varlena *unpacked(int argno, const char *name) const {
        auto *value = reinterpret_cast<varlena *>(DatumGetPointer(datum(argno, name)));
        return VARATT_IS_EXTENDED(value) ? unpack(value) : value;
    }
    static varlena *detoast(varlena *value);  // compressed or out of line: through pg(...)
    static varlena *unpack(varlena *value);   // also a short header: copied, without ereport

    FunctionCallInfo fcinfo_;
    const char *function_;
};

}  // namespace personalize::pg
