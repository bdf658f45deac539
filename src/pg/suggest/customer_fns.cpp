// suggestions(customer_id, history, similarities, ...): one customer's top-n
// for a backend. Each call reads only what it needs, through plans prepared
// once per table and kept (SPI plan cache): the customer's history (an index
// on history.customer_id), the neighbours of the bought items (an index on
// similarities.item), their attributes and, when needed, the popular items;
// the scoring runs in C++ (core/suggest/suggestions).
#include <algorithm>
#include <cmath>
#include <limits>
#include <string_view>
#include <vector>

#include "core/suggest/suggestions.hpp"
#include "pg/common/arguments.hpp"
#include "pg/common/boundary.hpp"
#include "pg/common/settings.hpp"
#include "pg/common/spi_plan.hpp"
#include "pg/suggest/tables.hpp"

extern "C" {
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/tuplestore.h"
}

namespace pg = personalize::pg;
namespace suggest = personalize::suggest;

namespace {

constexpr const char *kFunction = "suggestions";
enum Argument {
    kCustomer, kHistory, kSimilarities, kN, kItems, kPopular, kSegment, kCategoryCap, kHalfLife, kMinHistory
};

enum PlanKind { kHistoryPlan, kNeighboursPlan, kOwnPopularPlan, kItemsPlan, kSegmentPopularPlan, kOverallPopularPlan };

// Prepared statements by (table, kind, column flags). Plain data: lives for the backend.
struct CachedPlan {
    Oid relid;
    int kind;
    int flags;
    SPIPlanPtr plan;
};
constexpr int kCachedPlans = 32;
CachedPlan plan_cache[kCachedPlans];
int plan_cache_next = 0;

// Call between SPI_connect and SPI_finish; `query` is a format with one %s (the table).
SPIPlanPtr plan_for(Oid relid, int kind, int flags, const char *table, const char *query, int nargs, Oid *types) {
    for (const CachedPlan &p : plan_cache)
        if (p.plan != nullptr && p.relid == relid && p.kind == kind && p.flags == flags) return p.plan;
    SPIPlanPtr plan = pg::prepare_kept_plan("a suggestions lookup", psprintf(query, table), nargs, types);
    CachedPlan &slot = plan_cache[plan_cache_next];
    plan_cache_next = (plan_cache_next + 1) % kCachedPlans;
    if (slot.plan != nullptr) SPI_freeplan(slot.plan);
    slot = {relid, kind, flags, plan};
    return plan;
}

void run(SPIPlanPtr plan, Datum *args, const char *nulls) {
    if (SPI_execute_plan(plan, args, nulls, true, 0) != SPI_OK_SELECT)
        ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("suggestions: a lookup failed")));
}

Datum int8_array(const std::int64_t *items, int count) {
    Datum *values = static_cast<Datum *>(palloc(sizeof(Datum) * (count + 1)));
    for (int i = 0; i < count; ++i) values[i] = Int64GetDatum(items[i]);
    return PointerGetDatum(construct_array(values, count, INT8OID, sizeof(int64), true, TYPALIGN_DOUBLE));
}

Datum column(int row, int col, bool &isnull) {
    return SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col, &isnull);
}

// Rows of (item bigint, score float8) into plain arrays; NULL ids dropped.
struct ScoredItems {
    std::int64_t *items = nullptr;
    double *scores = nullptr;
    int count = 0;
};
ScoredItems read_scored_items() {
    ScoredItems r;
    const int rows = static_cast<int>(SPI_processed);
    r.items = static_cast<std::int64_t *>(palloc(sizeof(std::int64_t) * (rows + 1)));
    r.scores = static_cast<double *>(palloc(sizeof(double) * (rows + 1)));
    for (int i = 0; i < rows; ++i) {
        bool null_item, null_score;
        const Datum item = column(i, 1, null_item), score = column(i, 2, null_score);
        if (null_item || null_score) continue;
        r.items[r.count] = DatumGetInt64(item);
        r.scores[r.count++] = DatumGetFloat8(score);
    }
    return r;
}

// Attributes of items from the items table: (id, category or nullptr, rebuyable).
struct ItemRows {
    std::int64_t *ids = nullptr;
    const char **categories = nullptr;
    bool *rebuyable = nullptr;
    int count = 0;
};
ItemRows read_items(SPIPlanPtr plan, const std::int64_t *ids, int count) {
    ItemRows r;
    if (count == 0) return r;
    Datum arg = int8_array(ids, count);
    run(plan, &arg, nullptr);
    const int rows = static_cast<int>(SPI_processed);
    r.ids = static_cast<std::int64_t *>(palloc(sizeof(std::int64_t) * (rows + 1)));
    r.categories = static_cast<const char **>(palloc(sizeof(char *) * (rows + 1)));
    r.rebuyable = static_cast<bool *>(palloc(sizeof(bool) * (rows + 1)));
    for (int i = 0; i < rows; ++i) {
        bool null_id, null_category, null_rebuyable;
        const Datum id = column(i, 1, null_id), category = column(i, 2, null_category),
                    rebuyable = column(i, 3, null_rebuyable);
        if (null_id) continue;
        r.ids[r.count] = DatumGetInt64(id);
        r.categories[r.count] = null_category ? nullptr : TextDatumGetCString(category);
        r.rebuyable[r.count++] = !null_rebuyable && DatumGetBool(rebuyable);
    }
    return r;
}

void apply_items(suggest::Model &model, const ItemRows &rows, bool with_rebuyable) {
    for (int i = 0; i < rows.count; ++i) {
        const std::uint32_t index = model.find(rows.ids[i]);
        if (index == suggest::kNone) continue;
        model.set_category(index, rows.categories[i] == nullptr ? suggest::kNone
                                                                : model.category_index(rows.categories[i]));
        if (with_rebuyable) model.set_rebuyable(index, rows.rebuyable[i]);
    }
}

}  // namespace

PERSONALIZE_FUNCTION(personalize_suggestions) {
    suggest::Options options;
    pg::SuggestionTables tables;
    pg::read_suggestion_arguments(fcinfo, kFunction,
                                  {kHistory, kSimilarities, kN, kItems, kPopular, kCategoryCap, kHalfLife, kMinHistory, -1},
                                  options, tables);
    const pg::Arguments args(fcinfo, kFunction);
    const bool anonymous = args.is_null(kCustomer);  // no customer: no history, popular items only
    const std::int64_t customer = anonymous ? 0 : args.int8(kCustomer, "customer_id").value();
    const char *segment = args.is_null(kSegment) ? nullptr : args.cstring(kSegment, "segment");

    InitMaterializedSRF(fcinfo, 0);
    auto *rsinfo = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
    MemoryContext caller = CurrentMemoryContext;
    SPI_connect();

    // The customer's purchases.
    Oid int8 = INT8OID, int8_array_type = INT8ARRAYOID, text_type = TEXTOID;
    int history_n = 0;
    std::int64_t *history_items = nullptr;
    double *history_times = nullptr;
    if (!anonymous) {
        SPIPlanPtr plan = plan_for(tables.history_id, kHistoryPlan, 0, tables.history,
                                   "SELECT h.item_id::bigint, h.bought_at::timestamptz FROM %s h WHERE h.customer_id = $1",
                                   1, &int8);
        Datum arg = Int64GetDatum(customer);
        run(plan, &arg, nullptr);
        const int rows = static_cast<int>(SPI_processed);
        history_items = static_cast<std::int64_t *>(palloc(sizeof(std::int64_t) * (rows + 1)));
        history_times = static_cast<double *>(palloc(sizeof(double) * (rows + 1)));
        for (int i = 0; i < rows; ++i) {
            bool null_item, null_time;
            const Datum item = column(i, 1, null_item), time = column(i, 2, null_time);
            if (null_item) continue;
            history_items[history_n] = DatumGetInt64(item);
            history_times[history_n++] =
                null_time ? std::numeric_limits<double>::quiet_NaN() : pg::purchase_time(time, kFunction);
        }
    }
    // The distinct items bought, their neighbours and attributes.
    auto *distinct = static_cast<std::int64_t *>(palloc(sizeof(std::int64_t) * (history_n + 1)));
    std::copy(history_items, history_items + history_n, distinct);
    std::sort(distinct, distinct + history_n);
    const int distinct_n = static_cast<int>(std::unique(distinct, distinct + history_n) - distinct);
    int similarity_n = 0;
    std::int64_t *similarity_item = nullptr, *similarity_neighbour = nullptr;
    double *similarity_score = nullptr;
    if (distinct_n > 0 && distinct_n >= options.min_history) {
        SPIPlanPtr plan = plan_for(tables.similarities_id, kNeighboursPlan, 0, tables.similarities,
                                   "SELECT s.item::bigint, s.neighbour::bigint, s.score::float8 FROM %s s "
                                   "WHERE s.item = ANY ($1)",
                                   1, &int8_array_type);
        Datum arg = int8_array(distinct, distinct_n);
        run(plan, &arg, nullptr);
        const int rows = static_cast<int>(SPI_processed);
        similarity_item = static_cast<std::int64_t *>(palloc(sizeof(std::int64_t) * (rows + 1)));
        similarity_neighbour = static_cast<std::int64_t *>(palloc(sizeof(std::int64_t) * (rows + 1)));
        similarity_score = static_cast<double *>(palloc(sizeof(double) * (rows + 1)));
        for (int i = 0; i < rows; ++i) {
            bool null_item, null_neighbour, null_score;
            const Datum item = column(i, 1, null_item), neighbour = column(i, 2, null_neighbour),
                        score = column(i, 3, null_score);
            if (null_item || null_neighbour || null_score) continue;  // not a usable row
            similarity_item[similarity_n] = DatumGetInt64(item);
            similarity_neighbour[similarity_n] = DatumGetInt64(neighbour);
            similarity_score[similarity_n++] = DatumGetFloat8(score);
        }
    }
    SPIPlanPtr items_plan = nullptr;
    ItemRows bought_items;
    if (tables.items != nullptr) {
        const int flags = (tables.items_have_category ? 1 : 0) | (tables.items_have_rebuyable ? 2 : 0);
        const char *query = psprintf("SELECT i.item_id::bigint, %s, %s FROM %%s i WHERE i.item_id = ANY ($1)",
                                     tables.items_have_category ? "i.category::text" : "NULL::text",
                                     tables.items_have_rebuyable ? "i.rebuyable::boolean" : "false");
        items_plan = plan_for(tables.items_id, kItemsPlan, flags, tables.items, query, 1, &int8_array_type);
        bought_items = read_items(items_plan, distinct, distinct_n);
    }
    // Enough popular items to fill n after exclusions (more under a cap).
    const int64 wanted = static_cast<int64>(options.n) * (options.category_cap > 0 ? 4 : 1) + distinct_n + 32;
    ScoredItems segment_popular, overall_popular;
    if (tables.popular != nullptr) {
        if (segment != nullptr) {
            Oid types[2] = {text_type, int8};
            SPIPlanPtr plan = plan_for(tables.popular_id, kSegmentPopularPlan, 0, tables.popular,
                                       "SELECT p.item_id::bigint, p.score::float8 FROM %s p WHERE p.segment::text = $1 "
                                       "ORDER BY p.score DESC, p.item_id LIMIT $2",
                                       2, types);
            Datum args[2] = {CStringGetTextDatum(segment), Int64GetDatum(wanted)};
            run(plan, args, nullptr);
            segment_popular = read_scored_items();
        }
        SPIPlanPtr plan = plan_for(tables.popular_id, kOverallPopularPlan, 0, tables.popular,
                                   "SELECT p.item_id::bigint, p.score::float8 FROM %s p WHERE p.segment IS NULL "
                                   "ORDER BY p.score DESC, p.item_id LIMIT $1",
                                   1, &int8);
        Datum arg = Int64GetDatum(wanted);
        run(plan, &arg, nullptr);
        overall_popular = read_scored_items();
    } else {
        SPIPlanPtr plan = plan_for(tables.similarities_id, kOwnPopularPlan, 0, tables.similarities,
                                   "SELECT s.item::bigint, s.together::float8 FROM %s s WHERE s.item = s.neighbour "
                                   "ORDER BY s.together DESC, s.item LIMIT $1",
                                   1, &int8);
        Datum arg = Int64GetDatum(wanted);
        run(plan, &arg, nullptr);
        overall_popular = read_scored_items();
    }

    // Scoring in C++; the suggestions are copied out into the caller's memory.
    suggest::Suggestion *chosen = nullptr;
    const int chosen_n = pg::cpp([&] {
        auto budget = pg::memory_budget();
        suggest::Model model(budget, kFunction);
        for (int i = 0; i < similarity_n; ++i)
            model.add_similarity(similarity_item[i], similarity_neighbour[i], similarity_score[i]);
        std::vector<suggest::Purchase> purchases;
        purchases.reserve(static_cast<std::size_t>(history_n));
        for (int i = 0; i < history_n; ++i) purchases.push_back({model.intern(history_items[i]), history_times[i]});
        apply_items(model, bought_items, true);
        std::uint32_t segment_index = suggest::kNone;
        if (segment != nullptr && segment_popular.count > 0) segment_index = model.segment_index(segment);
        for (int i = 0; i < segment_popular.count; ++i)
            model.add_popular(segment_index, segment_popular.items[i], segment_popular.scores[i]);
        for (int i = 0; i < overall_popular.count; ++i)
            model.add_popular(suggest::kNone, overall_popular.items[i], overall_popular.scores[i]);
        model.finish(pg::interrupt());

        // Categories of candidates are read only when a cap needs them.
        suggest::CategoryFetch fetch;
        if (items_plan != nullptr && tables.items_have_category)
            fetch = [&](const std::vector<std::uint32_t> &indexes) {
                std::vector<std::int64_t> ids;
                for (const std::uint32_t i : indexes) ids.push_back(model.item(i));
                ItemRows rows;
                pg::pg([&] { rows = read_items(items_plan, ids.data(), static_cast<int>(ids.size())); });
                apply_items(model, rows, false);
            };
        suggest::Scorer scorer(model, options, budget, fetch);
        std::vector<suggest::Suggestion> out;
        scorer.suggest(purchases.data(), purchases.size(), segment_index, out, pg::interrupt());
        pg::pg([&] {
            chosen = static_cast<suggest::Suggestion *>(
                MemoryContextAlloc(caller, sizeof(suggest::Suggestion) * (out.size() + 1)));
        });
        std::copy(out.begin(), out.end(), chosen);
        return static_cast<int>(out.size());
    });
    SPI_finish();

    for (int i = 0; i < chosen_n; ++i) pg::put_suggestion_row(rsinfo, nullptr, 0, i + 1, chosen[i]);
    return static_cast<Datum>(0);
}
