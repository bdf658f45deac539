#include "core/lifetime/math.hpp"

#include <boost/math/quadrature/gauss_kronrod.hpp>
#include <boost/math/quadrature/tanh_sinh.hpp>
#include <boost/math/special_functions/beta.hpp>
#include <boost/math/special_functions/digamma.hpp>
#include <boost/math/special_functions/gamma.hpp>

namespace personalize::lifetime {
namespace math {

namespace {

namespace bm = boost::math;
using Policy = bm::policies::policy<bm::policies::domain_error<bm::policies::ignore_error>,
                                    bm::policies::pole_error<bm::policies::ignore_error>,
                                    bm::policies::overflow_error<bm::policies::ignore_error>,
                                    bm::policies::underflow_error<bm::policies::ignore_error>,
                                    bm::policies::evaluation_error<bm::policies::ignore_error>,
                                    bm::policies::promote_double<false>>;

// Forward-mode derivative with respect to (c, d, z).
struct Dual3 {
    double v, c, d, z;
};
inline Dual3 operator+(const Dual3 &a, const Dual3 &b) { return {a.v + b.v, a.c + b.c, a.d + b.d, a.z + b.z}; }
inline Dual3 operator+(double a, const Dual3 &b) { return {a + b.v, b.c, b.d, b.z}; }
inline Dual3 operator+(const Dual3 &a, double b) { return {a.v + b, a.c, a.d, a.z}; }
inline Dual3 operator-(const Dual3 &a, const Dual3 &b) { return {a.v - b.v, a.c - b.c, a.d - b.d, a.z - b.z}; }
inline Dual3 operator-(const Dual3 &a, double b) { return {a.v - b, a.c, a.d, a.z}; }
inline Dual3 operator-(double a, const Dual3 &b) { return {a - b.v, -b.c, -b.d, -b.z}; }
inline Dual3 operator-(const Dual3 &a) { return {-a.v, -a.c, -a.d, -a.z}; }
inline Dual3 operator*(const Dual3 &a, const Dual3 &b) {
    return {a.v * b.v, a.c * b.v + a.v * b.c, a.d * b.v + a.v * b.d, a.z * b.v + a.v * b.z};
}
inline Dual3 operator*(double a, const Dual3 &b) { return {a * b.v, a * b.c, a * b.d, a * b.z}; }
inline Dual3 operator/(const Dual3 &a, const Dual3 &b) {
    const double inv = 1.0 / b.v;
    const double q = a.v * inv;
    return {q, (a.c - q * b.c) * inv, (a.d - q * b.d) * inv, (a.z - q * b.z) * inv};
}
inline Dual3 operator/(double a, const Dual3 &b) {
    const double q = a / b.v;
    const double f = -q / b.v;
    return {q, f * b.c, f * b.d, f * b.z};
}
inline Dual3 log(const Dual3 &a) { return {std::log(a.v), a.c / a.v, a.d / a.v, a.z / a.v}; }
inline double value(const Dual3 &a) { return a.v; }
inline double value(double a) { return a; }
inline double log(double a) { return std::log(a); }
// A step of the fraction no longer changes the value (nor, for Dual3, the
// derivatives, which are needed to far less than full precision).
inline bool settled(const Dual3 &del) {
    constexpr double kEpsDerivative = 1e-14;
    return std::abs(del.v - 1.0) < 4e-16 && std::abs(del.c) < kEpsDerivative && std::abs(del.d) < kEpsDerivative &&
           std::abs(del.z) < kEpsDerivative;
}
inline bool settled(double del) { return std::abs(del - 1.0) < 4e-16; }

inline Dual3 guard(Dual3 a) {
    if (std::abs(a.v) < 1e-300) a.v = 1e-300;
    return a;
}
inline double guard(double a) { return std::abs(a) < 1e-300 ? 1e-300 : a; }

// ln 2F1(1, c; d; z) = ln 2F1(A + B, 1; A + 1; z) with A = d - 1, B = c - d + 1:
// the continued fraction of the incomplete beta function (NR 6.4.5-6.4.6).
template <typename S>
S log_hyp_cf(const S &c, const S &d, const S &z) {
    constexpr int kMaxIterations = 100000;
    const S A = d - 1.0;
    const S B = c - A;
    S C = 1.0 + 0.0 * z;
    S D = guard(1.0 - c * z / d);
    D = 1.0 / D;
    S h = D;
    S log_h = 0.0 * z;
    for (int m = 1; m <= kMaxIterations; ++m) {
        const double m2 = 2.0 * m;
        S aa = m * (B - double(m)) * z / ((A + (m2 - 1.0)) * (A + m2));
        D = guard(1.0 + aa * D);
        C = guard(1.0 + aa / C);
        D = 1.0 / D;
        h = h * (D * C);
        aa = -((A + double(m)) * (c + double(m)) * z) / ((A + m2) * (A + (m2 + 1.0)));
        D = guard(1.0 + aa * D);
        C = guard(1.0 + aa / C);
        D = 1.0 / D;
        const S del = D * C;
        h = h * del;
        if (settled(del)) break;
        if (m % 32 == 0) {  // fold into the logarithm: h itself may overflow near z = 1
            log_h = log_h + log(h);
            h = 1.0 + 0.0 * z;
        }
    }
    return log_h + log(h);
}

}  // namespace

double lgamma(double v) { return bm::lgamma(v, Policy()); }
double digamma(double v) { return bm::digamma(v, Policy()); }
double lbeta(double a, double b) { return lgamma(a) + lgamma(b) - lgamma(a + b); }
double ibeta(double a, double b, double z) {
    if (z <= 0) return 0.0;
    if (z >= 1) return 1.0;
    return bm::ibeta(a, b, z, Policy());
}

void shifted_gamma(double v, const std::vector<double> &xs, double *out_lg, double *out_dg) {
    constexpr double kMaxSteps = 64;
    double prev_x = 0.0, lg = 0.0, dg = 0.0;
    for (std::size_t i = 0; i < xs.size(); ++i) {
        const double x = xs[i];
        if (x - prev_x <= kMaxSteps) {
            for (double k = prev_x; k < x; k += 1.0) {
                lg += std::log(v + k);
                if (out_dg) dg += 1.0 / (v + k);
            }
        } else {
            lg += lgamma(v + x) - lgamma(v + prev_x);
            if (out_dg) dg += digamma(v + x) - digamma(v + prev_x);
        }
        prev_x = x;
        out_lg[i] = lg;
        if (out_dg) out_dg[i] = dg;
    }
}

LogHyp log_hyp2f1_1(double c, double d, double z) {
    if (z == 0.0) return {0.0, 0.0, 0.0, c / d};
    const Dual3 r = log_hyp_cf(Dual3{c, 1, 0, 0}, Dual3{d, 0, 1, 0}, Dual3{z, 0, 0, 1});
    return {r.v, r.c, r.d, r.z};
}

double log_hyp2f1_1_value(double c, double d, double z) {
    if (z == 0.0) return 0.0;
    return log_hyp_cf(c, d, z);
}

double integrate_open_interval(const std::function<double(double, double)> &f) {
    static bm::quadrature::tanh_sinh<double, Policy> integrator(12);
    const double value = integrator.integrate(f, 1e-12);
    return std::isfinite(value) ? value : 0.0;
}

double integrate_interval(const std::function<double(double)> &f, double lo, double hi) {
    if (!(hi > lo)) return 0.0;
    const double value =
        bm::quadrature::gauss_kronrod<double, 31, Policy>::integrate(f, lo, hi, 15, 1e-12);
    return std::isfinite(value) ? value : 0.0;
}

}  // namespace math
}  // namespace personalize::lifetime
