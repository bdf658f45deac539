// Which of a customer's eligible offers are shown: holdout assignment and the
// walk by priority with stacking, frequency caps and a per-decision limit.
// Pure decisions on plain data; personalize.decide_offer() gathers the data
// (eligibility from the rules, cap counts from offer_log) and logs the result.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace personalize::offers {

// A uniform draw in [0, 1) fixed by (customer, experiment): the same on every
// call, backend, machine and version (FNV-1a of the key mixed with the
// customer id seeds the project's generator, core/common/random.hpp). A customer is
// in the holdout of an experiment when draw < holdout share, so raising the
// share only adds customers to the control group.
double holdout_draw(std::int64_t customer_id, std::string_view experiment_key);

enum class Stacking : std::uint8_t { Exclusive, Stackable };

struct Candidate {
    std::int32_t priority;   // lower comes first; ties keep the caller's order
    Stacking stacking;
    bool holdout;            // the customer is in this offer's control group
    bool over_cap;           // the frequency cap is used up
};

enum class Outcome : std::uint8_t {
    Shown,      // returned to the caller and logged
    Holdout,    // takes its slot like a shown offer, logged, but not returned
    OverCap,    // frequency cap reached: skipped
    Outranked,  // an exclusive offer was taken, or this exclusive one came after a stackable one, or the limit was reached
};
const char *outcome_name(Outcome outcome);  // "shown", "holdout", "over_cap", "outranked"

// The outcome of each candidate (same order as given). Candidates are taken
// by priority: the first one not over its cap is taken; if it is exclusive
// nothing else is; otherwise further stackable ones are taken (exclusive
// ones after a stackable one are outranked), at most max_offers in all
// (0 = no limit). A held-out candidate occupies its slot exactly as a shown
// one would, so the control group sees what the offer would have displaced.
std::vector<Outcome> choose_offers(const std::vector<Candidate> &candidates, std::size_t max_offers);

}  // namespace personalize::offers
