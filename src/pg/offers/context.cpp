#include "pg/offers/context.hpp"

#include "pg/common/boundary.hpp"
#include "pg/rules/backend_cache.hpp"
#include "pg/common/spi_plan.hpp"

extern "C" {
#include "executor/spi.h"
}

namespace personalize::pg {

bool context_customer_id(Jsonb *context, double *id) {
    if (!JB_ROOT_IS_OBJECT(context)) return false;
    JsonbValue *customer = getKeyJsonValueFromContainer(&context->root, "customer", 8, nullptr);
    if (customer == nullptr || customer->type != jbvBinary) return false;
    JsonbValue *value = getKeyJsonValueFromContainer(customer->val.binary.data, "id", 2, nullptr);
    if (value == nullptr || value->type != jbvNumeric) return false;
    *id = DatumGetFloat8(DirectFunctionCall1(numeric_float8_no_overflow, NumericGetDatum(value->val.numeric)));
    return true;
}

rules::RulePtr compile_offer_rule(const OfferRow &offer) {
    return with_offer_context(offer, [&] { return rule_cache().get(offer.rule); });
}

void compile_offer_rules(const OfferCatalogue &offers, std::vector<rules::RulePtr> &out) {
    out.clear();
    out.reserve(static_cast<std::size_t>(offers.count));
    for (int i = 0; i < offers.count; ++i) out.push_back(compile_offer_rule(offers.rows[i]));
}

void evaluate_offers(const OfferCatalogue &offers, const std::vector<rules::RulePtr> &compiled,
                     rules::Evaluator &evaluator, bool *eligible, char **reasons, const char *function) {
    try {
        std::string reason;
        for (int i = 0; i < offers.count; ++i) {
            if (!eligible[i]) continue;
            const OfferRow &offer = offers.rows[i];
            const rules::Rule &rule = *compiled[static_cast<std::size_t>(i)];
            reason.clear();
            eligible[i] = with_offer_context(offer, [&] { return evaluator.evaluate(rule, reason); }) == rules::Truth::True;
            if (eligible[i]) pg([&] { reasons[i] = pnstrdup(reason.data(), reason.size()); });
        }
    } catch (const Error &e) {
        throw Error(e.code(), std::string(function) + ": " + e.what(), e.detail(), e.hint());
    }
}

std::int64_t offers_logged_since(std::int64_t customer_id, const OfferRow &offer, TimestampTz now, bool read_only) {
    static SPIPlanPtr plan = nullptr;
    SPI_connect();
    if (plan == nullptr) {
        Oid types[4] = {INT8OID, TEXTOID, TIMESTAMPTZOID, INTERVALOID};
        plan = prepare_kept_plan("the frequency cap count",
                                 "SELECT count(*) FROM personalize.offer_log l WHERE l.customer_id = $1 "
                                 "AND l.offer_key = $2 AND l.decided_at > $3 - $4",
                                 4, types);
    }
    Datum args[4] = {Int64GetDatum(customer_id), CStringGetTextDatum(offer.key), TimestampTzGetDatum(now),
                     IntervalPGetDatum(const_cast<Interval *>(&offer.cap_interval))};
    if (SPI_execute_plan(plan, args, nullptr, read_only, 1) != SPI_OK_SELECT || SPI_processed != 1)
        ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("could not count offer_log rows")));
    bool isnull;
    const std::int64_t n = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
    SPI_finish();
    return n;
}

}  // namespace personalize::pg
