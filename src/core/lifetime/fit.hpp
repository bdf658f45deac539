// Maximum-likelihood fitting shared by the lifetime models (BG/NBD,
// Pareto/NBD, Gamma-Gamma): options, the result every model returns, and the
// optimiser driver.
//
// The driver maximises the log-likelihood over the logarithms u = ln(theta)
// of the (positive) parameters. It minimises
//
//     f(u) = -LL(exp(u)) / W  +  penalty * sum_i u_i^2
//
// (W = total customer weight, so `penalty` means the same for any data size,
// as lifetimes' penalizer_coef does; the L2 penalty is on the log-parameters,
// i.e. it pulls every parameter towards 1). It runs L-BFGS-B (LBFGSpp) within
// wide bounds (shape parameters in [e^-25, e^25], scale parameters within
// e^+-25 of the data's own scale), then polishes with damped Newton steps on
// a numerical Hessian of the analytic gradient. If the first start does not
// converge, the model's alternative starts are tried and the best is kept.
//
// converged = the gradient of f is ~0 (max-norm <= 1e-6), no parameter sits
// on a bound and the Hessian is positive definite. A parameter running to a
// bound means the data do not identify the model (e.g. nobody made a repeat
// purchase): the result is returned with converged = false and a message.
//
// Standard errors: the covariance is the inverse of the Hessian of
// W * f(u) (the penalised negative log-likelihood, = -LL without a penalty)
// in the original parameter space, obtained from the numerical Hessian in u
// by the exact chain rule H_theta = D^-1 (H_u - diag(g_u)) D^-1, D = diag(theta).
// When it is not positive definite the standard errors are unavailable
// (std_errors_available = false, std_errors and covariance empty) — never NaN.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/interrupt.hpp"

namespace personalize::lifetime {

struct FitOptions {
    double penalty = 0.0;        // L2 penalty coefficient on the log-parameters, >= 0
    int max_iterations = 1000;   // L-BFGS-B iterations per start, > 0
    std::vector<double> start;   // optional starting parameters (original scale, model order)

    // Throws InvalidParameter (prefixed with `model`) for bad options.
    void validate(const char *model, std::size_t dimension) const;
};

struct FitResult {
    std::string model;               // "bgnbd", "pareto_nbd" or "gamma_gamma"
    std::vector<std::string> names;  // parameter names, in model order
    std::vector<double> params;
    double log_likelihood = 0.0;     // unpenalised, of all customers (weighted)
    bool std_errors_available = false;
    std::vector<double> std_errors;  // empty when unavailable
    std::vector<double> covariance;  // row-major k x k, empty when unavailable
    int iterations = 0;
    bool converged = false;
    std::string message;             // why not converged (empty when converged)
    double customers = 0.0;          // total weight of the customers fitted
    double ignored = 0.0;            // Gamma-Gamma: weight of customers left out (x = 0 or monetary <= 0)
    double penalty = 0.0;

    // The parameter called `name`; throws InvalidParameter if there is none.
    double param(std::string_view name) const;
    double cov(std::size_t i, std::size_t j) const { return covariance[i * params.size() + j]; }

    // Compact JSON: {"model":"bgnbd","params":{"r":..,...},"log_likelihood":..,
    // "std_errors":{..}|null,"covariance":[[..]]|null,"iterations":..,
    // "converged":true,"customers":..,"penalty":0[,"ignored":..][,"message":".."]}
    // Numbers with 17 significant digits, so from_json(to_json()) is exact.
    std::string to_json() const;

    // Parses to_json() output (or a hand-written object with at least
    // "model" and "params"). `model` is the expected model; a different one is
    // an InvalidParameter error ("bgnbd: model is a pareto_nbd model"), as are
    // missing keys ("bgnbd: missing key \"r\""), non-positive parameters and
    // text that is not JSON. With model = nullptr any known model is accepted.
    static FitResult from_json(std::string_view text, const char *model);
};

// Parameter names of a known model, in model order; empty for an unknown one.
const std::vector<std::string> &lifetime_parameter_names(std::string_view model);

// Every parameter of `model` positive and finite, else InvalidParameter
// naming it: `bgnbd: parameter "alpha" must be a positive finite number`.
void check_parameters(const char *model, const double *values, std::size_t count);
template <std::size_t K>
void check_parameters(const char *model, const std::array<double, K> &values) {
    check_parameters(model, values.data(), K);
}
// As many parameters as `model` has, else InvalidParameter
// (`bgnbd: a BG/NBD model has 4 parameters`).
void check_parameter_count(const char *model, std::size_t count);
// The checked parameters of a fit of `model`: InvalidParameter for another
// model (`bgnbd: model is a gamma_gamma model`), a wrong count or a bad value.
const std::vector<double> &fitted_parameters(const FitResult &fit, const char *model);

// What a model hands the driver.
class LogLikelihood {
public:
    virtual ~LogLikelihood() = default;
    virtual std::size_t dimension() const = 0;
    // Returns the (unpenalised, weighted) log-likelihood at theta = exp(u)
    // and writes its gradient with respect to u into grad_u. Polls the
    // interrupt in long loops.
    virtual double evaluate(const double *u, double *grad_u, const Interrupt &interrupt) const = 0;
};

struct FitProblem {
    const char *model;
    const LogLikelihood *likelihood;
    double weight;                            // W, > 0
    std::vector<std::vector<double>> starts;  // original scale; the first is the primary start
    std::vector<double> lower, upper;         // bounds on u = ln(theta)
};

// The problem with the driver's wide bounds: each parameter within e^+-25 of
// its scale (1 for a shape parameter, the data's own time or money scale for
// a scale parameter).
FitProblem bounded_problem(const char *model, const LogLikelihood &likelihood, double weight,
                           std::vector<std::vector<double>> starts, const std::vector<double> &scales);

// The log-likelihood at original-scale `params` (k of them); with `gradient`,
// also its gradient with respect to those parameters (the likelihood itself
// works on u = ln(theta)).
double log_likelihood_at(const LogLikelihood &likelihood, const double *params, std::size_t k,
                         std::vector<double> *gradient);

FitResult maximize_likelihood(const FitProblem &problem, const FitOptions &options, const Interrupt &interrupt);

}  // namespace personalize::lifetime
