// Walker's alias tables of the demo shop (see distributions.hpp).
#include "core/demo/distributions.hpp"

namespace personalize::demo {

void AliasTable::build(const std::vector<double> &weights) {
    const std::size_t n = weights.size();
    prob_.assign(n, 1.0);
    alias_.resize(n);
    double total = 0.0;
    for (double w : weights) total += w;
    std::vector<double> scaled(n);
    std::vector<std::uint32_t> small, large;
    small.reserve(n);
    large.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        alias_[i] = static_cast<std::uint32_t>(i);
        scaled[i] = weights[i] * static_cast<double>(n) / total;
        (scaled[i] < 1.0 ? small : large).push_back(static_cast<std::uint32_t>(i));
    }
    while (!small.empty() && !large.empty()) {
        const std::uint32_t s = small.back();
        small.pop_back();
        const std::uint32_t l = large.back();
        prob_[s] = scaled[s];
        alias_[s] = l;
        scaled[l] = (scaled[l] + scaled[s]) - 1.0;
        if (scaled[l] < 1.0) {
            large.pop_back();
            small.push_back(l);
        }
    }
    // Whatever is left holds probability 1 (rounding leftovers).
}

}  // namespace personalize::demo
