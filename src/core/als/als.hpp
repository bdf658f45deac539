// Implicit-feedback matrix factorisation by alternating least squares (Hu,
// Koren & Volinsky 2008, "Collaborative Filtering for Implicit Feedback
// Datasets"): the core of the aggregate personalize.als_fit(customer_id,
// item_id, strength, ...).
//
// Every (customer, item) pair seen gets preference p = 1 and confidence
// c = 1 + alpha * strength (strength: e.g. the number of orders with the
// item); every pair not seen has p = 0 and c = 1. ALS minimises
//   sum over ALL pairs c_ui (p_ui - x_u . y_i)^2
//     + regularization (sum n_u |x_u|^2 + sum n_i |y_i|^2)
// where n_u, n_i count the pairs seen of the customer / item: the
// regularization is scaled by each row's data, as in ALS-WR (Zhou et al.
// 2008) and Spark MLlib's ALS, so one value suits small and large shops.
// alternating: item factors given the customer factors, then customer
// factors given the item factors (so the returned customer factors solve
// against the returned item factors, as a fold-in does). Each row is solved
// either
//   * "cg": a few conjugate-gradient steps warm-started from the previous
//     row (Takacs, Pilaszy & Tikk 2011; the method of the `implicit` library),
//     cost per half-iteration O(nnz * f * steps + rows * f^2 * steps), or
//   * "cholesky": exactly, by forming YtY + Yt (C_u - I) Y + regularization n_u I
//     and a Cholesky solve, cost O(nnz * f^2 + rows * f^3).
// Both use the YtY trick: the unseen pairs are handled by one f x f matrix
// per half-iteration, never by visiting them.
//
// Deterministic: the rows are first put in a canonical order (sorted by
// customer, item, strength; duplicate pairs summed), the factors are
// initialised from core/common/random.hpp with the seed, and everything is
// single-threaded, so the same rows in any order (a parallel plan's
// workers' rows merged in any order) give a byte-identical model.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/common/bytes.hpp"
#include "core/common/charged_vector.hpp"
#include "core/common/interrupt.hpp"
#include "core/common/memory_budget.hpp"

namespace personalize::als {

enum class AlsSolver : std::uint32_t { ConjugateGradient = 0, Cholesky = 1 };

// "cg" / "cholesky".
const char *als_solver_name(AlsSolver solver);
// The inverse of als_solver_name; InvalidParameter naming "solver" otherwise.
AlsSolver parse_als_solver(std::string_view name);

constexpr std::int64_t kAlsMaxFactors = 1024;
constexpr std::int64_t kAlsMaxIterations = 1000;

// The confidence 1 + alpha * strength of one pair seen, in training and in
// fold-in alike: above kAlsMaxConfidence (or not finite) it would overflow
// the solves into Infinity and NaN, so it is InvalidParameter
// "<function>: <product> is too large (about 1eN)" with a hint to scale the
// strengths down. `product` names the factors, e.g. "\"alpha\" * \"strength\"".
constexpr double kAlsMaxConfidence = 1e30;
// The largest factor a model holds (trained or read): the dot product of two
// rows of up to kAlsMaxFactors such factors stays far below float's range, so
// a score is never Infinity or NaN. A fit that goes beyond it has diverged.
constexpr float kAlsMaxFactorMagnitude = 1e15f;
double als_confidence(double alpha, double strength, const char *function, const char *product);

struct AlsOptions {
    std::int64_t factors = 64;         // 1 .. kAlsMaxFactors
    std::int64_t iterations = 15;      // 1 .. kAlsMaxIterations
    double regularization = 0.5;       // >= 0, finite; scaled by each row's pairs seen
    double alpha = 5.0;                // > 0, finite: confidence = 1 + alpha * strength
    std::uint64_t seed = 0;
    AlsSolver solver = AlsSolver::ConjugateGradient;
    std::int64_t cg_steps = 3;         // conjugate-gradient steps per row and half-iteration

    // InvalidParameter naming the argument; `function` prefixes the message.
    void validate(const char *function) const;
    bool operator==(const AlsOptions &o) const {
        return factors == o.factors && iterations == o.iterations && regularization == o.regularization &&
               alpha == o.alpha && seed == o.seed && solver == o.solver && cg_steps == o.cg_steps;
    }
    bool operator!=(const AlsOptions &o) const { return !(*this == o); }
};

// The aggregate's state: every input row, charged to the collector's own
// budget. Not movable (its vector points at the budget): create it on the
// heap and keep it where it is.
class AlsCollector {
public:
    explicit AlsCollector(MemoryBudget budget) : budget_(std::move(budget)), rows_(budget_, "als_fit input rows") {}
    AlsCollector(const AlsCollector &) = delete;
    AlsCollector &operator=(const AlsCollector &) = delete;

    // One row; strength must be finite and > 0 (InvalidParameter naming "strength").
    void add(std::int64_t customer, std::int64_t item, double strength);
    // Appends another collector's rows (another parallel worker's).
    void merge(const AlsCollector &other);
    std::size_t rows() const { return rows_.size(); }
    bool empty() const { return rows_.empty(); }
    MemoryBudget &budget() { return budget_; }

    // The byte form of the rows (core/common/bytes.hpp); read() checks the
    // bytes (DataCorrupted) and adds their rows.
    void write(ByteWriter &out) const;
    void read(ByteReader &in);

    struct Row {
        std::int64_t customer;
        std::int64_t item;
        double strength;
    };
    ChargedVector<Row> &raw_rows() { return rows_; }

private:
    MemoryBudget budget_;
    ChargedVector<Row> rows_;
};

// The state of the als_fit() aggregate: the rows and the options every row
// must agree on. Not movable (see AlsCollector).
struct AlsFitState {
    explicit AlsFitState(MemoryBudget budget) : rows(std::move(budget)) {}

    AlsCollector rows;
    bool has_options = false;
    AlsOptions options;

    // Sets (first row: validated, InvalidParameter) or checks the options.
    void set_options(const AlsOptions &o);
    // The byte form (serialfunc / deserialfunc); read() adds a serialised
    // state's options and rows (DataCorrupted on bad bytes).
    void write(ByteWriter &out) const;
    void read(ByteReader &in);
};

// A fitted model, as the arrays of its stored form (core/als/model.hpp
// describes the layout). Its arrays stay charged to the budget of the
// collector it was fitted from, which must outlive it.
class AlsTrainedModel {
public:
    explicit AlsTrainedModel(MemoryBudget &budget);

    AlsOptions options;
    double loss = 0.0;  // the objective above divided by the total confidence (as `implicit` reports it)
    ChargedVector<std::int64_t> customer_ids;   // ascending
    ChargedVector<std::int64_t> item_ids;       // ascending
    ChargedVector<std::uint64_t> offsets;       // customers + 1: each customer's items in `history`
    ChargedVector<std::uint32_t> history;       // item indices, ascending per customer
    ChargedVector<float> customer_factors;      // customers x factors, row-major
    ChargedVector<float> item_factors;          // items x factors, row-major

    // The stored form, fingerprint included (a whole value: `out` must be
    // empty). The bytes need not be aligned.
    void write(ByteWriter &out) const;
};

// Fits the model; consumes (frees) the collector's rows. At least one row
// (InvalidParameter otherwise); more than 2^32 - 2 customers or items is a
// ProgramLimit error; everything large is charged to the collector's budget
// (OutOfMemory naming the setting). Polls `interrupt` for every few rows.
AlsTrainedModel als_fit(AlsCollector &data, const AlsOptions &options, const Interrupt &interrupt = Interrupt());

}  // namespace personalize::als
