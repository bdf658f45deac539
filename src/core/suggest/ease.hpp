// EASE^R (Steck, "Embarrassingly Shallow Autoencoders for Sparse Data",
// WWW 2019): an item-to-item weight matrix in closed form,
//   P = (X^T X + lambda I)^-1,   B = I - P diag(1 / diag(P))   (zero diagonal),
// so B[i][j] = -P[i][j] / P[j][j] for i != j. X is the customer x item
// matrix of the baskets (one per customer, binary); X^T X is the Gram matrix
// of co-occurrence counts, counted by the pair-counting machinery
// (core/mining/pair_counting). A customer's scores are x B, so B[i][j] is the
// weight of bought item i for candidate j: row i's best `neighbours` positive
// weights become the rows of the same table item_similarities makes.
//
// Dense: one float32 item x item matrix (4 n^2 bytes: 10,000 items 381 MB,
// 20,000 items 1.5 GB), charged to the budget before anything is counted; the
// Cholesky factor and then the inverse are computed in place, by blocks, with
// an interrupt poll between blocks; the dense steps run the AVX2 + FMA build
// where the CPU has it (core/suggest/ease_kernel.hpp). Above what the budget affords the error
// names the limit, the item count and the sparse alternative (RP3beta).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

#include "core/common/interrupt.hpp"
#include "core/common/memory_budget.hpp"
#include "core/mining/baskets.hpp"
#include "core/suggest/crew.hpp"
#include "core/suggest/ease_kernel.hpp"
#include "core/suggest/item_similarity.hpp"

namespace personalize::suggest {

struct EaseOptions {
    double lambda = 3000.0;            // > 0, finite: the L2 penalty (added to the Gram's diagonal; SQL's default)
    std::int64_t neighbours = 50;      // >= 1: best positive weights kept per item
    std::int64_t min_count = 2;        // >= 1: items in fewer baskets are left out
    std::int64_t max_basket_size = 0;  // > 0: baskets with more items are skipped (0: none)
    unsigned threads = 1;              // >= 1: threads for the dense algebra (core/suggest/crew.hpp)
};

// InvalidParameter naming "lambda", "neighbours", "min_count", "max_basket_size".
void validate(const EaseOptions &options);

// Bytes EASE needs for `items` items beyond the baskets: the matrix and one
// column block of the inverse per thread.
std::size_t ease_matrix_bytes(std::size_t items, unsigned threads = 1);

// Emits the rows item by item (ascending id): the item's own row (score 0:
// EASE's zero diagonal; together = baskets holding the item), then its
// neighbours by weight descending (ties: smaller id), only positive weights;
// together = baskets holding both. Fewer than 2 baskets or fewer than 2 items
// in at least min_count baskets: InvalidParameter naming "baskets".
SimilarityStats ease_similarities(const mining::BasketCollection &baskets, const EaseOptions &options,
                                  MemoryBudget &budget, const Interrupt &interrupt,
                                  const std::function<void(const SimilarityRow &)> &emit);

namespace detail {
// The in-place blocked steps, exposed for the unit tests. `a` is an n x n
// column-major float matrix. cholesky_in_place: the lower triangle of a
// (symmetric positive definite, lower triangle read) becomes L with
// a = L L^T; false when a pivot is not positive. inverse_from_cholesky: from
// L in the lower triangle, a becomes the full symmetric (L L^T)^-1.
// `steps`: the build of the dense steps (core/suggest/ease_kernel.hpp;
// nullptr: the best this CPU runs, as ease_similarities uses).
bool cholesky_in_place(float *a, std::size_t n, const Interrupt &interrupt, const Crew &crew = Crew(1),
                       const ease_kernel::Steps *steps = nullptr);
void inverse_from_cholesky(float *a, std::size_t n, MemoryBudget &budget, const Interrupt &interrupt,
                           const Crew &crew = Crew(1), const ease_kernel::Steps *steps = nullptr);
}  // namespace detail

}  // namespace personalize::suggest
