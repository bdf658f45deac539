// Fitting aggregates of the lifetime models: bgnbd_fit, pareto_nbd_fit
// (frequency, recency, age [, weight [, penalty]]) and gamma_gamma_fit
// (frequency, monetary [, weight [, penalty]]). The state is the model's
// core fit state (distinct customer tuples with their total weight); the
// final function fits and returns the model as jsonb.
#include <string>

#include "core/lifetime/bgnbd.hpp"
#include "core/lifetime/fit_state.hpp"
#include "core/lifetime/gamma_gamma.hpp"
#include "core/lifetime/pareto_nbd.hpp"
#include "pg/common/aggregate_state.hpp"
#include "pg/common/arguments.hpp"
#include "pg/common/boundary.hpp"
#include "pg/common/jsonb_text.hpp"
#include "pg/common/varlena.hpp"

namespace pg = personalize::pg;
using personalize::lifetime::FitOptions;

namespace {

// The options of a fit travel with the state; every row must agree.
template <typename Core>
using FitState = personalize::lifetime::PenalizedFitState<Core>;

using BgNbdState = FitState<personalize::lifetime::BgNbdFitState>;
using ParetoState = FitState<personalize::lifetime::ParetoNbdFitState>;
using SpendState = FitState<personalize::lifetime::GammaGammaFitState>;

template <typename State>
State *state_of(FunctionCallInfo fcinfo, MemoryContext context) {
    if (!PG_ARGISNULL(0)) return reinterpret_cast<State *>(PG_GETARG_POINTER(0));
    return pg::make_owned(context, [] { return new State(); });
}

// Transition for (frequency, recency, age [, weight [, penalty]]). Rows with a
// NULL frequency, recency or age are skipped.
template <typename State>
Datum transaction_transfn(FunctionCallInfo fcinfo, const char *function) {
    MemoryContext context = pg::aggregate_context(fcinfo, function);
    const pg::Arguments args(fcinfo, function);
    if (args.is_null(1) || args.is_null(2) || args.is_null(3)) {
        if (PG_ARGISNULL(0)) PG_RETURN_NULL();
        PG_RETURN_POINTER(PG_GETARG_POINTER(0));
    }
    const double x = args.float8(1, "frequency"), t_x = args.float8(2, "recency"), T = args.float8(3, "age");
    const double w = args.float8(4, "weight", 1.0);
    const double penalty = args.float8(5, "penalty", 0.0).finite_at_least(0.0);
    State *state = state_of<State>(fcinfo, context);
    pg::cpp([&] {
        state->set_penalty(penalty, function);
        state->core.add(x, t_x, T, w);
    });
    PG_RETURN_POINTER(state);
}

template <typename State>
Datum fit_combine(FunctionCallInfo fcinfo, const char *function) {
    return pg::combine_states<State>(fcinfo, function, state_of<State>,
                                     [function](State &into, const State &from) { into.merge(from, function); });
}

template <typename State>
Datum fit_serialize(FunctionCallInfo fcinfo, const char *function) {
    return pg::serialize_state<State>(fcinfo, function, "lifetime fit state");
}

template <typename State>
Datum fit_deserialize(FunctionCallInfo fcinfo, const char *function) {
    return pg::deserialize_state(fcinfo, function, [function](const unsigned char *data, std::size_t size) {
        return new State(State::deserialize(data, size, function));
    });
}

// Fits and returns the model as jsonb (converged or not: the JSON says so).
template <typename State>
Datum fit_final(FunctionCallInfo fcinfo) {
    const auto *state = reinterpret_cast<const State *>(PG_GETARG_POINTER(0));
    char *json = pg::cpp([&] {
        FitOptions options;
        options.penalty = state->penalty;
        const std::string text = state->core.fit(options, pg::interrupt()).to_json();
        char *copy = nullptr;
        pg::pg([&] { copy = pnstrdup(text.data(), text.size()); });
        return copy;
    });
    PG_RETURN_DATUM(pg::cstring_to_jsonb(json));
}

}  // namespace

PERSONALIZE_FUNCTION(personalize_bgnbd_transfn) { return transaction_transfn<BgNbdState>(fcinfo, "bgnbd_fit"); }
PERSONALIZE_FUNCTION(personalize_bgnbd_combine) { return fit_combine<BgNbdState>(fcinfo, "bgnbd_fit"); }
PERSONALIZE_FUNCTION(personalize_bgnbd_serialize) { return fit_serialize<BgNbdState>(fcinfo, "bgnbd_fit"); }
PERSONALIZE_FUNCTION(personalize_bgnbd_deserialize) { return fit_deserialize<BgNbdState>(fcinfo, "bgnbd_fit"); }
PERSONALIZE_FUNCTION(personalize_bgnbd_final) { return fit_final<BgNbdState>(fcinfo); }

PERSONALIZE_FUNCTION(personalize_pareto_nbd_transfn) {
    return transaction_transfn<ParetoState>(fcinfo, "pareto_nbd_fit");
}
PERSONALIZE_FUNCTION(personalize_pareto_nbd_combine) { return fit_combine<ParetoState>(fcinfo, "pareto_nbd_fit"); }
PERSONALIZE_FUNCTION(personalize_pareto_nbd_serialize) {
    return fit_serialize<ParetoState>(fcinfo, "pareto_nbd_fit");
}
PERSONALIZE_FUNCTION(personalize_pareto_nbd_deserialize) {
    return fit_deserialize<ParetoState>(fcinfo, "pareto_nbd_fit");
}
PERSONALIZE_FUNCTION(personalize_pareto_nbd_final) { return fit_final<ParetoState>(fcinfo); }

// gamma_gamma_fit(frequency, monetary [, weight [, penalty]]): customers with
// no repeat purchase (or a non-positive monetary value) are counted as
// ignored, as the model is defined on repeat buyers.
PERSONALIZE_FUNCTION(personalize_gamma_gamma_transfn) {
    const char *function = "gamma_gamma_fit";
    MemoryContext context = pg::aggregate_context(fcinfo, function);
    const pg::Arguments args(fcinfo, function);
    if (args.is_null(1) || args.is_null(2)) {
        if (PG_ARGISNULL(0)) PG_RETURN_NULL();
        PG_RETURN_POINTER(PG_GETARG_POINTER(0));
    }
    const double x = args.float8(1, "frequency"), m = args.float8(2, "monetary");
    const double w = args.float8(3, "weight", 1.0);
    const double penalty = args.float8(4, "penalty", 0.0).finite_at_least(0.0);
    SpendState *state = state_of<SpendState>(fcinfo, context);
    pg::cpp([&] {
        state->set_penalty(penalty, function);
        state->core.add(x, m, w);
    });
    PG_RETURN_POINTER(state);
}
PERSONALIZE_FUNCTION(personalize_gamma_gamma_combine) { return fit_combine<SpendState>(fcinfo, "gamma_gamma_fit"); }
PERSONALIZE_FUNCTION(personalize_gamma_gamma_serialize) {
    return fit_serialize<SpendState>(fcinfo, "gamma_gamma_fit");
}
PERSONALIZE_FUNCTION(personalize_gamma_gamma_deserialize) {
    return fit_deserialize<SpendState>(fcinfo, "gamma_gamma_fit");
}
PERSONALIZE_FUNCTION(personalize_gamma_gamma_final) { return fit_final<SpendState>(fcinfo); }
