// eligible_offers(context, channel) and explain_offer(offer_key, context,
// channel): the offer catalogue evaluated against one context. The offers
// are read once per call site (one SPI query per statement); rules come
// compiled from the backend's rule cache.
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
#include "pg/rules/backend_cache.hpp"
#include "pg/common/srf.hpp"

extern "C" {
#include "access/xact.h"
#include "executor/spi.h"
#include "utils/tuplestore.h"
}

namespace pg = personalize::pg;
namespace rules = personalize::rules;

namespace {

// The active offers and their compiled rules, for one call site; the text
// columns of each offer as ready Datums (they are the same on every row).
struct OfferSite {
    pg::OfferCatalogue catalogue;  // palloc'd in the call site's memory context
    std::vector<rules::RulePtr> rules;
    Datum *key = nullptr, *description = nullptr, *stacking = nullptr, *currency = nullptr;  // same context
};

OfferSite &offer_site(FunctionCallInfo fcinfo) {
    if (fcinfo->flinfo->fn_extra != nullptr) return *static_cast<OfferSite *>(fcinfo->flinfo->fn_extra);
    SPI_connect();
    pg::OfferCatalogue catalogue = pg::load_offers(fcinfo->flinfo->fn_mcxt, nullptr);
    SPI_finish();
    OfferSite *site = pg::make_owned(fcinfo->flinfo->fn_mcxt, [] { return new OfferSite(); });
    pg::cpp([&] { pg::compile_offer_rules(catalogue, site->rules, "eligible_offers"); });
    site->catalogue = catalogue;
    MemoryContext old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
    const int n = catalogue.count + 1;
    site->key = static_cast<Datum *>(palloc0(sizeof(Datum) * n));
    site->description = static_cast<Datum *>(palloc0(sizeof(Datum) * n));
    site->stacking = static_cast<Datum *>(palloc0(sizeof(Datum) * n));
    site->currency = static_cast<Datum *>(palloc0(sizeof(Datum) * n));
    for (int i = 0; i < catalogue.count; ++i) {
        const pg::OfferRow &o = catalogue.rows[i];
        site->key[i] = CStringGetTextDatum(o.key);
        site->description[i] = CStringGetTextDatum(o.description);
        site->stacking[i] = CStringGetTextDatum(o.stackable ? "stackable" : "exclusive");
        if (o.currency != nullptr) site->currency[i] = CStringGetTextDatum(o.currency);
    }
    MemoryContextSwitchTo(old);
    fcinfo->flinfo->fn_extra = site;
    return *site;
}

const char *result_word(rules::Truth t) {
    return t == rules::Truth::True ? "pass" : t == rules::Truth::False ? "fail" : "unknown";
}

char *timestamp_text(TimestampTz t) { return DatumGetCString(DirectFunctionCall1(timestamptz_out, TimestampTzGetDatum(t))); }

}  // namespace

PERSONALIZE_FUNCTION(personalize_eligible_offers) {
    const pg::Arguments args(fcinfo, "eligible_offers");
    Jsonb *context = args.jsonb_object(0, "context");
    const std::uint32_t channel = args.is_null(1) ? 0 : pg::require_channel("eligible_offers", args.text(1, "channel"));
    OfferSite &site = offer_site(fcinfo);
    const pg::OfferCatalogue &offers = site.catalogue;
    const personalize::ContextTree tree = pg::jsonb_context_tree(context);
    const TimestampTz fallback_now = GetCurrentStatementStartTimestamp();

    char cart_currency[4];
    const bool has_cart_currency = pg::context_cart_currency(context, cart_currency);

    // What each offer's rule says, with the reason, as plain arrays.
    auto *eligible = static_cast<bool *>(palloc0(sizeof(bool) * (offers.count + 1)));
    auto *reasons = static_cast<char **>(palloc0(sizeof(char *) * (offers.count + 1)));
    pg::cpp([&] {
        rules::Evaluator evaluator(tree, pg::unix_micros(fallback_now));
        const TimestampTz now = pg::from_unix_micros(evaluator.now());
        for (int i = 0; i < offers.count; ++i)
            eligible[i] = (channel == 0 || (offers.rows[i].channels & channel) != 0) &&
                          pg::offer_valid_at(offers.rows[i], now);
        pg::evaluate_offers(offers, site.rules, evaluator, eligible, reasons, "eligible_offers");
        pg::drop_rewards_in_other_currencies(offers, has_cart_currency ? cart_currency : nullptr, eligible,
                                             "eligible_offers");
    });

    ReturnSetInfo *rsinfo = pg::init_materialized_srf(fcinfo);
    for (int i = 0; i < offers.count; ++i) {
        if (!eligible[i]) continue;
        const pg::OfferRow &o = offers.rows[i];
        Datum values[11] = {site.key[i], site.description[i], Int32GetDatum(o.priority), site.stacking[i],
                            o.percent_off, o.amount_off, site.currency[i], BoolGetDatum(o.free_shipping),
                            Int64GetDatum(o.gift_item), Int64GetDatum(o.reward_item), CStringGetTextDatum(reasons[i])};
        bool nulls[11] = {false, false, false, false, o.percent_off_null, o.amount_off_null, o.currency == nullptr,
                          false, o.gift_item_null, o.reward_item_null, false};
        tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
    }
    return static_cast<Datum>(0);
}

PERSONALIZE_FUNCTION(personalize_explain_offer) {
    const pg::Arguments args(fcinfo, "explain_offer");
    const char *key = args.cstring(0, "offer_key");
    Jsonb *context = args.jsonb_object(1, "context");
    const char *channel_name = args.is_null(2) ? nullptr : args.cstring(2, "channel");
    const std::uint32_t channel = channel_name == nullptr ? 0 : pg::require_channel("explain_offer", channel_name);

    SPI_connect();
    pg::OfferCatalogue found = pg::load_offers(CurrentMemoryContext, key);
    SPI_finish();
    if (found.count == 0)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("explain_offer: there is no offer with \"offer_key\" \"%s\"", key),
                        errhint("SELECT offer_key FROM personalize.offers lists them.")));
    const pg::OfferRow &o = found.rows[0];
    const personalize::ContextTree tree = pg::jsonb_context_tree(context);
    const TimestampTz fallback_now = GetCurrentStatementStartTimestamp();

    // The rule's conditions, copied out as plain arrays.
    int step_count = 0;
    int *depths = nullptr;
    char **conditions = nullptr, **seen = nullptr;
    rules::Truth *results = nullptr;
    rules::Truth rule_result = rules::Truth::Unknown;
    const std::int64_t now = pg::cpp([&] {
        rules::Evaluator evaluator(tree, pg::unix_micros(fallback_now));
        const std::int64_t at = pg::with_offer_context(o, [&] { return evaluator.now(); });
        // A stored rule that does not compile, or that cannot apply to this
        // context, makes the offer not eligible: one step says why.
        rules::RulePtr rule;
        std::string compile_error;
        try {
            rule = pg::rule_cache().get(o.rule);
        } catch (const personalize::Error &e) {
            if (!pg::offer_rule_error(e)) throw;
            compile_error = e.what();
        }
        const std::vector<rules::ExplainStep> steps = pg::with_offer_context(o, [&] {
            using Steps = std::vector<rules::ExplainStep>;
            if (rule == nullptr) return Steps{{0, o.rule, "the rule does not compile: " + compile_error, rules::Truth::False}};
            try {
                return evaluator.explain(*rule);
            } catch (const rules::NotApplicable &e) {
                return Steps{{0, o.rule, std::string("the rule does not apply: ") + e.what(), rules::Truth::False}};
            }
        });
        pg::pg([&] {
            step_count = static_cast<int>(steps.size());
            depths = static_cast<int *>(palloc(sizeof(int) * (step_count + 1)));
            conditions = static_cast<char **>(palloc(sizeof(char *) * (step_count + 1)));
            seen = static_cast<char **>(palloc(sizeof(char *) * (step_count + 1)));
            results = static_cast<rules::Truth *>(palloc(sizeof(rules::Truth) * (step_count + 1)));
            for (int i = 0; i < step_count; ++i) {
                depths[i] = steps[i].depth;
                conditions[i] = pnstrdup(steps[i].condition.data(), steps[i].condition.size());
                seen[i] = pnstrdup(steps[i].value.data(), steps[i].value.size());
                results[i] = steps[i].result;
            }
        });
        for (const auto &s : steps)
            if (s.depth == 0) rule_result = s.result;
        return at;
    });
    const TimestampTz now_ts = pg::from_unix_micros(now);

    ReturnSetInfo *rsinfo = pg::init_materialized_srf(fcinfo);
    int step = 0;
    bool passed = true;
    auto row = [&](int depth, const char *check, const char *condition, const char *value, const char *result) {
        Datum values[6] = {Int32GetDatum(++step), Int32GetDatum(depth), CStringGetTextDatum(check),
                           CStringGetTextDatum(condition), CStringGetTextDatum(value), CStringGetTextDatum(result)};
        bool nulls[6] = {false, false, false, false, false, false};
        tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
    };

    row(0, "active", "the offer is active", o.active ? "active" : "inactive", o.active ? "pass" : "fail");
    passed &= o.active;

    const bool valid = pg::offer_valid_at(o, now_ts);
    const char *window = psprintf("%s <= now < %s", o.has_valid_from ? timestamp_text(o.valid_from) : "-infinity",
                                  o.has_valid_until ? timestamp_text(o.valid_until) : "infinity");
    row(0, "validity", window, psprintf("now = %s", timestamp_text(now_ts)), valid ? "pass" : "fail");
    passed &= valid;

    if (channel != 0) {
        const bool ok = (o.channels & channel) != 0;
        StringInfoData names;
        initStringInfo(&names);
        for (int i = 0; i < pg::kChannelCount; ++i)
            if (o.channels & (1u << i)) appendStringInfo(&names, "%s%s", names.len ? ", " : "", pg::kChannels[i]);
        row(0, "channel", psprintf("channel in (%s)", names.data), channel_name, ok ? "pass" : "fail");
        passed &= ok;
    }

    for (int i = 0; i < step_count; ++i) row(depths[i], "rule", conditions[i], seen[i], result_word(results[i]));
    passed &= rule_result == rules::Truth::True;

    if (o.currency != nullptr) {
        char cart_currency[4];
        const bool known = pg::context_cart_currency(context, cart_currency);
        const bool fits = pg::reward_currency_fits(o, known ? cart_currency : nullptr);
        row(0, "currency", "the amount off is in the cart's currency",
            psprintf("amount off in %s, cart in %s", o.currency, known ? cart_currency : "an unknown currency"),
            fits ? "pass" : "fail");
        passed &= fits;
    }

    // Holdout and the frequency cap need the customer.
    double customer_id = 0.0;
    bool held_out = false;
    if (pg::context_customer_id(context, &customer_id)) {
        const std::int64_t customer = static_cast<std::int64_t>(customer_id);
        if (o.holdout_share > 0.0) {
            const double draw = pg::cpp([&] { return personalize::offers::holdout_draw(customer, o.experiment_key); });
            held_out = draw < o.holdout_share;
            row(0, "holdout", psprintf("holdout_draw(%lld, '%s') >= %g", static_cast<long long>(customer), o.experiment_key, o.holdout_share),
                psprintf("%.4f: %s", draw, held_out ? "in the control group (logged, not shown)" : "in the treatment group"),
                held_out ? "holdout" : "pass");
        }
        if (o.has_cap) {
            const std::int64_t shown = pg::offers_logged_since(customer, o, now_ts, true);
            const bool ok = shown < o.cap_count;
            const char *span = DatumGetCString(DirectFunctionCall1(interval_out, IntervalPGetDatum(&o.cap_interval)));
            row(0, "frequency cap", psprintf("at most %d per %s", o.cap_count, span),
                psprintf("logged %lld time(s) in the last %s", static_cast<long long>(shown), span), ok ? "pass" : "fail");
            passed &= ok;
        }
    }
    row(0, "eligible", "every check above passes", passed ? (held_out ? "eligible, held out" : "eligible") : "not eligible",
        passed ? (held_out ? "holdout" : "pass") : "fail");
    return static_cast<Datum>(0);
}
