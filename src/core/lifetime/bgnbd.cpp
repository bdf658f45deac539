#include "core/lifetime/bgnbd.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "core/common/error.hpp"
#include "core/lifetime/math.hpp"

namespace personalize::lifetime {

namespace lm = math;

namespace {

constexpr const char *kModel = "bgnbd";

void check_t(double t) {
    if (!std::isfinite(t) || t < 0) throw_invalid("bgnbd: \"t\" must be a finite number >= 0");
}
void check_n(double n) {
    if (!std::isfinite(n) || n < 0 || std::floor(n) != n) throw_invalid("bgnbd: \"n\" must be a whole number >= 0");
}

}  // namespace

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

double expected_new(double r, double alpha, double a, double b, double t) {
    const double v = bgnbd_detail::expected_new_series(r, alpha, a, b, t);
    if (std::isfinite(v)) return v;
    return std::max(bgnbd_detail::expected_new_quadrature(r, alpha, a, b, t), 0.0);
}

// P(X(t) = n) of a new customer, FHL (2005) eq. 8.
double probability_new(double r, double alpha, double a, double b, double n, double t) {
    if (t <= 0) return n == 0 ? 1.0 : 0.0;
    const double lp = -std::log1p(t / alpha);         // ln(alpha / (alpha + t))
    const double lq = std::log(t) - std::log(alpha + t);  // ln(t / (alpha + t))
    const double lb = lm::lbeta(a, b);
    double first = lm::lbeta(a, b + n) - lb + lm::lgamma(r + n) - lm::lgamma(r) - lm::lgamma(n + 1.0) + r * lp;
    if (n > 0) first += n * lq;
    double value = std::exp(first);
    if (n > 0) {
        // 1 - (alpha/(alpha+t))^r sum_{j<n} NB(j) = P(NB >= n) = I_{t/(alpha+t)}(n, r)
        value += std::exp(lm::lbeta(a + 1.0, b + n - 1.0) - lb) * lm::ibeta(n, r, t / (alpha + t));
    }
    return std::min(std::max(value, 0.0), 1.0);
}

double log_p_dead_ratio(const BgNbdParams &p, double x, double t_x, double T) {
    // ln of a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x), x > 0
    return std::log(p.a) - std::log(p.b + x - 1.0) + (p.r + x) * (std::log(p.alpha + T) - std::log(p.alpha + t_x));
}

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

// ---------------------------------------------------------------- parameters and predictions

BgNbdParams BgNbdParams::from(const FitResult &fit) {
    if (fit.model != kModel) throw_invalid(std::string("bgnbd: model is a ") + fit.model + " model");
    if (fit.params.size() != 4) throw_invalid("bgnbd: a BG/NBD model has 4 parameters");
    BgNbdParams p{fit.params[0], fit.params[1], fit.params[2], fit.params[3]};
    p.validate();
    return p;
}

void BgNbdParams::validate() const {
    const double v[] = {r, alpha, a, b};
    const char *names[] = {"r", "alpha", "a", "b"};
    for (int i = 0; i < 4; ++i)
        if (!std::isfinite(v[i]) || !(v[i] > 0))
            throw_invalid(std::string("bgnbd: parameter \"") + names[i] + "\" must be a positive finite number");
}

double bgnbd_log_likelihood(const BgNbdParams &p, double x, double t_x, double T) {
    p.validate();
    validate_customer(kModel, x, t_x, T);
    const double common = lm::lgamma(p.r + x) - lm::lgamma(p.r) + p.r * std::log(p.alpha) + lm::lgamma(p.a + p.b) +
                          lm::lgamma(p.b + x) - lm::lgamma(p.b) - lm::lgamma(p.a + p.b + x);
    const double a3 = -(p.r + x) * std::log(p.alpha + T);
    if (x == 0) return common + a3;
    const double a4 = std::log(p.a) - std::log(p.b + x - 1.0) - (p.r + x) * std::log(p.alpha + t_x);
    return common + lm::log_add_exp(a3, a4);
}

double bgnbd_probability_alive(const BgNbdParams &p, double x, double t_x, double T) {
    p.validate();
    validate_customer(kModel, x, t_x, T);
    if (x == 0) return 1.0;
    const double z = log_p_dead_ratio(p, x, t_x, T);
    // 1 / (1 + e^z), without overflow
    return z > 0 ? std::exp(-z) / (1.0 + std::exp(-z)) : 1.0 / (1.0 + std::exp(z));
}

double bgnbd_expected_purchases_new(const BgNbdParams &p, double t) {
    p.validate();
    check_t(t);
    return expected_new(p.r, p.alpha, p.a, p.b, t);
}

double bgnbd_expected_purchases(const BgNbdParams &p, double t, double x, double t_x, double T) {
    const double alive = bgnbd_probability_alive(p, x, t_x, T);
    check_t(t);
    return alive * expected_new(p.r + x, p.alpha + T, p.a, p.b + x, t);
}

double bgnbd_probability_purchases_new(const BgNbdParams &p, double n, double t) {
    p.validate();
    check_n(n);
    check_t(t);
    return probability_new(p.r, p.alpha, p.a, p.b, n, t);
}

double bgnbd_probability_purchases(const BgNbdParams &p, double n, double t, double x, double t_x, double T) {
    const double alive = bgnbd_probability_alive(p, x, t_x, T);
    check_n(n);
    check_t(t);
    const double value = alive * probability_new(p.r + x, p.alpha + T, p.a, p.b + x, n, t) +
                         (n == 0 ? 1.0 - alive : 0.0);
    return std::min(std::max(value, 0.0), 1.0);
}

// ---------------------------------------------------------------- BgNbdModel

BgNbdModel::BgNbdModel(const BgNbdParams &params) : p_(params) { p_.validate(); }

std::unique_ptr<TransactionModel> BgNbdModel::with_parameters(const std::vector<double> &params) const {
    if (params.size() != 4) throw_invalid("bgnbd: a BG/NBD model has 4 parameters");
    return std::make_unique<BgNbdModel>(BgNbdParams{params[0], params[1], params[2], params[3]});
}
double BgNbdModel::probability_alive(const LifetimeCustomer &c) const {
    return bgnbd_probability_alive(p_, c.x, c.t_x, c.T);
}
double BgNbdModel::expected_purchases(double t, const LifetimeCustomer &c) const {
    const double alive = probability_alive(c);
    check_t(t);
    return alive * expected_given_alive(t, c);
}
double BgNbdModel::expected_given_alive(double t, const LifetimeCustomer &c) const {
    // Depends on (x, T, t) only, which many customers share: memoized.
    const double key[3] = {c.x + 0.0, c.T + 0.0, t + 0.0};
    if (const double *hit = cache_.find(key)) return *hit;
    const double value = expected_new(p_.r + c.x, p_.alpha + c.T, p_.a, p_.b + c.x, t);
    if (cache_.size() >= kCacheLimit) cache_ = WeightTable<3>();
    cache_.at(key) = value;
    return value;
}

std::vector<double> BgNbdModel::expected_purchases_path(const std::vector<double> &ts,
                                                        const LifetimeCustomer &c) const {
    const double alive = probability_alive(c);
    for (const double t : ts) check_t(t);
    // The whole path per (x, T), memoized for the last set of horizons.
    if (ts != path_ts_ || path_cache_.size() >= kCacheLimit / std::max<std::size_t>(ts.size(), 1)) {
        path_ts_ = ts;
        path_cache_ = WeightTable<2>();
        path_values_.clear();
    }
    const double key[2] = {c.x + 0.0, c.T + 0.0};
    std::size_t offset;
    if (const double *hit = path_cache_.find(key)) {
        offset = static_cast<std::size_t>(*hit);
    } else {
        offset = path_values_.size();
        for (const double t : ts) path_values_.push_back(expected_new(p_.r + c.x, p_.alpha + c.T, p_.a, p_.b + c.x, t));
        path_cache_.at(key) = static_cast<double>(offset);
    }
    std::vector<double> out(ts.size());
    for (std::size_t i = 0; i < ts.size(); ++i) out[i] = alive * path_values_[offset + i];
    return out;
}
double BgNbdModel::expected_purchases_new(double t) const { return bgnbd_expected_purchases_new(p_, t); }
double BgNbdModel::probability_purchases(double n, double t, const LifetimeCustomer &c) const {
    return bgnbd_probability_purchases(p_, n, t, c.x, c.t_x, c.T);
}
double BgNbdModel::probability_any_purchase(double t, const LifetimeCustomer &c) const {
    // P(alive) (1 - ((alpha+T)/(alpha+T+t))^(r+x)): without a purchase there is no dropout.
    const double alive = probability_alive(c);
    check_t(t);
    return alive * -std::expm1(-(p_.r + c.x) * std::log1p(t / (p_.alpha + c.T)));
}
double BgNbdModel::probability_any_purchase_limit(const LifetimeCustomer &c) const { return probability_alive(c); }
double BgNbdModel::log_likelihood(const LifetimeCustomer &c) const {
    return bgnbd_log_likelihood(p_, c.x, c.t_x, c.T);
}

// ---------------------------------------------------------------- BgNbdFitState

BgNbdFitState BgNbdFitState::read(ByteReader &in) {
    BgNbdFitState state;
    state.data_ = RfAccumulator::read(in, kModel);
    return state;
}

double BgNbdFitState::log_likelihood(const BgNbdParams &params, std::vector<double> *gradient) const {
    params.validate();
    const BgNbdLikelihood likelihood(data_.ranked_rows());
    const double theta[4] = {params.r, params.alpha, params.a, params.b};
    return log_likelihood_at(likelihood, theta, 4, gradient);
}

FitResult BgNbdFitState::fit(const FitOptions &options, const Interrupt &interrupt) const {
    options.validate(kModel, 4);
    const RankedRfRows ranked = data_.ranked_rows();
    const std::vector<RfRow> &rows = ranked.rows;
    double weight = 0.0, sum_x = 0.0, sum_T = 0.0;
    for (const RfRow &row : rows) {
        weight += row.w;
        sum_x += row.w * row.x;
        sum_T += row.w * row.T;
    }
    if (rows.empty()) throw_invalid("bgnbd: cannot fit a model without customers");
    const double scale = sum_T > 0 ? sum_T / weight : 1.0;               // mean age: the time scale
    const double rate = sum_x > 0 && sum_T > 0 ? sum_x / sum_T : 0.1 / scale;  // repeat purchases per unit

    const BgNbdLikelihood likelihood(ranked);
    FitProblem problem;
    problem.model = kModel;
    problem.likelihood = &likelihood;
    problem.weight = weight;
    problem.starts = {{1.0, 1.0 / rate, 1.0, 1.0},
                      {0.5, 0.5 / rate, 0.5, 3.0},
                      {2.0, 2.0 / rate, 2.0, 8.0},
                      {0.1, 0.1 / rate, 0.1, 0.5}};
    const double ls = std::log(scale);
    problem.lower = {-25.0, ls - 25.0, -25.0, -25.0};
    problem.upper = {25.0, ls + 25.0, 25.0, 25.0};
    FitResult result = maximize_likelihood(problem, options, interrupt);
    if (sum_x == 0) {
        result.converged = false;
        result.message = "no customer made a repeat purchase (frequency is 0 for all): the model is not identified";
    }
    return result;
}

}  // namespace personalize::lifetime
