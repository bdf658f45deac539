// The personalize.baskets type (I/O, binary I/O), the baskets(...)
// aggregates that build it from order lines, and merge_baskets().
#include <string>

#include "core/mining/baskets.hpp"
#include "pg/common/aggregate_state.hpp"
#include "pg/common/arguments.hpp"
#include "pg/common/boundary.hpp"
#include "pg/common/settings.hpp"
#include "pg/common/varlena.hpp"

extern "C" {
#include "lib/stringinfo.h"
#include "libpq/pqformat.h"
#include "utils/array.h"
}

using personalize::mining::BasketBuilder;
using personalize::mining::BasketCollection;
namespace pg = personalize::pg;

namespace {

constexpr const char *kTypeName = "baskets value";

}  // namespace

// ---- type I/O ---------------------------------------------------------------

PERSONALIZE_FUNCTION(personalize_baskets_in) {
    const char *text = PG_GETARG_CSTRING(0);
    varlena *out = pg::cpp([&] {
        auto budget = pg::memory_budget();
        return pg::to_varlena(BasketCollection::from_text(text, budget), kTypeName);
    });
    PG_RETURN_POINTER(out);
}

PERSONALIZE_FUNCTION(personalize_baskets_out) {
    const varlena *value = PG_GETARG_VARLENA_PP(0);
    char *out = pg::cpp([&] {
        auto budget = pg::memory_budget();
        const std::string text =
            BasketCollection::deserialize(pg::varlena_bytes(value), pg::varlena_size(value), budget).to_text();
        char *copy = nullptr;
        pg::pg([&] { copy = pnstrdup(text.data(), text.size()); });
        return copy;
    });
    PG_RETURN_CSTRING(out);
}

// Binary form = the stored form; received bytes are validated like any input.
PERSONALIZE_FUNCTION(personalize_baskets_recv) {
    StringInfo buffer = reinterpret_cast<StringInfo>(PG_GETARG_POINTER(0));
    const auto *data = reinterpret_cast<const unsigned char *>(buffer->data + buffer->cursor);
    const std::size_t size = static_cast<std::size_t>(buffer->len - buffer->cursor);
    varlena *out = pg::cpp([&] {
        auto budget = pg::memory_budget();
        return pg::to_varlena(BasketCollection::deserialize(data, size, budget), kTypeName);
    });
    buffer->cursor = buffer->len;
    PG_RETURN_POINTER(out);
}

PERSONALIZE_FUNCTION(personalize_baskets_send) {
    const varlena *value = PG_GETARG_VARLENA_PP(0);
    StringInfoData buffer;
    pq_begintypsend(&buffer);
    pq_sendbytes(&buffer, reinterpret_cast<const char *>(pg::varlena_bytes(value)),
                 static_cast<int>(pg::varlena_size(value)));
    PG_RETURN_BYTEA_P(pq_endtypsend(&buffer));
}

// ---- aggregates: baskets(basket_id, item_id) and baskets(basket_id, items[]) --

namespace {

BasketBuilder *builder_state(FunctionCallInfo fcinfo, MemoryContext context) {
    if (!PG_ARGISNULL(0)) return reinterpret_cast<BasketBuilder *>(PG_GETARG_POINTER(0));
    return pg::make_owned(context, [] { return new BasketBuilder(pg::memory_budget()); });
}

}  // namespace

// Rows with a NULL basket or item id are skipped.
PERSONALIZE_FUNCTION(personalize_baskets_transfn) {
    MemoryContext context = pg::aggregate_context(fcinfo, "baskets_transfn");
    const pg::Arguments args(fcinfo, "baskets");
    if (args.is_null(1) || args.is_null(2)) {
        if (PG_ARGISNULL(0)) PG_RETURN_NULL();
        PG_RETURN_POINTER(PG_GETARG_POINTER(0));
    }
    BasketBuilder *state = builder_state(fcinfo, context);
    const std::int64_t basket = args.int8(1, "basket_id"), item = args.int8(2, "item_id");
    pg::cpp([&] { state->add(basket, item); });
    PG_RETURN_POINTER(state);
}

// One row per basket with its items as an array; NULL elements are skipped.
PERSONALIZE_FUNCTION(personalize_baskets_array_transfn) {
    MemoryContext context = pg::aggregate_context(fcinfo, "baskets_array_transfn");
    const pg::Arguments args(fcinfo, "baskets");
    if (args.is_null(1) || args.is_null(2)) {
        if (PG_ARGISNULL(0)) PG_RETURN_NULL();
        PG_RETURN_POINTER(PG_GETARG_POINTER(0));
    }
    BasketBuilder *state = builder_state(fcinfo, context);
    const std::int64_t basket = args.int8(1, "basket_id");
    const pg::Int8Array items = args.int8_array(2, "items");
    pg::cpp([&] { state->add_all(basket, items.items, items.count); });
    PG_RETURN_POINTER(state);
}

PERSONALIZE_FUNCTION(personalize_baskets_combine) {
    return pg::combine_states<BasketBuilder>(fcinfo, "baskets_combine", builder_state);
}

PERSONALIZE_FUNCTION(personalize_baskets_serialize) {
    return pg::serialize_state<BasketBuilder>(fcinfo, "baskets_serialize", "partial baskets state");
}

PERSONALIZE_FUNCTION(personalize_baskets_deserialize) {
    return pg::deserialize_state(fcinfo, "baskets_deserialize", [](const unsigned char *data, std::size_t size) {
        return new BasketBuilder(BasketBuilder::deserialize(data, size, pg::memory_budget()));
    });
}

// Sorts and de-duplicates the collected lines into the compact value. The
// builder's lines are released as they are consumed (FINALFUNC_MODIFY = READ_WRITE).
PERSONALIZE_FUNCTION(personalize_baskets_final) {
    auto *state = reinterpret_cast<BasketBuilder *>(PG_GETARG_POINTER(0));
    varlena *out = pg::cpp([&] { return pg::to_varlena(state->finish(pg::interrupt()), kTypeName); });
    PG_RETURN_POINTER(out);
}

// ---- merge_baskets(a, b) ------------------------------------------------------

PERSONALIZE_FUNCTION(personalize_merge_baskets) {
    const pg::Arguments args(fcinfo, "merge_baskets");
    const varlena *a = args.packed(0, "a");
    const varlena *b = args.packed(1, "b");
    varlena *out = pg::cpp([&] {
        auto budget = pg::memory_budget();
        const BasketCollection left = BasketCollection::deserialize(pg::varlena_bytes(a), pg::varlena_size(a), budget);
        const BasketCollection right = BasketCollection::deserialize(pg::varlena_bytes(b), pg::varlena_size(b), budget);
        return pg::to_varlena(BasketCollection::merge(left, right, budget, pg::interrupt()), kTypeName);
    });
    PG_RETURN_POINTER(out);
}

// ---- inspection ---------------------------------------------------------------

// unnest_baskets(b) → (basket_id, items): the value as rows.
PERSONALIZE_FUNCTION(personalize_unnest_baskets) {
    const varlena *value = pg::Arguments(fcinfo, "unnest_baskets").packed(0, "baskets");
    InitMaterializedSRF(fcinfo, 0);
    auto *rsinfo = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
    pg::cpp([&] {
        auto budget = pg::memory_budget();
        const BasketCollection baskets =
            BasketCollection::deserialize(pg::varlena_bytes(value), pg::varlena_size(value), budget);
        const personalize::Interrupt interrupt = pg::interrupt();
        for (std::size_t i = 0; i < baskets.size(); ++i) {
            interrupt.poll();
            pg::pg([&] {
                Datum values[2];
                bool nulls[2] = {false, false};
                values[0] = Int64GetDatum(baskets.id(i));
                Datum *items = static_cast<Datum *>(palloc(sizeof(Datum) * baskets.basket_size(i)));
                const std::int64_t *item = baskets.begin(i);
                for (std::size_t k = 0; k < baskets.basket_size(i); ++k) items[k] = Int64GetDatum(item[k]);
                values[1] = PointerGetDatum(construct_array(items, static_cast<int>(baskets.basket_size(i)), INT8OID,
                                                            sizeof(int64), true, TYPALIGN_DOUBLE));
                tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
                pfree(DatumGetPointer(values[1]));
                pfree(items);
            });
        }
    });
    return static_cast<Datum>(0);
}

// basket_stats(b) → (baskets, lines, items): sizes of a stored value.
PERSONALIZE_FUNCTION(personalize_basket_stats) {
    const varlena *value = pg::Arguments(fcinfo, "basket_stats").packed(0, "baskets");
    TupleDesc desc;
    if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE)
        ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED), errmsg("basket_stats: result must be a row type")));
    desc = BlessTupleDesc(desc);
    struct Sizes {
        int64 baskets, lines, max_basket_size;
    };
    const Sizes sizes = pg::cpp([&] {
        auto budget = pg::memory_budget();
        const BasketCollection baskets =
            BasketCollection::deserialize(pg::varlena_bytes(value), pg::varlena_size(value), budget);
        Sizes s{static_cast<int64>(baskets.size()), static_cast<int64>(baskets.lines()), 0};
        for (std::size_t i = 0; i < baskets.size(); ++i)
            s.max_basket_size = std::max<int64>(s.max_basket_size, static_cast<int64>(baskets.basket_size(i)));
        return s;
    });
    Datum values[3] = {Int64GetDatum(sizes.baskets), Int64GetDatum(sizes.lines), Int64GetDatum(sizes.max_basket_size)};
    bool nulls[3] = {false, false, false};
    PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}
