// Greedy k-means++ seeding (Arthur & Vassilvitskii 2007; the greedy variant
// of scikit-learn's _kmeans_plusplus): the first centre is a uniformly drawn
// point; each next one is the best of 2 + floor(ln k) candidates drawn with
// probability proportional to the squared distance to the nearest centre
// chosen so far, "best" meaning the lowest resulting potential.
//
// Two passes over the points per centre: one draws the candidates (and
// first brings the nearest-centre distances up to date with the centre
// chosen last), one measures the potential every candidate would leave,
// four candidates at a time.
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <vector>

#include "core/common/error.hpp"
#include "core/kmeans/internal.hpp"

namespace personalize::kmeans {
namespace detail {

namespace {

constexpr int kGroup = 4;  // candidates per step of the distance kernel
using Group = Eigen::Array<double, kGroup, 1>;

// Squared distances from p to the candidates of group g: the candidates'
// coordinates transposed (d x stride), the additions in the order of
// squared_distance(), so the values are the same bit for bit.
Group group_distances(const double *p, const double *transposed, std::size_t d, std::size_t stride, std::size_t g) {
    auto at = [&](std::size_t j) { return Eigen::Map<const Group>(transposed + j * stride + g); };
    Group s0 = Group::Zero(), s1 = Group::Zero(), s2 = Group::Zero(), s3 = Group::Zero();
    std::size_t j = 0;
    for (; j + 4 <= d; j += 4) {
        s0 += (p[j] - at(j)).square();
        s1 += (p[j + 1] - at(j + 1)).square();
        s2 += (p[j + 2] - at(j + 2)).square();
        s3 += (p[j + 3] - at(j + 3)).square();
    }
    for (; j < d; ++j) s0 += (p[j] - at(j)).square();
    return (s0 + s1) + (s2 + s3);
}

}  // namespace

void kmeans_plusplus(const double *x, std::size_t n, std::size_t d, std::size_t k, Random &random,
                     double *centers, double *closest, const Interrupt &interrupt) {
    const std::size_t trials = 2 + static_cast<std::size_t>(std::log(static_cast<double>(k)));
    const std::size_t padded = (trials + kGroup - 1) / kGroup * kGroup;

    const std::size_t first = static_cast<std::size_t>(random.below(n));
    std::memcpy(centers, x + first * d, d * sizeof(double));
    double potential = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
        if (i % kPollBlock == 0) interrupt.check();
        closest[i] = squared_distance(x + i * d, centers, d);
        potential += closest[i];
    }

    std::vector<double> draws(trials), trial_potential(padded);
    std::vector<std::size_t> order(trials), candidates(trials);
    // The candidates' coordinates, transposed (d x padded); padding columns
    // are +infinity, so they never lower a distance.
    std::vector<double> transposed(d * padded, std::numeric_limits<double>::infinity());
    const double *previous = nullptr;  // the centre chosen last, not yet in `closest`
    for (std::size_t c = 1; c < k; ++c) {
        if (!(potential > 0.0))
            throw Error(ErrorCode::Internal, "kmeans: seeding ran out of distinct points");
        for (std::size_t t = 0; t < trials; ++t) draws[t] = random.uniform() * potential;

        // Inverse-CDF sampling for all draws in one sweep, in increasing
        // order of the draws: candidate = first point whose cumulative
        // weight exceeds the draw (so a zero-weight point, a copy of a
        // chosen centre, is never drawn). The same sweep lowers `closest`
        // to the previous centre first; their sum is `potential` already
        // (the potential that centre's trial measured, the same additions
        // in the same order).
        std::iota(order.begin(), order.end(), std::size_t{0});
        std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
            return draws[a] != draws[b] ? draws[a] < draws[b] : a < b;
        });
        std::size_t next = 0;  // position in `order` of the next draw to place
        std::size_t last_positive = n;
        double cumulative = 0.0;
        for (std::size_t i = 0; i < n; ++i) {
            if (i % kPollBlock == 0) interrupt.check();
            if (previous != nullptr) {
                const double dist = squared_distance(x + i * d, previous, d);
                if (dist < closest[i]) closest[i] = dist;
            }
            if (next == trials) continue;  // all drawn: only the update goes on
            if (closest[i] > 0.0) last_positive = i;
            const double after = cumulative + closest[i];
            while (next < trials && after > draws[order[next]] && closest[i] > 0.0) candidates[order[next++]] = i;
            cumulative = after;
        }
        // Rounding put draws at the very end: the last point with a
        // positive weight.
        for (; next < trials; ++next) {
            if (last_positive == n)
                throw Error(ErrorCode::Internal, "kmeans: seeding ran out of distinct points");
            candidates[order[next]] = last_positive;
        }

        // Potential after adding each candidate, four candidates at a time.
        for (std::size_t t = 0; t < trials; ++t)
            for (std::size_t j = 0; j < d; ++j) transposed[j * padded + t] = x[candidates[t] * d + j];
        std::fill(trial_potential.begin(), trial_potential.end(), 0.0);
        for (std::size_t i = 0; i < n; ++i) {
            if (i % kPollBlock == 0) interrupt.check();
            for (std::size_t g = 0; g < padded; g += kGroup)
                Eigen::Map<Group>(trial_potential.data() + g) +=
                    group_distances(x + i * d, transposed.data(), d, padded, g).min(closest[i]);
        }
        std::size_t best = 0;
        for (std::size_t t = 1; t < trials; ++t)
            if (trial_potential[t] < trial_potential[best]) best = t;

        double *center = centers + c * d;
        std::memcpy(center, x + candidates[best] * d, d * sizeof(double));
        previous = center;
        potential = trial_potential[best];
    }
}

}  // namespace detail
}  // namespace personalize::kmeans
