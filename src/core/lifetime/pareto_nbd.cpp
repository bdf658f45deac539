#include "core/lifetime/pareto_nbd.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>

#include "core/common/error.hpp"
#include "core/lifetime/math.hpp"

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

constexpr const char *kModel = "pareto_nbd";
constexpr double kNegInf = -std::numeric_limits<double>::infinity();

void check_t(double t) {
    if (!std::isfinite(t) || t < 0) throw_invalid("pareto_nbd: \"t\" must be a finite number >= 0");
}
void check_n(double n) {
    if (!std::isfinite(n) || n < 0 || std::floor(n) != n)
        throw_invalid("pareto_nbd: \"n\" must be a whole number >= 0");
}

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

// P(X(t) = n) for a new customer.
double probability_new(double r, double alpha, double s, double beta, double n, double t) {
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

// E[X(t)] for a new customer: r beta/(alpha (s-1)) [1 - (beta/(beta+t))^(s-1)].
double expected_new(double r, double alpha, double s, double beta, double t) {
    if (t <= 0) return 0.0;
    return r / alpha * beta * lm::one_minus_exp_over(s - 1.0, std::log1p(t / beta));
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

// ---------------------------------------------------------------- parameters and predictions

ParetoNbdParams ParetoNbdParams::from(const FitResult &fit) {
    if (fit.model != kModel) throw_invalid(std::string("pareto_nbd: model is a ") + fit.model + " model");
    if (fit.params.size() != 4) throw_invalid("pareto_nbd: a Pareto/NBD model has 4 parameters");
    ParetoNbdParams p{fit.params[0], fit.params[1], fit.params[2], fit.params[3]};
    p.validate();
    return p;
}

void ParetoNbdParams::validate() const {
    const double v[] = {r, alpha, s, beta};
    const char *names[] = {"r", "alpha", "s", "beta"};
    for (int i = 0; i < 4; ++i)
        if (!std::isfinite(v[i]) || !(v[i] > 0))
            throw_invalid(std::string("pareto_nbd: parameter \"") + names[i] + "\" must be a positive finite number");
}

double pareto_nbd_log_likelihood(const ParetoNbdParams &p, double x, double t_x, double T) {
    p.validate();
    validate_customer(kModel, x, t_x, T);
    const double common = lm::lgamma(p.r + x) - lm::lgamma(p.r) + p.r * std::log(p.alpha) + p.s * std::log(p.beta);
    return common + lm::log_add_exp(log_alive_term(p, x, T), log_s_i(p, x, t_x, T));
}

double pareto_nbd_probability_alive(const ParetoNbdParams &p, double x, double t_x, double T) {
    p.validate();
    validate_customer(kModel, x, t_x, T);
    const double z = log_s_i(p, x, t_x, T) - log_alive_term(p, x, T);  // ln(dead term / alive term)
    if (z == kNegInf) return 1.0;
    return z > 0 ? std::exp(-z) / (1.0 + std::exp(-z)) : 1.0 / (1.0 + std::exp(z));
}

double pareto_nbd_expected_purchases_new(const ParetoNbdParams &p, double t) {
    p.validate();
    check_t(t);
    return expected_new(p.r, p.alpha, p.s, p.beta, t);
}

double pareto_nbd_expected_purchases(const ParetoNbdParams &p, double t, double x, double t_x, double T) {
    const double alive = pareto_nbd_probability_alive(p, x, t_x, T);
    check_t(t);
    return alive * expected_new(p.r + x, p.alpha + T, p.s, p.beta + T, t);
}

double pareto_nbd_probability_purchases_new(const ParetoNbdParams &p, double n, double t) {
    p.validate();
    check_n(n);
    check_t(t);
    return probability_new(p.r, p.alpha, p.s, p.beta, n, t);
}

double pareto_nbd_probability_purchases(const ParetoNbdParams &p, double n, double t, double x, double t_x, double T) {
    const double alive = pareto_nbd_probability_alive(p, x, t_x, T);
    check_n(n);
    check_t(t);
    const double value =
        alive * probability_new(p.r + x, p.alpha + T, p.s, p.beta + T, n, t) + (n == 0 ? 1.0 - alive : 0.0);
    return std::min(std::max(value, 0.0), 1.0);
}

// ---------------------------------------------------------------- ParetoNbdModel

ParetoNbdModel::ParetoNbdModel(const ParetoNbdParams &params) : p_(params) { p_.validate(); }

std::unique_ptr<TransactionModel> ParetoNbdModel::with_parameters(const std::vector<double> &params) const {
    if (params.size() != 4) throw_invalid("pareto_nbd: a Pareto/NBD model has 4 parameters");
    return std::make_unique<ParetoNbdModel>(ParetoNbdParams{params[0], params[1], params[2], params[3]});
}
double ParetoNbdModel::probability_alive(const LifetimeCustomer &c) const {
    return pareto_nbd_probability_alive(p_, c.x, c.t_x, c.T);
}
double ParetoNbdModel::expected_purchases(double t, const LifetimeCustomer &c) const {
    return pareto_nbd_expected_purchases(p_, t, c.x, c.t_x, c.T);
}
double ParetoNbdModel::expected_purchases_new(double t) const { return pareto_nbd_expected_purchases_new(p_, t); }
double ParetoNbdModel::probability_purchases(double n, double t, const LifetimeCustomer &c) const {
    return pareto_nbd_probability_purchases(p_, n, t, c.x, c.t_x, c.T);
}
double ParetoNbdModel::probability_any_purchase(double t, const LifetimeCustomer &c) const {
    const double alive = probability_alive(c);
    check_t(t);
    return alive * (1.0 - probability_none_new(p_.r + c.x, p_.alpha + c.T, p_.s, p_.beta + c.T, t));
}
double ParetoNbdModel::probability_any_purchase_limit(const LifetimeCustomer &c) const {
    // P(no purchase ever | alive) = s alpha'^r' beta'^s G(0) with the posterior parameters.
    const double alive = probability_alive(c);
    const double r = p_.r + c.x, alpha = p_.alpha + c.T, beta = p_.beta + c.T;
    const double none = std::exp(std::log(p_.s) + r * std::log(alpha) + p_.s * std::log(beta) +
                                 log_g(r, alpha, p_.s, beta, 0.0, 0.0, false).value);
    return alive * (1.0 - std::min(std::max(none, 0.0), 1.0));
}
double ParetoNbdModel::log_likelihood(const LifetimeCustomer &c) const {
    return pareto_nbd_log_likelihood(p_, c.x, c.t_x, c.T);
}

// ---------------------------------------------------------------- ParetoNbdFitState

ParetoNbdFitState ParetoNbdFitState::read(ByteReader &in) {
    ParetoNbdFitState state;
    state.data_ = RfAccumulator::read(in, kModel);
    return state;
}

double ParetoNbdFitState::log_likelihood(const ParetoNbdParams &params, std::vector<double> *gradient) const {
    params.validate();
    const ParetoNbdLikelihood likelihood(data_.ranked_rows());
    const double theta[4] = {params.r, params.alpha, params.s, params.beta};
    return log_likelihood_at(likelihood, theta, 4, gradient);
}

FitResult ParetoNbdFitState::fit(const FitOptions &options, const Interrupt &interrupt) const {
    options.validate(kModel, 4);
    const RankedRfRows ranked = data_.ranked_rows();
    const std::vector<RfRow> &rows = ranked.rows;
    if (rows.empty()) throw_invalid("pareto_nbd: cannot fit a model without customers");
    double weight = 0.0, sum_x = 0.0, sum_T = 0.0;
    for (const RfRow &row : rows) {
        weight += row.w;
        sum_x += row.w * row.x;
        sum_T += row.w * row.T;
    }
    const double scale = sum_T > 0 ? sum_T / weight : 1.0;
    const double rate = sum_x > 0 && sum_T > 0 ? sum_x / sum_T : 0.1 / scale;

    const ParetoNbdLikelihood likelihood(ranked);
    FitProblem problem;
    problem.model = kModel;
    problem.likelihood = &likelihood;
    problem.weight = weight;
    problem.starts = {{1.0, 1.0 / rate, 1.0, scale},
                      {0.5, 0.5 / rate, 0.5, 0.5 * scale},
                      {2.0, 2.0 / rate, 2.0, 4.0 * scale},
                      {0.1, 0.1 / rate, 0.1, 0.1 * scale}};
    const double ls = std::log(scale);
    problem.lower = {-25.0, ls - 25.0, -25.0, ls - 25.0};
    problem.upper = {25.0, ls + 25.0, 25.0, ls + 25.0};
    FitResult result = maximize_likelihood(problem, options, interrupt);
    if (sum_x == 0) {
        result.converged = false;
        result.message = "no customer made a repeat purchase (frequency is 0 for all): the model is not identified";
    }
    return result;
}

}  // namespace personalize::lifetime
