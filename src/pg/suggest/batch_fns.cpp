// batch_suggestions(customers, history, similarities, ...): top-n for every
// customer at once (an e-mail campaign). The tables are each read once,
// streamed into C++ (pg/common/spi_scan: no materialized result, parallel plans
// allowed), and every customer is scored in one pass (core/suggest/suggestions).
#include <cmath>
#include <limits>
#include <string_view>
#include <vector>

#include "core/common/charged_vector.hpp"
#include "core/common/error.hpp"
#include "core/suggest/suggestions.hpp"
#include "pg/common/boundary.hpp"
#include "pg/common/settings.hpp"
#include "pg/common/spi_scan.hpp"
#include "pg/suggest/tables.hpp"

extern "C" {
#include "datatype/timestamp.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
}

namespace pg = personalize::pg;
namespace suggest = personalize::suggest;

namespace {

constexpr const char *kFunction = "batch_suggestions";
enum Argument { kCustomers, kHistory, kSimilarities, kN, kItems, kPopular, kCategoryCap, kHalfLife, kMinHistory };

std::string_view view_of(Datum text) {
    const pg::TextView v = pg::text_view(text);
    return {v.data, v.size};
}

}  // namespace

PERSONALIZE_FUNCTION(personalize_batch_suggestions) {
    suggest::Options options;
    pg::SuggestionTables tables;
    pg::read_suggestion_arguments(
        fcinfo, kFunction,
        {kHistory, kSimilarities, kN, kItems, kPopular, kCategoryCap, kHalfLife, kMinHistory, kCustomers}, options,
        tables);

    InitMaterializedSRF(fcinfo, 0);
    auto *rsinfo = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
    // Each customer's rows are built here, then the context is reset.
    MemoryContext rows_context = AllocSetContextCreate(CurrentMemoryContext, "batch_suggestions rows",
                                                       ALLOCSET_DEFAULT_SIZES);
    const char *similarity_query = psprintf(
        "SELECT s.item::bigint, s.neighbour::bigint, s.score::float8, s.together::float8 FROM %s s", tables.similarities);
    const char *popular_query =
        tables.popular == nullptr
            ? nullptr
            : psprintf("SELECT p.segment::text, p.item_id::bigint, p.score::float8 FROM %s p", tables.popular);
    const char *items_query =
        tables.items == nullptr
            ? nullptr
            : psprintf("SELECT i.item_id::bigint, %s, %s FROM %s i",
                       tables.items_have_category ? "i.category::text" : "NULL::text",
                       tables.items_have_rebuyable ? "i.rebuyable::boolean" : "false", tables.items);
    const char *customers_query =
        tables.customers == nullptr
            ? nullptr
            : psprintf("SELECT c.customer_id::bigint, %s FROM %s c",
                       tables.customers_have_segment ? "c.segment::text" : "NULL::text", tables.customers);
    // With a customer list, only their history is read.
    const char *history_query =
        tables.customers == nullptr
            ? psprintf("SELECT h.customer_id::bigint, h.item_id::bigint, h.bought_at::timestamptz FROM %s h",
                       tables.history)
            : psprintf("SELECT h.customer_id::bigint, h.item_id::bigint, h.bought_at::timestamptz FROM %s h "
                       "WHERE h.customer_id IN (SELECT c.customer_id FROM %s c)",
                       tables.history, tables.customers);
    SPI_connect();

    struct Stats {
        std::size_t lines, customers, peak_bytes;
    };
    const Stats stats = pg::cpp([&] {
        auto budget = pg::memory_budget();
        suggest::Model model(budget, kFunction);
        const bool own_rows_are_popularity = tables.popular == nullptr;
        auto similarity_row = [&](TupleTableSlot *slot) {
            const Datum *v = slot->tts_values;
            const bool *null = slot->tts_isnull;
            if (null[0] || null[1] || null[2]) return;  // not a usable row
            const std::int64_t item = DatumGetInt64(v[0]), neighbour = DatumGetInt64(v[1]);
            model.add_similarity(item, neighbour, DatumGetFloat8(v[2]));
            if (own_rows_are_popularity && item == neighbour && !null[3])
                model.add_popular(suggest::kNone, item, DatumGetFloat8(v[3]));
        };
        pg::pg([&] { pg::scan_rows(similarity_query, similarity_row); });
        if (popular_query != nullptr) {
            auto popular_row = [&](TupleTableSlot *slot) {
                const Datum *v = slot->tts_values;
                const bool *null = slot->tts_isnull;
                if (null[1] || null[2]) return;
                model.add_popular(null[0] ? suggest::kNone : model.segment_index(view_of(v[0])), DatumGetInt64(v[1]),
                                  DatumGetFloat8(v[2]));
            };
            pg::pg([&] { pg::scan_rows(popular_query, popular_row); });
        }
        if (items_query != nullptr) {
            auto item_row = [&](TupleTableSlot *slot) {
                const Datum *v = slot->tts_values;
                const bool *null = slot->tts_isnull;
                if (null[0]) return;
                const std::uint32_t index = model.intern(DatumGetInt64(v[0]));
                model.set_category(index, null[1] ? suggest::kNone : model.category_index(view_of(v[1])));
                model.set_rebuyable(index, !null[2] && DatumGetBool(v[2]));
            };
            pg::pg([&] { pg::scan_rows(items_query, item_row); });
        }
        model.finish(pg::interrupt());

        personalize::ChargedVector<suggest::Target> targets(budget, "batch_suggestions: customers");
        if (customers_query != nullptr) {
            auto customer_row = [&](TupleTableSlot *slot) {
                const Datum *v = slot->tts_values;
                const bool *null = slot->tts_isnull;
                if (null[0]) return;
                targets.push_back({DatumGetInt64(v[0]), null[1] ? suggest::kNone : model.find_segment(view_of(v[1]))});
            };
            pg::pg([&] { pg::scan_rows(customers_query, customer_row); });
        }
        personalize::ChargedVector<suggest::HistoryLine> lines(budget, "batch_suggestions: history");
        auto history_row = [&](TupleTableSlot *slot) {
            const Datum *v = slot->tts_values;
            const bool *null = slot->tts_isnull;
            if (null[0] || null[1]) return;
            double time = std::numeric_limits<double>::quiet_NaN();
            if (!null[2]) {
                const TimestampTz t = DatumGetTimestampTz(v[2]);
                if (TIMESTAMP_NOT_FINITE(t))
                    personalize::throw_invalid("batch_suggestions: \"history\" holds an infinite bought_at");
                time = static_cast<double>(t);
            }
            lines.push_back({DatumGetInt64(v[0]), model.intern(DatumGetInt64(v[1])), time});
        };
        pg::pg([&] {
            pg::scan_rows(history_query, history_row);
            SPI_finish();
        });

        suggest::Scorer scorer(model, options, budget);
        std::size_t customers = 0;
        suggest::suggest_all(scorer, lines, customers_query != nullptr ? &targets : nullptr, pg::interrupt(),
                             [&](std::int64_t customer, const std::vector<suggest::Suggestion> &out) {
                                 pg::pg([&] {
                                     MemoryContextReset(rows_context);
                                     MemoryContext old = MemoryContextSwitchTo(rows_context);
                                     const Datum prefix = Int64GetDatum(customer);
                                     for (std::size_t i = 0; i < out.size(); ++i)
                                         pg::put_suggestion_row(rsinfo, &prefix, 1, static_cast<int>(i + 1), out[i]);
                                     MemoryContextSwitchTo(old);
                                 });
                                 ++customers;
                             });
        return Stats{lines.size(), customers, budget.peak()};
    });
    MemoryContextDelete(rows_context);
    ereport(DEBUG1, (errmsg("batch_suggestions: %zu history lines, %zu customers, peak memory %.1f MB", stats.lines,
                            stats.customers, stats.peak_bytes / 1048576.0)));
    return static_cast<Datum>(0);
}
