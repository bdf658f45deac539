// BG/NBD ("beta-geometric / negative binomial distribution") model of
// Fader, Hardie & Lee (2005), "Counting Your Customers the Easy Way".
//
// While alive a customer buys at Poisson rate lambda ~ Gamma(r, alpha); after
// every purchase she drops out with probability p ~ Beta(a, b). Likelihood of
// one customer (FHL 2005, eq. 6):
//
//   L = B(a, b+x)/B(a, b) * Gamma(r+x) alpha^r / (Gamma(r) (alpha+T)^(r+x))
//     + [x > 0] B(a+1, b+x-1)/B(a, b) * Gamma(r+x) alpha^r / (Gamma(r) (alpha+t_x)^(r+x))
//
// Predictions (given alive at T, the posterior is again BG/NBD with
// r+x, alpha+T, a, b+x, which every conditional formula below uses):
//   P(alive)      = 1 / (1 + [x > 0] a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x))
//                   (a customer without repeat purchases is alive: BG/NBD
//                   only lets customers drop out right after a purchase);
//   E[X(t)]       = (a+b-1)/(a-1) [1 - (alpha/(alpha+t))^r 2F1(r, b; a+b-1; t/(alpha+t))]
//                   (FHL eq. 9), evaluated as a power series in -t/alpha for
//                   t <= alpha and in t/(alpha+t) after a Pfaff transformation
//                   otherwise, both free of the removable singularity at a = 1;
//   E[X(T,T+t] | x, t_x, T] = P(alive) E[X(t); r+x, alpha+T, a, b+x] (FHL eq. 10);
//   P(X(t) = n)   = FHL eq. 8, its finite sum as a regularized incomplete beta;
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

struct BgNbdParams {
    double r, alpha, a, b;

    // From a fit result of model "bgnbd" (else InvalidParameter).
    static BgNbdParams from(const FitResult &fit);
    // All four positive and finite, else InvalidParameter.
    void validate() const;
};

double bgnbd_log_likelihood(const BgNbdParams &p, double x, double t_x, double T);
double bgnbd_probability_alive(const BgNbdParams &p, double x, double t_x, double T);
double bgnbd_expected_purchases(const BgNbdParams &p, double t, double x, double t_x, double T);
double bgnbd_expected_purchases_new(const BgNbdParams &p, double t);
double bgnbd_probability_purchases(const BgNbdParams &p, double n, double t, double x, double t_x, double T);
double bgnbd_probability_purchases_new(const BgNbdParams &p, double n, double t);

namespace bgnbd_detail {
// E[X(t)] of a new customer by its power series (NaN when unreliable) and by
// quadrature; exposed for tests.
double expected_new_series(double r, double alpha, double a, double b, double t);
double expected_new_quadrature(double r, double alpha, double a, double b, double t);
}  // namespace bgnbd_detail

// The model with fitted parameters. It memoizes E[X(t) | alive] per
// (x, T, t), which many customers share, so it is not safe to use from
// several threads at once (the PostgreSQL backend is single-threaded).
class BgNbdModel final : public TransactionModel {
public:
    explicit BgNbdModel(const BgNbdParams &params);
    const BgNbdParams &params() const { return p_; }

    const char *model() const override { return "bgnbd"; }
    std::vector<double> parameters() const override { return {p_.r, p_.alpha, p_.a, p_.b}; }
    std::unique_ptr<TransactionModel> with_parameters(const std::vector<double> &params) const override;
    double probability_alive(const LifetimeCustomer &c) const override;
    double expected_purchases(double t, const LifetimeCustomer &c) const override;
    std::vector<double> expected_purchases_path(const std::vector<double> &ts,
                                                const LifetimeCustomer &c) const override;
    double expected_purchases_new(double t) const override;
    double probability_purchases(double n, double t, const LifetimeCustomer &c) const override;
    double probability_any_purchase(double t, const LifetimeCustomer &c) const override;
    double probability_any_purchase_limit(const LifetimeCustomer &c) const override;
    double log_likelihood(const LifetimeCustomer &c) const override;

private:
    static constexpr std::size_t kCacheLimit = 1 << 20;
    double expected_given_alive(double t, const LifetimeCustomer &c) const;

    BgNbdParams p_;
    mutable WeightTable<3> cache_;           // (x, T, t) -> E[X(t) | alive]
    mutable std::vector<double> path_ts_;    // horizons of the path cache
    mutable WeightTable<2> path_cache_;      // (x, T) -> offset into path_values_
    mutable std::vector<double> path_values_;
};

// The aggregate state of a BG/NBD fit: add customers, merge partial states,
// serialize, fit.
class BgNbdFitState {
public:
    void add(double x, double t_x, double T, double w = 1.0) { data_.add(x, t_x, T, w); }
    void merge(const BgNbdFitState &other) { data_.merge(other.data_); }

    bool empty() const { return data_.empty(); }
    std::size_t distinct() const { return data_.distinct(); }
    double total_weight() const { return data_.total_weight(); }
    std::size_t memory_bytes() const { return data_.memory_bytes(); }
    const RfAccumulator &data() const { return data_; }

    void write(ByteWriter &out) const { data_.write(out); }
    static BgNbdFitState read(ByteReader &in);

    // Maximum-likelihood fit; InvalidParameter when there are no customers.
    FitResult fit(const FitOptions &options = {}, const Interrupt &interrupt = Interrupt()) const;
    // The weighted log-likelihood of all customers at `params`; with
    // `gradient`, also its gradient with respect to the parameters.
    double log_likelihood(const BgNbdParams &params, std::vector<double> *gradient = nullptr) const;

private:
    RfAccumulator data_{"bgnbd"};
};

}  // namespace personalize::lifetime
