// What a stored als_model answers: top-N for a customer, batch top-N,
// top-N and factors for a customer folded in from their items, one score,
// the factors as rows, and the model's header.
#include <string>
#include <vector>

#include "core/als/model.hpp"
#include "pg/als/model_cache.hpp"
#include "pg/common/arguments.hpp"
#include "pg/common/boundary.hpp"
#include "pg/common/settings.hpp"

extern "C" {
#include "utils/array.h"
#include "utils/tuplestore.h"
}

namespace pg = personalize::pg;
using personalize::als::AlsModelView;
using personalize::als::AlsScoredItem;

namespace {

// "n" must be >= 1 (a larger n than the catalogue simply returns everything);
// the error says what was given, as als_fit's do.
std::size_t top_n(const pg::Arguments &args, int argno) {
    const std::int32_t n = args.int4(argno, "n");
    if (n < 1) args.invalid("n", nullptr, "must be at least 1, not %d", n);
    return static_cast<std::size_t>(n);
}

Datum float4_array(const float *values, std::size_t count) {
    Datum *elements = static_cast<Datum *>(palloc(sizeof(Datum) * (count == 0 ? 1 : count)));
    for (std::size_t k = 0; k < count; ++k) elements[k] = Float4GetDatum(values[k]);
    return PointerGetDatum(construct_array(elements, static_cast<int>(count), FLOAT4OID, sizeof(float4), true, TYPALIGN_INT));
}

// Copies a core result into palloc'd memory, so the std::vector can die
// inside cpp(...) and rows are stored outside it.
struct RankedItems {
    AlsScoredItem *items;
    std::size_t count;
};
RankedItems to_palloc(const std::vector<AlsScoredItem> &items) {
    RankedItems out{nullptr, items.size()};
    pg::pg([&] { out.items = static_cast<AlsScoredItem *>(palloc(sizeof(AlsScoredItem) * (items.size() + 1))); });
    for (std::size_t k = 0; k < items.size(); ++k) out.items[k] = items[k];
    return out;
}

// (rank, item_id, score) rows into the SRF's tuplestore.
void put_ranked(FunctionCallInfo fcinfo, const RankedItems &r) {
    auto *rsinfo = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
    for (std::size_t k = 0; k < r.count; ++k) {
        Datum values[3] = {Int32GetDatum(static_cast<int32>(k + 1)), Int64GetDatum(r.items[k].item_id),
                           Float8GetDatum(r.items[k].score)};
        bool nulls[3] = {false, false, false};
        tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
    }
}

}  // namespace

// als_recommend(model, customer_id, n, exclude_bought) -> (rank, item_id, score);
// a customer the model does not know: no rows.
PERSONALIZE_FUNCTION(personalize_als_recommend) {
    const pg::Arguments args(fcinfo, "als_recommend");
    const std::size_t n = top_n(args, 2);
    const std::int64_t customer = args.int8(1, "customer_id");
    const bool exclude_bought = args.boolean(3, "exclude_bought");
    const pg::OpenedAlsModel model = pg::open_als_model(fcinfo, 0, false);
    InitMaterializedSRF(fcinfo, 0);
    const std::int64_t index = model.view->customer_index(customer);
    if (index < 0) return static_cast<Datum>(0);
    const RankedItems top = pg::cpp([&] {
        return to_palloc(personalize::als::als_recommend(*model.view, static_cast<std::size_t>(index), n, exclude_bought));
    });
    put_ranked(fcinfo, top);
    return static_cast<Datum>(0);
}

// als_recommend_batch(model, n, customers, exclude_bought) -> (customer_id,
// items, scores): every customer of the model (customers NULL) or the listed
// ones in their order (unknown: empty arrays; NULL elements skipped).
PERSONALIZE_FUNCTION(personalize_als_recommend_batch) {
    const pg::Arguments args(fcinfo, "als_recommend_batch");
    if (args.is_null(0)) {  // no model: no rows (an empty result set, not none)
        InitMaterializedSRF(fcinfo, 0);
        return static_cast<Datum>(0);
    }
    const std::size_t n = top_n(args, 1);
    const bool exclude_bought = args.boolean(3, "exclude_bought");
    pg::Int8Array wanted;
    const bool all = args.is_null(2);
    if (!all) wanted = args.int8_array(2, "customers");
    const pg::OpenedAlsModel model = pg::open_als_model(fcinfo, 0, false);
    InitMaterializedSRF(fcinfo, 0);
    auto *rsinfo = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
    MemoryContext row_context = AllocSetContextCreate(CurrentMemoryContext, "als_recommend_batch row", ALLOCSET_SMALL_SIZES);
    const AlsModelView &view = *model.view;
    pg::cpp([&] {
        // Known customers go to the batch; unknown ones get their empty row in order.
        std::vector<std::size_t> indices;
        std::vector<std::int64_t> ids;  // the id of each output row
        std::vector<std::int64_t> position_of;  // output row -> index in `indices`, -1 unknown
        const std::size_t rows = all ? view.customers() : wanted.count;
        for (std::size_t r = 0; r < rows; ++r) {
            const std::int64_t id = all ? view.customer_ids[r] : wanted.items[r];
            const std::int64_t index = all ? static_cast<std::int64_t>(r) : view.customer_index(id);
            ids.push_back(id);
            position_of.push_back(index < 0 ? -1 : static_cast<std::int64_t>(indices.size()));
            if (index >= 0) indices.push_back(static_cast<std::size_t>(index));
        }
        auto put_row = [&](std::int64_t id, const AlsScoredItem *items, std::size_t count) {
            pg::pg([&] {
                MemoryContext caller = MemoryContextSwitchTo(row_context);
                Datum *item_datums = static_cast<Datum *>(palloc(sizeof(Datum) * (count + 1)));
                Datum *score_datums = static_cast<Datum *>(palloc(sizeof(Datum) * (count + 1)));
                for (std::size_t k = 0; k < count; ++k) {
                    item_datums[k] = Int64GetDatum(items[k].item_id);
                    score_datums[k] = Float8GetDatum(items[k].score);
                }
                Datum values[3] = {
                    Int64GetDatum(id),
                    PointerGetDatum(construct_array(item_datums, static_cast<int>(count), INT8OID, sizeof(int64), true, TYPALIGN_DOUBLE)),
                    PointerGetDatum(construct_array(score_datums, static_cast<int>(count), FLOAT8OID, sizeof(float8), true, TYPALIGN_DOUBLE))};
                bool nulls[3] = {false, false, false};
                tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
                MemoryContextSwitchTo(caller);
                MemoryContextReset(row_context);
            });
        };
        std::size_t next_row = 0;
        auto flush_unknown = [&] {
            while (next_row < ids.size() && position_of[next_row] < 0) put_row(ids[next_row++], nullptr, 0);
        };
        personalize::MemoryBudget budget = pg::memory_budget();
        flush_unknown();
        personalize::als::als_recommend_batch(view, indices, n, exclude_bought, budget, pg::interrupt(),
                                         [&](std::size_t, const AlsScoredItem *items, std::size_t count) {
                                             put_row(ids[next_row++], items, count);
                                             flush_unknown();
                                         });
    });
    MemoryContextDelete(row_context);
    return static_cast<Datum>(0);
}

namespace {

struct FoldInput {
    pg::Int8Array items;
    pg::Float8Array strengths;
    bool has_strengths = false;
};

FoldInput read_fold_input(const pg::Arguments &args, int items_arg, int strengths_arg) {
    FoldInput in;
    in.items = args.int8_array(items_arg, "items");
    in.has_strengths = !args.is_null(strengths_arg);
    if (in.has_strengths) {
        if (in.items.nulls != 0)
            throw personalize::Error(personalize::ErrorCode::NullValue,
                                     std::string(args.function()) +
                                         ": \"items\" must not contain NULL elements when \"strengths\" are given");
        in.strengths = args.float8_array(strengths_arg, "strengths");
    }
    return in;
}

// The folded-in factors, in palloc'd memory.
struct Folded {
    float *x;
    std::size_t factors;
    std::uint32_t *known;
    std::size_t known_count;
};

Folded fold_in(const pg::OpenedAlsModel &model, const FoldInput &in, const char *function) {
    Folded out{nullptr, model.view->factors(), nullptr, 0};
    pg::cpp([&] {
        std::vector<std::uint32_t> known;
        const std::vector<float> x = personalize::als::als_fold_in(
            *model.view, model.gram, in.items.items, in.items.count, in.has_strengths ? in.strengths.values : nullptr,
            in.strengths.count, known, function);
        pg::pg([&] {
            out.x = static_cast<float *>(palloc(sizeof(float) * x.size()));
            out.known = static_cast<std::uint32_t *>(palloc(sizeof(std::uint32_t) * (known.size() + 1)));
        });
        std::copy(x.begin(), x.end(), out.x);
        std::copy(known.begin(), known.end(), out.known);
        out.known_count = known.size();
    });
    return out;
}

}  // namespace

// als_fold_in(model, items, strengths) -> real[]: a new customer's factors.
PERSONALIZE_FUNCTION(personalize_als_fold_in) {
    const pg::Arguments args(fcinfo, "als_fold_in");
    if (args.is_null(0) || args.is_null(1)) PG_RETURN_NULL();
    const FoldInput in = read_fold_input(args, 1, 2);
    const pg::OpenedAlsModel model = pg::open_als_model(fcinfo, 0, true);
    const Folded f = fold_in(model, in, "als_fold_in");
    PG_RETURN_DATUM(float4_array(f.x, f.factors));
}

// als_recommend_items(model, items, n, strengths) -> (rank, item_id, score):
// top-N for a customer folded in from `items`, leaving those items out. No
// item known to the model: no rows.
PERSONALIZE_FUNCTION(personalize_als_recommend_items) {
    const pg::Arguments args(fcinfo, "als_recommend_items");
    if (args.is_null(0) || args.is_null(1)) {
        InitMaterializedSRF(fcinfo, 0);
        return static_cast<Datum>(0);
    }
    const std::size_t n = top_n(args, 2);
    const FoldInput in = read_fold_input(args, 1, 3);
    const pg::OpenedAlsModel model = pg::open_als_model(fcinfo, 0, true);
    const Folded f = fold_in(model, in, "als_recommend_items");
    InitMaterializedSRF(fcinfo, 0);
    if (f.known_count == 0) return static_cast<Datum>(0);
    const RankedItems top = pg::cpp([&] {
        std::vector<AlsScoredItem> out;
        personalize::als::als_top_items(*model.view, f.x, f.known, f.known_count, n, out);
        return to_palloc(out);
    });
    put_ranked(fcinfo, top);
    return static_cast<Datum>(0);
}

// als_score(model, customer_id, item_id) -> x_u . y_i; NULL when either is unknown.
PERSONALIZE_FUNCTION(personalize_als_score) {
    const pg::Arguments args(fcinfo, "als_score");
    const std::int64_t customer = args.int8(1, "customer_id"), item = args.int8(2, "item_id");
    const pg::OpenedAlsModel model = pg::open_als_model(fcinfo, 0, false);
    const AlsModelView &m = *model.view;
    const std::int64_t u = m.customer_index(customer), i = m.item_index(item);
    if (u < 0 || i < 0) PG_RETURN_NULL();
    const float *x = m.customer_row(static_cast<std::size_t>(u));
    const float *y = m.item_row(static_cast<std::size_t>(i));
    float score = 0.0f;
    for (std::size_t k = 0; k < m.factors(); ++k) score += x[k] * y[k];
    PG_RETURN_FLOAT8(static_cast<double>(score));
}

namespace {

// (id, factors real[]) rows of one side of the model.
Datum factor_rows(FunctionCallInfo fcinfo, bool customers) {
    const pg::OpenedAlsModel model = pg::open_als_model(fcinfo, 0, false);
    const AlsModelView &m = *model.view;
    InitMaterializedSRF(fcinfo, 0);
    auto *rsinfo = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
    MemoryContext row_context = AllocSetContextCreate(CurrentMemoryContext, "als factor row", ALLOCSET_SMALL_SIZES);
    const std::size_t rows = customers ? m.customers() : m.items();
    for (std::size_t r = 0; r < rows; ++r) {
        if ((r & 1023) == 0) CHECK_FOR_INTERRUPTS();
        MemoryContext caller = MemoryContextSwitchTo(row_context);
        Datum values[2] = {Int64GetDatum(customers ? m.customer_ids[r] : m.item_ids[r]),
                           float4_array(customers ? m.customer_row(r) : m.item_row(r), m.factors())};
        bool nulls[2] = {false, false};
        tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
        MemoryContextSwitchTo(caller);
        MemoryContextReset(row_context);
    }
    MemoryContextDelete(row_context);
    return static_cast<Datum>(0);
}

}  // namespace

PERSONALIZE_FUNCTION(personalize_als_customer_factors) { return factor_rows(fcinfo, true); }
PERSONALIZE_FUNCTION(personalize_als_item_factors) { return factor_rows(fcinfo, false); }

// als_model_info(model): the header (read without loading the whole value).
PERSONALIZE_FUNCTION(personalize_als_model_info) {
    std::size_t total = 0;
    const personalize::als::AlsHeader h = pg::als_model_header(fcinfo, 0, &total);
    TupleDesc desc;
    if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE)
        ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED), errmsg("als_model_info: result must be a row type")));
    desc = BlessTupleDesc(desc);
    char fingerprint[17];
    snprintf(fingerprint, sizeof fingerprint, "%016llx", static_cast<unsigned long long>(h.fingerprint));
    Datum values[13] = {Int64GetDatum(static_cast<int64>(h.customers)),
                        Int64GetDatum(static_cast<int64>(h.items)),
                        Int64GetDatum(static_cast<int64>(h.interactions)),
                        Int32GetDatum(static_cast<int32>(h.factors)),
                        Int32GetDatum(static_cast<int32>(h.iterations)),
                        Float8GetDatum(h.regularization),
                        Float8GetDatum(h.alpha),
                        Int64GetDatum(h.seed),
                        CStringGetTextDatum(personalize::als::als_solver_name(h.solver)),
                        Int32GetDatum(static_cast<int32>(h.cg_steps)),
                        Float8GetDatum(h.loss),
                        Int64GetDatum(static_cast<int64>(total)),
                        CStringGetTextDatum(fingerprint)};
    bool nulls[13] = {false};
    PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}
