// Pareto/NBD model (Schmittlein, Morrison & Colombo 1987), in the form of
// Fader & Hardie (2005), "A Note on Deriving the Pareto/NBD Model and
// Related Expressions".
//
// While alive a customer buys at Poisson rate lambda ~ Gamma(r, alpha); her
// lifetime is exponential with rate mu ~ Gamma(s, beta). Likelihood of one
// customer (Fader & Hardie 2005, eq. 22 ff.):
//
//   L = Gamma(r+x) alpha^r beta^s / Gamma(r) *
//       [ 1 / ((alpha+T)^(r+x) (beta+T)^s)  +  s * I ],
//   I = int_{t_x}^{T} (alpha+tau)^-(r+x) (beta+tau)^-(s+1) dtau  = G(t_x) - G(T),
//
// which is the note's s/(r+s+x) A_0. G(tau) = int_tau^inf (same integrand) is
// the note's hypergeometric term; with a = r+s+x and Euler's transformation:
//   alpha >= beta: G = (alpha+tau)^-(r+x) (beta+tau)^-s / a * 2F1(1, r+x; a+1; (alpha-beta)/(alpha+tau))
//   alpha <  beta: G = (alpha+tau)^-(r+x-1) (beta+tau)^-(s+1) / a * 2F1(1, s+1; a+1; (beta-alpha)/(beta+tau))
// Both 2F1 have positive terms and an argument in [0, 1); they are evaluated
// by a continued fraction (math.hpp) in log space, with exact
// derivatives, so the likelihood is accurate on both sides of alpha = beta
// and has an analytic gradient.
//
// Predictions (given alive at T the posterior is again Pareto/NBD with
// r+x, alpha+T, s, beta+T):
//   P(alive)   = 1 / (1 + s I (alpha+T)^(r+x) (beta+T)^s);
//   E[X(t)]    = r beta / (alpha (s-1)) [1 - (beta/(beta+t))^(s-1)]  (-> r beta/alpha ln(1+t/beta) at s = 1);
//   E[X(T,T+t] | x, t_x, T] = P(alive) (r+x)(beta+T)/((alpha+T)(s-1)) [1 - ((beta+T)/(beta+T+t))^(s-1)];
//   P(X(t) = 0) = (alpha/(alpha+t))^r (beta/(beta+t))^s + s alpha^r beta^s (G(0) - G(t))  (x = 0);
//   P(X(t) = n), n > 0 = NB(n; r, alpha, t) (beta/(beta+t))^s
//                        + int_0^t NB(n; r, alpha, tau) s beta^s (beta+tau)^-(s+1) dtau,
//     the integral by adaptive Gauss-Kronrod quadrature (exact in theory,
//     ~1e-12 in practice) rather than the note's alternating hypergeometric sum;
//   P(X(T,T+t] = n | ...) = [n = 0](1 - P(alive)) + P(alive) P(X(t) = n; posterior).
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "core/common/interrupt.hpp"
#include "core/lifetime/data.hpp"
#include "core/lifetime/fit.hpp"
#include "core/lifetime/model.hpp"

namespace personalize::lifetime {

struct ParetoNbdParams {
    double r, alpha, s, beta;

    static ParetoNbdParams from(const FitResult &fit);
    void validate() const;
};

double pareto_nbd_log_likelihood(const ParetoNbdParams &p, double x, double t_x, double T);
double pareto_nbd_probability_alive(const ParetoNbdParams &p, double x, double t_x, double T);
double pareto_nbd_expected_purchases(const ParetoNbdParams &p, double t, double x, double t_x, double T);
double pareto_nbd_expected_purchases_new(const ParetoNbdParams &p, double t);
double pareto_nbd_probability_purchases(const ParetoNbdParams &p, double n, double t, double x, double t_x, double T);
double pareto_nbd_probability_purchases_new(const ParetoNbdParams &p, double n, double t);

namespace pareto_nbd_detail {
// ln G(tau) (see above) and its partial derivatives in (r, alpha, s, beta).
struct LogG {
    double value, dr, dalpha, ds, dbeta;
};
LogG log_g(double r, double alpha, double s, double beta, double x, double tau, bool gradient);
}  // namespace pareto_nbd_detail

class ParetoNbdModel final : public TransactionModel {
public:
    explicit ParetoNbdModel(const ParetoNbdParams &params);
    const ParetoNbdParams &params() const { return p_; }

    const char *model() const override { return "pareto_nbd"; }
    std::vector<double> parameters() const override { return {p_.r, p_.alpha, p_.s, p_.beta}; }
    std::unique_ptr<TransactionModel> with_parameters(const std::vector<double> &params) const override;
    double probability_alive(const LifetimeCustomer &c) const override;
    double expected_purchases(double t, const LifetimeCustomer &c) const override;
    double expected_purchases_new(double t) const override;
    double probability_purchases(double n, double t, const LifetimeCustomer &c) const override;
    double probability_any_purchase(double t, const LifetimeCustomer &c) const override;
    double probability_any_purchase_limit(const LifetimeCustomer &c) const override;
    double log_likelihood(const LifetimeCustomer &c) const override;

private:
    ParetoNbdParams p_;
};

class ParetoNbdFitState {
public:
    void add(double x, double t_x, double T, double w = 1.0) { data_.add(x, t_x, T, w); }
    void merge(const ParetoNbdFitState &other) { data_.merge(other.data_); }

    bool empty() const { return data_.empty(); }
    std::size_t distinct() const { return data_.distinct(); }
    double total_weight() const { return data_.total_weight(); }
    std::size_t memory_bytes() const { return data_.memory_bytes(); }
    const RfAccumulator &data() const { return data_; }

    void write(ByteWriter &out) const { data_.write(out); }
    static ParetoNbdFitState read(ByteReader &in);

    FitResult fit(const FitOptions &options = {}, const Interrupt &interrupt = Interrupt()) const;
    // The weighted log-likelihood of all customers at `params`; with
    // `gradient`, also its gradient with respect to the parameters.
    double log_likelihood(const ParetoNbdParams &params, std::vector<double> *gradient = nullptr) const;

private:
    RfAccumulator data_{"pareto_nbd"};
};

}  // namespace personalize::lifetime
