// decide_offer(customer_id, cart, session, channel, max_offers): the online
// decision. One call: build the context from the configured history tables
// (one prepared query), read the active offers (prepared), evaluate their
// rules in C++, draw holdouts, lock the customer and count frequency caps
// when a capped offer is eligible, choose by priority and stacking
// (core/offers/selection), log what was taken in offer_log and return the
// offers to show. Every query is prepared once per backend (SPI plan cache).
#include <cstring>
#include <string>
#include <vector>

#include "core/rules/rules.hpp"
#include "core/offers/selection.hpp"
#include "pg/common/arguments.hpp"
#include "pg/common/boundary.hpp"
#include "pg/rules/context_jsonb.hpp"
#include "pg/offers/catalogue.hpp"
#include "pg/offers/context.hpp"
#include "pg/common/spi_plan.hpp"
#include "pg/common/srf.hpp"

extern "C" {
#include "access/xact.h"
#include "executor/spi.h"
#include "utils/guc.h"
#include "utils/tuplestore.h"
}

namespace pg = personalize::pg;
namespace rules = personalize::rules;
namespace offers = personalize::offers;

namespace {

// The context query of the configured tables, re-prepared when the
// configuration or one of its tables' definitions changes (the key: the
// configuration row and the tables' pg_class row versions).
struct ContextPlan {
    char *key = nullptr;  // in TopMemoryContext
    SPIPlanPtr plan = nullptr;
};
ContextPlan context_plan;

SPIPlanPtr context_query_plan() {
    static SPIPlanPtr config = nullptr;
    if (config == nullptr)
        config = pg::prepare_kept_plan("a decide_offer query", 
            "SELECT s.xmin::text || '/' || s.currency || '/' || coalesce((SELECT string_agg(c.oid::text || ':' || c.xmin::text, ',' "
            "ORDER BY c.oid) FROM pg_catalog.pg_class c WHERE c.oid IN (s.orders, s.customers, s.features)), '') "
            "FROM personalize.offer_context_source s",
            0, nullptr);
    if (SPI_execute_plan(config, nullptr, nullptr, false, 1) != SPI_OK_SELECT)
        ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("decide_offer: could not read offer_context_source")));
    if (SPI_processed == 0)
        ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                        errmsg("decide_offer: no offer context source is configured"),
                        errhint("Call personalize.configure_offer_context(orders => ...) first.")));
    const char *key = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
    if (context_plan.plan != nullptr && std::strcmp(context_plan.key, key) == 0) return context_plan.plan;

    if (SPI_execute("SELECT personalize.offer_context_query(true)", false, 1) != SPI_OK_SELECT || SPI_processed != 1)
        ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("decide_offer: could not build the context query")));
    const char *query = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
    Oid types[3] = {INT8OID, JSONBOID, JSONBOID};
    SPIPlanPtr plan = pg::prepare_kept_plan("a decide_offer query", query, 3, types);
    if (context_plan.plan != nullptr) SPI_freeplan(context_plan.plan);
    if (context_plan.key != nullptr) pfree(context_plan.key);
    context_plan.plan = plan;
    context_plan.key = MemoryContextStrdup(TopMemoryContext, key);
    return plan;
}

// The customer's context as jsonb, copied into `into`.
Jsonb *build_context(std::int64_t customer_id, Jsonb *cart, Jsonb *session, MemoryContext into) {
    SPIPlanPtr plan = context_query_plan();
    Datum args[3] = {Int64GetDatum(customer_id), JsonbPGetDatum(cart), JsonbPGetDatum(session)};
    // Two rows: the configured customers or features table holds the
    // customer twice (a view with a join, no key); picking one would decide
    // on an arbitrary row.
    if (SPI_execute_plan(plan, args, nullptr, false, 2) != SPI_OK_SELECT || SPI_processed == 0)
        ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("decide_offer: the context query returned no row")));
    if (SPI_processed > 1)
        ereport(ERROR, (errcode(ERRCODE_CARDINALITY_VIOLATION),
                        errmsg("decide_offer: customer %lld has more than one row in the configured customers or "
                               "features table", static_cast<long long>(customer_id)),
                        errhint("customer_id must be unique in the tables configure_offer_context() named.")));
    bool isnull;
    Datum d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
    if (isnull) ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("decide_offer: the context query returned NULL")));
    MemoryContext old = MemoryContextSwitchTo(into);
    Jsonb *copy = DatumGetJsonbPCopy(d);
    MemoryContextSwitchTo(old);
    return copy;
}

// Takes the customer's row lock (until the transaction ends) so concurrent
// decisions for one customer count the caps one after the other. Under
// REPEATABLE READ or SERIALIZABLE a concurrent decision makes this fail
// with a serialization error (retry), never exceed a cap.
void lock_customer(std::int64_t customer_id, TimestampTz now) {
    static SPIPlanPtr plan = nullptr;
    if (plan == nullptr) {
        Oid types[2] = {INT8OID, TIMESTAMPTZOID};
        plan = pg::prepare_kept_plan("a decide_offer query", "INSERT INTO personalize.offer_customer_lock AS l (customer_id, decisions, last_decided_at) "
                            "VALUES ($1, 1, $2) ON CONFLICT (customer_id) DO UPDATE "
                            "SET decisions = l.decisions + 1, last_decided_at = excluded.last_decided_at",
                            2, types);
    }
    Datum args[2] = {Int64GetDatum(customer_id), TimestampTzGetDatum(now)};
    if (SPI_execute_plan(plan, args, nullptr, false, 0) != SPI_OK_INSERT)
        ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("decide_offer: could not lock the customer")));
}

std::int64_t log_decision(TimestampTz now, std::int64_t customer_id, const pg::OfferRow &offer, const char *channel,
                          bool holdout, const char *session_id, const char *reason) {
    static SPIPlanPtr plan = nullptr;
    if (plan == nullptr) {
        Oid types[8] = {TIMESTAMPTZOID, INT8OID, TEXTOID, TEXTOID, TEXTOID, BOOLOID, TEXTOID, TEXTOID};
        plan = pg::prepare_kept_plan("a decide_offer query", "INSERT INTO personalize.offer_log (decided_at, customer_id, offer_key, experiment_key, "
                            "channel, holdout, session_id, reason) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
                            "RETURNING decision_id",
                            8, types);
    }
    Datum args[8] = {TimestampTzGetDatum(now),
                     Int64GetDatum(customer_id),
                     CStringGetTextDatum(offer.key),
                     CStringGetTextDatum(offer.experiment_key),
                     CStringGetTextDatum(channel),
                     BoolGetDatum(holdout),
                     session_id ? CStringGetTextDatum(session_id) : 0,
                     CStringGetTextDatum(reason)};
    const char nulls[8] = {' ', ' ', ' ', ' ', ' ', ' ', session_id ? ' ' : 'n', ' '};
    if (SPI_execute_plan(plan, args, nulls, false, 1) != SPI_OK_INSERT_RETURNING || SPI_processed != 1)
        ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("decide_offer: could not write offer_log")));
    bool isnull;
    return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

// session.id (a string or a number) for the log, else nullptr.
char *session_id_of(Jsonb *session) {
    JsonbValue *v = getKeyJsonValueFromContainer(&session->root, "id", 2, nullptr);
    if (v == nullptr) return nullptr;
    if (v->type == jbvString) return pnstrdup(v->val.string.val, v->val.string.len);
    if (v->type == jbvNumeric) return DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(v->val.numeric)));
    return nullptr;
}

// A jsonb object argument; NULL is the empty object.
Jsonb *object_argument(const pg::Arguments &args, int argno, const char *name) {
    if (args.is_null(argno)) return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum("{}")));
    return args.jsonb_object(argno, name);
}

}  // namespace

PERSONALIZE_FUNCTION(personalize_decide_offer) {
    // Called per row of a distributed table, Citus runs the call on a worker
    // (its connections there are named "citus_internal gpid=..."): the caps
    // would be counted and the decision logged on that node alone, so a
    // capped customer could get the offer again through another.
    if (application_name != nullptr && std::strncmp(application_name, "citus_internal gpid=", 20) == 0)
        ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED), errmsg("decide_offer cannot run on a Citus worker"),
                        errdetail("It was called inside a query that Citus pushed down to a worker, e.g. per row of a "
                                  "distributed table; caps and the log need every decision of the customer."),
                        errhint("Call decide_offer on the coordinator, one customer per call (docs/distributed.md).")));
    const pg::Arguments args(fcinfo, "decide_offer");
    const std::int64_t customer_id = args.int8(0, "customer_id");
    const char *channel_name = args.cstring(3, "channel");
    const std::int32_t max_offers = args.int4(4, "max_offers");
    Jsonb *cart = object_argument(args, 1, "cart");
    Jsonb *session = object_argument(args, 2, "session");
    const std::uint32_t channel = pg::require_channel("decide_offer", channel_name);
    if (max_offers < 0) args.invalid("max_offers", nullptr, "must be 0 (no limit) or more, got %d", max_offers);
    const TimestampTz now = GetCurrentStatementStartTimestamp();
    const char *session_id = session_id_of(session);
    MemoryContext caller = CurrentMemoryContext;

    SPI_connect();
    Jsonb *context = build_context(customer_id, cart, session, caller);
    const pg::OfferCatalogue catalogue = pg::load_offers(caller, nullptr);
    const int n = catalogue.count;
    auto *eligible = static_cast<bool *>(MemoryContextAllocZero(caller, sizeof(bool) * (n + 1)));
    auto *reasons = static_cast<char **>(MemoryContextAllocZero(caller, sizeof(char *) * (n + 1)));
    auto *held_out = static_cast<bool *>(MemoryContextAllocZero(caller, sizeof(bool) * (n + 1)));
    auto *over_cap = static_cast<bool *>(MemoryContextAllocZero(caller, sizeof(bool) * (n + 1)));
    auto *outcome = static_cast<offers::Outcome *>(MemoryContextAllocZero(caller, sizeof(offers::Outcome) * (n + 1)));
    auto *decision = static_cast<std::int64_t *>(MemoryContextAllocZero(caller, sizeof(std::int64_t) * (n + 1)));
    for (int i = 0; i < n; ++i)
        eligible[i] = (catalogue.rows[i].channels & channel) != 0 && pg::offer_valid_at(catalogue.rows[i], now);

    const personalize::ContextTree tree = pg::jsonb_context_tree(context);
    char cart_currency[4];
    const bool has_cart_currency = pg::context_cart_currency(context, cart_currency);
    const bool any_capped = pg::cpp([&] {
        std::vector<rules::RulePtr> compiled;
        pg::compile_offer_rules(catalogue, compiled, "decide_offer");
        rules::Evaluator evaluator(tree, pg::unix_micros(now));
        // The reasons outlive SPI_finish() (they are returned): allocate
        // them in the caller's context, not SPI's.
        const MemoryContext spi = MemoryContextSwitchTo(caller);
        pg::evaluate_offers(catalogue, compiled, evaluator, eligible, reasons, "decide_offer");
        MemoryContextSwitchTo(spi);
        pg::drop_rewards_in_other_currencies(catalogue, has_cart_currency ? cart_currency : nullptr, eligible,
                                             "decide_offer");
        bool capped = false;
        for (int i = 0; i < n; ++i) {
            if (!eligible[i]) continue;
            const pg::OfferRow &o = catalogue.rows[i];
            held_out[i] = o.holdout_share > 0.0 && offers::holdout_draw(customer_id, o.experiment_key) < o.holdout_share;
            capped |= o.has_cap;
        }
        return capped;
    });
    if (any_capped) {
        lock_customer(customer_id, now);
        for (int i = 0; i < n; ++i)
            if (eligible[i] && catalogue.rows[i].has_cap)
                over_cap[i] = pg::offers_logged_since(customer_id, catalogue.rows[i], now, false) >= catalogue.rows[i].cap_count;
    }
    pg::cpp([&] {
        std::vector<offers::Candidate> candidates;
        std::vector<int> index;
        for (int i = 0; i < n; ++i) {
            if (!eligible[i]) continue;
            const pg::OfferRow &o = catalogue.rows[i];
            candidates.push_back({o.priority, o.stackable ? offers::Stacking::Stackable : offers::Stacking::Exclusive,
                                  held_out[i], over_cap[i]});
            index.push_back(i);
        }
        const std::vector<offers::Outcome> chosen = offers::choose_offers(candidates, static_cast<std::size_t>(max_offers));
        for (std::size_t j = 0; j < chosen.size(); ++j) outcome[index[j]] = chosen[j];
        for (int i = 0; i < n; ++i)
            if (!eligible[i]) outcome[i] = offers::Outcome::Outranked;
    });
    for (int i = 0; i < n; ++i)
        if (outcome[i] == offers::Outcome::Shown || outcome[i] == offers::Outcome::Holdout)
            decision[i] = log_decision(now, customer_id, catalogue.rows[i], channel_name,
                                       outcome[i] == offers::Outcome::Holdout, session_id, reasons[i]);
    SPI_finish();

    ReturnSetInfo *rsinfo = pg::init_materialized_srf(fcinfo);
    for (int i = 0; i < n; ++i) {
        if (outcome[i] != offers::Outcome::Shown) continue;
        const pg::OfferRow &o = catalogue.rows[i];
        Datum values[10] = {Int64GetDatum(decision[i]), CStringGetTextDatum(o.key), CStringGetTextDatum(o.description),
                            o.percent_off, o.amount_off, o.currency ? CStringGetTextDatum(o.currency) : 0,
                            BoolGetDatum(o.free_shipping), Int64GetDatum(o.gift_item), Int64GetDatum(o.reward_item),
                            CStringGetTextDatum(reasons[i])};
        bool nulls[10] = {false, false, false, o.percent_off_null, o.amount_off_null, o.currency == nullptr,
                          false, o.gift_item_null, o.reward_item_null, false};
        tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
    }
    return static_cast<Datum>(0);
}
