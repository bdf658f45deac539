// personalize.ease_similarities(baskets, lambda, neighbours, min_count,
// max_basket_size) and personalize.rp3beta_similarities(baskets, alpha, beta,
// neighbours, min_count, max_basket_size): the EASE and RP3beta models as the
// rows item_similarities() makes, so suggestions() serves any of them.
#include <algorithm>
#include <string_view>
#include <thread>

#include "core/mining/baskets.hpp"
#include "core/suggest/ease.hpp"
#include "core/suggest/rp3beta.hpp"
#include "pg/common/arguments.hpp"
#include "pg/common/boundary.hpp"
#include "pg/common/settings.hpp"
#include "pg/common/varlena.hpp"

extern "C" {
#include "optimizer/cost.h"
#include "utils/tuplestore.h"
}

namespace pg = personalize::pg;
using personalize::suggest::SimilarityRow;
using personalize::suggest::SimilarityStats;

namespace {

// Runs `model(baskets, budget, emit)` over the baskets argument (NULL: no
// rows), storing the rows in the call's tuplestore.
template <typename Model>
SimilarityStats run_model(FunctionCallInfo fcinfo, const pg::Arguments &args, Model &&model) {
    auto *rsinfo = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
    const bool no_baskets = args.is_null(0);
    const varlena *value = no_baskets ? nullptr : args.packed(0, "baskets");
    return pg::cpp([&] {
        if (no_baskets) return SimilarityStats{};
        auto budget = pg::memory_budget();
        const personalize::mining::BasketCollection baskets =
            personalize::mining::BasketCollection::deserialize(pg::varlena_bytes(value), pg::varlena_size(value), budget);
        return model(baskets, budget, [&](const SimilarityRow &r) {
            pg::pg([&] {
                Datum values[4] = {Int64GetDatum(r.item), Int64GetDatum(r.neighbour), Float8GetDatum(r.score),
                                   Int64GetDatum(r.together)};
                bool nulls[4] = {false, false, false, false};
                tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
            });
        });
    });
}

void report(const char *function, const SimilarityStats &stats, long long max_basket_size) {
    if (stats.skipped_baskets > 0)
        ereport(NOTICE, (errmsg_plural("%s: skipped %lld basket with more than %lld items",
                                       "%s: skipped %lld baskets with more than %lld items",
                                       static_cast<unsigned long>(stats.skipped_baskets), function,
                                       static_cast<long long>(stats.skipped_baskets), max_basket_size)));
    ereport(DEBUG1, (errmsg("%s: %lld baskets, %lld items, %lld pairs, %lld rows, peak memory %.1f MB", function,
                            static_cast<long long>(stats.baskets), static_cast<long long>(stats.items),
                            static_cast<long long>(stats.pairs), static_cast<long long>(stats.rows),
                            stats.peak_bytes / 1048576.0)));
}

// EASE's dense algebra runs on the backend's thread plus as many helper
// threads as a parallel query could use workers (max_parallel_workers_per_gather;
// 0: the backend alone), at most one per core.
unsigned ease_threads() {
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    const int workers = std::max(0, max_parallel_workers_per_gather);
    return std::min(cores, 1u + static_cast<unsigned>(workers));
}

}  // namespace

PERSONALIZE_FUNCTION(personalize_ease_similarities) {
    enum { kBaskets, kLambda, kNeighbours, kMinCount, kMaxBasketSize };
    InitMaterializedSRF(fcinfo, 0);
    const pg::Arguments args(fcinfo, "ease_similarities");
    personalize::suggest::EaseOptions options;
    options.lambda = args.float8(kLambda, "lambda");
    options.neighbours = args.int4(kNeighbours, "neighbours");
    options.min_count = args.int8(kMinCount, "min_count");
    options.max_basket_size =
        args.is_null(kMaxBasketSize) ? 0 : args.int4(kMaxBasketSize, "max_basket_size").at_least(1).value();
    options.threads = ease_threads();
    pg::cpp([&] { personalize::suggest::validate(options); });
    const SimilarityStats stats = run_model(fcinfo, args, [&](const auto &baskets, auto &budget, const auto &emit) {
        return personalize::suggest::ease_similarities(baskets, options, budget, pg::interrupt(), emit);
    });
    report("ease_similarities", stats, options.max_basket_size);
    return static_cast<Datum>(0);
}

PERSONALIZE_FUNCTION(personalize_rp3beta_similarities) {
    enum { kBaskets, kAlpha, kBeta, kNeighbours, kMinCount, kMaxBasketSize };
    InitMaterializedSRF(fcinfo, 0);
    const pg::Arguments args(fcinfo, "rp3beta_similarities");
    personalize::suggest::Rp3betaOptions options;
    options.alpha = args.float8(kAlpha, "alpha");
    options.beta = args.float8(kBeta, "beta");
    options.neighbours = args.int4(kNeighbours, "neighbours");
    options.min_count = args.int8(kMinCount, "min_count");
    options.max_basket_size =
        args.is_null(kMaxBasketSize) ? 0 : args.int4(kMaxBasketSize, "max_basket_size").at_least(1).value();
    pg::cpp([&] { personalize::suggest::validate(options); });
    const SimilarityStats stats = run_model(fcinfo, args, [&](const auto &baskets, auto &budget, const auto &emit) {
        return personalize::suggest::rp3beta_similarities(baskets, options, budget, pg::interrupt(), emit);
    });
    report("rp3beta_similarities", stats, options.max_basket_size);
    return static_cast<Datum>(0);
}
