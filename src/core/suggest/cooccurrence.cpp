#include "core/suggest/cooccurrence.hpp"

#include <algorithm>

namespace personalize::suggest {

CoOccurrence::CoOccurrence(const mining::PreparedBaskets &prepared, MemoryBudget &budget, const Interrupt &interrupt,
                           const char *what)
    : items_(budget, what), ends_(budget, what), start_(budget, what), holders_(budget, what) {
    const mining::Transactions &tx = prepared.transactions;
    const std::uint32_t *rank_to_global = prepared.rank_to_global.data();
    const std::size_t n = prepared.item_id.size();
    items_.resize(tx.items.size());
    ends_.resize(tx.size());
    start_.assign(n + 1, 0);
    for (std::size_t t = 0; t < tx.size(); ++t) {
        interrupt.poll();
        const std::uint64_t begin = tx.begin_of(t), end = tx.ends[t];
        for (std::uint64_t p = begin; p < end; ++p) {
            const std::uint32_t g = rank_to_global[tx.items[p]];
            items_[p] = g;
            ++start_[g + 1];
        }
        std::sort(items_.begin() + static_cast<std::ptrdiff_t>(begin), items_.begin() + static_cast<std::ptrdiff_t>(end));
        ends_[t] = end;
    }
    for (std::size_t g = 0; g < n; ++g) start_[g + 1] += start_[g];
    holders_.resize(items_.size());
    ChargedVector<std::uint64_t> fill(budget, what);
    fill.resize(n);
    std::copy(start_.begin(), start_.begin() + static_cast<std::ptrdiff_t>(n), fill.begin());
    for (std::size_t t = 0; t < tx.size(); ++t) {
        interrupt.poll();
        for (const std::uint32_t *it = items_begin(t); it != items_end(t); ++it)
            holders_[fill[*it]++] = static_cast<std::uint32_t>(t);
    }
}

}  // namespace personalize::suggest
