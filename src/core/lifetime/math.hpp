// Numerical building blocks shared by the lifetime models: log-space sums,
// gamma-function differences at whole-number shifts, and the Gauss
// hypergeometric function 2F1(1, c; d; z) that carries the Pareto/NBD
// likelihood. Special functions come from Boost.Math with a policy that
// never throws and never promotes to long double (speed; double accuracy is
// ample here).
#pragma once

#include <cmath>
#include <functional>
#include <limits>
#include <vector>

namespace personalize::lifetime {
namespace math {

constexpr double kInf = std::numeric_limits<double>::infinity();

// log(exp(a) + exp(b)), exact for a or b = -inf.
inline double log_add_exp(double a, double b) {
    if (a < b) std::swap(a, b);
    if (b == -kInf) return a;
    return a + std::log1p(std::exp(b - a));
}

// log(1 - exp(x)) for x <= 0 (Maechler 2012): accurate near 0 and -inf.
inline double log1mexp(double x) {
    return x > -0.6931471805599453 ? std::log(-std::expm1(x)) : std::log1p(-std::exp(x));
}

// -expm1(-k * L) / k, i.e. (1 - exp(-k L)) / k, continuous at k = 0 (-> L).
inline double one_minus_exp_over(double k, double L) {
    const double kl = k * L;
    if (kl == 0.0) return L;
    return -std::expm1(-kl) / k;
}

double lgamma(double v);
double digamma(double v);
double lbeta(double a, double b);
// Regularized incomplete beta I_z(a, b).
double ibeta(double a, double b, double z);

// For sorted, distinct, whole xs >= 0: out_lg[i] = lgamma(v + xs[i]) - lgamma(v)
// and (if out_dg) out_dg[i] = digamma(v + xs[i]) - digamma(v). Short steps
// between consecutive xs use the recurrences (sums of log(v + k) and
// 1 / (v + k)), which stay accurate when v is huge or tiny.
void shifted_gamma(double v, const std::vector<double> &xs, double *out_lg, double *out_dg);

// ln 2F1(1, c; d; z) for c > 0, d > c, 0 <= z < 1, and its partial
// derivatives with respect to c, d and z. Evaluated as a continued fraction
// (the one of the incomplete beta function, Numerical Recipes 6.4; modified
// Lentz), which converges for every z < 1 and quickly unless z is near 1.
struct LogHyp {
    double value;
    double dc, dd, dz;
};
LogHyp log_hyp2f1_1(double c, double d, double z);
// The value only.
double log_hyp2f1_1_value(double c, double d, double z);

// Tanh-sinh quadrature over (-1, 1) of f(x, xc), xc = the signed distance
// to the nearer end (1 - x for x > 0, -(1 + x) for x < 0), so integrands
// singular at an end stay accurate. Relative tolerance ~1e-12.
double integrate_open_interval(const std::function<double(double, double)> &f);
// Adaptive Gauss-Kronrod (31 points) over [lo, hi] for smooth integrands.
double integrate_interval(const std::function<double(double)> &f, double lo, double hi);

}  // namespace math
}  // namespace personalize::lifetime
