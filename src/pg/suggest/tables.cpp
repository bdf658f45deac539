#include "pg/suggest/tables.hpp"

#include <cmath>

#include "pg/common/arguments.hpp"
#include "pg/common/relation_columns.hpp"

extern "C" {
#include "datatype/timestamp.h"
#include "utils/array.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
}

namespace personalize::pg {

namespace {

struct Column {
    const char *name;
    ColumnKind kind;
};

// The quoted name of a table argument, after checking its required columns
// (present, and of a type the queries' casts read exactly).
template <std::size_t N>
TableArgument checked_table(Oid relid, const char *function, const char *argument, const Column (&columns)[N]) {
    const TableArgument table = table_argument(relid, function, argument);
    const char *names[N + 1];
    for (std::size_t i = 0; i < N; ++i) names[i] = columns[i].name;
    names[N] = nullptr;
    for (const Column &c : columns) require_column(table, c.name, c.kind, names);
    return table;
}

}  // namespace

void read_suggestion_arguments(FunctionCallInfo fcinfo, const char *function, const SuggestionArguments &at,
                               suggest::Options &options, SuggestionTables &tables) {
    const Arguments args(fcinfo, function);
    const Oid history = args.oid(at.history, "history");
    const Oid similarities = args.oid(at.similarities, "similarities");
    const ArgumentValue<std::int32_t> n = args.int4(at.n, "n");
    const ArgumentValue<std::int32_t> min_history = args.int4(at.min_history, "min_history");
    options.n = n.at_least(1);
    options.min_history = min_history.not_negative();
    options.category_cap = args.is_null(at.category_cap)
                               ? 0
                               : args.int4(at.category_cap, "category_cap").at_least(1, "Use NULL for no cap.").value();
    options.half_life = 0;
    if (!args.is_null(at.half_life)) {
        const Interval *iv = args.interval(at.half_life, "half_life");
        const double us = static_cast<double>(iv->time) +
                          (static_cast<double>(iv->day) + static_cast<double>(iv->month) * DAYS_PER_MONTH) *
                              static_cast<double>(USECS_PER_DAY);
        if (!(us > 0.0)) args.invalid("half_life", "Use NULL for no decay.", "must be a positive interval");
        options.half_life = us;
    }

    // Segments and categories are read as ::text (exact for any type).
    static const Column history_columns[] = {
        {"customer_id", ColumnKind::Integer}, {"item_id", ColumnKind::Integer}, {"bought_at", ColumnKind::Timestamp}};
    static const Column similarity_columns[] = {{"item", ColumnKind::Integer},
                                                {"neighbour", ColumnKind::Integer},
                                                {"score", ColumnKind::Number},
                                                {"together", ColumnKind::Number}};
    static const Column item_columns[] = {{"item_id", ColumnKind::Integer}};
    static const Column popular_columns[] = {
        {"segment", ColumnKind::Any}, {"item_id", ColumnKind::Integer}, {"score", ColumnKind::Number}};
    static const Column customer_columns[] = {{"customer_id", ColumnKind::Integer}};
    tables.history_id = history;
    tables.history = checked_table(tables.history_id, function, "history", history_columns).name;
    tables.similarities_id = similarities;
    tables.similarities = checked_table(tables.similarities_id, function, "similarities", similarity_columns).name;
    if (!args.is_null(at.items)) {
        tables.items_id = args.oid(at.items, "items");
        const TableArgument items = checked_table(tables.items_id, function, "items", item_columns);
        tables.items = items.name;
        tables.items_have_category = has_column(items, "category");
        tables.items_have_rebuyable = optional_column(items, "rebuyable", ColumnKind::Boolean);
    }
    if (!args.is_null(at.popular)) {
        tables.popular_id = args.oid(at.popular, "popular");
        tables.popular = checked_table(tables.popular_id, function, "popular", popular_columns).name;
    }
    if (at.customers >= 0 && !args.is_null(at.customers)) {
        const Oid id = args.oid(at.customers, "customers");
        const TableArgument customers = checked_table(id, function, "customers", customer_columns);
        tables.customers = customers.name;
        tables.customers_have_segment = has_column(customers, "segment");
    }
    if (options.category_cap > 0 && !tables.items_have_category)
        args.invalid("category_cap", nullptr, "needs \"items\" with a category column");
}

double purchase_time(Datum timestamptz, const char *function) {
    const TimestampTz t = DatumGetTimestampTz(timestamptz);
    if (TIMESTAMP_NOT_FINITE(t))
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("%s: \"history\" holds an infinite bought_at", function)));
    return static_cast<double>(t);
}

TextView text_view(Datum value) {
    const text *t = DatumGetTextPP(value);
    return {VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t)};
}

void put_suggestion_row(ReturnSetInfo *rsinfo, const Datum *prefix, int prefix_count, int rank,
                        const suggest::Suggestion &s) {
    Datum values[6];
    bool nulls[6] = {false, false, false, false, false, false};
    int k = 0;
    for (int i = 0; i < prefix_count; ++i) values[k++] = prefix[i];
    Datum because[suggest::kMaxBecause];
    for (int i = 0; i < s.because_count; ++i) because[i] = Int64GetDatum(s.because[i]);
    values[k++] = Int32GetDatum(rank);
    values[k++] = Int64GetDatum(s.item);
    values[k++] = Float8GetDatum(s.score);
    values[k++] = CStringGetTextDatum(s.source == suggest::Source::ItemItem ? "item-item" : "popular");
    values[k++] = PointerGetDatum(
        construct_array(because, s.because_count, INT8OID, sizeof(int64), true, TYPALIGN_DOUBLE));
    tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

}  // namespace personalize::pg
