// ALS options, the als_fit input collector and the stored form of a trained
// model. The training itself is in als_training.cpp.
#include "core/als/als.hpp"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>

#include "core/als/model.hpp"
#include "core/common/error.hpp"
#include "core/common/json_writer.hpp"

namespace personalize::als {

namespace {

constexpr std::uint32_t kCollectorTag = 0x31534C41;  // "ALS1": bumps when the row layout changes
constexpr std::size_t kCollectorHeader = 16;

[[noreturn]] void corrupted(const char *what) {
    throw Error(ErrorCode::DataCorrupted, std::string("als_fit: serialized state is corrupted: ") + what);
}

std::size_t padded(std::size_t bytes) { return (bytes + 7) & ~static_cast<std::size_t>(7); }

}  // namespace

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

void AlsCollector::add(std::int64_t customer, std::int64_t item, double strength) {
    if (!std::isfinite(strength) || strength <= 0)
        throw_invalid("als_fit: \"strength\" must be a finite number > 0, not " + number_text(strength),
                      "Leave out rows without a purchase; a strength is e.g. the number of orders with the item.");
    rows_.push_back({customer, item, strength});
}

void AlsCollector::merge(const AlsCollector &other) { rows_.append(other.rows_.data(), other.rows_.data() + other.rows_.size()); }

std::size_t AlsCollector::serialized_size() const { return kCollectorHeader + rows_.size() * sizeof(Row); }

void AlsCollector::serialize(unsigned char *out, std::size_t size) const {
    if (size != serialized_size()) throw Error(ErrorCode::Internal, "als_fit: serialization buffer size mismatch");
    const std::uint32_t tag = kCollectorTag, row_size = sizeof(Row);
    const std::uint64_t count = rows_.size();
    std::memcpy(out, &tag, 4);
    std::memcpy(out + 4, &row_size, 4);
    std::memcpy(out + 8, &count, 8);
    if (count != 0) std::memcpy(out + kCollectorHeader, rows_.data(), rows_.size() * sizeof(Row));
}

void AlsCollector::append_serialized(const unsigned char *data, std::size_t size) {
    if (size < kCollectorHeader) corrupted("too short");
    std::uint32_t tag, row_size;
    std::uint64_t count;
    std::memcpy(&tag, data, 4);
    std::memcpy(&row_size, data + 4, 4);
    std::memcpy(&count, data + 8, 8);
    if (tag != kCollectorTag || row_size != sizeof(Row)) corrupted("wrong tag");
    if (count > (size - kCollectorHeader) / sizeof(Row) || size - kCollectorHeader != count * sizeof(Row))
        corrupted("length does not match");
    const std::size_t first = rows_.size();
    rows_.resize(first + static_cast<std::size_t>(count));
    if (count != 0) std::memcpy(rows_.data() + first, data + kCollectorHeader, static_cast<std::size_t>(count) * sizeof(Row));
    for (std::size_t i = first; i < rows_.size(); ++i)
        if (!std::isfinite(rows_[i].strength) || rows_[i].strength <= 0) corrupted("bad strength");
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

// Copies `bytes` to out + at and zero-pads to a multiple of 8; returns the next offset.
std::size_t put_section(unsigned char *out, std::size_t at, const void *data, std::size_t bytes) {
    if (bytes != 0) std::memcpy(out + at, data, bytes);
    const std::size_t end = at + padded(bytes);
    if (end > at + bytes) std::memset(out + at + bytes, 0, end - at - bytes);
    return end;
}

}  // namespace

std::size_t AlsTrainedModel::serialized_size() const { return header_of(*this).total_size(); }

void AlsTrainedModel::serialize(unsigned char *out, std::size_t size) const {
    AlsHeader h = header_of(*this);
    if (size != h.total_size() || size == 0) throw Error(ErrorCode::Internal, "als_fit: model buffer size mismatch");
    h.write(out);
    std::size_t at = kAlsHeaderSize;
    at = put_section(out, at, customer_ids.data(), customer_ids.size() * sizeof(std::int64_t));
    at = put_section(out, at, item_ids.data(), item_ids.size() * sizeof(std::int64_t));
    at = put_section(out, at, offsets.data(), offsets.size() * sizeof(std::uint64_t));
    at = put_section(out, at, history.data(), history.size() * sizeof(std::uint32_t));
    at = put_section(out, at, customer_factors.data(), customer_factors.size() * sizeof(float));
    at = put_section(out, at, item_factors.data(), item_factors.size() * sizeof(float));
    if (at != size) throw Error(ErrorCode::Internal, "als_fit: model layout mismatch");
    h.fingerprint = als_fingerprint(out, size);
    h.write(out);
}

}  // namespace personalize::als
