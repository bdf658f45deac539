#include "core/lifetime/bgnbd.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "core/common/error.hpp"
#include "core/lifetime/math.hpp"
#include "core/lifetime/nbd_family_impl.hpp"

namespace personalize::lifetime {

namespace lm = math;

namespace bgnbd_detail {

// E[X(t)] of a new customer, FHL (2005) eq. 9, without cancellation at a = 1.
// With u = t/alpha and c = a+b-1, Pfaff's transformation gives
//   E = c/(a-1) [1 - 2F1(r, a-1; c; -u)]
//     = sum_{n>=1} (r)_n (a)_{n-1} / ((c+1)_{n-1} n!) (-1)^(n+1) u^n        (u < 1/2)
// and, with y = u/(1+u),
//   E = c (1 - (1+u)^(1-a))/(a-1) - (1+u)^(1-a) sum_{n>=1} (c-r)_n (a)_{n-1} / ((c+1)_{n-1} n!) y^n.
// Returns NaN when the series would lose more than ~6 digits to cancellation
// or needs too many terms; expected_new() then integrates instead.
double expected_new_series(double r, double alpha, double a, double b, double t) {
    constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
    constexpr int kMaxTerms = 200000;
    constexpr double kMaxCancellation = 1e6;
    if (t <= 0) return 0.0;
    const double u = t / alpha;
    const double c = a + b - 1.0;
    if (u < 0.5) {
        double term = r * u, sum = term, largest = std::abs(term);
        for (int n = 1;; ++n) {
            if (n >= kMaxTerms) return kNaN;
            term *= -(r + n) * (a + n - 1.0) / ((c + n) * (n + 1.0)) * u;
            sum += term;
            largest = std::max(largest, std::abs(term));
            if (std::abs(term) <= 1e-17 * std::abs(sum)) break;
        }
        if (!(sum > 0) || largest > kMaxCancellation * sum) return kNaN;
        return sum;
    }
    const double y = u / (1.0 + u);
    const double L = std::log1p(u);
    const double e1 = c * lm::one_minus_exp_over(a - 1.0, L);  // c (1 - (1+u)^(1-a)) / (a-1)
    double term = (c - r) * y, sum = term, largest = std::abs(term);
    for (int n = 1; term != 0.0; ++n) {
        if (n >= kMaxTerms) return kNaN;
        term *= (c - r + n) * (a + n - 1.0) / ((c + n) * (n + 1.0)) * y;
        sum += term;
        largest = std::max(largest, std::abs(term));
        if (std::abs(term) <= 1e-17 * std::abs(sum) && n > 2) break;
    }
    const double factor = std::exp((1.0 - a) * L);
    const double value = e1 - factor * sum;
    const double scale = std::max(std::abs(e1), factor * largest);
    if (!(value > 0) || !std::isfinite(value) || scale > kMaxCancellation * value) return kNaN;
    return value;
}

// The same as E_p[(1 - (1 + p t/alpha)^-r) / p], p ~ Beta(a, b), by
// tanh-sinh quadrature (endpoint singularities of the beta density are fine).
double expected_new_quadrature(double r, double alpha, double a, double b, double t) {
    if (t <= 0) return 0.0;
    const double u = t / alpha;
    const double lb = lm::lbeta(a, b);
    // x in (-1, 1), p = (1 + x) / 2; xc is the signed distance to the nearer end.
    auto f = [&](double x, double xc) {
        const double p = xc < 0 ? -xc / 2 : (xc > 0 ? 1.0 - xc / 2 : (1.0 + x) / 2);
        const double q = xc > 0 ? xc / 2 : 1.0 - p;
        if (!(p > 0) || !(q > 0)) return 0.0;
        const double h = -std::expm1(-r * std::log1p(p * u));  // 1 - (1 + p u)^-r
        if (!(h > 0)) return 0.0;
        return 0.5 * std::exp((a - 2.0) * std::log(p) + (b - 1.0) * std::log(q) - lb + std::log(h));
    };
    return lm::integrate_open_interval(f);
}

}  // namespace bgnbd_detail

namespace {

// ---------------------------------------------------------------- likelihood of a state

class BgNbdLikelihood final : public LogLikelihood {
public:
    explicit BgNbdLikelihood(const RankedRfRows &ranked) : xs_(ranked.xs), Ts_(ranked.Ts), txs_(ranked.t_xs) {
        wx_.assign(xs_.size(), 0.0);
        items_.reserve(ranked.rows.size());
        for (std::size_t i = 0; i < ranked.rows.size(); ++i) {
            const RfRow &row = ranked.rows[i];
            items_.push_back({row.x, row.w, ranked.xi[i], ranked.Ti[i], ranked.ti[i]});
            wx_[ranked.xi[i]] += row.w;
        }
        lg_r_.resize(xs_.size());
        dg_r_.resize(xs_.size());
        lg_b_.resize(xs_.size());
        dg_b_.resize(xs_.size());
        lg_ab_.resize(xs_.size());
        dg_ab_.resize(xs_.size());
        lT_.resize(Ts_.size());
        iT_.resize(Ts_.size());
        lt_.resize(txs_.size());
        it_.resize(txs_.size());
    }

    std::size_t dimension() const override { return 4; }

    double evaluate(const double *u, double *grad, const Interrupt &interrupt) const override {
        const double r = std::exp(u[0]), alpha = std::exp(u[1]), a = std::exp(u[2]), b = std::exp(u[3]);
        lm::shifted_gamma(r, xs_, lg_r_.data(), dg_r_.data());
        lm::shifted_gamma(b, xs_, lg_b_.data(), dg_b_.data());
        lm::shifted_gamma(a + b, xs_, lg_ab_.data(), dg_ab_.data());
        for (std::size_t i = 0; i < Ts_.size(); ++i) {
            lT_[i] = std::log(alpha + Ts_[i]);
            iT_[i] = 1.0 / (alpha + Ts_[i]);
        }
        for (std::size_t i = 0; i < txs_.size(); ++i) {
            lt_[i] = std::log(alpha + txs_[i]);
            it_[i] = 1.0 / (alpha + txs_[i]);
        }
        const double la = std::log(alpha), log_a = std::log(a);

        // Terms that depend on x only: lgamma/beta ratios, weighted per x.
        double ll = 0.0, gr = 0.0, galpha = 0.0, ga = 0.0, gb = 0.0;
        for (std::size_t k = 0; k < xs_.size(); ++k) {
            const double w = wx_[k];
            ll += w * (lg_r_[k] + r * la + lg_b_[k] - lg_ab_[k]);
            gr += w * (dg_r_[k] + la);
            galpha += w * r / alpha;
            ga += w * -dg_ab_[k];
            gb += w * (dg_b_[k] - dg_ab_[k]);
        }
        // ln[(alpha+T)^-(r+x) + [x>0] a/(b+x-1) (alpha+t_x)^-(r+x)] per customer.
        std::uint32_t last_xi = UINT32_MAX;
        double inv_b1 = 0.0, log_b1 = 0.0;
        for (std::size_t i = 0; i < items_.size(); ++i) {
            if ((i & 1023) == 0) interrupt.poll(1);
            const Item &item = items_[i];
            const double rx = r + item.x;
            const double a3 = -rx * lT_[item.Ti];
            if (item.x == 0) {
                ll += item.w * a3;
                gr += item.w * -lT_[item.Ti];
                galpha += item.w * -rx * iT_[item.Ti];
                continue;
            }
            if (item.xi != last_xi) {
                last_xi = item.xi;
                inv_b1 = 1.0 / (b + item.x - 1.0);
                log_b1 = std::log(b + item.x - 1.0);
            }
            const double a4 = log_a - log_b1 - rx * lt_[item.ti];
            double w3, w4, lse;
            if (a3 >= a4) {
                const double e = std::exp(a4 - a3);
                lse = a3 + std::log1p(e);
                w4 = e / (1.0 + e);
                w3 = 1.0 - w4;
            } else {
                const double e = std::exp(a3 - a4);
                lse = a4 + std::log1p(e);
                w3 = e / (1.0 + e);
                w4 = 1.0 - w3;
            }
            ll += item.w * lse;
            gr += item.w * (w3 * -lT_[item.Ti] + w4 * -lt_[item.ti]);
            galpha += item.w * -rx * (w3 * iT_[item.Ti] + w4 * it_[item.ti]);
            ga += item.w * w4 / a;
            gb += item.w * w4 * -inv_b1;
        }
        grad[0] = gr * r;
        grad[1] = galpha * alpha;
        grad[2] = ga * a;
        grad[3] = gb * b;
        return ll;
    }

private:
    struct Item {
        double x, w;
        std::uint32_t xi, Ti, ti;
    };

    std::vector<double> xs_, Ts_, txs_, wx_;
    std::vector<Item> items_;
    mutable std::vector<double> lg_r_, dg_r_, lg_b_, dg_b_, lg_ab_, dg_ab_, lT_, iT_, lt_, it_;
};

}  // namespace

// ---------------------------------------------------------------- closed forms

BgNbdParams BgNbdParams::from(const FitResult &fit) {
    const std::vector<double> &v = fitted_parameters(fit, BgNbd::kName);
    return {v[0], v[1], v[2], v[3]};
}

void BgNbdParams::validate() const { check_parameters(BgNbd::kName, values()); }

struct BgNbd::Forms {
    using Likelihood = BgNbdLikelihood;
    // b is a shape parameter.
    static constexpr double kDropoutStarts[4] = {1.0, 3.0, 8.0, 0.5};
    static constexpr bool kDropoutIsTimeScale = false;
    // E[X(t)] is a series or a quadrature: worth memoizing.
    static constexpr bool kMemoizeExpected = true;

    static Params posterior(const Params &p, double x, double T) { return {p.r + x, p.alpha + T, p.a, p.b + x}; }

    static double log_dead_odds(const Params &p, double x, double t_x, double T) {
        if (x == 0) return -std::numeric_limits<double>::infinity();  // no purchase, no dropout
        // ln of a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x)
        return std::log(p.a) - std::log(p.b + x - 1.0) +
               (p.r + x) * (std::log(p.alpha + T) - std::log(p.alpha + t_x));
    }

    static double log_likelihood(const Params &p, double x, double t_x, double T) {
        const double common = lm::lgamma(p.r + x) - lm::lgamma(p.r) + p.r * std::log(p.alpha) +
                              lm::lgamma(p.a + p.b) + lm::lgamma(p.b + x) - lm::lgamma(p.b) -
                              lm::lgamma(p.a + p.b + x);
        const double a3 = -(p.r + x) * std::log(p.alpha + T);
        if (x == 0) return common + a3;
        const double a4 = std::log(p.a) - std::log(p.b + x - 1.0) - (p.r + x) * std::log(p.alpha + t_x);
        return common + lm::log_add_exp(a3, a4);
    }

    static double expected_new(const Params &p, double t) {
        const double v = bgnbd_detail::expected_new_series(p.r, p.alpha, p.a, p.b, t);
        if (std::isfinite(v)) return v;
        return std::max(bgnbd_detail::expected_new_quadrature(p.r, p.alpha, p.a, p.b, t), 0.0);
    }

    // FHL (2005) eq. 8.
    static double probability_new(const Params &p, double n, double t) {
        if (t <= 0) return n == 0 ? 1.0 : 0.0;
        const double lp = -std::log1p(t / p.alpha);             // ln(alpha / (alpha + t))
        const double lq = std::log(t) - std::log(p.alpha + t);  // ln(t / (alpha + t))
        const double lb = lm::lbeta(p.a, p.b);
        double first =
            lm::lbeta(p.a, p.b + n) - lb + lm::lgamma(p.r + n) - lm::lgamma(p.r) - lm::lgamma(n + 1.0) + p.r * lp;
        if (n > 0) first += n * lq;
        double value = std::exp(first);
        if (n > 0) {
            // 1 - (alpha/(alpha+t))^r sum_{j<n} NB(j) = P(NB >= n) = I_{t/(alpha+t)}(n, r)
            value += std::exp(lm::lbeta(p.a + 1.0, p.b + n - 1.0) - lb) * lm::ibeta(n, p.r, t / (p.alpha + t));
        }
        return std::min(std::max(value, 0.0), 1.0);
    }

    static double any_purchase_given_alive(const Params &posterior, double t) {
        return -std::expm1(-posterior.r * std::log1p(t / posterior.alpha));
    }

    static double any_purchase_limit_given_alive(const Params &) { return 1.0; }
};

template class NbdModel<BgNbd>;
template class NbdFitState<BgNbd>;

}  // namespace personalize::lifetime
