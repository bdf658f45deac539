// The definitions of the NBD family's templates (nbd_family.hpp), for a
// model's .cpp to instantiate after it has defined Model::Forms:
//
//   struct Model::Forms {
//       using Likelihood = ...;   // a LogLikelihood (with its gradient) built from RankedRfRows
//       static constexpr double kDropoutStarts[4];   // the fourth parameter's fit starts
//       static constexpr bool kDropoutIsTimeScale;   // in units of the mean age (else a shape)
//       static constexpr bool kMemoizeExpected;      // E[X(t) | alive] costly: memoize it
//       static Params posterior(const Params &, double x, double T);
//       static double log_dead_odds(const Params &, double x, double t_x, double T);  // -inf: alive
//       static double log_likelihood(const Params &, double x, double t_x, double T);
//       static double expected_new(const Params &, double t);               // E[X(t)], new customer
//       static double probability_new(const Params &, double n, double t);  // P(X(t) = n), new customer
//       static double any_purchase_given_alive(const Params &posterior, double t);
//       static double any_purchase_limit_given_alive(const Params &posterior);  // t -> infinity
//   };
//   template class NbdModel<Model>;
//   template class NbdFitState<Model>;
#pragma once

#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/common/error.hpp"
#include "core/lifetime/nbd_family.hpp"

namespace personalize::lifetime {

// Throw InvalidParameter prefixed with `model` unless t is finite and >= 0,
// or n a whole number >= 0.
void check_horizon(const char *model, double t);
void check_count(const char *model, double n);
// P(alive) = 1 / (1 + e^z) from z = ln(P(dead) / P(alive)); 1 for z = -inf.
double probability_alive_from(double log_dead_odds);

// ---------------------------------------------------------------- NbdModel

template <typename Model>
NbdModel<Model>::NbdModel(const Params &params) : p_(params) {
    p_.validate();
}

template <typename Model>
std::vector<double> NbdModel<Model>::parameters() const {
    const auto values = p_.values();
    return {values.begin(), values.end()};
}

template <typename Model>
std::unique_ptr<TransactionModel> NbdModel<Model>::with_parameters(const std::vector<double> &params) const {
    check_parameter_count(Model::kName, params.size());
    return std::make_unique<NbdModel>(Params{params[0], params[1], params[2], params[3]});
}

template <typename Model>
double NbdModel<Model>::probability_alive(const LifetimeCustomer &c) const {
    validate_customer(Model::kName, c.x, c.t_x, c.T);
    return probability_alive_from(Forms::log_dead_odds(p_, c.x, c.t_x, c.T));
}

template <typename Model>
double NbdModel<Model>::expected_purchases(double t, const LifetimeCustomer &c) const {
    const double alive = probability_alive(c);
    check_horizon(Model::kName, t);
    return alive * expected_given_alive(t, c);
}

template <typename Model>
double NbdModel<Model>::expected_given_alive(double t, const LifetimeCustomer &c) const {
    if constexpr (!Forms::kMemoizeExpected) {
        return Forms::expected_new(Forms::posterior(p_, c.x, c.T), t);
    } else {
        // Depends on (x, T, t) only, which many customers share: memoized.
        const double key[3] = {c.x + 0.0, c.T + 0.0, t + 0.0};
        if (const double *hit = cache_.find(key)) return *hit;
        const double value = Forms::expected_new(Forms::posterior(p_, c.x, c.T), t);
        if (cache_.size() >= kCacheLimit) cache_ = WeightTable<3>();
        cache_.at(key) = value;
        return value;
    }
}

template <typename Model>
std::vector<double> NbdModel<Model>::expected_purchases_path(const std::vector<double> &ts,
                                                             const LifetimeCustomer &c) const {
    if constexpr (!Forms::kMemoizeExpected) {
        return TransactionModel::expected_purchases_path(ts, c);
    } else {
        const double alive = probability_alive(c);
        for (const double t : ts) check_horizon(Model::kName, t);
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
            const Params posterior = Forms::posterior(p_, c.x, c.T);
            for (const double t : ts) path_values_.push_back(Forms::expected_new(posterior, t));
            path_cache_.at(key) = static_cast<double>(offset);
        }
        std::vector<double> out(ts.size());
        for (std::size_t i = 0; i < ts.size(); ++i) out[i] = alive * path_values_[offset + i];
        return out;
    }
}

template <typename Model>
double NbdModel<Model>::expected_purchases_new(double t) const {
    check_horizon(Model::kName, t);
    return Forms::expected_new(p_, t);
}

template <typename Model>
double NbdModel<Model>::probability_purchases_new(double n, double t) const {
    check_count(Model::kName, n);
    check_horizon(Model::kName, t);
    return Forms::probability_new(p_, n, t);
}

template <typename Model>
double NbdModel<Model>::probability_purchases(double n, double t, const LifetimeCustomer &c) const {
    const double alive = probability_alive(c);
    check_count(Model::kName, n);
    check_horizon(Model::kName, t);
    const double value =
        alive * Forms::probability_new(Forms::posterior(p_, c.x, c.T), n, t) + (n == 0 ? 1.0 - alive : 0.0);
    return std::min(std::max(value, 0.0), 1.0);
}

template <typename Model>
double NbdModel<Model>::probability_any_purchase(double t, const LifetimeCustomer &c) const {
    const double alive = probability_alive(c);
    check_horizon(Model::kName, t);
    return alive * Forms::any_purchase_given_alive(Forms::posterior(p_, c.x, c.T), t);
}

template <typename Model>
double NbdModel<Model>::probability_any_purchase_limit(const LifetimeCustomer &c) const {
    const double alive = probability_alive(c);
    return alive * Forms::any_purchase_limit_given_alive(Forms::posterior(p_, c.x, c.T));
}

template <typename Model>
double NbdModel<Model>::log_likelihood(const LifetimeCustomer &c) const {
    validate_customer(Model::kName, c.x, c.t_x, c.T);
    return Forms::log_likelihood(p_, c.x, c.t_x, c.T);
}

// ---------------------------------------------------------------- NbdFitState

template <typename Model>
NbdFitState<Model> NbdFitState<Model>::read(ByteReader &in) {
    NbdFitState state;
    state.data_ = RfAccumulator::read(in, Model::kName);
    return state;
}

template <typename Model>
double NbdFitState<Model>::log_likelihood(const Params &params, std::vector<double> *gradient) const {
    params.validate();
    const typename Forms::Likelihood likelihood(data_.ranked_rows());
    const auto theta = params.values();
    return log_likelihood_at(likelihood, theta.data(), theta.size(), gradient);
}

template <typename Model>
FitResult NbdFitState<Model>::fit(const FitOptions &options, const Interrupt &interrupt) const {
    options.validate(Model::kName, 4);
    const RankedRfRows ranked = data_.ranked_rows();
    if (ranked.rows.empty()) throw_invalid(std::string(Model::kName) + ": cannot fit a model without customers");
    double weight = 0.0, sum_x = 0.0, sum_T = 0.0;
    for (const RfRow &row : ranked.rows) {
        weight += row.w;
        sum_x += row.w * row.x;
        sum_T += row.w * row.T;
    }
    const double scale = sum_T > 0 ? sum_T / weight : 1.0;                     // mean age: the time scale
    const double rate = sum_x > 0 && sum_T > 0 ? sum_x / sum_T : 0.1 / scale;  // repeat purchases per unit
    const double dropout_unit = Forms::kDropoutIsTimeScale ? scale : 1.0;

    constexpr double kShares[4] = {1.0, 0.5, 2.0, 0.1};
    std::vector<std::vector<double>> starts;
    for (int i = 0; i < 4; ++i)
        starts.push_back({kShares[i], kShares[i] / rate, kShares[i], Forms::kDropoutStarts[i] * dropout_unit});
    const typename Forms::Likelihood likelihood(ranked);
    FitResult result = maximize_likelihood(
        bounded_problem(Model::kName, likelihood, weight, std::move(starts), {1.0, scale, 1.0, dropout_unit}),
        options, interrupt);
    if (sum_x == 0) {
        result.converged = false;
        result.message = "no customer made a repeat purchase (frequency is 0 for all): the model is not identified";
    }
    return result;
}

}  // namespace personalize::lifetime
