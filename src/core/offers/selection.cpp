#include "core/offers/selection.hpp"

#include <algorithm>
#include <numeric>

#include "core/common/random.hpp"

namespace personalize::offers {

double holdout_draw(std::int64_t customer_id, std::string_view experiment_key) {
    std::uint64_t hash = 0xcbf29ce484222325ULL;  // FNV-1a, 64 bit
    for (const char c : experiment_key) {
        hash ^= static_cast<unsigned char>(c);
        hash *= 0x100000001b3ULL;
    }
    Random random(hash ^ (static_cast<std::uint64_t>(customer_id) * 0x9e3779b97f4a7c15ULL));
    return random.uniform();
}

const char *outcome_name(Outcome outcome) {
    switch (outcome) {
        case Outcome::Shown: return "shown";
        case Outcome::Holdout: return "holdout";
        case Outcome::OverCap: return "over_cap";
        case Outcome::Outranked: return "outranked";
    }
    return "outranked";
}

std::vector<Outcome> choose_offers(const std::vector<Candidate> &candidates, std::size_t max_offers) {
    std::vector<std::size_t> order(candidates.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        return candidates[a].priority < candidates[b].priority;
    });
    std::vector<Outcome> outcome(candidates.size(), Outcome::Outranked);
    std::size_t taken = 0;
    bool closed = false;  // an exclusive offer was taken, or the limit reached
    for (const std::size_t i : order) {
        const Candidate &c = candidates[i];
        if (c.over_cap) {
            outcome[i] = Outcome::OverCap;
            continue;
        }
        if (closed || (taken > 0 && c.stacking == Stacking::Exclusive)) continue;
        outcome[i] = c.holdout ? Outcome::Holdout : Outcome::Shown;
        ++taken;
        if (c.stacking == Stacking::Exclusive || (max_offers != 0 && taken >= max_offers)) closed = true;
    }
    return outcome;
}

}  // namespace personalize::offers
