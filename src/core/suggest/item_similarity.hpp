// Item-to-item similarities from co-occurrence: the model behind personal
// suggestions. The baskets are usually one per customer (everything the
// customer bought: "customers who bought a also bought b"), or one per order.
// Pairs are counted by the association-rule machinery (core/mining/pair_counting)
// and streamed; only each item's best `neighbours` are kept.
//
// With n baskets, c_a and c_b baskets holding a and b, and c_ab holding both,
// the score of b as a neighbour of a is
//   cosine      c_ab / sqrt(c_a c_b)
//   jaccard     c_ab / (c_a + c_b - c_ab)
//   lift        n c_ab / (c_a c_b)
//   confidence  c_ab / c_a            (P(b | a); not symmetric)
// Every item also gets its own row (neighbour = item): the measure with
// c_ab = c_a = c_b (1 except for lift: n / c_a), used for re-buyable items,
// and its basket count, the item's popularity.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>

#include "core/mining/baskets.hpp"
#include "core/common/interrupt.hpp"
#include "core/common/memory_budget.hpp"

namespace personalize::suggest {

enum class SimilarityMeasure { Cosine, Jaccard, Lift, Confidence };

// "cosine", "jaccard", "lift" or "confidence" (exactly); InvalidParameter
// naming "measure" otherwise.
SimilarityMeasure parse_similarity_measure(std::string_view name);
const char *similarity_measure_name(SimilarityMeasure measure);

// The score of b as a's neighbour (see above); counts as doubles.
double similarity(SimilarityMeasure measure, double together, double count_a, double count_b, double baskets);

struct SimilarityOptions {
    SimilarityMeasure measure = SimilarityMeasure::Cosine;
    std::int64_t neighbours = 50;      // >= 1: best neighbours kept per item
    std::int64_t min_count = 2;        // >= 1: pairs (and items) in fewer baskets are left out
    std::int64_t max_basket_size = 0;  // > 0: baskets with more items are skipped (0: none)
};

// InvalidParameter naming the option ("neighbours", "min_count", "max_basket_size").
void validate(const SimilarityOptions &options);

struct SimilarityRow {
    std::int64_t item;
    std::int64_t neighbour;  // == item: the item's own row
    double score;
    std::int64_t together;   // baskets holding both (own row: baskets holding the item)
};

struct SimilarityStats {
    std::int64_t baskets = 0;          // n
    std::int64_t skipped_baskets = 0;  // over max_basket_size
    std::int64_t items = 0;            // items in >= min_count baskets (one own row each)
    std::int64_t pairs = 0;            // pairs in >= min_count baskets
    std::int64_t rows = 0;             // rows emitted
    std::size_t peak_bytes = 0;
};

// Emits the rows item by item (ascending id): the item's own row, then its
// neighbours by score descending (ties: neighbour id ascending). Polls
// `interrupt`; charges the pair counters and the neighbour lists to `budget`.
SimilarityStats item_similarities(const mining::BasketCollection &baskets, const SimilarityOptions &options,
                                  MemoryBudget &budget, const Interrupt &interrupt,
                                  const std::function<void(const SimilarityRow &)> &emit);

}  // namespace personalize::suggest
