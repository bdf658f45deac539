// Offline ranking metrics of one customer's recommendation list against the
// items the customer actually bought afterwards (binary relevance):
//   precision@k = hits / k
//   recall@k    = hits / |relevant|
//   nDCG@k      = DCG / IDCG, DCG = sum over hits at 1-based rank r of 1 / log2(r + 1),
//                 IDCG = the DCG of min(k, |relevant|) hits at ranks 1, 2, ...
// where hits are the distinct relevant items among the first k recommended.
// precision divides by k even when fewer than k items are recommended (a
// short list is not rewarded). A repeated recommended item counts once, at
// its first rank (later copies still take their rank). Relevant items are a
// set (repeats collapse).
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/common/interrupt.hpp"
#include "core/common/memory_budget.hpp"

namespace personalize::suggest {

struct RankingMetrics {
    double precision;
    double recall;
    double ndcg;
    std::int64_t hits;
};

// `recommended` in rank order; an element flagged in `recommended_null`
// (may be null) takes its rank but never hits. k >= 1 (InvalidParameter
// naming "k" otherwise); `relevant` must not be empty (the caller returns
// NULL for customers with nothing to find). Linear in the two lengths: the
// relevant items go into a hash set (charged to `budget`, none: unlimited)
// that also remembers which were found; both loops poll `interrupt`.
RankingMetrics ranking_metrics(const std::int64_t *recommended, const bool *recommended_null, std::size_t recommended_count,
                               const std::int64_t *relevant, std::size_t relevant_count, std::int64_t k,
                               MemoryBudget *budget = nullptr, const Interrupt &interrupt = Interrupt());

}  // namespace personalize::suggest
