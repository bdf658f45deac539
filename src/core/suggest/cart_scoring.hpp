// Combining association-rule evidence for a cart (see docs/complements.md):
//   score(item) = 1 - prod(1 - certainty(r))  over the matched rules r with
//   certainty > 0 and item as consequent; items in the cart never score.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace personalize::suggest {

// One matched rule: its consequent, certainty and antecedent items.
struct MatchedRule {
    std::int64_t consequent;
    double certainty;
    const std::int64_t *antecedent;
    std::size_t antecedent_len;
};

struct CartSuggestion {
    std::int64_t item;
    double score;
    std::vector<std::int64_t> evidence;  // cart items behind the score, ascending
};

// The best `k` items with score >= min_score, by score descending then item
// ascending. `cart` must be sorted and distinct.
std::vector<CartSuggestion> score_cart(const std::vector<std::int64_t> &cart, const std::vector<MatchedRule> &rules,
                                       std::size_t k, double min_score);

}  // namespace personalize::suggest
