#include "core/lifetime/pareto_nbd.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <utility>

#include "core/common/error.hpp"
#include "core/lifetime/math.hpp"
#include "core/lifetime/nbd_family_impl.hpp"

namespace personalize::lifetime {

namespace lm = math;

namespace pareto_nbd_detail {

LogG log_g(double r, double alpha, double s, double beta, double x, double tau, bool gradient) {
    const double a = r + s + x;
    const double la = std::log(alpha + tau), lb = std::log(beta + tau);
    LogG g{};
    if (alpha >= beta) {
        const double z = (alpha - beta) / (alpha + tau);
        if (!gradient) {
            g.value = -std::log(a) - (r + x) * la - s * lb + lm::log_hyp2f1_1_value(r + x, a + 1.0, z);
            return g;
        }
        const lm::LogHyp h = lm::log_hyp2f1_1(r + x, a + 1.0, z);
        g.value = -std::log(a) - (r + x) * la - s * lb + h.value;
        const double ia = 1.0 / (alpha + tau);
        g.dr = -1.0 / a - la + h.dc + h.dd;
        g.ds = -1.0 / a - lb + h.dd;
        g.dalpha = -(r + x) * ia + h.dz * (beta + tau) * ia * ia;
        g.dbeta = -s / (beta + tau) - h.dz * ia;
        return g;
    }
    const double z = (beta - alpha) / (beta + tau);
    if (!gradient) {
        g.value = -std::log(a) - (r + x - 1.0) * la - (s + 1.0) * lb + lm::log_hyp2f1_1_value(s + 1.0, a + 1.0, z);
        return g;
    }
    const lm::LogHyp h = lm::log_hyp2f1_1(s + 1.0, a + 1.0, z);
    g.value = -std::log(a) - (r + x - 1.0) * la - (s + 1.0) * lb + h.value;
    const double ib = 1.0 / (beta + tau);
    g.dr = -1.0 / a - la + h.dd;
    g.ds = -1.0 / a - lb + h.dc + h.dd;
    g.dalpha = -(r + x - 1.0) / (alpha + tau) - h.dz * ib;
    g.dbeta = -(s + 1.0) * ib + h.dz * (alpha + tau) * ib * ib;
    return g;
}

}  // namespace pareto_nbd_detail

namespace {

using pareto_nbd_detail::log_g;
using pareto_nbd_detail::LogG;

constexpr double kNegInf = -std::numeric_limits<double>::infinity();

// ln(s I), I = G(t_x) - G(T); -inf when t_x = T.
double log_s_i(const ParetoNbdParams &p, double x, double t_x, double T) {
    if (!(t_x < T)) return kNegInf;
    const double g1 = log_g(p.r, p.alpha, p.s, p.beta, x, t_x, false).value;
    const double g2 = log_g(p.r, p.alpha, p.s, p.beta, x, T, false).value;
    if (!(g2 < g1)) return kNegInf;
    return std::log(p.s) + g1 + lm::log1mexp(g2 - g1);
}

// ln of the "alive" term (alpha+T)^-(r+x) (beta+T)^-s.
double log_alive_term(const ParetoNbdParams &p, double x, double T) {
    return -(p.r + x) * std::log(p.alpha + T) - p.s * std::log(p.beta + T);
}

// P(X(t) = 0) for a new customer; x shifts r (the posterior uses r+x etc.).
double probability_none_new(double r, double alpha, double s, double beta, double t) {
    if (t <= 0) return 1.0;
    const double first = std::exp(-r * std::log1p(t / alpha) - s * std::log1p(t / beta));
    const double g0 = log_g(r, alpha, s, beta, 0.0, 0.0, false).value;
    const double gt = log_g(r, alpha, s, beta, 0.0, t, false).value;
    const double second =
        gt < g0 ? std::exp(std::log(s) + r * std::log(alpha) + s * std::log(beta) + g0 + lm::log1mexp(gt - g0)) : 0.0;
    return std::min(std::max(first + second, 0.0), 1.0);
}

// ---------------------------------------------------------------- likelihood of a state

class ParetoNbdLikelihood final : public LogLikelihood {
public:
    explicit ParetoNbdLikelihood(const RankedRfRows &ranked) : xs_(ranked.xs), Ts_(ranked.Ts) {
        const auto &rows = ranked.rows;
        // Distinct (x, tau) points, tau in {t_x, T}, as integer keys over the
        // union of the recency and age values.
        std::vector<double> taus(ranked.t_xs);
        taus.insert(taus.end(), ranked.Ts.begin(), ranked.Ts.end());
        std::sort(taus.begin(), taus.end());
        taus.erase(std::unique(taus.begin(), taus.end()), taus.end());
        std::vector<std::uint32_t> tau_of_t(ranked.t_xs.size()), tau_of_T(ranked.Ts.size());
        for (std::size_t i = 0; i < ranked.t_xs.size(); ++i) tau_of_t[i] = index(taus, ranked.t_xs[i]);
        for (std::size_t i = 0; i < ranked.Ts.size(); ++i) tau_of_T[i] = index(taus, ranked.Ts[i]);
        const std::uint64_t ntau = taus.size();
        std::vector<std::uint64_t> keys;
        keys.reserve(2 * rows.size());
        for (std::size_t i = 0; i < rows.size(); ++i) {
            keys.push_back(ranked.xi[i] * ntau + tau_of_T[ranked.Ti[i]]);
            if (rows[i].t_x < rows[i].T) keys.push_back(ranked.xi[i] * ntau + tau_of_t[ranked.ti[i]]);
        }
        sort_unique(keys);
        points_.reserve(keys.size());
        for (const std::uint64_t k : keys) points_.push_back({xs_[k / ntau], taus[k % ntau]});
        wx_.assign(xs_.size(), 0.0);
        items_.reserve(rows.size());
        for (std::size_t i = 0; i < rows.size(); ++i) {
            const RfRow &row = rows[i];
            Item item;
            item.x = row.x;
            item.T = row.T;
            item.w = row.w;
            item.xi = ranked.xi[i];
            item.Ti = ranked.Ti[i];
            item.p_T = index(keys, ranked.xi[i] * ntau + tau_of_T[ranked.Ti[i]]);
            item.p_tx = row.t_x < row.T ? index(keys, ranked.xi[i] * ntau + tau_of_t[ranked.ti[i]]) : UINT32_MAX;
            wx_[item.xi] += row.w;
            items_.push_back(item);
        }
        lg_r_.resize(xs_.size());
        dg_r_.resize(xs_.size());
        g_.resize(points_.size());
        lat_.resize(Ts_.size());
        lbt_.resize(Ts_.size());
        iat_.resize(Ts_.size());
        ibt_.resize(Ts_.size());
    }

    std::size_t dimension() const override { return 4; }

    double evaluate(const double *u, double *grad, const Interrupt &interrupt) const override {
        const double r = std::exp(u[0]), alpha = std::exp(u[1]), s = std::exp(u[2]), beta = std::exp(u[3]);
        lm::shifted_gamma(r, xs_, lg_r_.data(), dg_r_.data());
        for (std::size_t i = 0; i < points_.size(); ++i) {
            interrupt.poll(64);
            g_[i] = log_g(r, alpha, s, beta, points_[i].first, points_[i].second, true);
        }
        for (std::size_t i = 0; i < Ts_.size(); ++i) {
            lat_[i] = std::log(alpha + Ts_[i]);
            lbt_[i] = std::log(beta + Ts_[i]);
            iat_[i] = 1.0 / (alpha + Ts_[i]);
            ibt_[i] = 1.0 / (beta + Ts_[i]);
        }
        const double la = std::log(alpha), lb = std::log(beta), ls = std::log(s);
        double ll = 0.0, gr = 0.0, galpha = 0.0, gs = 0.0, gbeta = 0.0;
        for (std::size_t k = 0; k < xs_.size(); ++k) {
            const double w = wx_[k];
            ll += w * (lg_r_[k] + r * la + s * lb);
            gr += w * (dg_r_[k] + la);
            galpha += w * r / alpha;
            gs += w * lb;
            gbeta += w * s / beta;
        }
        for (std::size_t i = 0; i < items_.size(); ++i) {
            if ((i & 1023) == 0) interrupt.poll(1);
            const Item &item = items_[i];
            const double lat = lat_[item.Ti], lbt = lbt_[item.Ti];
            const double A = -(r + item.x) * lat - s * lbt;
            // dA / d(r, alpha, s, beta)
            const double Ar = -lat, Aalpha = -(r + item.x) * iat_[item.Ti], As = -lbt, Abeta = -s * ibt_[item.Ti];
            double B = kNegInf, Br = 0, Balpha = 0, Bs = 0, Bbeta = 0;
            if (item.p_tx != UINT32_MAX) {
                const LogG &g1 = g_[item.p_tx];
                const LogG &g2 = g_[item.p_T];
                if (g2.value < g1.value) {
                    const double d = g2.value - g1.value;
                    const double em1 = std::expm1(d);  // rho - 1, rho = G(T) / G(t_x)
                    const double rho = 1.0 + em1;
                    const double inv = 1.0 / -em1;     // 1 / (1 - rho)
                    B = ls + g1.value + std::log(-em1);
                    Br = (g1.dr - rho * g2.dr) * inv;
                    Balpha = (g1.dalpha - rho * g2.dalpha) * inv;
                    Bs = 1.0 / s + (g1.ds - rho * g2.ds) * inv;
                    Bbeta = (g1.dbeta - rho * g2.dbeta) * inv;
                }
            }
            double wA = 1.0, wB = 0.0, lse = A;
            if (B != kNegInf) {
                if (A >= B) {
                    const double e = std::exp(B - A);
                    lse = A + std::log1p(e);
                    wB = e / (1.0 + e);
                    wA = 1.0 - wB;
                } else {
                    const double e = std::exp(A - B);
                    lse = B + std::log1p(e);
                    wA = e / (1.0 + e);
                    wB = 1.0 - wA;
                }
            }
            ll += item.w * lse;
            gr += item.w * (wA * Ar + wB * Br);
            galpha += item.w * (wA * Aalpha + wB * Balpha);
            gs += item.w * (wA * As + wB * Bs);
            gbeta += item.w * (wA * Abeta + wB * Bbeta);
        }
        grad[0] = gr * r;
        grad[1] = galpha * alpha;
        grad[2] = gs * s;
        grad[3] = gbeta * beta;
        return ll;
    }

private:
    struct Item {
        double x, T, w;
        std::uint32_t xi, Ti, p_T, p_tx;
    };

    template <typename V>
    static void sort_unique(std::vector<V> &v) {
        std::sort(v.begin(), v.end());
        v.erase(std::unique(v.begin(), v.end()), v.end());
    }
    template <typename V>
    static std::uint32_t index(const std::vector<V> &v, const V &key) {
        return static_cast<std::uint32_t>(std::lower_bound(v.begin(), v.end(), key) - v.begin());
    }

    std::vector<double> xs_, Ts_, wx_;
    std::vector<std::pair<double, double>> points_;  // distinct (x, tau), tau in {t_x, T}
    std::vector<Item> items_;
    mutable std::vector<double> lg_r_, dg_r_, lat_, lbt_, iat_, ibt_;
    mutable std::vector<LogG> g_;
};

}  // namespace

// ---------------------------------------------------------------- closed forms

ParetoNbdParams ParetoNbdParams::from(const FitResult &fit) {
    const std::vector<double> &v = fitted_parameters(fit, ParetoNbd::kName);
    return {v[0], v[1], v[2], v[3]};
}

void ParetoNbdParams::validate() const { check_parameters(ParetoNbd::kName, values()); }

struct ParetoNbd::Forms {
    using Likelihood = ParetoNbdLikelihood;
    // beta is a time scale, like alpha.
    static constexpr double kDropoutStarts[4] = {1.0, 0.5, 4.0, 0.1};
    static constexpr bool kDropoutIsTimeScale = true;
    // E[X(t)] is closed-form: cheaper to evaluate than to look up.
    static constexpr bool kMemoizeExpected = false;

    static Params posterior(const Params &p, double x, double T) { return {p.r + x, p.alpha + T, p.s, p.beta + T}; }

    static double log_dead_odds(const Params &p, double x, double t_x, double T) {
        return log_s_i(p, x, t_x, T) - log_alive_term(p, x, T);  // ln(dead term / alive term)
    }

    static double log_likelihood(const Params &p, double x, double t_x, double T) {
        const double common =
            lm::lgamma(p.r + x) - lm::lgamma(p.r) + p.r * std::log(p.alpha) + p.s * std::log(p.beta);
        return common + lm::log_add_exp(log_alive_term(p, x, T), log_s_i(p, x, t_x, T));
    }

    // r beta/(alpha (s-1)) [1 - (beta/(beta+t))^(s-1)].
    static double expected_new(const Params &p, double t) {
        if (t <= 0) return 0.0;
        return p.r / p.alpha * p.beta * lm::one_minus_exp_over(p.s - 1.0, std::log1p(t / p.beta));
    }

    static double probability_new(const Params &p, double n, double t) {
        const double r = p.r, alpha = p.alpha, s = p.s, beta = p.beta;
        if (n == 0) return probability_none_new(r, alpha, s, beta, t);
        if (t <= 0) return 0.0;
        const double lnb = lm::lgamma(r + n) - lm::lgamma(r) - lm::lgamma(n + 1.0);
        auto log_nbd = [&](double tau) {  // ln NB(n; r, alpha, tau)
            return lnb - r * std::log1p(tau / alpha) + n * (std::log(tau) - std::log(alpha + tau));
        };
        const double alive = std::exp(log_nbd(t) - s * std::log1p(t / beta));
        const double ls = std::log(s), lbeta = std::log(beta);
        const double died = lm::integrate_interval(
            [&](double tau) {
                if (!(tau > 0)) return 0.0;
                return std::exp(log_nbd(tau) + ls + s * lbeta - (s + 1.0) * std::log(beta + tau));
            },
            0.0, t);
        return std::min(std::max(alive + died, 0.0), 1.0);
    }

    static double any_purchase_given_alive(const Params &posterior, double t) {
        return 1.0 - probability_none_new(posterior.r, posterior.alpha, posterior.s, posterior.beta, t);
    }

    // P(no purchase ever | alive) = s alpha'^r' beta'^s G(0) with the posterior parameters.
    static double any_purchase_limit_given_alive(const Params &posterior) {
        const double r = posterior.r, alpha = posterior.alpha, s = posterior.s, beta = posterior.beta;
        const double none = std::exp(std::log(s) + r * std::log(alpha) + s * std::log(beta) +
                                     log_g(r, alpha, s, beta, 0.0, 0.0, false).value);
        return 1.0 - std::min(std::max(none, 0.0), 1.0);
    }
};

template class NbdModel<ParetoNbd>;
template class NbdFitState<ParetoNbd>;

}  // namespace personalize::lifetime
