// Per-customer predictions of the lifetime models. The jsonb model is parsed
// once per call site: each function keeps the last model it saw (its bytes
// and the parsed core object) in fn_extra, so scoring a million customers
// against one model parses it once.
#include <cmath>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/lifetime/finite_answer.hpp"
#include "core/lifetime/gamma_gamma.hpp"
#include "core/lifetime/model.hpp"
#include "core/lifetime/predict.hpp"
#include "core/lifetime/simulate.hpp"
#include "pg/common/arguments.hpp"
#include "pg/common/boundary.hpp"
#include "pg/common/jsonb_text.hpp"
#include "pg/common/settings.hpp"
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

using personalize::lifetime::finite_answer;

// (frequency, recency, age) from three arguments from `first` on.
LifetimeCustomer customer_args(const pg::Arguments &args, int first) {
    return {args.float8(first, "frequency"), args.float8(first + 1, "recency"), args.float8(first + 2, "age")};
}

// The (periods, period_length, discount_rate) arguments from `first` on.
personalize::lifetime::ClvOptions clv_options(const pg::Arguments &args, int first) {
    personalize::lifetime::ClvOptions options;
    options.periods = args.int4(first, "periods");
    options.period_length = args.float8(first + 1, "period_length");
    options.discount_rate = args.float8(first + 2, "discount_rate");
    return options;
}

}  // namespace

// probability_alive(model, frequency, recency, age)
PERSONALIZE_FUNCTION(personalize_probability_alive) {
    const ModelSlot &model = model_slot(fcinfo, 0, 0, Kind::Transaction);
    const LifetimeCustomer c = customer_args(pg::Arguments(fcinfo, "probability_alive"), 1);
    PG_RETURN_FLOAT8(pg::cpp([&] {
        return finite_answer(model.transaction->probability_alive(c), "probability_alive", "model", *model.fit);
    }));
}

// expected_purchases(model, t, frequency, recency, age)
PERSONALIZE_FUNCTION(personalize_expected_purchases) {
    const ModelSlot &model = model_slot(fcinfo, 0, 0, Kind::Transaction);
    const pg::Arguments args(fcinfo, "expected_purchases");
    const double t = args.float8(1, "t");
    const LifetimeCustomer c = customer_args(args, 2);
    PG_RETURN_FLOAT8(pg::cpp([&] {
        return finite_answer(model.transaction->expected_purchases(t, c), "expected_purchases", "model", *model.fit);
    }));
}

// expected_purchases_new(model, t): a customer just acquired.
PERSONALIZE_FUNCTION(personalize_expected_purchases_new) {
    const ModelSlot &model = model_slot(fcinfo, 0, 0, Kind::Transaction);
    const double t = pg::Arguments(fcinfo, "expected_purchases_new").float8(1, "t");
    PG_RETURN_FLOAT8(pg::cpp([&] {
        return finite_answer(model.transaction->expected_purchases_new(t), "expected_purchases_new", "model", *model.fit);
    }));
}

// probability_of_purchases(model, n, t, frequency, recency, age)
PERSONALIZE_FUNCTION(personalize_probability_of_purchases) {
    const ModelSlot &model = model_slot(fcinfo, 0, 0, Kind::Transaction);
    const pg::Arguments args(fcinfo, "probability_of_purchases");
    const double n = args.int4(1, "n"), t = args.float8(2, "t");
    const LifetimeCustomer c = customer_args(args, 3);
    PG_RETURN_FLOAT8(pg::cpp([&] {
        return finite_answer(model.transaction->probability_purchases(n, t, c), "probability_of_purchases", "model",
                             *model.fit);
    }));
}

// expected_spend(spend_model, frequency, monetary): Gamma-Gamma conditional
// mean spend per purchase (the population mean for customers without repeats).
PERSONALIZE_FUNCTION(personalize_expected_spend) {
    const ModelSlot &model = model_slot(fcinfo, 0, 0, Kind::Spend);
    const pg::Arguments args(fcinfo, "expected_spend");
    const double x = args.float8(1, "frequency"), m = args.float8(2, "monetary");
    PG_RETURN_FLOAT8(pg::cpp([&] {
        // Infinity too is no answer: q <= 1 (the mean spend does not exist) or an overflow.
        return finite_answer(personalize::lifetime::gamma_gamma_expected_spend(model.spend, x, m), "expected_spend",
                             "spend_model", *model.fit);
    }));
}

// customer_lifetime_value(model, spend_model, frequency, recency, age,
//                         monetary, periods, period_length, discount_rate)
PERSONALIZE_FUNCTION(personalize_customer_lifetime_value) {
    const ModelSlot &model = model_slot(fcinfo, 0, 0, Kind::Transaction);
    const ModelSlot &spend = model_slot(fcinfo, 1, 1, Kind::Spend);
    const pg::Arguments args(fcinfo, "customer_lifetime_value");
    const LifetimeCustomer c = customer_args(args, 2);
    const double monetary = args.float8(5, "monetary");
    const personalize::lifetime::ClvOptions options = clv_options(args, 6);
    PG_RETURN_FLOAT8(pg::cpp([&] {
        options.validate();
        const double value = finite_answer(personalize::lifetime::gamma_gamma_expected_spend(spend.spend, c.x, monetary),
                                           "customer_lifetime_value", "spend_model", *spend.fit);
        return finite_answer(
            personalize::lifetime::customer_lifetime_value(*model.transaction, c, value, options, pg::interrupt()),
            "customer_lifetime_value", "model", *model.fit);
    }));
}

// next_purchase_in(model, frequency, recency, age, probability): time until
// the next purchase is at least `probability` likely; Infinity for never.
PERSONALIZE_FUNCTION(personalize_next_purchase_in) {
    const ModelSlot &model = model_slot(fcinfo, 0, 0, Kind::Transaction);
    const pg::Arguments args(fcinfo, "next_purchase_in");
    const LifetimeCustomer c = customer_args(args, 1);
    const double probability = args.float8(4, "probability").between_exclusive(0.0, 1.0);
    PG_RETURN_FLOAT8(pg::cpp([&] {
        return finite_answer(personalize::lifetime::expected_time_to_next_purchase(*model.transaction, c, probability),
                             "next_purchase_in", "model", *model.fit, /*infinity_allowed (never)*/ true);
    }));
}

// expected_purchases_interval(model, t, frequency, recency, age, level,
// draws, seed) -> (lower, upper): parametric bootstrap over the fitted
// covariance; the draws are made once per call site.
PERSONALIZE_FUNCTION(personalize_expected_purchases_interval) {
    ModelSlot &slot = model_slot(fcinfo, 0, 0, Kind::Transaction);
    const pg::Arguments args(fcinfo, "expected_purchases_interval");
    const double t = args.float8(1, "t");
    const LifetimeCustomer c = customer_args(args, 2);
    const double level = args.float8(5, "level").between_exclusive(0.0, 1.0);
    const std::int32_t draws = args.int4(6, "draws").between(10, 100000);
    const std::int64_t seed = args.int8(7, "seed");
    TupleDesc desc;
    if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE)
        ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED), errmsg("result must be a row type")));
    desc = BlessTupleDesc(desc);
    const personalize::lifetime::Interval interval = pg::cpp([&] {
        if (!slot.draws || slot.draws_count != static_cast<std::size_t>(draws) ||
            slot.draws_seed != static_cast<std::uint64_t>(seed)) {
            slot.draws = std::make_unique<personalize::lifetime::ParameterDraws>(
                personalize::lifetime::ParameterDraws::sample(*slot.fit, static_cast<std::size_t>(draws),
                                                    static_cast<std::uint64_t>(seed), pg::interrupt()));
            slot.draws_count = static_cast<std::size_t>(draws);
            slot.draws_seed = static_cast<std::uint64_t>(seed);
        }
        return personalize::lifetime::expected_purchases_interval(*slot.transaction, *slot.draws, t, c, level,
                                                                  pg::interrupt());
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
    const pg::Arguments args(fcinfo, "customer_lifetime_value_interval");
    const LifetimeCustomer c = customer_args(args, 2);
    const double monetary = args.float8(5, "monetary");
    const personalize::lifetime::ClvOptions options = clv_options(args, 6);
    const pg::ArgumentValue<double> level = args.float8(9, "level");
    const pg::ArgumentValue<std::int32_t> draws = args.int4(10, "draws");
    const std::int64_t seed = args.int8(11, "seed");
    TupleDesc desc;
    if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE)
        ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED), errmsg("result must be a row type")));
    desc = BlessTupleDesc(desc);
    const personalize::lifetime::Interval interval = pg::cpp([&] {
        options.validate();  // the checks in argument order
        level.between_exclusive(0.0, 1.0);
        draws.between(10, 100000);
        const auto n = static_cast<std::size_t>(draws);
        const auto s = static_cast<std::uint64_t>(seed);
        for (ModelSlot *slot : {&transaction, &spend}) {
            if (slot == &spend && spend.fit->covariance.empty()) continue;
            if (!slot->draws || slot->draws_count != n || slot->draws_seed != s) {
                slot->draws = std::make_unique<personalize::lifetime::ParameterDraws>(
                    personalize::lifetime::ParameterDraws::sample(*slot->fit, n, s + (slot == &spend ? 1 : 0),
                                                                  pg::interrupt()));
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
                                         options, level, pg::interrupt());
    });
    Datum values[2] = {Float8GetDatum(interval.lower), Float8GetDatum(interval.upper)};
    bool nulls[2] = {false, false};
    PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}

// simulate_customers(model text, params float8[], customers, seed, age_min,
// age_max): synthetic (frequency, recency, age) drawn from BG/NBD or
// Pareto/NBD with known parameters, for tests and benchmarks. Every
// argument is checked first; the rows are charged to personalize.memory_limit,
// the simulation polls for cancellation and stops (54000) past
// SimulationSpec::max_purchases purchases.
PERSONALIZE_FUNCTION(personalize_simulate_customers) {
    using personalize::lifetime::kMaxParameter;
    using personalize::lifetime::kMinParameter;
    const pg::Arguments args(fcinfo, "simulate_customers");
    const std::string_view model = args.text(0, "model");
    const bool bgnbd = model == "bgnbd";
    if (!bgnbd && model != "pareto_nbd") args.invalid("model", nullptr, "must be bgnbd or pareto_nbd");
    ArrayType *params_array = args.array(1, "params");
    if (ARR_ELEMTYPE(params_array) != FLOAT8OID || ARR_NDIM(params_array) != 1 || ARR_HASNULL(params_array) ||
        ARR_DIMS(params_array)[0] != 4)
        args.invalid("params", nullptr, "must be 4 numbers without NULLs");
    const double *p = reinterpret_cast<const double *>(ARR_DATA_PTR(params_array));
    const char *const *names =
        bgnbd ? personalize::lifetime::kBgNbdParameterNames : personalize::lifetime::kParetoNbdParameterNames;
    for (int i = 0; i < 4; ++i)
        if (!(p[i] >= kMinParameter && p[i] <= kMaxParameter))
            args.invalid("params", nullptr, "element %d (%s) must be a finite number between %g and %g, got %g", i + 1,
                         names[i], kMinParameter, kMaxParameter, p[i]);
    const std::int32_t customers = args.int4(2, "customers").at_least(1);
    const std::int64_t seed = args.int8(3, "seed");
    const double age_min = args.float8(4, "age_min"), age_max = args.float8(5, "age_max");
    if (!(age_min > 0.0 && age_min <= kMaxParameter))
        args.invalid("age_min", nullptr, "must be a finite number > 0 and at most %g, got %g", kMaxParameter, age_min);
    if (!(age_max >= age_min && age_max <= kMaxParameter))
        args.invalid("age_max", nullptr, "must be a finite number between \"age_min\" (%g) and %g, got %g", age_min,
                     kMaxParameter, age_max);
    InitMaterializedSRF(fcinfo, 0);
    auto *rsinfo = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
    pg::cpp([&] {
        personalize::MemoryBudget budget = pg::memory_budget();
        personalize::lifetime::SimulationSpec spec;
        spec.customers = static_cast<std::size_t>(customers);
        spec.seed = static_cast<std::uint64_t>(seed);
        spec.age_min = age_min;
        spec.age_max = age_max;
        spec.budget = &budget;
        spec.interrupt = pg::interrupt();
        spec.function = "simulate_customers";
        const std::vector<personalize::lifetime::SimulatedCustomer> rows =
            bgnbd ? personalize::lifetime::simulate_bgnbd(p[0], p[1], p[2], p[3], spec)
                  : personalize::lifetime::simulate_pareto_nbd(p[0], p[1], p[2], p[3], spec);
        for (std::size_t i = 0; i < rows.size(); ++i) {
            spec.interrupt.poll();
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
