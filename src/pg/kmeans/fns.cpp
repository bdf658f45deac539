// k-means in SQL: the kmeans(features, k [, seed [, scaling [, max_iterations,
// tolerance]]]) aggregate (points collected by the transition and combine
// functions, the fit in the final function), kmeans_assign() and the
// kmeans_silhouette() aggregate.
#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/same_for_every_row.hpp"
#include "core/kmeans/kmeans.hpp"
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

// One row's options, as read from its arguments (scaling not copied).
struct RowOptions {
    std::int64_t k;
    std::uint64_t seed;
    std::string_view scaling;
    std::int64_t max_iterations;
    double tolerance;
};

// The points and the options of one kmeans() group. The options come from
// every row and must agree.
struct KMeansState {
    KMeansBuilder points{pg::memory_budget()};
    bool has_options = false;
    std::int64_t k = 0;
    std::uint64_t seed = 0;
    std::string scaling = "none";
    std::int64_t max_iterations = 300;
    double tolerance = 1e-4;

    void set_options(const RowOptions &row) {
        personalize::same_for_every_row(
            has_options, "kmeans",
            [&] {
                k = row.k, seed = row.seed, scaling = row.scaling, max_iterations = row.max_iterations;
                tolerance = row.tolerance;
                options().validate();
            },
            {{"k", row.k == k},
             {"seed", row.seed == seed},
             {"scaling", row.scaling == scaling},
             {"max_iterations", row.max_iterations == max_iterations},
             {"tolerance", row.tolerance == tolerance}});
    }
    KMeansOptions options() const {
        KMeansOptions o;
        o.k = k;
        o.seed = seed;
        o.max_iterations = max_iterations;
        o.tolerance = tolerance;
        // "zscore" for all features, or one kind per feature: "log1p_zscore,zscore,none".
        std::size_t start = 0;
        while (start <= scaling.size()) {
            const std::size_t comma = scaling.find(',', start);
            const std::string part = scaling.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
            std::size_t b = part.find_first_not_of(' '), e = part.find_last_not_of(' ');
            o.scaling.push_back(personalize::kmeans::parse_kmeans_scaling(b == std::string::npos ? "" : part.substr(b, e - b + 1)));
            if (comma == std::string::npos) break;
            start = comma + 1;
        }
        return o;
    }
    void merge(const KMeansState &other) {
        if (other.has_options)
            set_options({other.k, other.seed, other.scaling, other.max_iterations, other.tolerance});
        points.merge(other.points);
    }
    // Options header, then the points.
    std::size_t serialized_size() const { return 1 + 3 * 8 + sizeof(double) + 4 + scaling.size() + points.serialized_size(); }
    void serialize(unsigned char *out, std::size_t size) const {
        unsigned char *p = out;
        *p++ = has_options ? 1 : 0;
        std::memcpy(p, &k, 8), p += 8;
        std::memcpy(p, &seed, 8), p += 8;
        std::memcpy(p, &max_iterations, 8), p += 8;
        std::memcpy(p, &tolerance, sizeof(double)), p += sizeof(double);
        const auto n = static_cast<std::uint32_t>(scaling.size());
        std::memcpy(p, &n, 4), p += 4;
        std::memcpy(p, scaling.data(), n), p += n;
        points.serialize(p, size - static_cast<std::size_t>(p - out));
    }
    static KMeansState *deserialize(const unsigned char *data, std::size_t size) {
        const std::size_t header = 1 + 3 * 8 + sizeof(double) + 4;
        if (size < header) throw personalize::Error(personalize::ErrorCode::DataCorrupted, "kmeans: serialized state is corrupted");
        std::uint32_t n;
        std::memcpy(&n, data + header - 4, 4);
        if (size - header < n) throw personalize::Error(personalize::ErrorCode::DataCorrupted, "kmeans: serialized state is corrupted");
        auto state = std::make_unique<KMeansState>();
        const unsigned char *p = data;
        state->has_options = *p++ != 0;
        std::memcpy(&state->k, p, 8), p += 8;
        std::memcpy(&state->seed, p, 8), p += 8;
        std::memcpy(&state->max_iterations, p, 8), p += 8;
        std::memcpy(&state->tolerance, p, sizeof(double)), p += sizeof(double);
        p += 4;
        state->scaling.assign(reinterpret_cast<const char *>(p), n), p += n;
        state->points = KMeansBuilder::deserialize(p, size - header - n, pg::memory_budget());
        return state.release();
    }
};

KMeansState *kmeans_state(FunctionCallInfo fcinfo, MemoryContext context) {
    if (!PG_ARGISNULL(0)) return reinterpret_cast<KMeansState *>(PG_GETARG_POINTER(0));
    return pg::make_owned(context, [] { return new KMeansState(); });
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
    const RowOptions row{args.int4(2, "k"), static_cast<std::uint64_t>(args.int8(3, "seed", 0).value()),
                         args.text(4, "scaling", "none"), args.int4(5, "max_iterations", 300),
                         args.float8(6, "tolerance", 1e-4)};
    const pg::Float8Array features = args.float8_array(1, "features");
    KMeansState *state = kmeans_state(fcinfo, context);
    pg::cpp([&] {
        state->set_options(row);
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
    return pg::deserialize_state(fcinfo, "kmeans", KMeansState::deserialize);
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
