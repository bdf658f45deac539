// Lloyd's k-means iterations accelerated with Hamerly's bounds (G. Hamerly,
// "Making k-means even faster", SDM 2010). Each point keeps an upper bound
// on the distance to its own centre and a lower bound on the distance to
// every other centre; a point whose upper bound is clearly below
// max(lower bound, half the distance from its centre to the nearest other
// centre) cannot change cluster and is skipped. The result is plain Lloyd's
// (scikit-learn's algorithm="lloyd"): the same labels, centres and
// iteration count bit for bit, since only the skipped distances differ and
// the sums are added in the same order; at a fraction of the distance
// computations once clusters settle.
//
// One sweep over the points per iteration does everything that touches
// them: the bounds catch up with the last centre moves, the points the
// bounds cannot rule out are reassigned, and every point is added to its
// cluster's sum (one pass over memory instead of three). A full search
// computes the distances to four centres at a time (a fixed-size Eigen
// array: vectorised, and the additions in the same order as
// squared_distance()).
//
// Distances are computed from coordinate differences, never with the
// |x|^2 - 2 x.c + |c|^2 (GEMM) expansion: that one cancels badly when the
// points lie far from the origin compared with their distances, and its
// error would make the bounds unsound (a point skipped that plain Lloyd
// would move). With a few features there is little for a matrix product to
// gain either.
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "core/common/error.hpp"
#include "core/kmeans/internal.hpp"

namespace personalize::kmeans {
namespace detail {

namespace {

constexpr double kInfinity = std::numeric_limits<double>::infinity();

// A point is skipped only when its upper bound is clearly below the bound
// on the other centres. Clearly: strictly (a tie must be searched, plain
// Lloyd gives it to the lower index, which may not be the point's cluster;
// integer features tie often), and by a relative margin that covers the
// rounding of the bounds (sums of square roots and shifts, a few hundred
// iterations of them) and of the distances themselves.
constexpr double kSkipMargin = 1.0 - 1e-9;

// Centres per step of the distance kernel.
constexpr int kGroup = 4;

std::size_t padded_clusters(std::size_t k) { return (k + kGroup - 1) / kGroup * kGroup; }

using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MatrixMap = Eigen::Map<RowMatrix>;
using ArrayMap = Eigen::Map<Eigen::ArrayXd>;
using VectorMap = Eigen::Map<Eigen::VectorXd>;
using ConstVectorMap = Eigen::Map<const Eigen::VectorXd>;

class Hamerly {
public:
    Hamerly(const double *x, std::size_t n, std::size_t d, std::size_t k, double *centers, const LloydWork &work,
            const Interrupt &interrupt)
        : x_(x), n_(n), d_(d), k_(k), centers_(centers), labels_(work.labels), upper_(work.upper),
          lower_(work.lower), padded_k_(padded_clusters(k)), sums_(work.scratch), centers_t_(sums_ + k * d),
          acc_(centers_t_ + d * padded_k_), counts_(acc_ + padded_k_), shift_(counts_ + k), half_(shift_ + k),
          interrupt_(interrupt) {
        transpose_centers();
    }

    // One pass over the points; returns how many changed cluster. The first
    // sweep searches every point from scratch; later ones first move the
    // bounds by the last centre shifts. With `accumulate`, sums_ and counts_
    // receive every point (in index order, as plain Lloyd adds them).
    std::size_t sweep(bool first, bool accumulate) {
        if (accumulate) {
            std::fill(sums_, sums_ + k_ * d_, 0.0);
            std::fill(counts_, counts_ + k_, 0.0);
        }
        std::size_t changes = 0;
        for (std::size_t begin = 0; begin < n_; begin += kPollBlock) {
            interrupt_.check();
            const std::size_t end = std::min(n_, begin + kPollBlock);
            if (first)
                changes += sweep_block<true, true>(begin, end);
            else if (accumulate)
                changes += sweep_block<false, true>(begin, end);
            else
                changes += sweep_block<false, false>(begin, end);
        }
        return changes;
    }

    // New centres = the means of the sums of the last sweep (empty clusters
    // re-seeded); returns the sum of squared centre shifts and sets
    // *relocated. Prepares the shifts, half distances and transposed centres
    // the next sweep uses.
    double move_centers(bool *relocated) {
        *relocated = relocate_empty_clusters();
        const auto k = static_cast<Eigen::Index>(k_), d = static_cast<Eigen::Index>(d_);
        MatrixMap means(sums_, k, d);
        means.array().colwise() /= ArrayMap(counts_, k);

        double total = 0.0;
        far_ = 0;
        shift1_ = 0.0;
        shift2_ = 0.0;
        for (std::size_t c = 0; c < k_; ++c) {
            double *center = centers_ + c * d_;
            const double *mean = sums_ + c * d_;
            const double sq = squared_distance(center, mean, d_);
            total += sq;
            std::memcpy(center, mean, d_ * sizeof(double));
            const double s = std::sqrt(sq);
            shift_[c] = s;
            if (s > shift1_) {
                shift2_ = shift1_;
                shift1_ = s;
                far_ = c;
            } else if (s > shift2_) {
                shift2_ = s;
            }
        }
        transpose_centers();
        compute_half_distances();
        return total;
    }

    void finish(LloydResult &result) {
        result.sizes.assign(k_, 0);
        double inertia = 0.0;
        for (std::size_t i = 0; i < n_; ++i) {
            if (i % kPollBlock == 0) interrupt_.check();
            const std::uint32_t a = labels_[i];
            ++result.sizes[a];
            inertia += squared_distance(x_ + i * d_, centers_ + a * d_, d_);
        }
        result.inertia = inertia;
    }

private:
    // sweep() on points [begin, end), the loop specialised for its flags
    // and with the members it reads in locals (the stores through labels_
    // and the bounds could otherwise alias them).
    template <bool kFirst, bool kAccumulate>
    std::size_t sweep_block(std::size_t begin, std::size_t end) {
        const std::size_t d = d_, far = far_;
        const double shift1 = shift1_, shift2 = shift2_;
        const double *x = x_, *centers = centers_, *shift = shift_, *half = half_;
        std::uint32_t *labels = labels_;
        double *upper_bounds = upper_, *lower_bounds = lower_, *sums = sums_, *counts = counts_;
        std::size_t changes = 0;
        for (std::size_t i = begin; i < end; ++i) {
            const double *p = x + i * d;
            std::uint32_t a;
            if (kFirst) {
                a = full_search(i, 0);
                ++changes;
            } else {
                a = labels[i];
                double upper = upper_bounds[i] + shift[a];
                const double lower = lower_bounds[i] - (a == far ? shift2 : shift1);
                const double bound = std::max(half[a], lower) * kSkipMargin;
                upper_bounds[i] = upper;
                lower_bounds[i] = lower;
                if (!(upper < bound)) {
                    upper = std::sqrt(squared_distance(p, centers + a * d, d));
                    upper_bounds[i] = upper;
                    if (!(upper < bound)) {
                        const std::uint32_t b = full_search(i, a);
                        changes += b != a;
                        a = b;
                    }
                }
            }
            if (kAccumulate) {
                counts[a] += 1.0;
                VectorMap(sums + a * d, static_cast<Eigen::Index>(d)) += ConstVectorMap(p, static_cast<Eigen::Index>(d));
            }
        }
        return changes;
    }

    // Nearest and second-nearest centre of point i; sets its label and
    // bounds and returns the label. `guess` (its current cluster) is tried
    // first: the point usually stays there, so the comparisons below are
    // predictable; ties still go to the lowest index, as in plain Lloyd.
    std::uint32_t full_search(std::size_t i, std::uint32_t guess) {
        distances_to_all(x_ + i * d_);
        std::uint32_t best = guess;
        double d1 = acc_[guess], d2 = kInfinity;
        for (std::size_t c = 0; c < k_; ++c) {
            const double dist = acc_[c];
            if (c == guess) continue;
            if (dist < d1 || (dist == d1 && c < best)) {
                d2 = d1;
                d1 = dist;
                best = static_cast<std::uint32_t>(c);
            } else {
                d2 = std::min(d2, dist);
            }
        }
        labels_[i] = best;
        upper_[i] = std::sqrt(d1);
        lower_[i] = std::sqrt(d2);
        return best;
    }

    // acc_[c] = squared distance from p to centre c, for all centres at once:
    // four centres per step (a fixed-size Eigen array, vectorised), from the
    // transposed centres, with the additions in the order of
    // squared_distance(), so the values are the same bit for bit.
    void distances_to_all(const double *p) {
        using Group = Eigen::Array<double, kGroup, 1>;
        const std::size_t d = d_, stride = padded_k_;
        const double *ct = centers_t_;
        auto at = [&](std::size_t j, std::size_t g) { return Eigen::Map<const Group>(ct + j * stride + g); };
        for (std::size_t g = 0; g < stride; g += kGroup) {
            Group s0 = Group::Zero(), s1 = Group::Zero(), s2 = Group::Zero(), s3 = Group::Zero();
            std::size_t j = 0;
            for (; j + 4 <= d; j += 4) {
                s0 += (p[j] - at(j, g)).square();
                s1 += (p[j + 1] - at(j + 1, g)).square();
                s2 += (p[j + 2] - at(j + 2, g)).square();
                s3 += (p[j + 3] - at(j + 3, g)).square();
            }
            for (; j < d; ++j) s0 += (p[j] - at(j, g)).square();
            Eigen::Map<Group>(acc_ + g) = (s0 + s1) + (s2 + s3);
        }
    }

    // centers_t_ (d x padded_k_) = the centres transposed; the padding
    // columns are +infinity, so their distances are too and never win.
    void transpose_centers() {
        const auto k = static_cast<Eigen::Index>(k_), d = static_cast<Eigen::Index>(d_);
        MatrixMap t(centers_t_, d, static_cast<Eigen::Index>(padded_k_));
        t.leftCols(k) = MatrixMap(centers_, k, d).transpose();
        t.rightCols(static_cast<Eigen::Index>(padded_k_ - k_)).setConstant(kInfinity);
    }

    // half_[c] = half the distance from centre c to its nearest other centre.
    void compute_half_distances() {
        std::fill(half_, half_ + k_, kInfinity);
        for (std::size_t a = 0; a < k_; ++a) {
            interrupt_.poll(64);
            for (std::size_t b = a + 1; b < k_; ++b) {
                const double dist = 0.5 * std::sqrt(squared_distance(centers_ + a * d_, centers_ + b * d_, d_));
                half_[a] = std::min(half_[a], dist);
                half_[b] = std::min(half_[b], dist);
            }
        }
    }

    // Each empty cluster takes the point farthest from its current centre
    // (among clusters that keep at least one point), as scikit-learn does.
    bool relocate_empty_clusters() {
        bool any_empty = false;
        for (std::size_t c = 0; c < k_ && !any_empty; ++c) any_empty = counts_[c] == 0.0;
        if (!any_empty) return false;
        // Exact distances (also valid, tight upper bounds).
        for (std::size_t i = 0; i < n_; ++i) {
            if (i % kPollBlock == 0) interrupt_.check();
            upper_[i] = std::sqrt(squared_distance(x_ + i * d_, centers_ + labels_[i] * d_, d_));
        }
        for (std::size_t c = 0; c < k_; ++c) {
            if (counts_[c] != 0.0) continue;
            std::size_t far = n_;
            double far_distance = -1.0;
            for (std::size_t i = 0; i < n_; ++i) {
                if (i % kPollBlock == 0) interrupt_.check();
                if (upper_[i] > far_distance && counts_[labels_[i]] > 1.0) {
                    far_distance = upper_[i];
                    far = i;
                }
            }
            if (far == n_) throw Error(ErrorCode::Internal, "kmeans: no point to re-seed an empty cluster");
            const std::uint32_t from = labels_[far];
            const double *p = x_ + far * d_;
            counts_[from] -= 1.0;
            for (std::size_t j = 0; j < d_; ++j) sums_[from * d_ + j] -= p[j];
            counts_[c] = 1.0;
            std::memcpy(sums_ + c * d_, p, d_ * sizeof(double));
            labels_[far] = static_cast<std::uint32_t>(c);
            upper_[far] = 0.0;  // the new centre is the point itself
            lower_[far] = 0.0;
        }
        return true;
    }

    const double *x_;
    std::size_t n_, d_, k_;
    double *centers_;
    std::uint32_t *labels_;
    double *upper_, *lower_;
    std::size_t padded_k_;  // k rounded up to a whole number of groups
    double *sums_;          // k x d: sums of the last sweep, then the new centres
    double *centers_t_;     // d x padded_k_: the centres transposed, for distances_to_all
    double *acc_;           // padded_k_: the distances of distances_to_all
    double *counts_, *shift_, *half_;
    // The largest centre shift, its cluster, and the second largest: the
    // lower bounds move by the largest shift of any OTHER centre.
    std::size_t far_ = 0;
    double shift1_ = 0.0, shift2_ = 0.0;
    const Interrupt &interrupt_;
};

}  // namespace

std::size_t lloyd_scratch_size(std::size_t k, std::size_t d) {
    const std::size_t padded = padded_clusters(k);
    return k * d + d * padded + padded + 3 * k;
}

LloydResult lloyd_hamerly(const double *x, std::size_t n, std::size_t d, std::size_t k, double *centers,
                          const LloydWork &work, double tol, std::int64_t max_iterations, const Interrupt &interrupt) {
    Hamerly h(x, n, d, k, centers, work, interrupt);
    LloydResult result;
    bool labels_match_centers = false;
    for (std::int64_t it = 0; it < max_iterations; ++it) {
        const std::size_t changes = h.sweep(it == 0, true);
        result.iterations = it + 1;
        // Unchanged labels give the same means: the centres are final
        // (scikit-learn's "strict convergence").
        if (it > 0 && changes == 0) {
            result.converged = true;
            labels_match_centers = true;
            break;
        }
        bool relocated = false;
        const double shift = h.move_centers(&relocated);
        if (shift <= tol && !relocated) {
            result.converged = true;
            break;
        }
    }
    // The loop ended on the tolerance or on max_iterations: one more
    // assignment so the labels (sizes, inertia) match the returned centres.
    if (!labels_match_centers) h.sweep(false, false);
    h.finish(result);
    return result;
}

}  // namespace detail
}  // namespace personalize::kmeans
