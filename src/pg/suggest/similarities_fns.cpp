// personalize.item_similarities(baskets, measure, neighbours, min_count,
// max_basket_size): item-to-item scores counted in C++, one row per kept
// (item, neighbour) pair plus each item's own row.
#include <string>

#include "core/mining/baskets.hpp"
#include "core/suggest/item_similarity.hpp"
#include "pg/common/boundary.hpp"
#include "pg/common/settings.hpp"
#include "pg/common/varlena.hpp"

extern "C" {
#include "utils/tuplestore.h"
}

namespace pg = personalize::pg;
using personalize::suggest::SimilarityOptions;
using personalize::suggest::SimilarityRow;
using personalize::suggest::SimilarityStats;

namespace {

enum Argument { kBaskets, kMeasure, kNeighbours, kMinCount, kMaxBasketSize };

void null_argument(const char *name) {
    ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
                    errmsg("item_similarities: \"%s\" must not be NULL", name)));
}

}  // namespace

PERSONALIZE_FUNCTION(personalize_item_similarities) {
    InitMaterializedSRF(fcinfo, 0);
    auto *rsinfo = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
    if (PG_ARGISNULL(kMeasure)) null_argument("measure");
    if (PG_ARGISNULL(kNeighbours)) null_argument("neighbours");
    if (PG_ARGISNULL(kMinCount)) null_argument("min_count");
    const char *measure_text = text_to_cstring(PG_GETARG_TEXT_PP(kMeasure));
    const int64 neighbours = PG_GETARG_INT32(kNeighbours);
    const int64 min_count = PG_GETARG_INT64(kMinCount);
    const int64 max_basket_size = PG_ARGISNULL(kMaxBasketSize) ? 0 : PG_GETARG_INT32(kMaxBasketSize);
    if (!PG_ARGISNULL(kMaxBasketSize) && max_basket_size < 1)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("item_similarities: \"max_basket_size\" must be at least 1")));
    const bool no_baskets = PG_ARGISNULL(kBaskets);  // no baskets: no rows (options still checked)
    const varlena *value = no_baskets ? nullptr : PG_GETARG_VARLENA_PP(kBaskets);

    const SimilarityStats stats = pg::cpp([&] {
        SimilarityOptions options;
        options.measure = personalize::suggest::parse_similarity_measure(measure_text);
        options.neighbours = neighbours;
        options.min_count = min_count;
        options.max_basket_size = max_basket_size;
        personalize::suggest::validate(options);
        if (no_baskets) return SimilarityStats{};
        auto budget = pg::memory_budget();
        const personalize::mining::BasketCollection baskets =
            personalize::mining::BasketCollection::deserialize(pg::varlena_bytes(value), pg::varlena_size(value), budget);
        return personalize::suggest::item_similarities(baskets, options, budget, pg::interrupt(), [&](const SimilarityRow &r) {
            pg::pg([&] {
                Datum values[4] = {Int64GetDatum(r.item), Int64GetDatum(r.neighbour), Float8GetDatum(r.score),
                                   Int64GetDatum(r.together)};
                bool nulls[4] = {false, false, false, false};
                tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
            });
        });
    });
    if (stats.skipped_baskets > 0)
        ereport(NOTICE, (errmsg_plural("item_similarities: skipped %lld basket with more than %lld items",
                                       "item_similarities: skipped %lld baskets with more than %lld items",
                                       static_cast<unsigned long>(stats.skipped_baskets),
                                       static_cast<long long>(stats.skipped_baskets),
                                       static_cast<long long>(max_basket_size))));
    ereport(DEBUG1, (errmsg("item_similarities: %lld baskets, %lld items, %lld pairs, %lld rows, peak memory %.1f MB",
                            static_cast<long long>(stats.baskets), static_cast<long long>(stats.items),
                            static_cast<long long>(stats.pairs), static_cast<long long>(stats.rows),
                            stats.peak_bytes / 1048576.0)));
    return static_cast<Datum>(0);
}
