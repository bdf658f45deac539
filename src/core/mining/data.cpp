#include "core/mining/data.hpp"

#include <algorithm>
#include <cstring>

namespace personalize::mining {

bool MiningContext::can_yield_rule(const std::uint32_t *items, std::size_t k) const {
    if (!antecedent_filter && !consequent_filter) return true;
    std::size_t outside = 0, outside_at = 0;
    for (std::size_t i = 0; i < k; ++i) {
        if (!can_be_antecedent(items[i])) {
            ++outside;
            outside_at = i;
        }
    }
    if (outside >= 2) return false;
    if (outside == 1) return can_be_consequent(items[outside_at]);
    for (std::size_t i = 0; i < k; ++i)
        if (can_be_consequent(items[i])) return true;
    return false;
}

void ItemsetStore::add(const std::uint32_t *sorted_items, std::size_t k, std::uint32_t count) {
    while (blocks_.size() <= k) blocks_.emplace_back(budget_, "association_rules: frequent itemsets");
    ChargedVector<std::uint32_t> &block = blocks_[k];
    block.reserve_more(k + 1);
    block.append(sorted_items, sorted_items + k);
    block.push_back(count);
}

std::size_t ItemsetStore::total() const {
    std::size_t n = 0;
    for (std::size_t k = 2; k < blocks_.size(); ++k) n += count(k);
    return n;
}

void ItemsetStore::sort(const Interrupt &interrupt) {
    for (std::size_t k = 2; k < blocks_.size(); ++k) {
        const std::size_t n = count(k);
        if (n < 2) continue;
        const std::size_t stride = k + 1;
        ChargedVector<std::uint32_t> &block = blocks_[k];
        ChargedVector<std::size_t> order(budget_, "association_rules: sorting itemsets");
        order.resize(n);
        for (std::size_t i = 0; i < n; ++i) order[i] = i;
        const std::uint32_t *data = block.data();
        std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
            interrupt.poll();
            const std::uint32_t *x = data + a * stride, *y = data + b * stride;
            return std::lexicographical_compare(x, x + k, y, y + k);
        });
        ChargedVector<std::uint32_t> sorted(budget_, "association_rules: frequent itemsets");
        sorted.resize(block.size());
        for (std::size_t i = 0; i < n; ++i) {
            interrupt.poll();
            std::memcpy(sorted.data() + i * stride, data + order[i] * stride, stride * sizeof(std::uint32_t));
        }
        block.swap(sorted);
    }
}

std::uint32_t ItemsetStore::find(const std::uint32_t *sorted_items, std::size_t k) const {
    std::size_t lo = 0, hi = count(k);
    const std::size_t stride = k + 1;
    while (lo < hi) {
        const std::size_t mid = lo + (hi - lo) / 2;
        const std::uint32_t *rec = blocks_[k].data() + mid * stride;
        int cmp = 0;
        for (std::size_t i = 0; i < k && cmp == 0; ++i)
            cmp = rec[i] < sorted_items[i] ? -1 : (rec[i] > sorted_items[i] ? 1 : 0);
        if (cmp == 0) return rec[k];
        if (cmp < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

}  // namespace personalize::mining
