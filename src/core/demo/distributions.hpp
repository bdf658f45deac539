// The demo shop's random streams and distributions: the project's one
// generator (personalize::Random, whose seeding, next() and uniform() the
// demo uses as they are) with the demo's own distribution code on top. These
// differ from Random's on purpose and must stay as they are, since every
// regression test's expected output depends on the demo data: below() is
// multiply-shift without rejection, the positive uniform is (0, 1], normals
// come from Marsaglia's polar method one at a time, and logs and exps are
// det_log / det_exp (det_math.hpp), never the libm's.
//
// Streams: every draw comes from a stream keyed by (seed, key, purpose,
// index), e.g. (seed, customer id, kOrder, order number), so any table can be
// generated on its own and agrees with every other.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/common/random.hpp"
#include "core/demo/det_math.hpp"

namespace personalize::demo {

// splitmix64 as a 64-bit hash.
inline std::uint64_t mix64(std::uint64_t z) { return Random::splitmix64(z); }

enum Purpose : std::uint64_t {
    kProfile = 1,
    kOrderTimes,
    kOrder,
    kSessions,
    kAnonymous,
    kEvents,
    kProductPrice,
    kPopularity,
};

inline Random stream(std::uint64_t seed, std::uint64_t key, std::uint64_t purpose, std::uint64_t index) {
    std::uint64_t h = mix64(seed ^ 0x243f6a8885a308d3ULL);
    h = mix64(h ^ key);
    h = mix64(h ^ (purpose * 0xd1b54a32d192ed03ULL));
    h = mix64(h ^ index);
    return Random(h);
}

// Uniform in (0, 1].
inline double uniform_positive(Random &rng) { return static_cast<double>((rng.next() >> 11) + 1) * 0x1.0p-53; }

inline bool chance(Random &rng, double p) { return rng.uniform() < p; }

// Uniform integer in [0, n), n < 2^32, by multiply-shift without rejection.
inline std::uint32_t scaled_below(Random &rng, std::uint64_t n) {
    return static_cast<std::uint32_t>(((rng.next() >> 32) * n) >> 32);
}

// Uniform integer in [lo, hi], hi - lo < 2^32.
inline std::int64_t between(Random &rng, std::int64_t lo, std::int64_t hi) {
    return lo + static_cast<std::int64_t>(scaled_below(rng, static_cast<std::uint64_t>(hi - lo + 1)));
}

// Exponential with rate 1.
inline double standard_exponential(Random &rng) { return -det_log(uniform_positive(rng)); }

// Marsaglia's polar method, one value per call.
inline double polar_normal(Random &rng) {
    for (;;) {
        const double a = 2.0 * rng.uniform() - 1.0;
        const double b = 2.0 * rng.uniform() - 1.0;
        const double s = a * a + b * b;
        if (s > 0.0 && s < 1.0) return a * std::sqrt(-2.0 * det_log(s) / s);
    }
}

// Gamma with scale 1 (Marsaglia & Tsang).
inline double standard_gamma(Random &rng, double shape) {
    if (shape < 1.0) {
        const double g = standard_gamma(rng, shape + 1.0);
        return g * det_exp(det_log(uniform_positive(rng)) / shape);
    }
    const double d = shape - 1.0 / 3.0;
    const double c = 1.0 / std::sqrt(9.0 * d);
    for (;;) {
        double x = 0.0, v = 0.0;
        do {
            x = polar_normal(rng);
            v = 1.0 + c * x;
        } while (v <= 0.0);
        v = v * v * v;
        const double u = uniform_positive(rng);
        const double x2 = x * x;
        if (u < 1.0 - 0.0331 * x2 * x2) return d * v;
        if (det_log(u) < 0.5 * x2 + d * (1.0 - v + det_log(v))) return d * v;
    }
}

inline double beta(Random &rng, double a, double b) {
    const double x = standard_gamma(rng, a);
    const double y = standard_gamma(rng, b);
    const double s = x + y;
    return s > 0.0 ? x / s : 0.5;
}

inline std::int64_t poisson(Random &rng, double mean) {
    if (!(mean > 0.0)) return 0;
    if (mean < 40.0) {
        const double u = rng.uniform();
        double p = det_exp(-mean);
        double cdf = p;
        std::int64_t x = 0;
        while (u > cdf && x < 1000) {
            ++x;
            p *= mean / static_cast<double>(x);
            cdf += p;
        }
        return x;
    }
    const double x = std::floor(mean + std::sqrt(mean) * polar_normal(rng) + 0.5);
    return x < 0.0 ? 0 : static_cast<std::int64_t>(x);
}

// Negative binomial as a gamma-Poisson mixture: mean `mean`, dispersion `k`.
inline std::int64_t neg_binomial(Random &rng, double k, double mean) {
    return poisson(rng, standard_gamma(rng, k) * (mean / k));
}

// Walker's alias method: O(1) sampling from a fixed discrete distribution.
class AliasTable {
public:
    AliasTable() = default;
    explicit AliasTable(const std::vector<double> &weights) { build(weights); }

    void build(const std::vector<double> &weights);

    std::uint32_t sample(Random &rng) const {
        const std::uint64_t x = rng.next();
        const auto i = static_cast<std::uint32_t>(((x >> 32) * prob_.size()) >> 32);
        const double frac = static_cast<double>(x & 0xffffffffULL) * 0x1.0p-32;
        return frac < prob_[i] ? i : alias_[i];
    }

    std::size_t size() const { return prob_.size(); }

private:
    std::vector<double> prob_;
    std::vector<std::uint32_t> alias_;
};

}  // namespace personalize::demo
