#include "pg/suggest/tables.hpp"

#include <cmath>

#include "pg/common/arguments.hpp"

extern "C" {
#include "datatype/timestamp.h"
#include "utils/array.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
}

namespace personalize::pg {

namespace {

bool has_column(Oid relid, const char *column) { return get_attnum(relid, column) != InvalidAttrNumber; }

// The quoted name of a table argument, after checking its required columns.
const char *table_name(Oid relid, const char *function, const char *argument, const char *const *columns) {
    const char *relname = get_rel_name(relid);
    if (relname == nullptr)
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE),
                        errmsg("%s: \"%s\" (relation %u) does not exist", function, argument, relid)));
    const char *name = quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)), relname);
    for (const char *const *c = columns; *c != nullptr; ++c)
        if (!has_column(relid, *c)) {
            StringInfoData list;
            initStringInfo(&list);
            for (const char *const *d = columns; *d != nullptr; ++d)
                appendStringInfo(&list, "%s%s", d == columns ? "" : ", ", *d);
            ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                            errmsg("%s: \"%s\" (%s) has no column %s", function, argument, name, *c),
                            errhint("It needs the columns %s; a view can rename them.", list.data)));
        }
    return name;
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

    static const char *const history_columns[] = {"customer_id", "item_id", "bought_at", nullptr};
    static const char *const similarity_columns[] = {"item", "neighbour", "score", "together", nullptr};
    static const char *const item_columns[] = {"item_id", nullptr};
    static const char *const popular_columns[] = {"segment", "item_id", "score", nullptr};
    static const char *const customer_columns[] = {"customer_id", nullptr};
    tables.history_id = history;
    tables.history = table_name(tables.history_id, function, "history", history_columns);
    tables.similarities_id = similarities;
    tables.similarities = table_name(tables.similarities_id, function, "similarities", similarity_columns);
    if (!args.is_null(at.items)) {
        tables.items_id = args.oid(at.items, "items");
        tables.items = table_name(tables.items_id, function, "items", item_columns);
        tables.items_have_category = has_column(tables.items_id, "category");
        tables.items_have_rebuyable = has_column(tables.items_id, "rebuyable");
    }
    if (!args.is_null(at.popular)) {
        tables.popular_id = args.oid(at.popular, "popular");
        tables.popular = table_name(tables.popular_id, function, "popular", popular_columns);
    }
    if (at.customers >= 0 && !args.is_null(at.customers)) {
        const Oid id = args.oid(at.customers, "customers");
        tables.customers = table_name(id, function, "customers", customer_columns);
        tables.customers_have_segment = has_column(id, "segment");
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
