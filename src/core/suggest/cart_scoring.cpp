#include "core/suggest/cart_scoring.hpp"

#include <algorithm>
#include <cmath>
#include <unordered_map>

namespace personalize::suggest {

std::vector<CartSuggestion> score_cart(const std::vector<std::int64_t> &cart, const std::vector<MatchedRule> &rules,
                                       std::size_t k, double min_score) {
    struct Evidence {
        double log_miss = 0.0;  // sum of ln(1 - certainty)
        std::vector<std::int64_t> items;
    };
    std::unordered_map<std::int64_t, Evidence> by_item;
    for (const MatchedRule &rule : rules) {
        if (!(rule.certainty > 0.0)) continue;
        if (std::binary_search(cart.begin(), cart.end(), rule.consequent)) continue;
        Evidence &e = by_item[rule.consequent];
        e.log_miss += std::log1p(-std::min(rule.certainty, 1.0 - 1e-12));
        e.items.insert(e.items.end(), rule.antecedent, rule.antecedent + rule.antecedent_len);
    }
    std::vector<CartSuggestion> out;
    out.reserve(by_item.size());
    for (auto &[item, e] : by_item) {
        const double score = -std::expm1(e.log_miss);
        if (score < min_score) continue;
        std::sort(e.items.begin(), e.items.end());
        e.items.erase(std::unique(e.items.begin(), e.items.end()), e.items.end());
        out.push_back({item, score, std::move(e.items)});
    }
    const std::size_t keep = std::min(k, out.size());
    std::partial_sort(out.begin(), out.begin() + keep, out.end(), [](const CartSuggestion &a, const CartSuggestion &b) {
        return a.score != b.score ? a.score > b.score : a.item < b.item;
    });
    out.resize(keep);
    return out;
}

}  // namespace personalize::suggest
