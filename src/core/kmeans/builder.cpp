// KMeansBuilder (point accumulation, merge, serialization) and the checks of
// KMeansOptions.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "core/common/error.hpp"
#include "core/kmeans/kmeans.hpp"

namespace personalize::kmeans {

namespace {

constexpr std::uint32_t kBuilderTag = 0x314D4B50;  // "PKM1": bumps when the layout changes
constexpr std::size_t kHeader = 2 * sizeof(std::uint32_t) + sizeof(std::uint64_t);
// Features per point: far beyond any sensible feature vector, small enough
// that n * dim never overflows in practice and fits the u32 of the layout.
constexpr std::size_t kMaxDim = std::size_t{1} << 20;

[[noreturn]] void corrupted(const char *what) {
    throw Error(ErrorCode::DataCorrupted, std::string("kmeans: serialized state is corrupted: ") + what);
}

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

// Layout: u32 tag, u32 dim, u64 points, then points * dim doubles (native
// byte order: the state only travels between workers of one server).
std::size_t KMeansBuilder::serialized_size() const { return kHeader + data_.size() * sizeof(double); }

void KMeansBuilder::serialize(unsigned char *out, std::size_t size) const {
    if (size != serialized_size()) throw Error(ErrorCode::Internal, "kmeans: serialization buffer size");
    const std::uint32_t tag = kBuilderTag;
    const auto dim = static_cast<std::uint32_t>(dim_);
    const auto n = static_cast<std::uint64_t>(this->size());
    std::memcpy(out, &tag, 4);
    std::memcpy(out + 4, &dim, 4);
    std::memcpy(out + 8, &n, 8);
    if (!data_.empty()) std::memcpy(out + kHeader, data_.data(), data_.size() * sizeof(double));
}

KMeansBuilder KMeansBuilder::deserialize(const unsigned char *data, std::size_t size, MemoryBudget budget) {
    if (data == nullptr || size < kHeader) corrupted("truncated");
    std::uint32_t tag, dim;
    std::uint64_t n;
    std::memcpy(&tag, data, 4);
    std::memcpy(&dim, data + 4, 4);
    std::memcpy(&n, data + 8, 8);
    if (tag != kBuilderTag) corrupted("unknown format tag");
    if ((dim == 0) != (n == 0) || dim > kMaxDim) corrupted("bad dimensions");
    const std::size_t payload = size - kHeader;
    if (payload % sizeof(double) != 0) corrupted("size mismatch");
    const std::size_t values = payload / sizeof(double);
    if (dim != 0 && (n > values / dim || n * dim != values)) corrupted("size mismatch");
    if (dim == 0 && values != 0) corrupted("size mismatch");

    KMeansBuilder builder(std::move(budget));
    if (n == 0) return builder;
    builder.dim_ = dim;
    builder.reserve_values(values);
    builder.data_.resize(values);
    std::memcpy(builder.data_.data(), data + kHeader, payload);
    for (const double v : builder.data_)
        if (!std::isfinite(v)) corrupted("non-finite value");
    return builder;
}

}  // namespace personalize::kmeans
