// Frequent itemsets up to max_len items by FP-Growth (Han, Pei & Yin 2000):
// an FP-tree of the transactions, then for each item its conditional
// pattern base and conditional tree, recursively. Itemsets that cannot take
// part in a rule under the antecedents / consequents filters are pruned as
// early as possible.
#pragma once

#include "core/mining/data.hpp"

namespace personalize::mining {

// Adds every frequent itemset of 2..max_len items that a rule may need
// (rule itemsets and their antecedents) to `store`. Frees `transactions`
// once the tree is built.
void fp_growth(const MiningContext &ctx, Transactions &transactions, ItemsetStore &store);

}  // namespace personalize::mining
