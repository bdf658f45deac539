// The NBD family of transaction models (BG/NBD, Pareto/NBD): what the two
// share, written once as templates over a model struct (BgNbd, ParetoNbd).
//
// In both, a customer buys at Poisson rate lambda ~ Gamma(r, alpha) while
// alive and the third and fourth parameters govern when she drops out. Given
// that she is alive at T, the posterior is again the same model with updated
// parameters, so every conditional prediction is
//
//   P(alive at T) * (the new-customer formula at the posterior parameters)
//   [+ 1 - P(alive) for "no purchase"],
//
// and the fits differ only in the likelihood and in the fourth parameter's
// starts and scale. A model declares
//
//   struct Model {
//       using Params = ...;              // 4 doubles: aggregate, values(), validate()
//       static constexpr const char *kName;  // "bgnbd": messages, JSON, serialized states
//       struct Forms;                    // its own closed forms, in the model's .cpp
//   };
//
// and its .cpp defines Model::Forms (see nbd_family_impl.hpp for what it
// holds) and instantiates the templates below for Model.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "core/common/interrupt.hpp"
#include "core/lifetime/data.hpp"
#include "core/lifetime/fit.hpp"
#include "core/lifetime/model.hpp"

namespace personalize::lifetime {

// The model with fitted parameters. With Forms::kMemoizeExpected it memoizes
// E[X(t) | alive] per (x, T, t), which many customers share, so it is not
// safe to use from several threads at once (the PostgreSQL backend is
// single-threaded).
template <typename Model>
class NbdModel final : public TransactionModel {
public:
    using Params = typename Model::Params;

    explicit NbdModel(const Params &params);
    const Params &params() const { return p_; }

    const char *model() const override { return Model::kName; }
    std::vector<double> parameters() const override;
    std::unique_ptr<TransactionModel> with_parameters(const std::vector<double> &params) const override;
    double probability_alive(const LifetimeCustomer &c) const override;
    double expected_purchases(double t, const LifetimeCustomer &c) const override;
    std::vector<double> expected_purchases_path(const std::vector<double> &ts,
                                                const LifetimeCustomer &c) const override;
    double expected_purchases_new(double t) const override;
    // P(X(t) = n) for a customer just acquired.
    double probability_purchases_new(double n, double t) const;
    double probability_purchases(double n, double t, const LifetimeCustomer &c) const override;
    double probability_any_purchase(double t, const LifetimeCustomer &c) const override;
    double probability_any_purchase_limit(const LifetimeCustomer &c) const override;
    double log_likelihood(const LifetimeCustomer &c) const override;

private:
    using Forms = typename Model::Forms;
    static constexpr std::size_t kCacheLimit = 1 << 20;
    double expected_given_alive(double t, const LifetimeCustomer &c) const;

    Params p_;
    mutable WeightTable<3> cache_;           // (x, T, t) -> E[X(t) | alive]
    mutable std::vector<double> path_ts_;    // horizons of the path cache
    mutable WeightTable<2> path_cache_;      // (x, T) -> offset into path_values_
    mutable std::vector<double> path_values_;
};

// The aggregate state of a fit: add customers, merge partial states,
// serialize, fit.
template <typename Model>
class NbdFitState : public AccumulatedState<RfAccumulator> {
public:
    using Params = typename Model::Params;

    NbdFitState() : AccumulatedState(RfAccumulator(Model::kName)) {}

    void add(double x, double t_x, double T, double w = 1.0) { data_.add(x, t_x, T, w); }
    void merge(const NbdFitState &other) { data_.merge(other.data_); }
    // The byte form is the accumulator's (AccumulatedState::write); read() throws
    // DataCorrupted when the bytes are not a state of this model.
    static NbdFitState read(ByteReader &in);

    // Maximum-likelihood fit; InvalidParameter when there are no customers.
    // The starts are r = c, alpha = c / (repeat purchases per unit of time),
    // the third parameter c, for c = 1, 0.5, 2, 0.1, and Forms::kDropoutStarts;
    // not converged when nobody made a repeat purchase (not identified).
    FitResult fit(const FitOptions &options = {}, const Interrupt &interrupt = Interrupt()) const;
    // The weighted log-likelihood of all customers at `params`; with
    // `gradient`, also its gradient with respect to the parameters.
    double log_likelihood(const Params &params, std::vector<double> *gradient = nullptr) const;

private:
    using Forms = typename Model::Forms;
};

}  // namespace personalize::lifetime
