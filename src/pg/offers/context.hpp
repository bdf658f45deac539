// Glue shared by the offer functions: reading the context, compiling and
// evaluating the catalogue's rules (errors name the offer), and the
// offer_log count behind frequency caps.
#pragma once

#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "core/common/error.hpp"
#include "core/rules/rules.hpp"
#include "pg/rules/context_jsonb.hpp"
#include "pg/offers/catalogue.hpp"

namespace personalize::pg {

// context.customer.id when it is a number. PostgreSQL code.
bool context_customer_id(Jsonb *context, double *id);

// Runs `body`; a personalize::Error from it gets "offer "<key>": " in front.
template <typename F>
auto with_offer_context(const OfferRow &offer, F &&body) -> decltype(body()) {
    try {
        return body();
    } catch (const Error &e) {
        throw Error(e.code(), std::string("offer \"") + offer.key + "\": " + e.what(), e.detail(), e.hint());
    }
}

// One bad offer row never takes the others down: an offer whose stored rule
// does not compile (a limit, a rule written for another version), or whose
// rule cannot apply to the context (rules::NotApplicable: money of another
// currency), is not eligible, with a WARNING once per backend and offer;
// explain_offer() shows why. Errors of the context itself (a field of the
// wrong type) still fail the call: they are the caller's.

// The currency of the context's cart amounts as the rule language reads
// them: cart.total's own ("42.50 EUR", {"amount": .., "currency": "EUR"}),
// else cart.currency, else the top-level "currency"; upper-cased into
// `code`. False when the context names none. PostgreSQL code.
bool context_cart_currency(Jsonb *context, char code[4]);

// Whether an offer's amount off fits the cart: no amount (or no known cart
// currency), or the same currency. An amount off in USD is not given to a
// cart in GBP (a row stored before the CHECK offers_reward_currency, or a rule
// without money literals).
inline bool reward_currency_fits(const OfferRow &offer, const char *cart_currency) {
    return offer.currency == nullptr || cart_currency == nullptr || std::strcmp(offer.currency, cart_currency) == 0;
}

// C++ (inside cpp(...)): clears eligible[i] of offers whose amount off is in
// another currency than the cart's (reward_currency_fits), warning once.
void drop_rewards_in_other_currencies(const OfferCatalogue &offers, const char *cart_currency, bool *eligible,
                                      const char *function);

// Whether `error` of a compile is the offer's own (its rule text), not the backend's.
bool offer_rule_error(const Error &error);
// PostgreSQL code, or inside cpp(...): WARNING "<function>: offer "<key>" is not
// eligible: <what>", the first time this backend sees that offer and message.
void warn_offer_not_eligible(const char *function, const OfferRow &offer, const Error &what);

// C++ (inside cpp(...)): the compiled rule of each offer, from the rule
// cache; nullptr (and a warning) for an offer whose rule does not compile.
void compile_offer_rules(const OfferCatalogue &offers, std::vector<rules::RulePtr> &out, const char *function);

// C++ (inside cpp(...)): for every offer with eligible[i] set on entry,
// evaluates its rule; eligible[i] stays set only when the rule is TRUE, and
// reasons[i] then gets the reason (palloc'd). A nullptr rule or a rule that
// does not apply to the context: not eligible. `function` prefixes errors.
void evaluate_offers(const OfferCatalogue &offers, const std::vector<rules::RulePtr> &compiled,
                     rules::Evaluator &evaluator, bool *eligible, char **reasons, const char *function);

// Decisions logged for (customer, offer) after now - cap_interval (a racing
// decision that waited for our lock may log a time after our "now"), shown
// or held out. PostgreSQL code (runs its own SPI connection). read_only =
// false takes a fresh snapshot (decide_offer, after locking the customer);
// true uses the calling statement's (explain_offer).
std::int64_t offers_logged_since(std::int64_t customer_id, const OfferRow &offer, TimestampTz now, bool read_only);

}  // namespace personalize::pg
