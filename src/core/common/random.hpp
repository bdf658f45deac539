// The project's one pseudo-random generator (k-means seeding and sampling,
// bootstrap draws, simulated customers). Fully specified, so a seed gives the
// same result on every machine and standard library: nothing here uses
// std::*_distribution.
//
//   * seeding: splitmix64 (Steele, Lea & Flood 2014) expands one 64-bit seed;
//   * stream: xoshiro256** (Blackman & Vigna 2018);
//   * uniform: the top 53 bits, in [0, 1) (uniform_open() avoids 0);
//   * below(n): Lemire's multiply-shift with rejection, exactly uniform;
//   * normal: Box-Muller, both values of a pair used;
//   * gamma: Marsaglia & Tsang (2000), with the u^(1/shape) boost for shape < 1
//     (NaN for a shape that is not a finite number > 0, never a loop);
//   * beta: the ratio of two gammas.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>

namespace personalize {

class Random {
public:
    explicit Random(std::uint64_t seed) {
        std::uint64_t s = seed;
        for (auto &word : state_) word = splitmix64(s);
    }

    std::uint64_t next() {
        const std::uint64_t result = rotl(state_[1] * 5, 7) * 9;
        const std::uint64_t t = state_[1] << 17;
        state_[2] ^= state_[0];
        state_[3] ^= state_[1];
        state_[1] ^= state_[2];
        state_[0] ^= state_[3];
        state_[2] ^= t;
        state_[3] = rotl(state_[3], 45);
        return result;
    }

    // Uniform in [0, 1).
    double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
    // Uniform in (0, 1): safe to take the logarithm of.
    double uniform_open() { return (static_cast<double>(next() >> 11) + 0.5) * 0x1.0p-53; }

    // Uniform integer in [0, n), n >= 1 (Lemire 2019, 32-bit halves so no
    // 128-bit arithmetic is needed).
    std::uint64_t below(std::uint64_t n) {
        if (n <= 1) return 0;
        if (n <= 0xFFFFFFFFu) {
            const std::uint64_t bound = n;
            const std::uint64_t threshold = (0x100000000ULL - bound) % bound;
            for (;;) {
                const std::uint64_t product = (next() >> 32) * bound;
                if ((product & 0xFFFFFFFFu) >= threshold) return product >> 32;
            }
        }
        // Large n: plain rejection on the smallest covering power of two.
        std::uint64_t mask = n - 1;
        mask |= mask >> 1;
        mask |= mask >> 2;
        mask |= mask >> 4;
        mask |= mask >> 8;
        mask |= mask >> 16;
        mask |= mask >> 32;
        for (;;) {
            const std::uint64_t v = next() & mask;
            if (v < n) return v;
        }
    }

    double normal() {
        if (has_spare_) {
            has_spare_ = false;
            return spare_;
        }
        const double radius = std::sqrt(-2.0 * std::log(uniform_open()));
        const double angle = 2.0 * 3.14159265358979323846 * uniform();
        spare_ = radius * std::sin(angle);
        has_spare_ = true;
        return radius * std::cos(angle);
    }

    double exponential(double rate) { return -std::log(uniform_open()) / rate; }

    // Gamma with the given shape and rate (mean shape / rate). Not
    // recursive, and total for any input: a shape that is not a finite
    // number > 0 gives NaN at once instead of a loop that never accepts
    // (callers check their parameters and name them). For shape < 1 the
    // draw is Gamma(shape + 1) * u^(1/shape), the stream consumed in the
    // same order as ever, so a seed still gives the same values.
    double gamma(double shape, double rate) {
        if (!(shape > 0.0 && shape <= 1.7976931348623157e308)) return std::numeric_limits<double>::quiet_NaN();
        const bool boost = shape < 1.0;
        const double d = (boost ? shape + 1.0 : shape) - 1.0 / 3.0;
        const double c = 1.0 / std::sqrt(9.0 * d);
        double value;
        for (;;) {
            double z, v;
            do {
                z = normal();
                v = 1.0 + c * z;
            } while (v <= 0.0);
            v = v * v * v;
            const double u = uniform_open();
            if (std::log(u) < 0.5 * z * z + d - d * v + d * std::log(v)) {
                value = d * v / rate;
                break;
            }
        }
        return boost ? value * std::pow(uniform_open(), 1.0 / shape) : value;
    }

    double beta(double a, double b) {
        const double x = gamma(a, 1.0);
        const double y = gamma(b, 1.0);
        return x / (x + y);
    }

    // One splitmix64 step: advances x and returns the next output. The
    // seeding above; also a good mixer for deriving one seed from others.
    static std::uint64_t splitmix64(std::uint64_t &x) {
        std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }

private:
    static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

    std::uint64_t state_[4];
    bool has_spare_ = false;
    double spare_ = 0.0;
};

}  // namespace personalize
