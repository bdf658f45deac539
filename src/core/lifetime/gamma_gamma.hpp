// Gamma-Gamma spend model of Fader, Hardie & Lee (2005), "RFM and CLV: Using
// Iso-Value Curves for Customer Base Analysis", section 4 / appendix.
//
// A customer's purchase values are Gamma(p, nu), nu ~ Gamma(q, gamma); the
// mean m of her x repeat purchases has the marginal density
//
//   f(m | x) = Gamma(p x + q) / (Gamma(p x) Gamma(q)) *
//              gamma^q m^(p x - 1) x^(p x) / (gamma + m x)^(p x + q).
//
// Only repeat buyers (x > 0, m > 0) inform the model; others are ignored
// and counted (FitResult::ignored).
//
// Conditional expected average order value (FHL 2005, eq. 5):
//   E[M | x, m] = p (gamma + x m) / (p x + q - 1)
//              = (q-1)/(p x + q - 1) * p gamma/(q-1)  +  p x/(p x + q - 1) * m,
// a weighted mean of the population mean p gamma/(q-1) and the customer's own
// mean m. For x = 0 (or m <= 0: no usable spend history) it is the population
// mean p gamma / (q - 1). When the denominator is <= 0 (q <= 1 for the
// population mean) the expectation is infinite and +Infinity is returned.
#pragma once

#include <array>
#include <cstddef>
#include <vector>

#include "core/common/interrupt.hpp"
#include "core/lifetime/data.hpp"
#include "core/lifetime/fit.hpp"

namespace personalize::lifetime {

struct GammaGammaParams {
    double p, q, gamma;

    // From a fit result of model "gamma_gamma" (else InvalidParameter).
    static GammaGammaParams from(const FitResult &fit);
    // All three positive and finite, else InvalidParameter.
    void validate() const;
    std::array<double, 3> values() const { return {p, q, gamma}; }
};

// Log-density of one repeat buyer's mean spend (x > 0, m > 0).
double gamma_gamma_log_likelihood(const GammaGammaParams &params, double x, double m);
double gamma_gamma_expected_spend(const GammaGammaParams &params, double x, double m);
// p gamma / (q - 1), +Infinity when q <= 1.
double gamma_gamma_population_mean(const GammaGammaParams &params);

class GammaGammaFitState : public AccumulatedState<SpendAccumulator> {
public:
    GammaGammaFitState() : AccumulatedState(SpendAccumulator()) {}

    // x = frequency (repeat purchases), m = monetary (mean repeat value).
    void add(double x, double m, double w = 1.0) { data_.add(x, m, w); }
    void merge(const GammaGammaFitState &other) { data_.merge(other.data_); }
    double ignored_weight() const { return data_.ignored_weight(); }
    static GammaGammaFitState read(ByteReader &in);

    // InvalidParameter when no repeat buyer with a positive value was added.
    FitResult fit(const FitOptions &options = {}, const Interrupt &interrupt = Interrupt()) const;
    // The weighted log-likelihood of all customers at `params`; with
    // `gradient`, also its gradient with respect to the parameters.
    double log_likelihood(const GammaGammaParams &params, std::vector<double> *gradient = nullptr) const;
};

}  // namespace personalize::lifetime
