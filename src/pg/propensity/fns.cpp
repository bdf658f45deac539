// Purchase propensity in SQL: the logistic_fit(label, features [, l2 [,
// feature_names [, max_iterations, tolerance]]]) aggregate (rows collected
// by the transition and combine functions, Newton's method in the final
// function), logistic_score(model, features) and the auc(score, label)
// aggregate.
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "core/propensity/auc.hpp"
#include "core/propensity/logistic_regression.hpp"
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
using personalize::propensity::AucCollector;
using personalize::propensity::LogisticCollector;
using personalize::propensity::LogisticModel;
using personalize::propensity::LogisticOptions;

namespace {

struct LogisticState : personalize::propensity::LogisticFitState {
    using LogisticFitState::LogisticFitState;
    // This process's first row's raw names argument, so later rows compare
    // bytes instead of parsing (not serialized: each worker sets its own).
    bool raw_known = false;
    bool raw_given = false;
    std::string raw_names;
};

LogisticState *logistic_state(FunctionCallInfo fcinfo, MemoryContext context) {
    if (!PG_ARGISNULL(0)) return reinterpret_cast<LogisticState *>(PG_GETARG_POINTER(0));
    return pg::make_owned(context, [] { return new LogisticState(pg::memory_budget()); });
}

// The names of a text[] argument; PostgreSQL code (call outside cpp).
std::vector<std::string> *read_names(const pg::Arguments &args, int argno) {
    const char *name = "feature_names";
    ArrayType *array = args.array(argno, name);
    if (ARR_NDIM(array) > 1) args.invalid(name, nullptr, "must be a one-dimensional array");
    Datum *values;
    bool *nulls;
    int count;
    deconstruct_array(array, TEXTOID, -1, false, TYPALIGN_INT, &values, &nulls, &count);
    for (int i = 0; i < count; ++i)
        if (nulls[i]) pg::throw_null_elements(args.function(), name);
    char **texts = static_cast<char **>(palloc(sizeof(char *) * (count + 1)));
    for (int i = 0; i < count; ++i) texts[i] = text_to_cstring(DatumGetTextPP(values[i]));
    return pg::cpp([&] {
        auto *names = new std::vector<std::string>();
        for (int i = 0; i < count; ++i) names->emplace_back(texts[i]);
        return names;
    });
}

}  // namespace

// Rows with a NULL label or features are skipped.
PERSONALIZE_FUNCTION(personalize_logistic_fit_transfn) {
    MemoryContext context = pg::aggregate_context(fcinfo, "logistic_fit");
    const pg::Arguments args(fcinfo, "logistic_fit");
    LogisticOptions o;  // a NULL option is an error on skipped rows too
    o.l2 = args.float8(3, "l2", o.l2);
    o.max_iterations = args.int4(5, "max_iterations", static_cast<std::int32_t>(o.max_iterations));
    o.tolerance = args.float8(6, "tolerance", o.tolerance);
    if (args.is_null(1) || args.is_null(2)) {
        if (PG_ARGISNULL(0)) PG_RETURN_NULL();
        PG_RETURN_POINTER(PG_GETARG_POINTER(0));
    }
    const bool label = args.boolean(1, "label");
    const pg::Float8Array features = args.float8_array(2, "features");
    LogisticState *state = logistic_state(fcinfo, context);
    // Names: compared by their raw bytes after the first row.
    const bool names_given = args.given(4);
    const varlena *raw = names_given ? args.packed(4, "feature_names") : nullptr;
    const char *raw_bytes = raw != nullptr ? reinterpret_cast<const char *>(pg::varlena_bytes(raw)) : "";
    const std::size_t raw_size = raw != nullptr ? pg::varlena_size(raw) : 0;
    const bool same_bytes = state->raw_known && state->raw_given == names_given && state->raw_names.size() == raw_size &&
                            std::memcmp(state->raw_names.data(), raw_bytes, raw_size) == 0;
    std::vector<std::string> *parsed = nullptr;
    if (!same_bytes && names_given) parsed = read_names(args, 4);
    pg::cpp([&] {
        std::unique_ptr<std::vector<std::string>> owned(parsed);
        state->set_options(o);
        if (!same_bytes) {
            state->set_names(owned ? *owned : std::vector<std::string>());
            state->raw_names.assign(raw_bytes, raw_size);
            state->raw_given = names_given;
            state->raw_known = true;
        }
        state->rows.add(label, features.values, features.count);
    });
    PG_RETURN_POINTER(state);
}

PERSONALIZE_FUNCTION(personalize_logistic_fit_combine) {
    return pg::combine_states<LogisticState>(fcinfo, "logistic_fit", logistic_state,
                                             [](LogisticState &into, const LogisticState &from) {
                                                 if (from.has_options) into.set_options(from.options);
                                                 if (from.has_names) into.set_names(from.names);
                                                 into.rows.merge(from.rows);
                                             });
}

PERSONALIZE_FUNCTION(personalize_logistic_fit_serialize) {
    return pg::serialize_state<LogisticState>(fcinfo, "logistic_fit", "partial logistic_fit state");
}

PERSONALIZE_FUNCTION(personalize_logistic_fit_deserialize) {
    return pg::deserialize_state_in_place(fcinfo, "logistic_fit", [] { return new LogisticState(pg::memory_budget()); });
}

// The model as jsonb; no (non-NULL) rows: NULL. A fit that did not converge
// still returns its model ("converged": false, "warning") and a WARNING.
PERSONALIZE_FUNCTION(personalize_logistic_fit_final) {
    if (PG_ARGISNULL(0)) PG_RETURN_NULL();
    auto *state = reinterpret_cast<LogisticState *>(PG_GETARG_POINTER(0));
    if (state->rows.empty()) PG_RETURN_NULL();
    struct Result {
        char *json;
        char *warning;  // nullptr when converged
    };
    const Result r = pg::cpp([&] {
        const LogisticModel m = personalize::propensity::logistic_fit(state->rows, state->options, state->names, pg::interrupt());
        const std::string text = m.to_json();
        const std::string warning = m.converged ? std::string() : "logistic_fit: did not converge after " +
                                                                      std::to_string(m.iterations) + " iterations: " + m.warning;
        Result out{nullptr, nullptr};
        pg::pg([&] {
            out.json = pnstrdup(text.data(), text.size());
            if (!warning.empty()) out.warning = pstrdup(warning.c_str());
        });
        return out;
    });
    if (r.warning != nullptr) ereport(WARNING, (errmsg("%s", r.warning)));
    PG_RETURN_DATUM(pg::cstring_to_jsonb(r.json));
}

namespace {

const LogisticModel &cached_model(FunctionCallInfo fcinfo, int argno) {
    return *pg::parsed_jsonb_argument<pg::ParsedJsonb<LogisticModel>>(fcinfo, argno, [](const char *text) {
                return LogisticModel::from_json(text, "logistic_score");
            }).model;
}

}  // namespace

// logistic_score(model, features) -> P(label = true | features).
PERSONALIZE_FUNCTION(personalize_logistic_score) {
    const LogisticModel &model = cached_model(fcinfo, 0);
    const pg::Float8Array features = pg::Arguments(fcinfo, "logistic_score").float8_array(1, "features");
    const double p = pg::cpp([&] { return model.probability(features.values, features.count, "logistic_score"); });
    PG_RETURN_FLOAT8(p);
}

// ---- auc(score, label) ----------------------------------------------------------

namespace {

AucCollector *auc_state(FunctionCallInfo fcinfo, MemoryContext context) {
    if (!PG_ARGISNULL(0)) return reinterpret_cast<AucCollector *>(PG_GETARG_POINTER(0));
    return pg::make_owned(context, [] { return new AucCollector(pg::memory_budget()); });
}

}  // namespace

// Rows with a NULL score or label are skipped.
PERSONALIZE_FUNCTION(personalize_auc_transfn) {
    MemoryContext context = pg::aggregate_context(fcinfo, "auc");
    const pg::Arguments args(fcinfo, "auc");
    if (args.is_null(1) || args.is_null(2)) {
        if (PG_ARGISNULL(0)) PG_RETURN_NULL();
        PG_RETURN_POINTER(PG_GETARG_POINTER(0));
    }
    const double score = args.float8(1, "score");
    const bool label = args.boolean(2, "label");
    AucCollector *state = auc_state(fcinfo, context);
    pg::cpp([&] { state->add(score, label); });
    PG_RETURN_POINTER(state);
}

PERSONALIZE_FUNCTION(personalize_auc_combine) {
    return pg::combine_states<AucCollector>(fcinfo, "auc", auc_state);
}

PERSONALIZE_FUNCTION(personalize_auc_serialize) {
    return pg::serialize_state<AucCollector>(fcinfo, "auc", "partial auc state");
}

PERSONALIZE_FUNCTION(personalize_auc_deserialize) {
    return pg::deserialize_state_in_place(fcinfo, "auc", [] { return new AucCollector(pg::memory_budget()); });
}

// NULL without at least one true and one false label.
PERSONALIZE_FUNCTION(personalize_auc_final) {
    if (PG_ARGISNULL(0)) PG_RETURN_NULL();
    auto *state = reinterpret_cast<AucCollector *>(PG_GETARG_POINTER(0));
    struct Result {
        bool defined;
        double value;
    };
    const Result r = pg::cpp([&] {
        const std::optional<double> a = state->auc(pg::interrupt());
        return Result{a.has_value(), a.value_or(0.0)};
    });
    if (!r.defined) PG_RETURN_NULL();
    PG_RETURN_FLOAT8(r.value);
}
