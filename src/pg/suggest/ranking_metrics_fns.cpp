// ranking_metrics(recommended, relevant, k): precision@k, recall@k and
// nDCG@k of one recommendation list (core/suggest/ranking_metrics).
#include "core/suggest/ranking_metrics.hpp"
#include "pg/common/arguments.hpp"
#include "pg/common/boundary.hpp"
#include "pg/common/settings.hpp"

extern "C" {
#include "utils/array.h"
}

namespace pg = personalize::pg;

PERSONALIZE_FUNCTION(personalize_ranking_metrics) {
    const pg::Arguments args(fcinfo, "ranking_metrics");
    const std::int64_t k = args.int4(2, "k").at_least(1);
    // Nothing to find (NULL or no non-NULL relevant item): no metrics.
    if (args.is_null(1)) PG_RETURN_NULL();
    const pg::Int8Array relevant = args.int8_array(1, "relevant");
    if (relevant.count == 0) PG_RETURN_NULL();
    // Recommended keeps its NULLs in place: they take a rank and never hit.
    int count = 0;
    Datum *values = nullptr;
    bool *nulls = nullptr;
    if (!args.is_null(0)) {
        ArrayType *array = args.array(0, "recommended");
        if (ARR_ELEMTYPE(array) != INT8OID)
            ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH), errmsg("\"recommended\" must be a bigint array")));
        deconstruct_array(array, INT8OID, sizeof(int64), true, TYPALIGN_DOUBLE, &values, &nulls, &count);
    }
    auto *items = static_cast<std::int64_t *>(palloc(sizeof(std::int64_t) * (count + 1)));
    for (int i = 0; i < count; ++i) {
        if ((i & 0xFFFF) == 0) CHECK_FOR_INTERRUPTS();
        items[i] = nulls[i] ? 0 : DatumGetInt64(values[i]);
    }

    TupleDesc desc;
    if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE)
        ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED), errmsg("ranking_metrics: result must be a row type")));
    desc = BlessTupleDesc(desc);
    const personalize::suggest::RankingMetrics m = pg::cpp([&] {
        personalize::MemoryBudget budget = pg::memory_budget();
        return personalize::suggest::ranking_metrics(items, nulls, static_cast<std::size_t>(count), relevant.items,
                                            relevant.count, k, &budget, pg::interrupt());
    });
    Datum out[3] = {Float8GetDatum(m.precision), Float8GetDatum(m.recall), Float8GetDatum(m.ndcg)};
    bool out_nulls[3] = {false, false, false};
    PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, out, out_nulls)));
}
