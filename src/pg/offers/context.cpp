#include "pg/offers/context.hpp"

#include <cstring>
#include <functional>
#include <string>

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

namespace {

// Three ASCII letters (any case) upper-cased into code.
bool currency_code(const char *s, int len, char code[4]) {
    if (len != 3) return false;
    for (int i = 0; i < 3; ++i) {
        char c = s[i];
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
        if (c < 'A' || c > 'Z') return false;
        code[i] = c;
    }
    code[3] = '\0';
    return true;
}

bool string_currency(const JsonbValue *v, char code[4]) {
    return v != nullptr && v->type == jbvString && currency_code(v->val.string.val, v->val.string.len, code);
}

JsonbValue *key_of(JsonbContainer *container, const char *key) {
    return getKeyJsonValueFromContainer(container, key, static_cast<int>(std::strlen(key)), nullptr);
}

}  // namespace

bool context_cart_currency(Jsonb *context, char code[4]) {
    if (!JB_ROOT_IS_OBJECT(context)) return false;
    JsonbValue *cart = key_of(&context->root, "cart");
    if (cart != nullptr && cart->type == jbvBinary && JsonContainerIsObject(cart->val.binary.data)) {
        JsonbValue *total = key_of(cart->val.binary.data, "total");
        if (total != nullptr && total->type == jbvString) {  // "42.50 EUR": the letters at the end
            const char *t = total->val.string.val;
            int end = total->val.string.len;
            while (end > 0 && t[end - 1] == ' ') --end;
            int begin = end;
            while (begin > 0 && ((t[begin - 1] >= 'A' && t[begin - 1] <= 'Z') || (t[begin - 1] >= 'a' && t[begin - 1] <= 'z')))
                --begin;
            if (currency_code(t + begin, end - begin, code)) return true;
        }
        if (total != nullptr && total->type == jbvBinary && JsonContainerIsObject(total->val.binary.data) &&
            string_currency(key_of(total->val.binary.data, "currency"), code))
            return true;
        if (string_currency(key_of(cart->val.binary.data, "currency"), code)) return true;
    }
    return string_currency(key_of(&context->root, "currency"), code);
}

void drop_rewards_in_other_currencies(const OfferCatalogue &offers, const char *cart_currency, bool *eligible,
                                      const char *function) {
    for (int i = 0; i < offers.count; ++i) {
        const OfferRow &offer = offers.rows[i];
        if (!eligible[i] || reward_currency_fits(offer, cart_currency)) continue;
        eligible[i] = false;
        warn_offer_not_eligible(function, offer,
                                Error(ErrorCode::InvalidParameter, std::string("its amount off is in ") + offer.currency +
                                                                       ", the cart in " + cart_currency));
    }
}

bool offer_rule_error(const Error &error) {
    return error.code() == ErrorCode::Syntax || error.code() == ErrorCode::InvalidParameter ||
           error.code() == ErrorCode::ProgramLimit;
}

void warn_offer_not_eligible(const char *function, const OfferRow &offer, const Error &what) {
    // Hashes of (offer, message) already reported by this backend; plain data.
    constexpr int kRemembered = 256;
    static std::uint64_t warned[kRemembered];
    static int warned_count = 0;
    const std::uint64_t h = std::hash<std::string>{}(std::string(offer.key) + '\n' + what.what()) | 1;
    for (int i = 0; i < warned_count; ++i)
        if (warned[i] == h) return;
    if (warned_count == kRemembered) return;  // enough said in this backend
    warned[warned_count++] = h;
    pg([&] {
        ereport(WARNING, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                          errmsg("%s: offer \"%s\" is not eligible: %s", function, offer.key, what.what()),
                          what.detail().empty() ? 0 : errdetail("%s", what.detail().c_str()),
                          errhint("explain_offer('%s', context) shows why; this warning is given once per session.",
                                  offer.key)));
    });
}

void compile_offer_rules(const OfferCatalogue &offers, std::vector<rules::RulePtr> &out, const char *function) {
    out.clear();
    out.reserve(static_cast<std::size_t>(offers.count));
    for (int i = 0; i < offers.count; ++i) {
        try {
            out.push_back(rule_cache().get(offers.rows[i].rule));
        } catch (const Error &e) {
            if (!offer_rule_error(e)) throw;
            warn_offer_not_eligible(function, offers.rows[i], e);
            out.push_back(nullptr);
        }
    }
}

void evaluate_offers(const OfferCatalogue &offers, const std::vector<rules::RulePtr> &compiled,
                     rules::Evaluator &evaluator, bool *eligible, char **reasons, const char *function) {
    try {
        std::string reason;
        for (int i = 0; i < offers.count; ++i) {
            if (!eligible[i]) continue;
            const OfferRow &offer = offers.rows[i];
            const rules::RulePtr &rule = compiled[static_cast<std::size_t>(i)];
            if (rule == nullptr) {  // did not compile (warned)
                eligible[i] = false;
                continue;
            }
            reason.clear();
            eligible[i] = with_offer_context(offer, [&] {
                try {
                    return evaluator.evaluate(*rule, reason);
                } catch (const rules::NotApplicable &e) {
                    warn_offer_not_eligible(function, offer, e);
                    return rules::Truth::False;
                }
            }) == rules::Truth::True;
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
        Oid types[3] = {INT8OID, TEXTOID, TIMESTAMPTZOID};
        plan = prepare_kept_plan("the frequency cap count",
                                 "SELECT count(*) FROM personalize.offer_log l WHERE l.customer_id = $1 "
                                 "AND l.offer_key = $2 AND l.decided_at > $3",
                                 3, types);
    }
    // now - cap_interval; an interval beyond the CHECK's 100 years (a row
    // kept NOT VALID by the 0.2.0 upgrade) counts every decision instead of
    // failing with "timestamp out of range".
    Interval hundred_years;
    std::memset(&hundred_years, 0, sizeof hundred_years);
    hundred_years.month = 100 * MONTHS_PER_YEAR;
    Datum cap = IntervalPGetDatum(const_cast<Interval *>(&offer.cap_interval));
    TimestampTz since;
    if (DatumGetInt32(DirectFunctionCall2(interval_cmp, cap, IntervalPGetDatum(&hundred_years))) > 0)
        TIMESTAMP_NOBEGIN(since);
    else
        since = DatumGetTimestampTz(DirectFunctionCall2(timestamptz_mi_interval, TimestampTzGetDatum(now), cap));
    Datum args[3] = {Int64GetDatum(customer_id), CStringGetTextDatum(offer.key), TimestampTzGetDatum(since)};
    if (SPI_execute_plan(plan, args, nullptr, read_only, 1) != SPI_OK_SELECT || SPI_processed != 1)
        ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("could not count offer_log rows")));
    bool isnull;
    const std::int64_t n = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
    SPI_finish();
    return n;
}

}  // namespace personalize::pg
