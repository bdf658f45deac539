// k-means in SQL: the kmeans(features, k [, seed [, scaling [, max_iterations,
// tolerance]]]) aggregate (points collected by the transition and combine
// functions, the fit in the final function), kmeans_assign() and the
// kmeans_silhouette() aggregate.
#include <cmath>
#include <string>
#include <string_view>
#include <vector>

#include "core/kmeans/kmeans.hpp"
#include "core/kmeans/state.hpp"
#include "pg/common/aggregate_state.hpp"
#include "pg/common/arguments.hpp"
#include "pg/common/boundary.hpp"
#include "pg/common/jsonb_argument_cache.hpp"
#include "pg/common/jsonb_text.hpp"
#include "pg/common/settings.hpp"
#include "pg/common/varlena.hpp"

extern "C" {
#include "utils/array.h"
}

namespace pg = personalize::pg;
using personalize::kmeans::KMeansBuilder;
using personalize::kmeans::KMeansModel;
using personalize::kmeans::KMeansOptions;

namespace {

// The points and the options of one kmeans() group (the options come from
// every row and must agree).
using KMeansState = personalize::kmeans::KMeansFitState;

KMeansState *kmeans_state(FunctionCallInfo fcinfo, MemoryContext context) {
    if (!PG_ARGISNULL(0)) return reinterpret_cast<KMeansState *>(PG_GETARG_POINTER(0));
    return pg::make_owned(context, [] { return new KMeansState(pg::memory_budget()); });
}

const KMeansModel &cached_model(FunctionCallInfo fcinfo, int argno) {
    return *pg::parsed_jsonb_argument<pg::ParsedJsonb<KMeansModel>>(fcinfo, argno, [](const char *text) {
                return KMeansModel::from_json(text);
            }).model;
}

}  // namespace

// Rows with a NULL feature array are skipped.
PERSONALIZE_FUNCTION(personalize_kmeans_transfn) {
    MemoryContext context = pg::aggregate_context(fcinfo, "kmeans");
    const pg::Arguments args(fcinfo, "kmeans");
    if (args.is_null(1)) {
        if (PG_ARGISNULL(0)) PG_RETURN_NULL();
        PG_RETURN_POINTER(PG_GETARG_POINTER(0));
    }
    const std::int64_t k = args.int4(2, "k");
    const auto seed = static_cast<std::uint64_t>(args.int8(3, "seed", 0).value());
    const std::string_view scaling = args.text(4, "scaling", "none");
    const std::int64_t max_iterations = args.int4(5, "max_iterations", 300);
    const double tolerance = args.float8(6, "tolerance", 1e-4);
    const pg::Float8Array features = args.float8_array(1, "features");
    KMeansState *state = kmeans_state(fcinfo, context);
    pg::cpp([&] {
        state->set_options(k, seed, scaling, max_iterations, tolerance);
        state->points.add(features.values, features.count);
    });
    PG_RETURN_POINTER(state);
}

PERSONALIZE_FUNCTION(personalize_kmeans_combine) {
    return pg::combine_states<KMeansState>(fcinfo, "kmeans", kmeans_state);
}

PERSONALIZE_FUNCTION(personalize_kmeans_serialize) {
    return pg::serialize_state<KMeansState>(fcinfo, "kmeans", "partial kmeans state");
}

PERSONALIZE_FUNCTION(personalize_kmeans_deserialize) {
    return pg::deserialize_state(fcinfo, "kmeans", [](const unsigned char *data, std::size_t size) {
        return new KMeansState(KMeansState::deserialize(data, size, pg::memory_budget()));
    });
}

// Fits the model (jsonb). No rows: a NOTICE and NULL.
PERSONALIZE_FUNCTION(personalize_kmeans_final) {
    if (PG_ARGISNULL(0)) {
        ereport(NOTICE, (errmsg("kmeans: no input rows, so no model")));
        PG_RETURN_NULL();
    }
    const auto *state = reinterpret_cast<const KMeansState *>(PG_GETARG_POINTER(0));
    char *json = pg::cpp([&] {
        const std::string text = personalize::kmeans::kmeans_fit(state->points, state->options(), pg::interrupt()).to_json();
        char *copy = nullptr;
        pg::pg([&] { copy = pnstrdup(text.data(), text.size()); });
        return copy;
    });
    PG_RETURN_DATUM(pg::cstring_to_jsonb(json));
}

// kmeans_assign(features, model) -> (cluster 1..k, distance in the model's scaled space)
PERSONALIZE_FUNCTION(personalize_kmeans_assign) {
    const pg::Float8Array features = pg::Arguments(fcinfo, "kmeans_assign").float8_array(0, "features");
    const KMeansModel &model = cached_model(fcinfo, 1);
    TupleDesc desc;
    if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE)
        ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED), errmsg("kmeans_assign: result must be a row type")));
    desc = BlessTupleDesc(desc);
    const personalize::kmeans::KMeansAssignment a = pg::cpp([&] { return model.assign(features.values, features.count); });
    Datum values[2] = {Int32GetDatum(static_cast<int32>(a.cluster) + 1), Float8GetDatum(a.distance)};
    bool nulls[2] = {false, false};
    PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}

// kmeans_silhouette(model, points, sample_size, seed): mean silhouette
// coefficient of a deterministic random sample of `points`, a two-dimensional
// float8 array with one point per row (e.g. array_agg(features)).
PERSONALIZE_FUNCTION(personalize_kmeans_silhouette) {
    const pg::Arguments args(fcinfo, "kmeans_silhouette");
    const KMeansModel &model = cached_model(fcinfo, 0);
    ArrayType *points = args.array(1, "points");
    if (ARR_ELEMTYPE(points) != FLOAT8OID || ARR_NDIM(points) != 2 || ARR_HASNULL(points))
        args.invalid("points", "Collect the points with array_agg(features).",
                     "must be a two-dimensional float8 array without NULLs");
    const std::int64_t sample = args.int4(2, "sample_size").at_least(2);
    const std::int64_t seed = args.int8(3, "seed");
    const int rows = ARR_DIMS(points)[0], dim = ARR_DIMS(points)[1];
    const double *values = reinterpret_cast<const double *>(ARR_DATA_PTR(points));
    struct Result {
        bool defined;
        double value;
    };
    const Result r = pg::cpp([&] {
        KMeansBuilder builder(pg::memory_budget());
        for (int i = 0; i < rows; ++i) builder.add(values + static_cast<std::size_t>(i) * dim, static_cast<std::size_t>(dim));
        const auto s = personalize::kmeans::kmeans_silhouette(builder, model, static_cast<std::size_t>(sample),
                                                      static_cast<std::uint64_t>(seed), pg::interrupt());
        return Result{s.has_value(), s.value_or(0.0)};
    });
    if (!r.defined) PG_RETURN_NULL();
    PG_RETURN_FLOAT8(r.value);
}
