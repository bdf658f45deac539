// Lloyd's k-means iterations accelerated with Hamerly's bounds (G. Hamerly,
// "Making k-means even faster", SDM 2010). Each point keeps an upper bound
// on the distance to its own centre and a lower bound on the distance to
// every other centre; a point whose upper bound is below
// max(lower bound, half the distance from its centre to the nearest other
// centre) cannot change cluster and is skipped. The result is the same
// sequence of centres as plain Lloyd (scikit-learn's algorithm="lloyd"),
// at a fraction of the distance computations once clusters settle.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "core/error.hpp"
#include "core/kmeans_internal.hpp"

namespace personalize {
namespace kmeans_detail {

namespace {

constexpr double kInfinity = std::numeric_limits<double>::infinity();

class Hamerly {
public:
    Hamerly(const double *x, std::size_t n, std::size_t d, std::size_t k, double *centers, const LloydWork &work,
            const Interrupt &interrupt)
        : x_(x), n_(n), d_(d), k_(k), centers_(centers), labels_(work.labels), upper_(work.upper),
          lower_(work.lower), sums_(work.scratch), shift_(work.scratch + k * d), half_(shift_ + k),
          counts_(half_ + k), interrupt_(interrupt) {}

    // Nearest and second-nearest centre of every point, from scratch.
    void assign_all() {
        for (std::size_t i = 0; i < n_; ++i) {
            if (i % kPollBlock == 0) interrupt_.check();
            full_search(i);
        }
    }

    // One assignment pass using the bounds; true if any label changed.
    bool assign_bounded() {
        compute_half_distances();
        bool changed = false;
        for (std::size_t i = 0; i < n_; ++i) {
            if (i % kPollBlock == 0) interrupt_.check();
            const std::uint32_t a = labels_[i];
            const double bound = std::max(half_[a], lower_[i]);
            if (upper_[i] <= bound) continue;
            upper_[i] = std::sqrt(squared_distance(x_ + i * d_, centers_ + a * d_, d_));
            if (upper_[i] <= bound) continue;
            full_search(i);
            changed |= labels_[i] != a;
        }
        return changed;
    }

    // New centres = means of the labelled points (empty clusters re-seeded);
    // returns the sum of squared centre shifts and sets *relocated. Updates
    // the bounds for the moves.
    double move_centers(bool *relocated) {
        std::fill(sums_, sums_ + k_ * d_, 0.0);
        std::fill(counts_, counts_ + k_, 0.0);
        for (std::size_t i = 0; i < n_; ++i) {
            if (i % kPollBlock == 0) interrupt_.check();
            const std::uint32_t a = labels_[i];
            counts_[a] += 1.0;
            double *sum = sums_ + a * d_;
            const double *p = x_ + i * d_;
            for (std::size_t j = 0; j < d_; ++j) sum[j] += p[j];
        }
        *relocated = relocate_empty_clusters();

        double total = 0.0;
        std::size_t far1 = 0;  // index of the largest shift
        double shift1 = 0.0, shift2 = 0.0;
        for (std::size_t c = 0; c < k_; ++c) {
            double *center = centers_ + c * d_;
            double *sum = sums_ + c * d_;  // becomes the new centre
            for (std::size_t j = 0; j < d_; ++j) sum[j] /= counts_[c];
            const double sq = squared_distance(center, sum, d_);
            total += sq;
            std::memcpy(center, sum, d_ * sizeof(double));
            const double s = std::sqrt(sq);
            shift_[c] = s;
            if (s > shift1) {
                shift2 = shift1;
                shift1 = s;
                far1 = c;
            } else if (s > shift2) {
                shift2 = s;
            }
        }
        if (total > 0.0) {
            for (std::size_t i = 0; i < n_; ++i) {
                if (i % kPollBlock == 0) interrupt_.check();
                const std::uint32_t a = labels_[i];
                upper_[i] += shift_[a];
                lower_[i] -= a == far1 ? shift2 : shift1;
            }
        }
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
    void full_search(std::size_t i) {
        const double *p = x_ + i * d_;
        std::uint32_t best = 0;
        double d1 = squared_distance(p, centers_, d_), d2 = kInfinity;
        for (std::size_t c = 1; c < k_; ++c) {
            const double dist = squared_distance(p, centers_ + c * d_, d_);
            if (dist < d1) {
                d2 = d1;
                d1 = dist;
                best = static_cast<std::uint32_t>(c);
            } else if (dist < d2) {
                d2 = dist;
            }
        }
        labels_[i] = best;
        upper_[i] = std::sqrt(d1);
        lower_[i] = std::sqrt(d2);
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
    double *sums_, *shift_, *half_, *counts_;
    const Interrupt &interrupt_;
};

}  // namespace

LloydResult lloyd_hamerly(const double *x, std::size_t n, std::size_t d, std::size_t k, double *centers,
                          const LloydWork &work, double tol, std::int64_t max_iterations, const Interrupt &interrupt) {
    Hamerly h(x, n, d, k, centers, work, interrupt);
    LloydResult result;
    bool labels_match_centers = false;
    for (std::int64_t it = 0; it < max_iterations; ++it) {
        bool changed = true;
        if (it == 0)
            h.assign_all();
        else
            changed = h.assign_bounded();
        // Unchanged labels give the same means: the centres are final
        // (scikit-learn's "strict convergence").
        if (it > 0 && !changed) {
            result.iterations = it + 1;
            result.converged = true;
            labels_match_centers = true;
            break;
        }
        bool relocated = false;
        const double shift = h.move_centers(&relocated);
        result.iterations = it + 1;
        if (shift <= tol && !relocated) {
            result.converged = true;
            break;
        }
    }
    // The loop ended on the tolerance or on max_iterations: one more
    // assignment so the labels (sizes, inertia) match the returned centres.
    if (!labels_match_centers) h.assign_bounded();
    h.finish(result);
    return result;
}

}  // namespace kmeans_detail
}  // namespace personalize
