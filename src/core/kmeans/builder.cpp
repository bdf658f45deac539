// KMeansBuilder (point accumulation, merge, byte form) and the checks of
// KMeansOptions.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "core/common/byte_formats.hpp"
#include "core/common/error.hpp"
#include "core/kmeans/kmeans.hpp"

namespace personalize::kmeans {

namespace {

// Features per point: far beyond any sensible feature vector, small enough
// that n * dim never overflows in practice and fits the u32 of the layout.
constexpr std::size_t kMaxDim = std::size_t{1} << 20;

[[noreturn]] void length_mismatch(std::size_t expected, std::size_t got) {
    throw_invalid("kmeans: \"features\" must all have the same length (expected " + std::to_string(expected) +
                  ", got " + std::to_string(got) + ")");
}

}  // namespace

const char *kmeans_scaling_name(KMeansScaling kind) {
    switch (kind) {
        case KMeansScaling::None: return "none";
        case KMeansScaling::ZScore: return "zscore";
        case KMeansScaling::Log1pZScore: return "log1p_zscore";
    }
    return "none";
}

KMeansScaling parse_kmeans_scaling(std::string_view name) {
    if (name == "none") return KMeansScaling::None;
    if (name == "zscore") return KMeansScaling::ZScore;
    if (name == "log1p_zscore") return KMeansScaling::Log1pZScore;
    throw_invalid("kmeans: \"scaling\" must be none, zscore or log1p_zscore, not \"" + std::string(name) + "\"");
}

void KMeansOptions::validate() const {
    if (k < 1) throw_invalid("kmeans: \"k\" must be at least 1");
    if (max_iterations < 1) throw_invalid("kmeans: \"max_iterations\" must be at least 1");
    if (!(tolerance >= 0.0) || !std::isfinite(tolerance))
        throw_invalid("kmeans: \"tolerance\" must be a finite number >= 0");
}

// ---------------------------------------------------------------- builder

void KMeansBuilder::set_dim(std::size_t dim) {
    if (dim == 0) throw_invalid("kmeans: \"features\" must not be empty");
    if (dim > kMaxDim)
        throw Error(ErrorCode::ProgramLimit, "kmeans: \"features\" has " + std::to_string(dim) +
                                                 " values, more than the limit of " + std::to_string(kMaxDim));
    if (dim_ == 0) {
        dim_ = dim;
    } else if (dim != dim_) {
        length_mismatch(dim_, dim);
    }
}

void KMeansBuilder::reserve_values(std::size_t needed) {
    if (needed <= data_.capacity()) return;
    if (needed > std::numeric_limits<std::size_t>::max() / (2 * sizeof(double)))
        throw Error(ErrorCode::ProgramLimit, "kmeans: too many input values");
    const std::size_t target = std::max({needed, data_.capacity() * 2, std::size_t{64}});
    const std::size_t bytes = target * sizeof(double);
    const std::size_t old_bytes = data_.capacity() * sizeof(double);
    // Old and new buffers both exist while the values move.
    budget_.charge(bytes, "kmeans input points");
    try {
        data_.reserve(target);
    } catch (...) {
        budget_.release(bytes);
        throw;
    }
    budget_.release(old_bytes);
}

void KMeansBuilder::add(const double *x, std::size_t dim) {
    set_dim(dim);
    for (std::size_t j = 0; j < dim; ++j)
        if (!std::isfinite(x[j])) throw_invalid("kmeans: \"features\" must be finite numbers");
    reserve_values(data_.size() + dim);
    data_.insert(data_.end(), x, x + dim);
}

void KMeansBuilder::merge(const KMeansBuilder &other) {
    if (other.empty()) return;
    set_dim(other.dim_);
    reserve_values(data_.size() + other.data_.size());
    data_.insert(data_.end(), other.data_.begin(), other.data_.end());
}

// Layout after the header: u32 dim (0 before the first point), u64 points,
// then points * dim doubles, row-major.
void KMeansBuilder::write(ByteWriter &out) const {
    out.header(byte_formats::kKMeansPoints);
    out.put(static_cast<std::uint32_t>(dim_));
    out.put_count(size());
    out.put_array(data_.data(), data_.size());
}

KMeansBuilder KMeansBuilder::read(ByteReader &in, MemoryBudget budget) {
    in.header(byte_formats::kKMeansPoints);
    const auto dim = in.get<std::uint32_t>();
    if (dim > kMaxDim) in.corrupted("bad dimensions");
    const std::size_t n = in.get_count(dim == 0 ? 1 : dim * sizeof(double));
    if ((dim == 0) != (n == 0)) in.corrupted("bad dimensions");
    KMeansBuilder builder(std::move(budget));
    if (n == 0) return builder;
    const std::size_t values = n * dim;
    builder.dim_ = dim;
    builder.reserve_values(values);
    builder.data_.resize(values);
    in.get_array(builder.data_.data(), values);
    for (const double v : builder.data_)
        if (!std::isfinite(v)) in.corrupted("non-finite value");
    return builder;
}

}  // namespace personalize::kmeans
