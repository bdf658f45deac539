// The baskets as an inverted index, item -> the baskets holding it, for the
// models that walk item -> customer -> item: RP3beta's two-step random walk,
// and EASE's co-occurrence counts of the pairs it keeps. Built from the
// prepared transactions of core/mining, indexed by global id (the kept items
// in ascending order of their original id).
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/common/charged_vector.hpp"
#include "core/common/interrupt.hpp"
#include "core/common/memory_budget.hpp"
#include "core/mining/data.hpp"

namespace personalize::suggest {

class CoOccurrence {
public:
    // Reads prepared.transactions (which may be freed afterwards). Charges
    // 8 bytes per item occurrence plus 16 per item and 8 per basket to
    // `budget`, as `what` (e.g. "rp3beta_similarities: the co-occurrence index").
    CoOccurrence(const mining::PreparedBaskets &prepared, MemoryBudget &budget, const Interrupt &interrupt,
                 const char *what);

    std::size_t items() const { return start_.size() - 1; }
    std::size_t baskets() const { return ends_.size(); }

    // The baskets (indexes < baskets()) holding global item g, ascending.
    const std::uint32_t *baskets_of_begin(std::size_t g) const { return holders_.data() + start_[g]; }
    const std::uint32_t *baskets_of_end(std::size_t g) const { return holders_.data() + start_[g + 1]; }
    // The items (global ids, ascending) of basket t; every basket has >= 2.
    const std::uint32_t *items_begin(std::size_t t) const { return items_.data() + (t == 0 ? 0 : ends_[t - 1]); }
    const std::uint32_t *items_end(std::size_t t) const { return items_.data() + ends_[t]; }
    std::size_t basket_size(std::size_t t) const { return static_cast<std::size_t>(items_end(t) - items_begin(t)); }

private:
    ChargedVector<std::uint32_t> items_;    // per basket: global ids
    ChargedVector<std::uint64_t> ends_;     // end offset of each basket in items_
    ChargedVector<std::uint64_t> start_;    // items() + 1 offsets into holders_
    ChargedVector<std::uint32_t> holders_;  // per item: the baskets holding it
};

}  // namespace personalize::suggest
