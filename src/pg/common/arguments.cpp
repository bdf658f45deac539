#include "pg/common/arguments.hpp"

#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <string>

#include "core/common/error.hpp"

namespace personalize::pg {

namespace {

std::string prefix(const char *function, const char *name) { return std::string(function) + ": \"" + name + "\" "; }

std::string formatted(const char *format, va_list values) pg_attribute_printf(1, 0);
std::string formatted(const char *format, va_list values) {
    char text[512];
    vsnprintf(text, sizeof text, format, values);
    return text;
}

[[noreturn]] void throw_with_prefix(const char *function, const char *name, const char *hint,
                                    const std::string &requirement) {
    throw Error(ErrorCode::InvalidParameter, prefix(function, name) + requirement, {}, hint != nullptr ? hint : "");
}

}  // namespace

void throw_null_argument(const char *function, const char *name) {
    throw Error(ErrorCode::NullValue, prefix(function, name) + "must not be NULL");
}

void throw_null_elements(const char *function, const char *name) {
    throw Error(ErrorCode::NullValue, prefix(function, name) + "must not contain NULL elements");
}

void throw_invalid_argument(const char *function, const char *name, const char *hint, const char *requirement, ...) {
    va_list values;
    va_start(values, requirement);
    const std::string text = formatted(requirement, values);
    va_end(values);
    throw_with_prefix(function, name, hint, text);
}

void throw_out_of_range(const char *function, const char *name, const char *hint, const char *requirement,
                        long long low, long long high) {
    char a[32], b[32];
    snprintf(a, sizeof a, "%lld", low);
    snprintf(b, sizeof b, "%lld", high);
    throw_invalid_argument(function, name, hint, requirement, a, b);
}

void throw_out_of_range(const char *function, const char *name, const char *hint, const char *requirement,
                        double low, double high) {
    char a[32], b[32];
    snprintf(a, sizeof a, "%g", low);
    snprintf(b, sizeof b, "%g", high);
    throw_invalid_argument(function, name, hint, requirement, a, b);
}

void Arguments::invalid(const char *name, const char *hint, const char *requirement, ...) const {
    va_list values;
    va_start(values, requirement);
    const std::string text = formatted(requirement, values);
    va_end(values);
    throw_with_prefix(function_, name, hint, text);
}

const char *Arguments::cstring(int argno, const char *name) const {
    const std::string_view value = text(argno, name);
    char *copy = nullptr;
    pg([&] { copy = pnstrdup(value.data(), value.size()); });
    return copy;
}

Jsonb *Arguments::jsonb_object(int argno, const char *name) const {
    Jsonb *value = jsonb(argno, name);
    if (!JB_ROOT_IS_OBJECT(value)) throw_invalid_argument(function_, name, nullptr, "must be a JSON object");
    return value;
}

varlena *Arguments::detoast(varlena *value) {
    pg([&] { value = pg_detoast_datum_packed(value); });
    return value;
}

varlena *Arguments::unpack(varlena *value) {
    // An out-of-line (TOAST) pointer has a one-byte header as well: it is
    // not a short inline value (copying it as one read past its end).
    if (!VARATT_IS_SHORT(value) || VARATT_IS_EXTERNAL(value)) {
        pg([&] { value = pg_detoast_datum(value); });
        return value;
    }
    // What detoast_attr does for a short header, with an allocation that
    // reports failure instead of raising an ERROR: no PG_TRY on every row.
    const std::size_t data_size = VARSIZE_SHORT(value) - VARHDRSZ_SHORT;
    auto *copy = static_cast<varlena *>(palloc_extended(data_size + VARHDRSZ, MCXT_ALLOC_NO_OOM));
    if (copy == nullptr) throw std::bad_alloc();
    SET_VARSIZE(copy, data_size + VARHDRSZ);
    std::memcpy(VARDATA(copy), VARDATA_SHORT(value), data_size);
    return copy;
}

}  // namespace personalize::pg
