// personalize.item_similarities(baskets, measure, neighbours, min_count,
// max_basket_size): item-to-item scores counted in C++, one row per kept
// (item, neighbour) pair plus each item's own row.
#include <string>
#include <string_view>

#include "core/mining/baskets.hpp"
#include "core/suggest/item_similarity.hpp"
#include "pg/common/arguments.hpp"
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

}  // namespace

PERSONALIZE_FUNCTION(personalize_item_similarities) {
    InitMaterializedSRF(fcinfo, 0);
    auto *rsinfo = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
    const pg::Arguments args(fcinfo, "item_similarities");
    const std::string_view measure_text = args.text(kMeasure, "measure");
    const std::int64_t neighbours = args.int4(kNeighbours, "neighbours");
    const std::int64_t min_count = args.int8(kMinCount, "min_count");
    const std::int64_t max_basket_size =
        args.is_null(kMaxBasketSize) ? 0 : args.int4(kMaxBasketSize, "max_basket_size").at_least(1).value();
    const bool no_baskets = args.is_null(kBaskets);  // no baskets: no rows (options still checked)
    const varlena *value = no_baskets ? nullptr : args.packed(kBaskets, "baskets");

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
