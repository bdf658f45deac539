// Per-feature scaling of the k-means points (none | zscore | log1p_zscore)
// and the distinct-point count of the scaled data.
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <unordered_set>

#include "core/common/error.hpp"
#include "core/common/json_writer.hpp"
#include "core/kmeans/internal.hpp"

namespace personalize::kmeans {

namespace {

[[noreturn]] void log1p_domain(std::size_t feature, double value) {
    throw_invalid("kmeans: log1p_zscore scaling needs values > -1, but feature " + std::to_string(feature + 1) +
                  " has " + number_text(value));
}

}  // namespace

double KMeansFeatureScaling::forward(double x) const {
    switch (kind) {
        case KMeansScaling::None: return x;
        case KMeansScaling::ZScore: return (x - mean) / std;
        case KMeansScaling::Log1pZScore: return (std::log1p(x) - mean) / std;
    }
    return x;
}

double KMeansFeatureScaling::inverse(double z) const {
    switch (kind) {
        case KMeansScaling::None: return z;
        case KMeansScaling::ZScore: return z * std + mean;
        case KMeansScaling::Log1pZScore: return std::expm1(z * std + mean);
    }
    return z;
}

namespace detail {

namespace {

using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using RowMatrixMap = Eigen::Map<RowMatrix>;
using ConstRowMatrixMap = Eigen::Map<const RowMatrix>;
using RowArray = Eigen::Array<double, 1, Eigen::Dynamic>;

}  // namespace

std::vector<KMeansScaling> resolve_scaling_kinds(const std::vector<KMeansScaling> &kinds, std::size_t d) {
    if (kinds.empty()) return std::vector<KMeansScaling>(d, KMeansScaling::None);
    if (kinds.size() == 1) return std::vector<KMeansScaling>(d, kinds[0]);
    if (kinds.size() != d)
        throw_invalid("kmeans: \"scaling\" must have one entry or one per feature (" + std::to_string(d) + "), not " +
                      std::to_string(kinds.size()));
    return kinds;
}

void transform_points(const KMeansBuilder &points, const std::vector<std::size_t> &order,
                      const std::vector<KMeansScaling> &kinds, double *out, const Interrupt &interrupt) {
    const std::size_t n = points.size(), d = points.dim();
    const bool any_log = std::find(kinds.begin(), kinds.end(), KMeansScaling::Log1pZScore) != kinds.end();
    for (std::size_t i = 0; i < n; ++i) {
        if (i % kPollBlock == 0) interrupt.check();
        if (i + 8 < n) __builtin_prefetch(points.point(order[i + 8]));  // a random gather
        const double *row = points.point(order[i]);
        double *dst = out + i * d;
        for (std::size_t j = 0; j < d; ++j) dst[j] = row[j];
        if (!any_log) continue;
        for (std::size_t j = 0; j < d; ++j) {
            if (kinds[j] != KMeansScaling::Log1pZScore) continue;
            if (!(row[j] > -1.0)) log1p_domain(j, row[j]);
            dst[j] = std::log1p(row[j]);
        }
    }
}

ScalingFit fit_scaling(const double *t, std::size_t n, std::size_t d, const std::vector<KMeansScaling> &kinds,
                       const Interrupt &interrupt) {
    // Two passes (mean, then squared deviations): accurate even when the
    // values sit far from zero. Row by row, not with colwise() reductions:
    // the additions then happen in one fixed order on every machine.
    const ConstRowMatrixMap points(t, static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(d));
    RowArray sum = RowArray::Zero(static_cast<Eigen::Index>(d));
    RowArray lo = points.row(0).array(), hi = lo;
    for (std::size_t i = 0; i < n; ++i) {
        if (i % kPollBlock == 0) interrupt.check();
        const auto row = points.row(static_cast<Eigen::Index>(i)).array();
        sum += row;
        lo = (row < lo).select(row, lo);
        hi = (row > hi).select(row, hi);
    }
    const RowArray mean = (lo == hi).select(lo, sum / static_cast<double>(n));
    RowArray ss = RowArray::Zero(static_cast<Eigen::Index>(d));
    for (std::size_t i = 0; i < n; ++i) {
        if (i % kPollBlock == 0) interrupt.check();
        ss += (points.row(static_cast<Eigen::Index>(i)).array() - mean).square();
    }

    ScalingFit fit;
    fit.scaling.resize(d);
    double total_variance = 0.0;
    for (std::size_t j = 0; j < d; ++j) {
        KMeansFeatureScaling &s = fit.scaling[j];
        s.kind = kinds[j];
        const auto col = static_cast<Eigen::Index>(j);
        const double variance = lo[col] == hi[col] ? 0.0 : ss[col] / static_cast<double>(n);
        if (s.kind == KMeansScaling::None) {
            total_variance += variance;
            continue;
        }
        s.mean = mean[col];
        const double sd = std::sqrt(variance);
        if (variance > 0.0 && std::isfinite(sd) && sd > 0.0) {
            s.std = sd;
            total_variance += 1.0;
        } else {
            s.std = 1.0;  // constant feature: only centred (its variance stays 0)
        }
    }
    fit.mean_variance = total_variance / static_cast<double>(d);
    return fit;
}

void standardize(double *t, std::size_t n, std::size_t d, const std::vector<KMeansFeatureScaling> &scaling,
                 const Interrupt &interrupt) {
    // Unscaled features have mean 0 and std 1: (x - 0) / 1 is x exactly.
    RowArray mean(static_cast<Eigen::Index>(d)), deviation(static_cast<Eigen::Index>(d));
    for (std::size_t j = 0; j < d; ++j) {
        const bool scaled = scaling[j].kind != KMeansScaling::None;
        mean[static_cast<Eigen::Index>(j)] = scaled ? scaling[j].mean : 0.0;
        deviation[static_cast<Eigen::Index>(j)] = scaled ? scaling[j].std : 1.0;
    }
    for (std::size_t begin = 0; begin < n; begin += kPollBlock) {
        interrupt.check();
        const std::size_t rows = std::min(kPollBlock, n - begin);
        RowMatrixMap block(t + begin * d, static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(d));
        block.array() = (block.array().rowwise() - mean).rowwise() / deviation;
    }
}

std::size_t count_distinct(const double *x, std::size_t n, std::size_t d, std::size_t limit,
                           const Interrupt &interrupt) {
    if (limit <= 1) return n == 0 ? 0 : 1;
    struct RowHash {
        const double *x;
        std::size_t d;
        std::size_t operator()(std::size_t i) const { return static_cast<std::size_t>(row_hash(x + i * d, d, 0)); }
    };
    struct RowEqual {
        const double *x;
        std::size_t d;
        bool operator()(std::size_t a, std::size_t b) const {
            for (std::size_t j = 0; j < d; ++j)
                if (!(x[a * d + j] == x[b * d + j])) return false;
            return true;
        }
    };
    // At most `limit` entries: the set stays small whatever n is.
    std::unordered_set<std::size_t, RowHash, RowEqual> seen(16, RowHash{x, d}, RowEqual{x, d});
    for (std::size_t i = 0; i < n; ++i) {
        if (i % kPollBlock == 0) interrupt.check();
        seen.insert(i);
        if (seen.size() >= limit) break;
    }
    return seen.size();
}

}  // namespace detail
}  // namespace personalize::kmeans
