// Predictions built on a fitted transaction model: customer lifetime value,
// the expected time of the next purchase, and parametric-bootstrap intervals.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "core/common/interrupt.hpp"
#include "core/lifetime/fit.hpp"
#include "core/lifetime/model.hpp"

namespace personalize::lifetime {

struct ClvOptions {
    int periods = 12;             // horizon H, in periods (> 0, <= 100000)
    double period_length = 1.0;   // one period in the model's time unit (> 0), e.g. 4.345 weeks per month
    double discount_rate = 0.0;   // per period, >= 0 (e.g. 0.01 = 1 % a period)

    void validate() const;
};

// Customer lifetime value over the horizon, the way lifetimes computes it:
//
//   CLV = sum_{k=1..H} value * (E[X(k L)] - E[X((k-1) L)]) / (1 + d)^k
//
// with E[X(t)] = model.expected_purchases(t, customer) (purchases in the next
// t time units), L = period_length, d = discount_rate and `value` the expected
// value of one purchase (e.g. gamma_gamma_expected_spend()). Purchases of
// period k are discounted by the whole period k.
// Polls `interrupt` every 4096 periods.
double customer_lifetime_value(const TransactionModel &model, const LifetimeCustomer &customer, double value,
                               const ClvOptions &options, const Interrupt &interrupt = Interrupt());

// The expected time of the next purchase, defined as the smallest t >= 0
// with P(at least one purchase in (T, T+t] | x, t_x, T) >= probability
// (default 0.5, a median). That probability rises with t towards
// P(alive) * P(buys again | alive); when this limit is below `probability`
// the answer is +Infinity ("probably never"). Otherwise t is found by
// bisection on the exact probability to a relative precision of 1e-10 —
// except for BG/NBD, where P = P(alive) (1 - ((alpha+T)/(alpha+T+t))^(r+x))
// inverts in closed form: t = (alpha+T) ((1 - probability/P(alive))^(-1/(r+x)) - 1).
// The result is in the model's time unit, counted from the end of the
// observation period (T).
double expected_time_to_next_purchase(const TransactionModel &model, const LifetimeCustomer &customer,
                                      double probability = 0.5);
// The bisection itself, for any model (exposed for tests).
double time_to_next_purchase_by_bisection(const TransactionModel &model, const LifetimeCustomer &customer,
                                          double probability);

// Parameter vectors drawn for a parametric bootstrap: ln(theta) ~
// N(ln(theta_hat), J C J) with C the fitted covariance and J = diag(1/theta_hat)
// (the delta method), so every draw is positive. Deterministic given the seed
// (Random: xoshiro256** + Box-Muller). InvalidParameter when the fit
// has no covariance (standard errors unavailable). The draw loops here and
// in the intervals below poll `interrupt` once per draw.
class ParameterDraws {
public:
    static ParameterDraws sample(const FitResult &fit, std::size_t draws, std::uint64_t seed,
                                 const Interrupt &interrupt = Interrupt());

    std::size_t size() const { return draws_.size(); }
    std::size_t dimension() const { return dimension_; }
    // Original-scale parameters of draw i, in model order.
    const std::vector<double> &operator[](std::size_t i) const { return draws_[i]; }

private:
    std::size_t dimension_ = 0;
    std::vector<std::vector<double>> draws_;
};

struct Interval {
    double lower;
    double upper;
};

// The (1-level)/2 and (1+level)/2 quantiles (linear interpolation between
// order statistics, "type 7") of the values; level in (0, 1), e.g. 0.9 gives
// the 5th and 95th percentiles. Non-finite values are dropped.
Interval percentile_interval(std::vector<double> values, double level);

// Bootstrap interval of E[X(T, T+t] | customer] over the draws of `model`.
Interval expected_purchases_interval(const TransactionModel &model, const ParameterDraws &draws, double t,
                                     const LifetimeCustomer &customer, double level = 0.9,
                                     const Interrupt &interrupt = Interrupt());

// Bootstrap interval of the CLV. `value_of_draw(i)` gives the purchase value
// for draw i (e.g. gamma_gamma_expected_spend with the i-th Gamma-Gamma
// draw, so spend uncertainty enters too); pass nullptr for a fixed `value`.
Interval clv_interval(const TransactionModel &model, const ParameterDraws &draws, const LifetimeCustomer &customer,
                      double value, const std::function<double(std::size_t)> &value_of_draw,
                      const ClvOptions &options, double level = 0.9, const Interrupt &interrupt = Interrupt());

}  // namespace personalize::lifetime
