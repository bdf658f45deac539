#include "core/propensity/auc.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "core/common/error.hpp"

namespace personalize::propensity {

namespace {
constexpr std::uint32_t kTag = 0x31435541;  // "AUC1"
constexpr std::size_t kHeader = 16;
}  // namespace

void AucCollector::add(double score, bool label) {
    if (std::isnan(score)) throw_invalid("auc: \"score\" must not be NaN");
    rows_.push_back({score, label ? 1u : 0u});
}

void AucCollector::merge(const AucCollector &other) { rows_.append(other.rows_.data(), other.rows_.data() + other.rows_.size()); }

std::optional<double> AucCollector::auc(const Interrupt &interrupt) {
    std::sort(rows_.begin(), rows_.end(), [&](const Row &a, const Row &b) {
        interrupt.poll(1u << 20);
        return a.score < b.score;
    });
    // Sum of the positives' mid-ranks (1-based) over runs of equal scores.
    double rank_sum = 0.0;
    std::uint64_t positives = 0;
    const std::size_t n = rows_.size();
    for (std::size_t i = 0; i < n;) {
        std::size_t j = i;
        std::uint64_t run_positives = 0;
        while (j < n && rows_[j].score == rows_[i].score) run_positives += rows_[j++].label;
        const double mid_rank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2.0;
        rank_sum += mid_rank * static_cast<double>(run_positives);
        positives += run_positives;
        i = j;
    }
    const std::uint64_t negatives = n - positives;
    if (positives == 0 || negatives == 0) return std::nullopt;
    const double p = static_cast<double>(positives), q = static_cast<double>(negatives);
    return (rank_sum - p * (p + 1.0) / 2.0) / (p * q);
}

std::size_t AucCollector::serialized_size() const { return kHeader + rows_.size() * sizeof(Row); }

void AucCollector::serialize(unsigned char *out, std::size_t size) const {
    if (size != serialized_size()) throw Error(ErrorCode::Internal, "auc: serialization buffer size mismatch");
    const std::uint32_t tag = kTag, unused = 0;
    const std::uint64_t count = rows_.size();
    std::memcpy(out, &tag, 4);
    std::memcpy(out + 4, &unused, 4);
    std::memcpy(out + 8, &count, 8);
    if (count != 0) std::memcpy(out + kHeader, rows_.data(), rows_.size() * sizeof(Row));
}

void AucCollector::append_serialized(const unsigned char *data, std::size_t size) {
    if (size < kHeader) throw Error(ErrorCode::DataCorrupted, "auc: serialized state is corrupted: too short");
    std::uint32_t tag;
    std::uint64_t count;
    std::memcpy(&tag, data, 4);
    std::memcpy(&count, data + 8, 8);
    if (tag != kTag || count > (size - kHeader) / sizeof(Row) || size - kHeader != count * sizeof(Row))
        throw Error(ErrorCode::DataCorrupted, "auc: serialized state is corrupted: length does not match");
    const std::size_t first = rows_.size();
    rows_.resize(first + static_cast<std::size_t>(count));
    if (count != 0) std::memcpy(rows_.data() + first, data + kHeader, static_cast<std::size_t>(count) * sizeof(Row));
    for (std::size_t i = first; i < rows_.size(); ++i)
        if (std::isnan(rows_[i].score) || rows_[i].label > 1)
            throw Error(ErrorCode::DataCorrupted, "auc: serialized state is corrupted: bad row");
}

}  // namespace personalize::propensity
