// Data shared by the rule-mining stages (association_rules.cpp drives them):
// the prepared transactions, the item roles, and the store of frequent
// itemsets from which rules are generated.
//
// Item numbering:
//   * global id g: the frequent items in ascending order of their original
//     item id, so sorting global ids sorts original ids;
//   * rank r: the items that can take part in a rule, by descending support
//     (ties: ascending global id); 0 is the most frequent. Transactions and
//     counters use ranks.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/mining/association_rules.hpp"
#include "core/common/charged_vector.hpp"
#include "core/common/interrupt.hpp"
#include "core/common/memory_budget.hpp"

namespace personalize::mining {

// Role bits of an item under the antecedents / consequents filters.
constexpr std::uint8_t kCanBeAntecedent = 1;
constexpr std::uint8_t kCanBeConsequent = 2;

struct MiningContext {
    MemoryBudget &budget;
    const Interrupt &interrupt;
    std::uint32_t min_count;
    int max_len;
    bool antecedent_filter;       // options.antecedents is non-empty
    bool consequent_filter;       // options.consequents is non-empty
    const std::uint32_t *rank_to_global;
    const std::uint8_t *role;     // by global id
    std::size_t ranked;           // number of ranks
    MiningStats &stats;

    bool can_be_antecedent(std::uint32_t global) const { return (role[global] & kCanBeAntecedent) != 0; }
    bool can_be_consequent(std::uint32_t global) const { return (role[global] & kCanBeConsequent) != 0; }
    // Whether some rule can be formed from the itemset (global ids): one item
    // may be a consequent and all others antecedent items.
    bool can_yield_rule(const std::uint32_t *items, std::size_t k) const;
};

// The mined baskets reduced to their rule-capable frequent items, as ranks
// sorted ascending; only transactions with at least two such items are kept.
struct Transactions {
    explicit Transactions(MemoryBudget &budget)
        : items(budget, "association_rules: transactions"), ends(budget, "association_rules: transactions") {}
    ChargedVector<std::uint32_t> items;
    ChargedVector<std::uint64_t> ends;  // end offset of each transaction in items
    std::size_t size() const { return ends.size(); }
    std::uint64_t begin_of(std::size_t t) const { return t == 0 ? 0 : ends[t - 1]; }
};

// Frequent itemsets of length >= 2 with their counts, stored per length as
// fixed-stride records (k global ids ascending, then the count).
class ItemsetStore {
public:
    explicit ItemsetStore(MemoryBudget &budget) : budget_(budget) {}

    void add(const std::uint32_t *sorted_items, std::size_t k, std::uint32_t count);
    // Sorts each length's records lexicographically; needed by find().
    void sort(const Interrupt &interrupt);

    std::size_t max_length() const { return blocks_.empty() ? 0 : blocks_.size() - 1; }
    std::size_t count(std::size_t k) const { return k < blocks_.size() ? blocks_[k].size() / (k + 1) : 0; }
    const std::uint32_t *record(std::size_t k, std::size_t i) const { return blocks_[k].data() + i * (k + 1); }
    std::size_t total() const;
    // The count of a stored itemset (sorted global ids), 0 when absent.
    std::uint32_t find(const std::uint32_t *sorted_items, std::size_t k) const;

private:
    MemoryBudget &budget_;
    std::vector<ChargedVector<std::uint32_t>> blocks_;  // index = itemset length
};

// The baskets reduced for counting (passes 1 to 3 of mining): which baskets
// count, the frequent items (global ids) with their counts and roles, their
// ranks, and the transactions as ranks.
struct PreparedBaskets {
    explicit PreparedBaskets(MemoryBudget &budget)
        : item_id(budget, "association_rules: items"),
          item_count(budget, "association_rules: items"),
          role(budget, "association_rules: items"),
          rank_to_global(budget, "association_rules: items"),
          transactions(budget) {}
    ChargedVector<std::int64_t> item_id;          // global id -> original item id, ascending
    ChargedVector<std::uint32_t> item_count;      // global id -> baskets holding the item
    ChargedVector<std::uint8_t> role;             // global id -> kCanBeAntecedent | kCanBeConsequent
    ChargedVector<std::uint32_t> rank_to_global;  // rule-capable items by descending count
    Transactions transactions;
    std::uint64_t baskets = 0;                    // n: baskets mined (not skipped)
    std::uint32_t min_count = 0;
    bool antecedent_filter = false, consequent_filter = false;
};

// Fills `out` from `baskets` under `options` (validated by the caller) and
// sets stats.baskets, skipped_baskets, min_count and frequent_items. Returns
// false when nothing can be frequent (no baskets, or min_count > n); `out`
// then holds no items.
bool prepare_baskets(const BasketCollection &baskets, const RuleOptions &options, MemoryBudget &budget,
                     const Interrupt &interrupt, MiningStats &stats, PreparedBaskets &out);

}  // namespace personalize::mining
