// Internals of k-means shared by its source files (not part of the API):
// scaling of the points, k-means++ seeding, Hamerly's Lloyd iterations.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/common/interrupt.hpp"
#include "core/kmeans/kmeans.hpp"
#include "core/common/random.hpp"
#include "core/common/memory_budget.hpp"

namespace personalize::kmeans {
namespace detail {

// Points between interrupt checks in the per-point loops.
constexpr std::size_t kPollBlock = 4096;

// Charges `bytes` to a budget for as long as it lives.
class Charge {
public:
    Charge(MemoryBudget &budget, std::size_t bytes, const char *what) : budget_(budget), bytes_(bytes) {
        budget_.charge(bytes_, what);
    }
    ~Charge() { budget_.release(bytes_); }
    Charge(const Charge &) = delete;
    Charge &operator=(const Charge &) = delete;

private:
    MemoryBudget &budget_;
    std::size_t bytes_;
};

// Squared Euclidean distance. Four partial sums: shorter dependency chains,
// and the same result on every machine (no FMA, fixed order).
inline double squared_distance(const double *a, const double *b, std::size_t d) {
    double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
    std::size_t j = 0;
    for (; j + 4 <= d; j += 4) {
        const double t0 = a[j] - b[j], t1 = a[j + 1] - b[j + 1], t2 = a[j + 2] - b[j + 2], t3 = a[j + 3] - b[j + 3];
        s0 += t0 * t0;
        s1 += t1 * t1;
        s2 += t2 * t2;
        s3 += t3 * t3;
    }
    for (; j < d; ++j) {
        const double t = a[j] - b[j];
        s0 += t * t;
    }
    return (s0 + s1) + (s2 + s3);
}

// One kind per feature from the options' scaling (empty, one, or d entries).
std::vector<KMeansScaling> resolve_scaling_kinds(const std::vector<KMeansScaling> &kinds, std::size_t d);

// A fixed 64-bit hash of a row's values (-0.0 hashes as 0.0).
std::uint64_t row_hash(const double *row, std::size_t d, std::uint64_t salt);
// Lexicographic order of two rows.
bool row_less(const double *a, const double *b, std::size_t d);

// The permutation that orders the n rows of x by (row_hash, values): the
// same sequence of points whatever order they arrived in. Charges its
// memory (the returned vector stays charged) to `budget`.
std::vector<std::size_t> canonical_order(const double *x, std::size_t n, std::size_t d, MemoryBudget &budget,
                                         const Interrupt &interrupt);

// Writes t(x) of the points in `order` to `out` (n x d): log1p for
// log1p_zscore features, the value otherwise. Checks the log1p domain (x > -1).
void transform_points(const KMeansBuilder &points, const std::vector<std::size_t> &order,
                      const std::vector<KMeansScaling> &kinds, double *out, const Interrupt &interrupt);

struct ScalingFit {
    std::vector<KMeansFeatureScaling> scaling;
    double mean_variance = 0.0;  // mean over features of the variance AFTER scaling
};

// Mean and population std of every scaled feature of the transformed points
// `t` (n x d); a constant feature gets std 1.
ScalingFit fit_scaling(const double *t, std::size_t n, std::size_t d, const std::vector<KMeansScaling> &kinds,
                       const Interrupt &interrupt);

// In place: z = (t - mean) / std for the scaled features.
void standardize(double *t, std::size_t n, std::size_t d, const std::vector<KMeansFeatureScaling> &scaling,
                 const Interrupt &interrupt);

// Number of distinct rows of x (== on values, so -0.0 equals 0.0); counting
// stops at `limit`.
std::size_t count_distinct(const double *x, std::size_t n, std::size_t d, std::size_t limit,
                           const Interrupt &interrupt);

// Greedy k-means++ (scikit-learn's _kmeans_plusplus, unit weights): writes k
// centres (k x d) chosen among the points. `closest` is scratch for n
// values. Needs at least k distinct points.
void kmeans_plusplus(const double *x, std::size_t n, std::size_t d, std::size_t k, Random &random,
                     double *centers, double *closest, const Interrupt &interrupt);

struct LloydWork {
    std::uint32_t *labels;  // n
    double *upper;          // n: upper bound on the distance to the own centre
    double *lower;          // n: lower bound on the distance to any other centre
    double *scratch;        // lloyd_scratch_size(k, d) values
};

// Values of LloydWork::scratch (sums and transposed centres, k x d each,
// and a few per-cluster arrays).
std::size_t lloyd_scratch_size(std::size_t k, std::size_t d);

struct LloydResult {
    std::int64_t iterations = 0;
    bool converged = false;
    double inertia = 0.0;
    std::vector<std::int64_t> sizes;
};

// Lloyd iterations from `centers` (k x d, updated in place) with Hamerly's
// bounds; stops when sum of squared centre shifts <= tol, the labels stop
// changing, or after max_iterations. On return labels match `centers`.
LloydResult lloyd_hamerly(const double *x, std::size_t n, std::size_t d, std::size_t k, double *centers,
                          const LloydWork &work, double tol, std::int64_t max_iterations, const Interrupt &interrupt);

}  // namespace detail
}  // namespace personalize::kmeans
