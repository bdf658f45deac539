// The demo shop's own log and exp, built from IEEE +, *, /, frexp, ldexp and
// floor only, so the generated data do not depend on the libm. What remains
// is IEEE-754 double arithmetic itself: on a target with fused multiply-add,
// a compiler that contracts a*b+c into one FMA could change a last bit, so
// builds keep -ffp-contract=off (clang is told so below as well).
#pragma once

#include <cmath>
#include <limits>

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

namespace personalize::demo {

constexpr double kLn2Hi = 6.93147180369123816490e-01;  // low 32 bits zero: k*kLn2Hi is exact
constexpr double kLn2Lo = 1.90821492927058770002e-10;
constexpr double kInvLn2 = 1.44269504088896338700e+00;

// Natural logarithm of a positive finite x, |relative error| ~ 1e-16.
inline double det_log(double x) {
    int e = 0;
    double m = std::frexp(x, &e);  // x = m * 2^e, m in [0.5, 1)
    if (m < 0.70710678118654752440) {
        m *= 2.0;
        e -= 1;
    }
    const double f = m - 1.0;  // exact
    const double s = f / (2.0 + f);
    const double z = s * s;
    // log(m) = 2 atanh(s) = 2 (s + s^3/3 + s^5/5 + ...), |s| <= 0.1716.
    double poly = 1.0 / 23.0;
    poly = poly * z + 1.0 / 21.0;
    poly = poly * z + 1.0 / 19.0;
    poly = poly * z + 1.0 / 17.0;
    poly = poly * z + 1.0 / 15.0;
    poly = poly * z + 1.0 / 13.0;
    poly = poly * z + 1.0 / 11.0;
    poly = poly * z + 1.0 / 9.0;
    poly = poly * z + 1.0 / 7.0;
    poly = poly * z + 1.0 / 5.0;
    poly = poly * z + 1.0 / 3.0;
    const double log_m = 2.0 * s + 2.0 * s * (z * poly);
    const double de = static_cast<double>(e);
    return de * kLn2Hi + (de * kLn2Lo + log_m);
}

inline double det_exp(double x) {
    if (x > 709.0) return std::numeric_limits<double>::infinity();
    if (x < -745.0) return 0.0;
    const double k = std::floor(x * kInvLn2 + 0.5);
    const double r = (x - k * kLn2Hi) - k * kLn2Lo;  // |r| <= 0.35
    double poly = 1.0 / 6227020800.0;                // 1/13!
    poly = poly * r + 1.0 / 479001600.0;
    poly = poly * r + 1.0 / 39916800.0;
    poly = poly * r + 1.0 / 3628800.0;
    poly = poly * r + 1.0 / 362880.0;
    poly = poly * r + 1.0 / 40320.0;
    poly = poly * r + 1.0 / 5040.0;
    poly = poly * r + 1.0 / 720.0;
    poly = poly * r + 1.0 / 120.0;
    poly = poly * r + 1.0 / 24.0;
    poly = poly * r + 1.0 / 6.0;
    poly = poly * r + 0.5;
    poly = poly * r + 1.0;
    poly = poly * r + 1.0;
    return std::ldexp(poly, static_cast<int>(k));
}

inline double det_pow(double x, double y) { return det_exp(y * det_log(x)); }

}  // namespace personalize::demo
