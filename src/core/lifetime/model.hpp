// The common face of the fitted transaction models (BG/NBD, Pareto/NBD), so
// CLV, next-purchase times and bootstrap intervals work with either.
//
// Every prediction validates the customer like the fit does (see
// data.hpp), requires finite t >= 0 and whole n >= 0, and returns a
// finite number (never NaN) for valid input.
#pragma once

#include <memory>
#include <vector>

namespace personalize::lifetime {

struct FitResult;

struct LifetimeCustomer {
    double x;    // frequency (repeat purchases)
    double t_x;  // recency
    double T;    // age
};

class TransactionModel {
public:
    virtual ~TransactionModel() = default;

    virtual const char *model() const = 0;
    // Parameters in model order (r, alpha, a, b) / (r, alpha, s, beta).
    virtual std::vector<double> parameters() const = 0;
    // The same model with other parameters (bootstrap draws); validates them.
    virtual std::unique_ptr<TransactionModel> with_parameters(const std::vector<double> &params) const = 0;

    // P(alive at T | x, t_x, T).
    virtual double probability_alive(const LifetimeCustomer &c) const = 0;
    // E[X(T, T + t] | x, t_x, T]: expected purchases in the next t periods.
    virtual double expected_purchases(double t, const LifetimeCustomer &c) const = 0;
    // expected_purchases() at several horizons at once (what CLV needs);
    // models may share work between the horizons.
    virtual std::vector<double> expected_purchases_path(const std::vector<double> &ts,
                                                        const LifetimeCustomer &c) const {
        std::vector<double> out;
        out.reserve(ts.size());
        for (const double t : ts) out.push_back(expected_purchases(t, c));
        return out;
    }
    // E[X(t)] for a customer just acquired (no history).
    virtual double expected_purchases_new(double t) const = 0;
    // P(X(T, T + t] = n | x, t_x, T).
    virtual double probability_purchases(double n, double t, const LifetimeCustomer &c) const = 0;
    // P(at least one purchase in (T, T + t] | x, t_x, T), and its limit for
    // t -> infinity (a customer may die before buying again).
    virtual double probability_any_purchase(double t, const LifetimeCustomer &c) const = 0;
    virtual double probability_any_purchase_limit(const LifetimeCustomer &c) const = 0;
    // Log-likelihood of one customer's (x, t_x, T).
    virtual double log_likelihood(const LifetimeCustomer &c) const = 0;
};

// A BG/NBD or Pareto/NBD model from a fit result (e.g. parsed JSON).
// Throws InvalidParameter for another model ("lifetime model: gamma_gamma is
// not a transaction model") or invalid parameters.
std::unique_ptr<TransactionModel> make_transaction_model(const FitResult &fit);

}  // namespace personalize::lifetime
