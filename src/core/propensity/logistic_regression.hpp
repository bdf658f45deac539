// L2-penalised logistic regression fitted by Newton's method (IRLS): the
// core of the aggregate personalize.logistic_fit(label, features, ...) and of
// logistic_score(model, features).
//
// Model: P(label | x) = 1 / (1 + exp(-(b0 + b . x))). The fit maximises
//   l(b0, b) - l2 / 2 * |b|^2      (the intercept b0 is not penalised)
// where l is the log-likelihood (natural log, summed over the rows). Each
// iteration solves H d = g with the Cholesky factor of the penalised
// Hessian H = X^T W X + l2 I' (I' without the intercept), halving the step
// while the penalised log-likelihood would drop. It has converged when the
// full Newton step is small: |d_j| <= tolerance * (1 + |b_j|) for every j.
// Standard errors are the square roots of the diagonal of H^-1 at the
// estimate (with l2 > 0 that is the usual ridge / Laplace approximation,
// not an unpenalised maximum-likelihood standard error).
//
// Perfectly separable data (some b . x + b0 puts every true label above
// every false one) has no finite maximum-likelihood estimate: with l2 = 0
// the coefficients grow every iteration, the fit stops without converging
// (iteration limit, or a Hessian that is numerically singular) and the
// model says so ("converged": false and a "warning"). With l2 > 0 the
// estimate is finite and the fit converges. All labels equal is an error.
//
// Deterministic: the rows are first put in a canonical order (by label,
// then the features), so any row order (a parallel plan's) gives the same
// model.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/bytes.hpp"
#include "core/common/charged_vector.hpp"
#include "core/common/interrupt.hpp"
#include "core/common/memory_budget.hpp"

namespace personalize::propensity {

struct LogisticOptions {
    double l2 = 1.0;                   // >= 0, finite
    std::int64_t max_iterations = 100; // 1 .. 10000
    double tolerance = 1e-8;           // > 0, finite

    // InvalidParameter naming the argument, prefixed by `function`.
    void validate(const char *function) const;
    bool operator==(const LogisticOptions &o) const {
        return l2 == o.l2 && max_iterations == o.max_iterations && tolerance == o.tolerance;
    }
    bool operator!=(const LogisticOptions &o) const { return !(*this == o); }
};

constexpr std::size_t kLogisticMaxFeatures = 1000;

// The aggregate's state: every row's label and features, charged to the
// collector's own budget. Not movable (its vectors point at the budget).
class LogisticCollector {
public:
    explicit LogisticCollector(MemoryBudget budget)
        : budget_(std::move(budget)), rows_(budget_, "logistic_fit input rows"), labels_(budget_, "logistic_fit input rows") {}
    LogisticCollector(const LogisticCollector &) = delete;
    LogisticCollector &operator=(const LogisticCollector &) = delete;

    // One row. Every row must have the same number of features (at most
    // kLogisticMaxFeatures), each finite (InvalidParameter naming "features").
    void add(bool label, const double *features, std::size_t count);
    void merge(const LogisticCollector &other);

    std::size_t rows() const { return labels_.size(); }
    bool empty() const { return labels_.empty(); }
    // The number of features, or -1 before the first row.
    std::int64_t features() const { return features_; }
    MemoryBudget &budget() { return budget_; }

    // The byte form (core/common/bytes.hpp); read() checks the bytes
    // (DataCorrupted) and appends their rows.
    void write(ByteWriter &out) const;
    void read(ByteReader &in);

    // Row-major design matrix: per row 1 (the intercept) then the features.
    ChargedVector<double> &design() { return rows_; }
    ChargedVector<std::uint8_t> &labels() { return labels_; }

private:
    void set_features(std::int64_t count);

    MemoryBudget budget_;
    ChargedVector<double> rows_;
    ChargedVector<std::uint8_t> labels_;
    std::int64_t features_ = -1;
};

// The state of the logistic_fit() aggregate: the rows, and the options and
// feature names every row must agree on. Not movable (see LogisticCollector).
struct LogisticFitState {
    explicit LogisticFitState(MemoryBudget budget) : rows(std::move(budget)) {}

    LogisticCollector rows;
    bool has_options = false;
    LogisticOptions options;
    bool has_names = false;  // set with the options: NULL names count as "none"
    std::vector<std::string> names;

    // Set (first row: validated, InvalidParameter) or check.
    void set_options(const LogisticOptions &o);
    void set_names(const std::vector<std::string> &n);
    // The byte form (serialfunc / deserialfunc); read() adds a serialised
    // state's options, names and rows (DataCorrupted on bad bytes).
    void write(ByteWriter &out) const;
    void read(ByteReader &in);
};

struct LogisticModel {
    std::vector<std::string> feature_names;  // empty, or one per coefficient
    double intercept = 0.0;
    std::vector<double> coefficients;
    bool has_standard_errors = false;        // false when the Hessian could not be inverted
    double intercept_standard_error = 0.0;
    std::vector<double> standard_errors;
    double l2 = 0.0;
    std::int64_t iterations = 0;
    bool converged = false;
    std::string warning;                     // empty when there is nothing to say
    double log_likelihood = 0.0;
    double penalized_log_likelihood = 0.0;
    std::int64_t observations = 0;
    std::int64_t positives = 0;

    // P(label = true | features). InvalidParameter (prefixed by `function`)
    // when the length differs from the model's or a feature is not finite.
    double probability(const double *features, std::size_t count, const char *function) const;

    // {"model":"logistic_regression","feature_names":[..]|null,"intercept":..,
    //  "coefficients":[..],"intercept_standard_error":..|null,"standard_errors":[..]|null,
    //  "l2":..,"iterations":..,"converged":..,"warning":".."|null,"log_likelihood":..,
    //  "penalized_log_likelihood":..,"observations":..,"positives":..}
    std::string to_json() const;
    // Reads to_json()'s output: "model", "intercept" and "coefficients" are
    // required, "feature_names" is checked when present, the rest is
    // informational. InvalidParameter naming "model" (prefixed by `function`).
    static LogisticModel from_json(std::string_view text, const char *function);
};

// Fits the model; consumes the collector's rows. feature_names: empty or
// one per feature (InvalidParameter naming "feature_names"). No rows, or
// every label the same: InvalidParameter.
LogisticModel logistic_fit(LogisticCollector &data, const LogisticOptions &options,
                           const std::vector<std::string> &feature_names, const Interrupt &interrupt = Interrupt());

}  // namespace personalize::propensity
