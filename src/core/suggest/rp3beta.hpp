// RP3beta (Paudel, Christoffel, Newell, Bernstein, "Updatable, accurate,
// diverse, and scalable recommendations for interactive applications",
// ACM TiiS 2017; as tuned by Dacrema et al., RecSys 2019): a two-step random
// walk item -> customer -> item on the bipartite purchase graph, with the
// transition probabilities raised to alpha, divided by the target's
// popularity to the power beta:
//
//   W[i][j] = (1 / c_i)^alpha * sum over baskets u holding i and j of (1 / n_u)^alpha  /  c_j^beta
//
// c_i = baskets holding i, n_u = items of basket u (among the kept items).
// beta = 0 is the plain walk P(j | i); larger beta damps best sellers. Rows
// are sparse (only co-bought items), so the cost is that of counting pairs,
// and only each row's best `neighbours` (j != i) are kept.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

#include "core/common/interrupt.hpp"
#include "core/common/memory_budget.hpp"
#include "core/mining/baskets.hpp"
#include "core/suggest/item_similarity.hpp"

namespace personalize::suggest {

struct Rp3betaOptions {
    double alpha = 1.0;                // >= 0, finite: exponent of the transition probabilities
    double beta = 0.5;                 // >= 0, finite: popularity damping of the target
    std::int64_t neighbours = 50;      // >= 1: best neighbours kept per item
    std::int64_t min_count = 2;        // >= 1: items in fewer baskets are left out
    std::int64_t max_basket_size = 0;  // > 0: baskets with more items are skipped (0: none)
};

// InvalidParameter naming "alpha", "beta", "neighbours", "min_count", "max_basket_size".
void validate(const Rp3betaOptions &options);

// Emits the rows item by item (ascending id): the item's own row (score
// W[i][i], the walk's return probability; together = baskets holding the
// item), then its neighbours by score descending (ties: smaller id);
// together = baskets holding both. Fewer than 2 baskets or fewer than 2
// items in at least min_count baskets: InvalidParameter naming "baskets".
SimilarityStats rp3beta_similarities(const mining::BasketCollection &baskets, const Rp3betaOptions &options,
                                     MemoryBudget &budget, const Interrupt &interrupt,
                                     const std::function<void(const SimilarityRow &)> &emit);

}  // namespace personalize::suggest
