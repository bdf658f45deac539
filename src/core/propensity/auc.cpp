#include "core/propensity/auc.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/common/byte_formats.hpp"
#include "core/common/error.hpp"

namespace personalize::propensity {

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

// Layout after the header: u64 rows, then (f64 score, u64 label 0 / 1) per row.
void AucCollector::write(ByteWriter &out) const {
    static_assert(sizeof(Row) == 16, "a row is two 8-byte fields without padding");
    out.header(byte_formats::kAucRows);
    out.put_counted(rows_);
}

void AucCollector::read(ByteReader &in) {
    in.header(byte_formats::kAucRows);
    for (std::size_t i = in.append_counted(rows_); i < rows_.size(); ++i)
        if (std::isnan(rows_[i].score) || rows_[i].label > 1) in.corrupted("bad row");
}

}  // namespace personalize::propensity
