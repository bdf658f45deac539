// kmeans_fit (scaling -> k-means++ -> Hamerly/Lloyd), KMeansModel's
// assignment, and the sampled silhouette coefficient.
#include "core/kmeans/kmeans.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>

#include "core/common/error.hpp"
#include "core/common/json_writer.hpp"
#include "core/kmeans/internal.hpp"
#include "core/common/random.hpp"

namespace personalize::kmeans {

using namespace detail;

namespace {

// Rough footprint of one entry of the distinct-point hash set.
constexpr std::size_t kDistinctEntryBytes = 64;

void check_point(const double *x, std::size_t dim, std::size_t model_dim) {
    if (x == nullptr || dim != model_dim)
        throw_invalid("kmeans: \"features\" has " + std::to_string(dim) + " values but the model has " +
                      std::to_string(model_dim));
    for (std::size_t j = 0; j < dim; ++j)
        if (!std::isfinite(x[j])) throw_invalid("kmeans: \"features\" must be finite numbers");
}

}  // namespace

// ---------------------------------------------------------------- model

void KMeansModel::finish() {
    if (k_ < 1 || dim_ < 1) throw_invalid("kmeans: model must have k >= 1 and dim >= 1");
    if (centroids_.size() != k_ * dim_) throw_invalid("kmeans: model centroids do not match k and dim");
    if (scaling_.size() != dim_) throw_invalid("kmeans: model scaling does not match dim");
    for (const KMeansFeatureScaling &s : scaling_)
        if (!std::isfinite(s.mean) || !std::isfinite(s.std) || !(s.std > 0.0))
            throw_invalid("kmeans: model scaling must have a finite mean and a std > 0");
    scaled_centroids_.resize(centroids_.size());
    for (std::size_t c = 0; c < k_; ++c)
        for (std::size_t j = 0; j < dim_; ++j) {
            const double v = centroids_[c * dim_ + j];
            const double z = std::isfinite(v) ? scaling_[j].forward(v) : v;
            if (!std::isfinite(z))
                throw_invalid("kmeans: model centroid " + std::to_string(c + 1) +
                              " is not a finite point in the model's scaling");
            scaled_centroids_[c * dim_ + j] = z;
        }
}

void KMeansModel::scale(const double *x, std::size_t dim, double *out) const {
    check_point(x, dim, dim_);
    for (std::size_t j = 0; j < dim; ++j) {
        const KMeansFeatureScaling &s = scaling_[j];
        if (s.kind == KMeansScaling::Log1pZScore && !(x[j] > -1.0))
            throw_invalid("kmeans: log1p_zscore scaling needs values > -1, but feature " + std::to_string(j + 1) +
                          " is " + number_text(x[j]));
        out[j] = s.forward(x[j]);
    }
}

KMeansAssignment KMeansModel::assign(const double *x, std::size_t dim) const {
    if (k_ == 0) throw_invalid("kmeans: the model is empty");
    double small[16];
    std::vector<double> large;
    double *z = small;
    if (dim_ > 16) {
        large.resize(dim_);
        z = large.data();
    }
    scale(x, dim, z);
    std::size_t best = 0;
    double best_sq = squared_distance(z, scaled_centroids_.data(), dim_);
    for (std::size_t c = 1; c < k_; ++c) {
        const double sq = squared_distance(z, scaled_centroids_.data() + c * dim_, dim_);
        if (sq < best_sq) {
            best_sq = sq;
            best = c;
        }
    }
    // Centroids or scalings far beyond what a fit gives (a hand-made model)
    // overflow the distances: no cluster is nearest.
    if (!std::isfinite(best_sq))
        throw_invalid("kmeans_assign: \"model\" gives no finite distance for these features (its centroids or "
                      "scaling overflow)",
                      "Use a model fitted by personalize.kmeans(...).");
    return {best, std::sqrt(best_sq)};
}

// ---------------------------------------------------------------- fit

KMeansModel kmeans_fit(const KMeansBuilder &points, const KMeansOptions &options, const Interrupt &interrupt,
                       std::vector<std::uint32_t> *labels) {
    options.validate();
    if (points.empty()) throw_invalid("kmeans: no input rows");
    const std::size_t n = points.size(), d = points.dim();
    const std::vector<KMeansScaling> kinds = resolve_scaling_kinds(options.scaling, d);
    // k <= n here only after the distinct count below; until then, bound the
    // sizes by n.
    const std::size_t k_limit = static_cast<std::uint64_t>(options.k) > n ? n + 1 : static_cast<std::size_t>(options.k);

    // Working memory is charged to a copy of the builder's budget: the limit
    // covers the points and everything fit adds on top of them.
    MemoryBudget work = points.budget();
    const char *what = "kmeans working memory";

    // 1. The points in canonical order (the model must not depend on the
    // input order), transformed and scaled.
    const std::vector<std::size_t> order = canonical_order(points.data(), n, d, work, interrupt);
    work.charge(n * d * sizeof(double), what);
    std::vector<double> scaled(n * d);
    transform_points(points, order, kinds, scaled.data(), interrupt);
    ScalingFit scaling = fit_scaling(scaled.data(), n, d, kinds, interrupt);
    standardize(scaled.data(), n, d, scaling.scaling, interrupt);
    const double *x = scaled.data();

    // 2. Enough distinct points for k non-empty clusters?
    work.charge(k_limit * kDistinctEntryBytes, what);
    const std::size_t distinct = count_distinct(x, n, d, k_limit, interrupt);
    work.release(k_limit * kDistinctEntryBytes);
    if (distinct < k_limit)
        throw_invalid("kmeans: \"k\" (" + std::to_string(options.k) + ") exceeds the number of distinct points (" +
                      std::to_string(distinct) + ")");
    if (k_limit > std::numeric_limits<std::uint32_t>::max())
        throw Error(ErrorCode::ProgramLimit, "kmeans: \"k\" is too large");
    const std::size_t k = k_limit;

    // 3. Seeding and Lloyd iterations.
    const std::size_t scratch_size = lloyd_scratch_size(k, d);
    work.charge(n * (sizeof(std::uint32_t) + 2 * sizeof(double)) + (scratch_size + k * d) * sizeof(double), what);
    std::vector<std::uint32_t> point_labels(n);
    std::vector<double> upper(n), lower(n), scratch(scratch_size), centers(k * d);

    Random random(options.seed);
    kmeans_plusplus(x, n, d, k, random, centers.data(), upper.data(), interrupt);
    const LloydWork lloyd_work{point_labels.data(), upper.data(), lower.data(), scratch.data()};
    LloydResult lloyd = lloyd_hamerly(x, n, d, k, centers.data(), lloyd_work, options.tolerance * scaling.mean_variance,
                                      options.max_iterations, interrupt);

    // 4. The model, centroids back in original units.
    KMeansModel model;
    model.k_ = k;
    model.dim_ = d;
    model.scaling_ = std::move(scaling.scaling);
    model.centroids_.resize(k * d);
    for (std::size_t c = 0; c < k; ++c)
        for (std::size_t j = 0; j < d; ++j)
            model.centroids_[c * d + j] = model.scaling_[j].inverse(centers[c * d + j]);
    model.finish();
    model.inertia_ = lloyd.inertia;
    model.iterations_ = lloyd.iterations;
    model.converged_ = lloyd.converged;
    model.seed_ = options.seed;
    model.sizes_ = std::move(lloyd.sizes);
    model.points_ = static_cast<std::int64_t>(n);
    if (labels != nullptr) {
        labels->resize(n);
        for (std::size_t i = 0; i < n; ++i) (*labels)[order[i]] = point_labels[i];
    }
    return model;
}

// ---------------------------------------------------------------- silhouette

std::optional<double> kmeans_silhouette(const KMeansBuilder &points, const KMeansModel &model,
                                        std::size_t sample_size, std::uint64_t seed, const Interrupt &interrupt) {
    if (sample_size < 2) throw_invalid("kmeans: \"sample_size\" must be at least 2");
    if (points.empty()) throw_invalid("kmeans: no input rows");
    const std::size_t n = points.size(), d = points.dim(), k = model.k();
    if (d != model.dim())
        throw_invalid("kmeans: \"features\" have " + std::to_string(d) + " values but the model has " +
                      std::to_string(model.dim()));
    const std::size_t m = std::min(sample_size, n);

    MemoryBudget work = points.budget();
    work.charge(m * (d + k) * sizeof(double) + m * sizeof(std::uint32_t), "kmeans silhouette sample");
    std::vector<double> sample(m * d), sums(m * k, 0.0);
    std::vector<std::uint32_t> label(m);
    std::vector<std::size_t> count(k, 0);

    // Selection sampling (Knuth's Algorithm S) over the canonical order:
    // m of n, the same sample whatever order the points arrived in.
    const std::vector<std::size_t> order = canonical_order(points.data(), n, d, work, interrupt);
    Random random(seed);
    std::size_t taken = 0;
    for (std::size_t i = 0; i < n && taken < m; ++i) {
        if (i % kPollBlock == 0) interrupt.check();
        if (random.below(n - i) >= m - taken) continue;
        double *z = sample.data() + taken * d;
        model.scale(points.point(order[i]), d, z);
        std::size_t best = 0;
        double best_sq = squared_distance(z, model.scaled_centroids().data(), d);
        for (std::size_t c = 1; c < k; ++c) {
            const double sq = squared_distance(z, model.scaled_centroids().data() + c * d, d);
            if (sq < best_sq) {
                best_sq = sq;
                best = c;
            }
        }
        label[taken] = static_cast<std::uint32_t>(best);
        ++count[best];
        ++taken;
    }
    if (std::count_if(count.begin(), count.end(), [](std::size_t c) { return c > 0; }) < 2) return std::nullopt;

    for (std::size_t i = 0; i < m; ++i) {
        interrupt.check();
        const double *p = sample.data() + i * d;
        double *row_i = sums.data() + i * k;
        const std::uint32_t li = label[i];
        for (std::size_t j = i + 1; j < m; ++j) {
            const double dist = std::sqrt(squared_distance(p, sample.data() + j * d, d));
            row_i[label[j]] += dist;
            sums[j * k + li] += dist;
        }
    }

    double total = 0.0;
    for (std::size_t i = 0; i < m; ++i) {
        const std::uint32_t own = label[i];
        if (count[own] <= 1) continue;  // alone in its cluster: 0
        const double *row = sums.data() + i * k;
        const double a = row[own] / static_cast<double>(count[own] - 1);
        double b = std::numeric_limits<double>::infinity();
        for (std::size_t c = 0; c < k; ++c)
            if (c != own && count[c] > 0) b = std::min(b, row[c] / static_cast<double>(count[c]));
        const double denom = std::max(a, b);
        if (denom > 0.0) total += (b - a) / denom;
    }
    // Points, centroids or scalings far beyond what a fit gives overflow the
    // distances into Infinity - Infinity.
    if (!std::isfinite(total))
        throw_invalid("kmeans_silhouette: \"model\" gives no finite distances for these points (its centroids or "
                      "scaling, or the points, overflow)",
                      "Use a model fitted by personalize.kmeans(...) on points like these.");
    return total / static_cast<double>(m);
}

}  // namespace personalize::kmeans
