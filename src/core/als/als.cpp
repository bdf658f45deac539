// ALS options, the als_fit input collector and aggregate state, and the
// stored form of a trained model. The training itself is in training.cpp.
#include "core/als/als.hpp"

#include <cmath>
#include <cstdio>
#include <limits>
#include <string>

#include "core/als/model.hpp"
#include "core/common/byte_formats.hpp"
#include "core/common/error.hpp"
#include "core/common/json_writer.hpp"
#include "core/common/same_for_every_row.hpp"

namespace personalize::als {

const char *als_solver_name(AlsSolver solver) {
    return solver == AlsSolver::Cholesky ? "cholesky" : "cg";
}

AlsSolver parse_als_solver(std::string_view name) {
    if (name == "cg") return AlsSolver::ConjugateGradient;
    if (name == "cholesky") return AlsSolver::Cholesky;
    throw_invalid("als_fit: \"solver\" must be 'cg' or 'cholesky', not '" + std::string(name) + "'");
}

void AlsOptions::validate(const char *function) const {
    const std::string f(function);
    if (factors < 1 || factors > kAlsMaxFactors)
        throw_invalid(f + ": \"factors\" must be between 1 and " + std::to_string(kAlsMaxFactors) + ", not " +
                      std::to_string(factors));
    if (iterations < 1 || iterations > kAlsMaxIterations)
        throw_invalid(f + ": \"iterations\" must be between 1 and " + std::to_string(kAlsMaxIterations) + ", not " +
                      std::to_string(iterations));
    if (!std::isfinite(regularization) || regularization < 0)
        throw_invalid(f + ": \"regularization\" must be a finite number >= 0, not " + number_text(regularization));
    if (!std::isfinite(alpha) || alpha <= 0)
        throw_invalid(f + ": \"alpha\" must be a finite number > 0, not " + number_text(alpha));
    if (cg_steps < 1 || cg_steps > 64)
        throw_invalid(f + ": \"cg_steps\" must be between 1 and 64, not " + std::to_string(cg_steps));
}

// ---------------------------------------------------------------- collector

double als_confidence(double alpha, double strength, const char *function, const char *product) {
    const double c = 1.0 + alpha * strength;
    if (!(c < kAlsMaxConfidence))
        throw_invalid(std::string(function) + ": " + product + " is too large (" +
                          (std::isfinite(c) ? "about 1e" + std::to_string(static_cast<int>(std::floor(std::log10(c))))
                                            : std::string("not finite")) +
                          ")",
                      "Scale the strengths down, e.g. log1p(count).");
    return c;
}

void AlsCollector::add(std::int64_t customer, std::int64_t item, double strength) {
    if (!std::isfinite(strength) || strength <= 0)
        throw_invalid("als_fit: \"strength\" must be a finite number > 0, not " + number_text(strength),
                      "Leave out rows without a purchase; a strength is e.g. the number of orders with the item.");
    rows_.push_back({customer, item, strength});
}

void AlsCollector::merge(const AlsCollector &other) { rows_.append(other.rows_.data(), other.rows_.data() + other.rows_.size()); }

// Layout after the header: u64 rows, then (i64 customer, i64 item, f64
// strength) per row.
void AlsCollector::write(ByteWriter &out) const {
    static_assert(sizeof(Row) == 24, "a row is three 8-byte fields without padding");
    out.header(byte_formats::kAlsRows);
    out.put_counted(rows_);
}

void AlsCollector::read(ByteReader &in) {
    in.header(byte_formats::kAlsRows);
    for (std::size_t i = in.append_counted(rows_); i < rows_.size(); ++i)
        if (!std::isfinite(rows_[i].strength) || rows_[i].strength <= 0) in.corrupted("bad strength");
}

// ---------------------------------------------------------------- aggregate state

void AlsFitState::set_options(const AlsOptions &o) {
    same_for_every_row(
        has_options, "als_fit",
        [&] {
            o.validate("als_fit");
            options = o;
        },
        {{"factors", o.factors == options.factors},
         {"iterations", o.iterations == options.iterations},
         {"regularization", o.regularization == options.regularization},
         {"alpha", o.alpha == options.alpha},
         {"seed", o.seed == options.seed},
         {"solver", o.solver == options.solver}});
}

// Layout after the header: u8 has_options, i64 factors, i64 iterations, f64
// regularization, f64 alpha, u64 seed, u32 solver, i64 cg_steps, then the
// rows (a value with its own header).
void AlsFitState::write(ByteWriter &out) const {
    out.header(byte_formats::kAlsFitState);
    out.put_bool(has_options);
    out.put(options.factors);
    out.put(options.iterations);
    out.put(options.regularization);
    out.put(options.alpha);
    out.put(options.seed);
    out.put(static_cast<std::uint32_t>(options.solver));
    out.put(options.cg_steps);
    rows.write(out);
}

void AlsFitState::read(ByteReader &in) {
    in.header(byte_formats::kAlsFitState);
    const bool given = in.get_bool();
    AlsOptions o;
    o.factors = in.get<std::int64_t>();
    o.iterations = in.get<std::int64_t>();
    o.regularization = in.get<double>();
    o.alpha = in.get<double>();
    o.seed = in.get<std::uint64_t>();
    const auto solver = in.get<std::uint32_t>();
    o.cg_steps = in.get<std::int64_t>();
    if (solver > 1) in.corrupted("bad solver");
    o.solver = static_cast<AlsSolver>(solver);
    if (given) in.validated("bad options", [&] { set_options(o); });
    rows.read(in);
}

// ---------------------------------------------------------------- model bytes

AlsTrainedModel::AlsTrainedModel(MemoryBudget &budget)
    : customer_ids(budget, "als_fit customer ids"),
      item_ids(budget, "als_fit item ids"),
      offsets(budget, "als_fit purchase history"),
      history(budget, "als_fit purchase history"),
      customer_factors(budget, "als_fit customer factors"),
      item_factors(budget, "als_fit item factors") {}

namespace {

AlsHeader header_of(const AlsTrainedModel &m) {
    AlsHeader h;
    h.factors = static_cast<std::uint32_t>(m.options.factors);
    h.solver = m.options.solver;
    h.customers = m.customer_ids.size();
    h.items = m.item_ids.size();
    h.interactions = m.history.size();
    h.iterations = static_cast<std::uint32_t>(m.options.iterations);
    h.cg_steps = static_cast<std::uint32_t>(m.options.cg_steps);
    h.regularization = m.options.regularization;
    h.alpha = m.options.alpha;
    h.seed = static_cast<std::int64_t>(m.options.seed);
    h.loss = m.loss;
    return h;
}

}  // namespace

// The layout of core/als/model.hpp; the fingerprint is written last, over
// the finished bytes.
void AlsTrainedModel::write(ByteWriter &out) const {
    const AlsHeader h = header_of(*this);
    const std::size_t start = out.size(), size = h.total_size();
    if (size == 0 || start != 0) throw Error(ErrorCode::Internal, "als_fit: model layout mismatch");
    h.write(out);
    out.put_array(customer_ids.data(), customer_ids.size());
    out.pad_to(8);
    out.put_array(item_ids.data(), item_ids.size());
    out.pad_to(8);
    out.put_array(offsets.data(), offsets.size());
    out.pad_to(8);
    out.put_array(history.data(), history.size());
    out.pad_to(8);
    out.put_array(customer_factors.data(), customer_factors.size());
    out.pad_to(8);
    out.put_array(item_factors.data(), item_factors.size());
    out.pad_to(8);
    if (out.size() - start != size) throw Error(ErrorCode::Internal, "als_fit: model layout mismatch");
    if (!out.measuring()) out.overwrite(start + kAlsFingerprintAt, als_fingerprint(out.data() + start, size));
}

}  // namespace personalize::als
