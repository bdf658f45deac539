#include "core/lifetime/fit.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <utility>

// clang-format off
#include "core/common/eigen_config.hpp"  // before LBFGSpp: eigen_assert throws
#include <LBFGSB.h>
// clang-format on

#include "core/common/error.hpp"

namespace personalize::lifetime {

namespace {

using Vec = Eigen::VectorXd;
using Mat = Eigen::MatrixXd;

constexpr double kGradientTolerance = 1e-6;  // max-norm of the mean objective's gradient for "converged"
constexpr double kNewtonTolerance = 1e-10;   // Newton polishing stops below this
constexpr double kHessianStep = 1e-4;        // central-difference step in u
constexpr double kBoundSlack = 1e-6;         // "on the bound" in u
constexpr double kInf = std::numeric_limits<double>::infinity();

std::string format_number(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4g", v);
    return buf;
}

// The objective f(u) and its gradient, counting evaluations and remembering
// the best point seen (a failed line search may leave the solver elsewhere).
class Objective {
public:
    Objective(const FitProblem &problem, double penalty, const Interrupt &interrupt)
        : problem_(problem), penalty_(penalty), interrupt_(interrupt), n_(problem.likelihood->dimension()) {}

    double operator()(const Vec &u, Vec &grad) {
        interrupt_.check();
        grad.resize(n_);
        const double ll = problem_.likelihood->evaluate(u.data(), grad.data(), interrupt_);
        double f = -ll / problem_.weight;
        for (std::size_t i = 0; i < n_; ++i) {
            grad[i] = -grad[i] / problem_.weight + 2.0 * penalty_ * u[i];
            f += penalty_ * u[i] * u[i];
        }
        if (!std::isfinite(f) || !grad.allFinite()) throw NonFinite();
        ++evaluations_;
        if (f < best_f_) {
            best_f_ = f;
            best_u_ = u;
        }
        return f;
    }

    struct NonFinite {};

    double best_f() const { return best_f_; }
    const Vec &best_u() const { return best_u_; }
    std::size_t dimension() const { return n_; }
    int evaluations() const { return evaluations_; }

    // Hessian of f at u by central differences of the analytic gradient.
    bool hessian(const Vec &u, Mat &h) {
        h.resize(n_, n_);
        Vec up(n_), down(n_), gp(n_), gm(n_);
        for (std::size_t j = 0; j < n_; ++j) {
            up = u;
            down = u;
            up[j] += kHessianStep;
            down[j] -= kHessianStep;
            try {
                (*this)(up, gp);
                (*this)(down, gm);
            } catch (const NonFinite &) {
                return false;
            }
            h.col(j) = (gp - gm) / (2.0 * kHessianStep);
        }
        h = 0.5 * (h + h.transpose()).eval();
        return h.allFinite();
    }

private:
    const FitProblem &problem_;
    double penalty_;
    const Interrupt &interrupt_;
    std::size_t n_;
    double best_f_ = std::numeric_limits<double>::infinity();
    Vec best_u_;
    int evaluations_ = 0;
};

double projected_gradient_norm(const Vec &u, const Vec &g, const Vec &lb, const Vec &ub) {
    double norm = 0.0;
    for (Eigen::Index i = 0; i < u.size(); ++i) {
        double gi = g[i];
        if (u[i] <= lb[i] + kBoundSlack && gi > 0) gi = 0;  // pushing outward: not a descent direction
        if (u[i] >= ub[i] - kBoundSlack && gi < 0) gi = 0;
        norm = std::max(norm, std::abs(gi));
    }
    return norm;
}

struct Attempt {
    Vec u;
    double f = std::numeric_limits<double>::infinity();
    double gradient_norm = std::numeric_limits<double>::infinity();
    int iterations = 0;
    bool solver_failed = false;
    std::string solver_message;
    bool converged = false;
    std::string message;
    Mat hessian;    // of f at (about) u; empty when unavailable
    Vec gradient;   // of f at u
};

Attempt run_start(const FitProblem &problem, const FitOptions &options, const std::vector<double> &start,
                  const Interrupt &interrupt) {
    const std::size_t n = problem.likelihood->dimension();
    Vec lb = Eigen::Map<const Vec>(problem.lower.data(), n);
    Vec ub = Eigen::Map<const Vec>(problem.upper.data(), n);
    Vec u(n);
    for (std::size_t i = 0; i < n; ++i) u[i] = std::min(std::max(std::log(start[i]), lb[i]), ub[i]);

    Objective objective(problem, options.penalty, interrupt);
    Attempt attempt;

    LBFGSpp::LBFGSBParam<double> param;
    param.m = 10;
    param.epsilon = 1e-7;
    param.epsilon_rel = 0.0;
    param.past = 3;
    param.delta = 1e-13;
    param.max_iterations = options.max_iterations;
    param.max_linesearch = 40;
    LBFGSpp::LBFGSBSolver<double> solver(param);
    double fx = 0.0;
    try {
        attempt.iterations = solver.minimize(objective, u, fx, lb, ub);
    } catch (const Error &) {
        throw;  // canceled, or an internal error: not the optimiser's business
    } catch (const Objective::NonFinite &) {
        attempt.solver_failed = true;
        attempt.solver_message = "the log-likelihood is not finite along the search path";
    } catch (const std::exception &e) {
        // Typically a line search that cannot improve any more near the
        // optimum (limited precision); the polishing below takes over.
        attempt.solver_failed = true;
        attempt.solver_message = e.what();
    }
    if (attempt.solver_failed) attempt.iterations = objective.evaluations();
    if (!std::isfinite(objective.best_f())) {
        attempt.message = "the log-likelihood is not finite at the starting point";
        return attempt;
    }
    u = objective.best_u();

    // Newton polishing: a few damped steps on the numerical Hessian make the
    // optimum precise (and reproducible) far beyond L-BFGS's tolerance. The
    // last Hessian is kept for the standard errors: it was taken at most one
    // tiny step away from the final point (or at it).
    Vec g(n), trial_g(n);
    double f = objective(u, g);
    Mat h;
    bool have_hessian = false;
    double last_step = kInf;
    for (int k = 0; k < 6; ++k) {
        if (projected_gradient_norm(u, g, lb, ub) <= kNewtonTolerance && have_hessian) break;
        have_hessian = objective.hessian(u, h);
        last_step = 0.0;
        if (!have_hessian) break;
        if (projected_gradient_norm(u, g, lb, ub) <= kNewtonTolerance) break;
        Eigen::LLT<Mat> llt(h);
        if (llt.info() != Eigen::Success) break;
        Vec step = -llt.solve(g);
        if (!step.allFinite()) break;
        bool improved = false;
        for (double scale = 1.0; scale > 1e-4; scale *= 0.5) {
            Vec trial = (u + scale * step).cwiseMax(lb).cwiseMin(ub);
            double trial_f;
            try {
                trial_f = objective(trial, trial_g);
            } catch (const Objective::NonFinite &) {
                continue;
            }
            if (trial_f <= f + 1e-15 * std::abs(f)) {
                last_step = (trial - u).lpNorm<Eigen::Infinity>();
                u = trial;
                f = trial_f;
                g = trial_g;
                improved = true;
                break;
            }
        }
        ++attempt.iterations;
        if (!improved) break;
    }
    // A Hessian more than a tiny step away is taken afresh.
    if (!have_hessian || last_step > 1e-4) have_hessian = objective.hessian(u, h);
    if (have_hessian) {
        attempt.hessian = h;
        attempt.gradient = g;
    }

    attempt.u = u;
    attempt.f = f;
    attempt.gradient_norm = projected_gradient_norm(u, g, lb, ub);
    for (std::size_t i = 0; i < n; ++i) {
        if (u[i] <= lb[i] + kBoundSlack || u[i] >= ub[i] - kBoundSlack) {
            const auto &names = lifetime_parameter_names(problem.model);
            const std::string name = i < names.size() ? names[i] : std::to_string(i);
            attempt.message = "parameter \"" + name + "\" ran to " +
                              (u[i] <= lb[i] + kBoundSlack ? "its lower" : "its upper") + " bound (" +
                              format_number(std::exp(u[i])) +
                              "): the data do not identify the model (e.g. too few repeat purchases)";
            return attempt;
        }
    }
    if (attempt.gradient_norm > kGradientTolerance) {
        attempt.message = "the optimiser stopped before the gradient vanished (max |gradient| " +
                          format_number(attempt.gradient_norm) + ")" +
                          (attempt.solver_failed ? ": " + attempt.solver_message : std::string());
        return attempt;
    }
    attempt.converged = true;
    return attempt;
}

}  // namespace

void FitOptions::validate(const char *model, std::size_t dimension) const {
    if (!std::isfinite(penalty) || penalty < 0)
        throw_invalid(std::string(model) + ": \"penalty\" must be a finite number >= 0");
    if (max_iterations <= 0) throw_invalid(std::string(model) + ": \"max_iterations\" must be positive");
    if (!start.empty()) {
        if (start.size() != dimension)
            throw_invalid(std::string(model) + ": the starting point needs " + std::to_string(dimension) +
                          " parameters, got " + std::to_string(start.size()));
        for (double v : start)
            if (!std::isfinite(v) || !(v > 0))
                throw_invalid(std::string(model) + ": starting parameters must be positive finite numbers");
    }
}

namespace {

struct KnownModel {
    const char *name;
    const char *title;  // as messages spell it
    std::vector<std::string> parameters;
};

const KnownModel *known_model(std::string_view model) {
    static const KnownModel models[] = {
        {"bgnbd", "BG/NBD", {"r", "alpha", "a", "b"}},
        {"pareto_nbd", "Pareto/NBD", {"r", "alpha", "s", "beta"}},
        {"gamma_gamma", "Gamma-Gamma", {"p", "q", "gamma"}},
    };
    for (const KnownModel &known : models)
        if (model == known.name) return &known;
    return nullptr;
}

}  // namespace

const std::vector<std::string> &lifetime_parameter_names(std::string_view model) {
    static const std::vector<std::string> none;
    const KnownModel *known = known_model(model);
    return known != nullptr ? known->parameters : none;
}

void check_parameters(const char *model, const double *values, std::size_t count) {
    for (std::size_t i = 0; i < count; ++i)
        if (!std::isfinite(values[i]) || !(values[i] > 0))
            throw_invalid(std::string(model) + ": parameter \"" + lifetime_parameter_names(model)[i] +
                          "\" must be a positive finite number");
}

void check_parameter_count(const char *model, std::size_t count) {
    const KnownModel &known = *known_model(model);
    if (count != known.parameters.size())
        throw_invalid(std::string(model) + ": a " + known.title + " model has " +
                      std::to_string(known.parameters.size()) + " parameters");
}

const std::vector<double> &fitted_parameters(const FitResult &fit, const char *model) {
    if (fit.model != model) throw_invalid(std::string(model) + ": model is a " + fit.model + " model");
    check_parameter_count(model, fit.params.size());
    check_parameters(model, fit.params.data(), fit.params.size());
    return fit.params;
}

FitProblem bounded_problem(const char *model, const LogLikelihood &likelihood, double weight,
                           std::vector<std::vector<double>> starts, const std::vector<double> &scales) {
    FitProblem problem{model, &likelihood, weight, std::move(starts), {}, {}};
    for (const double scale : scales) {
        const double ls = std::log(scale);
        problem.lower.push_back(ls - 25.0);
        problem.upper.push_back(ls + 25.0);
    }
    return problem;
}

double FitResult::param(std::string_view name) const {
    for (std::size_t i = 0; i < names.size() && i < params.size(); ++i)
        if (names[i] == name) return params[i];
    throw_invalid(model + ": no parameter \"" + std::string(name) + "\"");
}

double log_likelihood_at(const LogLikelihood &likelihood, const double *params, std::size_t k,
                         std::vector<double> *gradient) {
    std::vector<double> u(k), grad(k);
    for (std::size_t i = 0; i < k; ++i) u[i] = std::log(params[i]);
    const double ll = likelihood.evaluate(u.data(), grad.data(), Interrupt());
    if (gradient != nullptr) {
        gradient->resize(k);
        for (std::size_t i = 0; i < k; ++i) (*gradient)[i] = grad[i] / params[i];
    }
    return ll;
}

FitResult maximize_likelihood(const FitProblem &problem, const FitOptions &options, const Interrupt &interrupt) {
    const std::size_t n = problem.likelihood->dimension();
    options.validate(problem.model, n);
    if (!(problem.weight > 0) || !std::isfinite(problem.weight))
        throw Error(ErrorCode::Internal, std::string(problem.model) + ": fit without customers");

    std::vector<std::vector<double>> starts;
    if (!options.start.empty()) starts.push_back(options.start);
    for (const auto &s : problem.starts) starts.push_back(s);

    Attempt best;
    bool have_best = false;  // best holds an attempt with a finite objective
    std::string first_message;
    for (const auto &start : starts) {
        Attempt attempt = run_start(problem, options, start, interrupt);
        if (!std::isfinite(attempt.f)) {
            if (first_message.empty()) first_message = attempt.message;
            continue;
        }
        if (!have_best || (attempt.converged && !best.converged) ||
            (attempt.converged == best.converged && attempt.f < best.f)) {
            best = std::move(attempt);
            have_best = true;
        }
        if (best.converged) break;
    }

    FitResult result;
    result.model = problem.model;
    result.names = lifetime_parameter_names(problem.model);
    result.customers = problem.weight;
    result.penalty = options.penalty;
    result.iterations = best.iterations;
    result.converged = best.converged;
    result.message = best.message;
    if (!have_best) {
        // Not a single finite evaluation: report the primary start, honestly.
        result.params = starts.front();
        result.log_likelihood = -std::numeric_limits<double>::infinity();
        result.converged = false;
        result.message = first_message.empty() ? "the log-likelihood is not finite" : first_message;
        return result;
    }

    const Vec &u = best.u;
    result.params.resize(n);
    for (std::size_t i = 0; i < n; ++i) result.params[i] = std::exp(u[i]);
    Vec grad(n);
    result.log_likelihood = problem.likelihood->evaluate(u.data(), grad.data(), interrupt);

    // Standard errors from the Hessian of W * f in theta.
    if (best.hessian.rows() == static_cast<Eigen::Index>(n)) {
        const Mat &hu = best.hessian;
        const Vec &g = best.gradient;
        Mat ht(n, n);
        for (std::size_t i = 0; i < n; ++i)
            for (std::size_t j = 0; j < n; ++j)
                ht(i, j) = problem.weight * (hu(i, j) - (i == j ? g[i] : 0.0)) / (result.params[i] * result.params[j]);
        Eigen::LLT<Mat> llt(ht);
        if (llt.info() == Eigen::Success) {
            Mat cov = llt.solve(Mat::Identity(n, n));
            cov = 0.5 * (cov + cov.transpose()).eval();
            bool finite = cov.allFinite();
            for (std::size_t i = 0; i < n && finite; ++i) finite = cov(i, i) > 0;
            if (finite) {
                result.std_errors_available = true;
                result.std_errors.resize(n);
                result.covariance.resize(n * n);
                for (std::size_t i = 0; i < n; ++i) {
                    result.std_errors[i] = std::sqrt(cov(i, i));
                    for (std::size_t j = 0; j < n; ++j) result.covariance[i * n + j] = cov(i, j);
                }
            }
        }
    }
    if (!result.std_errors_available && result.converged) {
        result.converged = false;
        result.message =
            "the Hessian of the log-likelihood is not positive definite at the optimum: the data do not identify "
            "every parameter";
    }
    return result;
}

}  // namespace personalize::lifetime
