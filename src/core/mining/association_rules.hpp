// Association rules over a BasketCollection, with one item on the right-hand
// side (as arules), and the full metric set of mlxtend / arules.
// Pairs (max_len 2) take a dedicated counting path; longer itemsets use
// FP-Growth. Mining polls the interrupt and charges its structures to the
// memory budget.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "core/mining/baskets.hpp"
#include "core/common/interrupt.hpp"
#include "core/common/memory_budget.hpp"

namespace personalize::mining {

struct RuleOptions {
    double min_support = 0.01;        // (0, 1]; minimum count = ceil(baskets * min_support), as arules
    std::int64_t min_count = 0;       // > 0 overrides min_support with an absolute count
    double min_confidence = 0.0;      // [0, 1]
    int max_len = 2;                  // items in antecedent + consequent, >= 2
    int min_len = 2;                  // 1..max_len; 1 adds {} => c for every frequent item c (its popularity)
    std::vector<std::int64_t> consequents;  // non-empty: only rules whose consequent is one of these
    std::vector<std::int64_t> antecedents;  // non-empty: only rules whose antecedent items are all among these
    std::int64_t max_basket_size = 0; // > 0: baskets with more distinct items are skipped (left out of n too)
};

// One rule; the antecedent points into mining-owned memory valid during the callback.
struct Rule {
    const std::int64_t *antecedent;   // sorted ascending
    std::size_t antecedent_len;
    std::int64_t consequent;
    std::int64_t count;               // baskets containing antecedent and consequent
    double antecedent_support;
    double consequent_support;
    double support;
    double confidence;
    double lift;
    double leverage;
    double conviction;                // +Infinity when confidence is 1
    double jaccard;
    double certainty;
    double kulczynski;
    double zhangs_metric;
};

struct MiningStats {
    std::int64_t baskets = 0;         // baskets mined (n)
    std::int64_t skipped_baskets = 0; // over max_basket_size
    std::int64_t min_count = 0;       // the absolute minimum count applied
    std::int64_t frequent_items = 0;
    std::int64_t frequent_itemsets = 0;  // of length >= 2 (with antecedents / consequents filters:
                                         // those mining examined; itemsets that cannot be in a rule are pruned)
    std::int64_t rules = 0;
    std::size_t peak_bytes = 0;
};

// Throws InvalidParameter naming the option for values out of range (NaN too).
void validate(const RuleOptions &options);

// Rules come in a fixed order: by itemset (shorter first, then by item ids
// ascending), then by consequent item id. A rule is kept when its confidence
// is >= min_confidence - 1e-12 (arules' tolerance). min_support is turned
// into ceil(n * min_support - 1e-9) baskets.

MiningStats mine_rules(const BasketCollection &baskets, const RuleOptions &options, MemoryBudget &budget,
                       const Interrupt &interrupt, const std::function<void(const Rule &)> &emit);

// The rule metrics from the three supports (fractions of n), as mlxtend
// defines them; exposed for tests and for scoring elsewhere.
void fill_metrics(double antecedent_support, double consequent_support, double support, Rule &rule);

}  // namespace personalize::mining
