// The personalize.als_model type (text and binary I/O) and the aggregate
// als_fit(customer_id, item_id, strength [, factors [, iterations,
// regularization, alpha, seed [, solver]]]): rows collected by the
// transition and combine functions, the model fitted in the final function.
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "core/als/als.hpp"
#include "core/als/model.hpp"
#include "pg/common/aggregate_state.hpp"
#include "pg/common/arguments.hpp"
#include "pg/common/boundary.hpp"
#include "pg/common/settings.hpp"
#include "pg/common/varlena.hpp"

extern "C" {
#include "lib/stringinfo.h"
#include "libpq/pqformat.h"
}

namespace pg = personalize::pg;
using personalize::als::AlsCollector;
using personalize::als::AlsModelView;
using personalize::als::AlsOptions;

namespace {

// Stored bytes already checked by AlsModelView::open, as a varlena.
struct CheckedBytes {
    const unsigned char *data;
    std::size_t size;
    void write(personalize::ByteWriter &out) const { out.put_array(data, size); }
};

// An 8-byte aligned copy of `size` bytes (the checks read int64 arrays in place).
unsigned char *aligned_copy(const unsigned char *data, std::size_t size) {
    auto *copy = static_cast<unsigned char *>(palloc_extended(size == 0 ? 1 : size, MCXT_ALLOC_HUGE));
    if (size != 0) std::memcpy(copy, data, size);
    return copy;
}

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

}  // namespace

// ---- type I/O: the text form is bytea's hex form of the stored bytes -------

PERSONALIZE_FUNCTION(personalize_als_model_in) {
    const char *text = PG_GETARG_CSTRING(0);
    const std::size_t length = std::strlen(text);
    if (length < 2 || text[0] != '\\' || text[1] != 'x' || (length - 2) % 2 != 0)
        ereport(ERROR, (errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
                        errmsg("als_model: invalid input: expected \\x followed by an even number of hex digits"),
                        errhint("An als_model is made by personalize.als_fit(...).")));
    const std::size_t size = (length - 2) / 2;
    auto *bytes = static_cast<unsigned char *>(palloc_extended(size == 0 ? 1 : size, MCXT_ALLOC_HUGE));
    for (std::size_t i = 0; i < size; ++i) {
        const int hi = hex_digit(text[2 + 2 * i]), lo = hex_digit(text[3 + 2 * i]);
        if (hi < 0 || lo < 0)
            ereport(ERROR, (errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
                            errmsg("als_model: invalid input: \"%c%c\" is not a hex byte", text[2 + 2 * i], text[3 + 2 * i])));
        bytes[i] = static_cast<unsigned char>(hi * 16 + lo);
    }
    varlena *out = pg::cpp([&] {
        AlsModelView::open(bytes, size);  // every invariant, or DataCorrupted
        return pg::to_varlena(CheckedBytes{bytes, size}, "an als_model value");
    });
    PG_RETURN_POINTER(out);
}

PERSONALIZE_FUNCTION(personalize_als_model_out) {
    const varlena *value = PG_GETARG_VARLENA_PP(0);
    const std::size_t size = pg::varlena_size(value);
    if (size > (MaxAllocHugeSize - 3) / 2)
        ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED), errmsg("als_model: value too large for its text form"),
                        errhint("Use binary COPY or pg_dump's custom format.")));
    auto *out = static_cast<char *>(palloc_extended(2 * size + 3, MCXT_ALLOC_HUGE));
    static const char digits[] = "0123456789abcdef";
    const unsigned char *bytes = pg::varlena_bytes(value);
    out[0] = '\\';
    out[1] = 'x';
    for (std::size_t i = 0; i < size; ++i) {
        out[2 + 2 * i] = digits[bytes[i] >> 4];
        out[3 + 2 * i] = digits[bytes[i] & 15];
    }
    out[2 * size + 2] = '\0';
    PG_RETURN_CSTRING(out);
}

// Binary form = the stored bytes; received bytes are checked like text input.
PERSONALIZE_FUNCTION(personalize_als_model_recv) {
    StringInfo buffer = reinterpret_cast<StringInfo>(PG_GETARG_POINTER(0));
    const std::size_t size = static_cast<std::size_t>(buffer->len - buffer->cursor);
    unsigned char *bytes = aligned_copy(reinterpret_cast<const unsigned char *>(buffer->data + buffer->cursor), size);
    buffer->cursor = buffer->len;
    varlena *out = pg::cpp([&] {
        AlsModelView::open(bytes, size);
        return pg::to_varlena(CheckedBytes{bytes, size}, "an als_model value");
    });
    PG_RETURN_POINTER(out);
}

PERSONALIZE_FUNCTION(personalize_als_model_send) {
    const varlena *value = PG_GETARG_VARLENA_PP(0);
    StringInfoData buffer;
    pq_begintypsend(&buffer);
    pq_sendbytes(&buffer, reinterpret_cast<const char *>(pg::varlena_bytes(value)), static_cast<int>(pg::varlena_size(value)));
    PG_RETURN_BYTEA_P(pq_endtypsend(&buffer));
}

// ---- the als_fit aggregate ------------------------------------------------------

namespace {

using AlsState = personalize::als::AlsFitState;

AlsState *als_state(FunctionCallInfo fcinfo, MemoryContext context) {
    if (!PG_ARGISNULL(0)) return reinterpret_cast<AlsState *>(PG_GETARG_POINTER(0));
    return pg::make_owned(context, [] { return new AlsState(pg::memory_budget()); });
}

// The options of this row (defaults for the arguments a shorter overload
// lacks); the solver is parsed by parse_solver, for rows that are not skipped.
struct RowOptions {
    AlsOptions numbers;
    bool has_solver;
    std::string_view solver;
};

RowOptions row_options(const pg::Arguments &args) {
    RowOptions row;
    AlsOptions &o = row.numbers;
    o.factors = args.int4(4, "factors", static_cast<std::int32_t>(o.factors));
    o.iterations = args.int4(5, "iterations", static_cast<std::int32_t>(o.iterations));
    o.regularization = args.float8(6, "regularization", o.regularization);
    o.alpha = args.float8(7, "alpha", o.alpha);
    o.seed = static_cast<std::uint64_t>(args.int8(8, "seed", static_cast<std::int64_t>(o.seed)).value());
    row.has_solver = args.has(9);
    row.solver = args.text(9, "solver", {});
    return row;
}

AlsOptions parse_solver(const RowOptions &row) {
    AlsOptions o = row.numbers;
    if (row.has_solver) o.solver = personalize::als::parse_als_solver(row.solver);
    return o;
}

}  // namespace

// Rows with a NULL customer_id, item_id or strength are skipped.
PERSONALIZE_FUNCTION(personalize_als_fit_transfn) {
    MemoryContext context = pg::aggregate_context(fcinfo, "als_fit");
    const pg::Arguments args(fcinfo, "als_fit");
    const RowOptions row = row_options(args);  // a NULL option is an error on skipped rows too
    if (args.is_null(1) || args.is_null(2) || args.is_null(3)) {
        if (PG_ARGISNULL(0)) PG_RETURN_NULL();
        PG_RETURN_POINTER(PG_GETARG_POINTER(0));
    }
    const std::int64_t customer = args.int8(1, "customer_id"), item = args.int8(2, "item_id");
    const double strength = args.float8(3, "strength");
    AlsState *state = als_state(fcinfo, context);
    pg::cpp([&] {
        state->set_options(parse_solver(row));
        state->rows.add(customer, item, strength);
    });
    PG_RETURN_POINTER(state);
}

PERSONALIZE_FUNCTION(personalize_als_fit_combine) {
    return pg::combine_states<AlsState>(fcinfo, "als_fit", als_state, [](AlsState &into, const AlsState &from) {
        if (from.has_options) into.set_options(from.options);
        into.rows.merge(from.rows);
    });
}

PERSONALIZE_FUNCTION(personalize_als_fit_serialize) {
    return pg::serialize_state<AlsState>(fcinfo, "als_fit", "partial als_fit state");
}

PERSONALIZE_FUNCTION(personalize_als_fit_deserialize) {
    return pg::deserialize_state_in_place(fcinfo, "als_fit", [] { return new AlsState(pg::memory_budget()); });
}

// The model; no (non-NULL) rows: NULL.
PERSONALIZE_FUNCTION(personalize_als_fit_final) {
    if (PG_ARGISNULL(0)) PG_RETURN_NULL();
    auto *state = reinterpret_cast<AlsState *>(PG_GETARG_POINTER(0));
    if (state->rows.empty()) PG_RETURN_NULL();
    varlena *out = pg::cpp([&] {
        const personalize::als::AlsTrainedModel model = personalize::als::als_fit(state->rows, state->options, pg::interrupt());
        // The value is one more copy of the model.
        state->rows.budget().charge(personalize::byte_size(model), "the als_fit model value");
        return pg::to_varlena(model, "the als_fit model");
    });
    PG_RETURN_POINTER(out);
}
