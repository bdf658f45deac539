// Per-customer predictions of the lifetime models. The jsonb model is parsed
// once per call site: each function keeps the last model it saw (its bytes
// and the parsed core object) in fn_extra, so scoring a million customers
// against one model parses it once.
#include <cmath>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/lifetime/gamma_gamma.hpp"
#include "core/lifetime/model.hpp"
#include "core/lifetime/predict.hpp"
#include "core/lifetime/simulate.hpp"
#include "pg/common/boundary.hpp"
#include "pg/common/jsonb_text.hpp"
#include "pg/common/varlena.hpp"

extern "C" {
#include "utils/array.h"
#include "utils/tuplestore.h"
}

namespace pg = personalize::pg;
using personalize::lifetime::FitResult;
using personalize::lifetime::GammaGammaParams;
using personalize::lifetime::LifetimeCustomer;
using personalize::lifetime::TransactionModel;

namespace {

// The parsed models of one call site.
struct ModelSlot {
    std::vector<char> bytes;  // the jsonb value last parsed
    std::unique_ptr<TransactionModel> transaction;
    std::unique_ptr<FitResult> fit;
    GammaGammaParams spend{};
    std::unique_ptr<personalize::lifetime::ParameterDraws> draws;
    std::size_t draws_count = 0;
    std::uint64_t draws_seed = 0;
};
struct CallSiteCache {
    ModelSlot slots[2];
};

CallSiteCache &cache_of(FunctionCallInfo fcinfo) {
    if (fcinfo->flinfo->fn_extra == nullptr)
        fcinfo->flinfo->fn_extra = pg::make_owned(fcinfo->flinfo->fn_mcxt, [] { return new CallSiteCache(); });
    return *static_cast<CallSiteCache *>(fcinfo->flinfo->fn_extra);
}

enum class Kind { Transaction, Spend };

// Makes slot `index` hold the model in argument `argno`, parsing only when
// the bytes differ from the last call's.
ModelSlot &model_slot(FunctionCallInfo fcinfo, int argno, int index, Kind kind) {
    ModelSlot &slot = cache_of(fcinfo).slots[index];
    const varlena *value = PG_GETARG_VARLENA_PP(argno);
    const char *bytes = reinterpret_cast<const char *>(pg::varlena_bytes(value));
    const std::size_t size = pg::varlena_size(value);
    const bool same = slot.fit && slot.bytes.size() == size && std::memcmp(slot.bytes.data(), bytes, size) == 0;
    if (same) return slot;
    const char *text = pg::jsonb_to_cstring(PointerGetDatum(value));
    pg::cpp([&] {
        slot.transaction.reset();
        slot.fit.reset();
        slot.draws.reset();
        auto fit = std::make_unique<FitResult>(FitResult::from_json(text, nullptr));
        if (kind == Kind::Transaction)
            slot.transaction = personalize::lifetime::make_transaction_model(*fit);
        else
            slot.spend = GammaGammaParams::from(*fit);
        slot.fit = std::move(fit);
        slot.bytes.assign(bytes, bytes + size);
    });
    return slot;
}

const TransactionModel &transaction_model(FunctionCallInfo fcinfo, int argno) {
    return *model_slot(fcinfo, argno, 0, Kind::Transaction).transaction;
}

LifetimeCustomer customer_args(FunctionCallInfo fcinfo, int first) {
    return {PG_GETARG_FLOAT8(first), PG_GETARG_FLOAT8(first + 1), PG_GETARG_FLOAT8(first + 2)};
}

}  // namespace

// probability_alive(model, frequency, recency, age)
PERSONALIZE_FUNCTION(personalize_probability_alive) {
    const TransactionModel &model = transaction_model(fcinfo, 0);
    const LifetimeCustomer c = customer_args(fcinfo, 1);
    PG_RETURN_FLOAT8(pg::cpp([&] { return model.probability_alive(c); }));
}

// expected_purchases(model, t, frequency, recency, age)
PERSONALIZE_FUNCTION(personalize_expected_purchases) {
    const TransactionModel &model = transaction_model(fcinfo, 0);
    const double t = PG_GETARG_FLOAT8(1);
    const LifetimeCustomer c = customer_args(fcinfo, 2);
    PG_RETURN_FLOAT8(pg::cpp([&] { return model.expected_purchases(t, c); }));
}

// expected_purchases_new(model, t): a customer just acquired.
PERSONALIZE_FUNCTION(personalize_expected_purchases_new) {
    const TransactionModel &model = transaction_model(fcinfo, 0);
    const double t = PG_GETARG_FLOAT8(1);
    PG_RETURN_FLOAT8(pg::cpp([&] { return model.expected_purchases_new(t); }));
}

// probability_of_purchases(model, n, t, frequency, recency, age)
PERSONALIZE_FUNCTION(personalize_probability_of_purchases) {
    const TransactionModel &model = transaction_model(fcinfo, 0);
    const double n = PG_GETARG_INT32(1), t = PG_GETARG_FLOAT8(2);
    const LifetimeCustomer c = customer_args(fcinfo, 3);
    PG_RETURN_FLOAT8(pg::cpp([&] { return model.probability_purchases(n, t, c); }));
}

// expected_spend(spend_model, frequency, monetary): Gamma-Gamma conditional
// mean spend per purchase (the population mean for customers without repeats).
PERSONALIZE_FUNCTION(personalize_expected_spend) {
    const GammaGammaParams params = model_slot(fcinfo, 0, 0, Kind::Spend).spend;
    const double x = PG_GETARG_FLOAT8(1), m = PG_GETARG_FLOAT8(2);
    PG_RETURN_FLOAT8(pg::cpp([&] { return personalize::lifetime::gamma_gamma_expected_spend(params, x, m); }));
}

// customer_lifetime_value(model, spend_model, frequency, recency, age,
//                         monetary, periods, period_length, discount_rate)
PERSONALIZE_FUNCTION(personalize_customer_lifetime_value) {
    const TransactionModel &model = transaction_model(fcinfo, 0);
    const GammaGammaParams spend = model_slot(fcinfo, 1, 1, Kind::Spend).spend;
    const LifetimeCustomer c = customer_args(fcinfo, 2);
    const double monetary = PG_GETARG_FLOAT8(5);
    personalize::lifetime::ClvOptions options;
    options.periods = PG_GETARG_INT32(6);
    options.period_length = PG_GETARG_FLOAT8(7);
    options.discount_rate = PG_GETARG_FLOAT8(8);
    PG_RETURN_FLOAT8(pg::cpp([&] {
        options.validate();
        const double value = personalize::lifetime::gamma_gamma_expected_spend(spend, c.x, monetary);
        return personalize::lifetime::customer_lifetime_value(model, c, value, options);
    }));
}

// next_purchase_in(model, frequency, recency, age, probability): time until
// the next purchase is at least `probability` likely; Infinity for never.
PERSONALIZE_FUNCTION(personalize_next_purchase_in) {
    const TransactionModel &model = transaction_model(fcinfo, 0);
    const LifetimeCustomer c = customer_args(fcinfo, 1);
    const double probability = PG_GETARG_FLOAT8(4);
    PG_RETURN_FLOAT8(pg::cpp([&] {
        if (!(probability > 0.0 && probability < 1.0))
            personalize::throw_invalid("next_purchase_in: \"probability\" must be between 0 and 1 (exclusive)");
        return personalize::lifetime::expected_time_to_next_purchase(model, c, probability);
    }));
}

// expected_purchases_interval(model, t, frequency, recency, age, level,
// draws, seed) -> (lower, upper): parametric bootstrap over the fitted
// covariance; the draws are made once per call site.
PERSONALIZE_FUNCTION(personalize_expected_purchases_interval) {
    ModelSlot &slot = model_slot(fcinfo, 0, 0, Kind::Transaction);
    const double t = PG_GETARG_FLOAT8(1);
    const LifetimeCustomer c = customer_args(fcinfo, 2);
    const double level = PG_GETARG_FLOAT8(5);
    const int32 draws = PG_GETARG_INT32(6);
    const int64 seed = PG_GETARG_INT64(7);
    TupleDesc desc;
    if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE)
        ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED), errmsg("result must be a row type")));
    desc = BlessTupleDesc(desc);
    const personalize::lifetime::Interval interval = pg::cpp([&] {
        if (!(level > 0.0 && level < 1.0))
            personalize::throw_invalid("expected_purchases_interval: \"level\" must be between 0 and 1 (exclusive)");
        if (draws < 10 || draws > 100000)
            personalize::throw_invalid("expected_purchases_interval: \"draws\" must be between 10 and 100000");
        if (!slot.draws || slot.draws_count != static_cast<std::size_t>(draws) ||
            slot.draws_seed != static_cast<std::uint64_t>(seed)) {
            slot.draws = std::make_unique<personalize::lifetime::ParameterDraws>(
                personalize::lifetime::ParameterDraws::sample(*slot.fit, static_cast<std::size_t>(draws),
                                                    static_cast<std::uint64_t>(seed)));
            slot.draws_count = static_cast<std::size_t>(draws);
            slot.draws_seed = static_cast<std::uint64_t>(seed);
        }
        return personalize::lifetime::expected_purchases_interval(*slot.transaction, *slot.draws, t, c, level);
    });
    Datum values[2] = {Float8GetDatum(interval.lower), Float8GetDatum(interval.upper)};
    bool nulls[2] = {false, false};
    PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}

// customer_lifetime_value_interval(model, spend_model, frequency, recency,
// age, monetary, periods, period_length, discount_rate, level, draws, seed)
// -> (lower, upper): bootstrap over both models' parameter uncertainty (the
// spend model's too when it has a covariance; otherwise its value is fixed).
PERSONALIZE_FUNCTION(personalize_clv_interval) {
    ModelSlot &transaction = model_slot(fcinfo, 0, 0, Kind::Transaction);
    ModelSlot &spend = model_slot(fcinfo, 1, 1, Kind::Spend);
    const LifetimeCustomer c = customer_args(fcinfo, 2);
    const double monetary = PG_GETARG_FLOAT8(5);
    personalize::lifetime::ClvOptions options;
    options.periods = PG_GETARG_INT32(6);
    options.period_length = PG_GETARG_FLOAT8(7);
    options.discount_rate = PG_GETARG_FLOAT8(8);
    const double level = PG_GETARG_FLOAT8(9);
    const int32 draws = PG_GETARG_INT32(10);
    const int64 seed = PG_GETARG_INT64(11);
    TupleDesc desc;
    if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE)
        ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED), errmsg("result must be a row type")));
    desc = BlessTupleDesc(desc);
    const personalize::lifetime::Interval interval = pg::cpp([&] {
        options.validate();
        if (!(level > 0.0 && level < 1.0))
            personalize::throw_invalid("customer_lifetime_value_interval: \"level\" must be between 0 and 1 (exclusive)");
        if (draws < 10 || draws > 100000)
            personalize::throw_invalid("customer_lifetime_value_interval: \"draws\" must be between 10 and 100000");
        const auto n = static_cast<std::size_t>(draws);
        const auto s = static_cast<std::uint64_t>(seed);
        for (ModelSlot *slot : {&transaction, &spend}) {
            if (slot == &spend && spend.fit->covariance.empty()) continue;
            if (!slot->draws || slot->draws_count != n || slot->draws_seed != s) {
                slot->draws = std::make_unique<personalize::lifetime::ParameterDraws>(
                    personalize::lifetime::ParameterDraws::sample(*slot->fit, n, s + (slot == &spend ? 1 : 0)));
                slot->draws_count = n;
                slot->draws_seed = s;
            }
        }
        const double value = personalize::lifetime::gamma_gamma_expected_spend(spend.spend, c.x, monetary);
        std::function<double(std::size_t)> value_of_draw;
        if (spend.draws) {
            value_of_draw = [&](std::size_t i) {
                const auto &p = (*spend.draws)[i];
                return personalize::lifetime::gamma_gamma_expected_spend(GammaGammaParams{p[0], p[1], p[2]}, c.x, monetary);
            };
        }
        return personalize::lifetime::clv_interval(*transaction.transaction, *transaction.draws, c, value, value_of_draw,
                                         options, level);
    });
    Datum values[2] = {Float8GetDatum(interval.lower), Float8GetDatum(interval.upper)};
    bool nulls[2] = {false, false};
    PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}

// simulate_customers(model text, params float8[], customers, seed, age_min,
// age_max): synthetic (frequency, recency, age) drawn from BG/NBD or
// Pareto/NBD with known parameters, for tests and benchmarks.
PERSONALIZE_FUNCTION(personalize_simulate_customers) {
    const char *model = text_to_cstring(PG_GETARG_TEXT_PP(0));
    ArrayType *params_array = PG_GETARG_ARRAYTYPE_P(1);
    const int32 customers = PG_GETARG_INT32(2);
    const int64 seed = PG_GETARG_INT64(3);
    const double age_min = PG_GETARG_FLOAT8(4), age_max = PG_GETARG_FLOAT8(5);
    if (ARR_ELEMTYPE(params_array) != FLOAT8OID || ARR_NDIM(params_array) != 1 || ARR_HASNULL(params_array) ||
        ArrayGetNItems(ARR_NDIM(params_array), ARR_DIMS(params_array)) != 4)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("simulate_customers: \"params\" must be 4 numbers without NULLs")));
    const double *p = reinterpret_cast<const double *>(ARR_DATA_PTR(params_array));
    InitMaterializedSRF(fcinfo, 0);
    auto *rsinfo = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
    pg::cpp([&] {
        if (customers < 1) personalize::throw_invalid("simulate_customers: \"customers\" must be at least 1");
        if (!(age_min > 0.0 && age_max >= age_min && std::isfinite(age_max)))
            personalize::throw_invalid("simulate_customers: ages must satisfy 0 < \"age_min\" <= \"age_max\"");
        personalize::lifetime::SimulationSpec spec;
        spec.customers = static_cast<std::size_t>(customers);
        spec.seed = static_cast<std::uint64_t>(seed);
        spec.age_min = age_min;
        spec.age_max = age_max;
        const std::string name = model;
        std::vector<personalize::lifetime::SimulatedCustomer> rows;
        if (name == "bgnbd")
            rows = personalize::lifetime::simulate_bgnbd(p[0], p[1], p[2], p[3], spec);
        else if (name == "pareto_nbd")
            rows = personalize::lifetime::simulate_pareto_nbd(p[0], p[1], p[2], p[3], spec);
        else
            personalize::throw_invalid("simulate_customers: \"model\" must be bgnbd or pareto_nbd");
        for (std::size_t i = 0; i < rows.size(); ++i) {
            pg::pg([&] {
                Datum values[4] = {Int64GetDatum(static_cast<int64>(i + 1)), Float8GetDatum(rows[i].x),
                                   Float8GetDatum(rows[i].t_x), Float8GetDatum(rows[i].T)};
                bool nulls[4] = {false, false, false, false};
                tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
            });
        }
    });
    return static_cast<Datum>(0);
}
