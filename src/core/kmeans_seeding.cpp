// Greedy k-means++ seeding (Arthur & Vassilvitskii 2007; the greedy variant
// of scikit-learn's _kmeans_plusplus): the first centre is a uniformly drawn
// point; each next one is the best of 2 + floor(ln k) candidates drawn with
// probability proportional to the squared distance to the nearest centre
// chosen so far, "best" meaning the lowest resulting potential.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <vector>

#include "core/error.hpp"
#include "core/kmeans_internal.hpp"

namespace personalize {
namespace kmeans_detail {

void kmeans_plusplus(const double *x, std::size_t n, std::size_t d, std::size_t k, Random &random,
                     double *centers, double *closest, const Interrupt &interrupt) {
    const std::size_t trials = 2 + static_cast<std::size_t>(std::log(static_cast<double>(k)));

    const std::size_t first = static_cast<std::size_t>(random.below(n));
    std::memcpy(centers, x + first * d, d * sizeof(double));
    double potential = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
        if (i % kPollBlock == 0) interrupt.check();
        closest[i] = squared_distance(x + i * d, centers, d);
        potential += closest[i];
    }

    std::vector<double> draws(trials), trial_potential(trials);
    std::vector<std::size_t> order(trials), candidates(trials);
    for (std::size_t c = 1; c < k; ++c) {
        if (!(potential > 0.0))
            throw Error(ErrorCode::Internal, "kmeans: seeding ran out of distinct points");
        for (std::size_t t = 0; t < trials; ++t) draws[t] = random.uniform() * potential;

        // Inverse-CDF sampling for all draws in one sweep, in increasing
        // order of the draws: candidate = first point whose cumulative
        // weight exceeds the draw (so a zero-weight point, a copy of a
        // chosen centre, is never drawn).
        std::iota(order.begin(), order.end(), std::size_t{0});
        std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
            return draws[a] != draws[b] ? draws[a] < draws[b] : a < b;
        });
        std::size_t last_positive = n;
        {
            double cumulative = 0.0;
            std::size_t i = 0;
            for (const std::size_t t : order) {
                while (i < n) {
                    if (i % kPollBlock == 0) interrupt.check();
                    const double next = cumulative + closest[i];
                    if (closest[i] > 0.0) last_positive = i;
                    if (next > draws[t] && closest[i] > 0.0) break;
                    cumulative = next;
                    ++i;
                }
                if (i == n) {
                    // Rounding put the draw at the very end: the last point
                    // with a positive weight.
                    if (last_positive == n)
                        for (std::size_t j = n; j-- > 0;)
                            if (closest[j] > 0.0) {
                                last_positive = j;
                                break;
                            }
                    candidates[t] = last_positive;
                } else {
                    candidates[t] = i;
                }
            }
        }

        // Potential after adding each candidate.
        std::fill(trial_potential.begin(), trial_potential.end(), 0.0);
        for (std::size_t i = 0; i < n; ++i) {
            if (i % kPollBlock == 0) interrupt.check();
            const double *p = x + i * d;
            for (std::size_t t = 0; t < trials; ++t) {
                const double dist = squared_distance(p, x + candidates[t] * d, d);
                trial_potential[t] += dist < closest[i] ? dist : closest[i];
            }
        }
        std::size_t best = 0;
        for (std::size_t t = 1; t < trials; ++t)
            if (trial_potential[t] < trial_potential[best]) best = t;

        double *center = centers + c * d;
        std::memcpy(center, x + candidates[best] * d, d * sizeof(double));
        potential = 0.0;
        for (std::size_t i = 0; i < n; ++i) {
            if (i % kPollBlock == 0) interrupt.check();
            const double dist = squared_distance(x + i * d, center, d);
            if (dist < closest[i]) closest[i] = dist;
            potential += closest[i];
        }
    }
}

}  // namespace kmeans_detail
}  // namespace personalize
