// k-means clustering of numeric feature vectors (the core of the aggregate
// personalize.kmeans(features float8[], k, ...) and of kmeans_assign()).
//
// Pipeline of kmeans_fit():
//   1. per-feature scaling: none | zscore | log1p_zscore (log1p, then z-score;
//      for skewed money columns). Z-scores use the population standard
//      deviation (ddof 0, like scikit-learn's StandardScaler); a constant
//      feature gets std 1 (it is only centred);
//   2. greedy k-means++ seeding as scikit-learn: 2 + floor(ln k) candidates
//      drawn per step with probability proportional to D(x)^2, the one that
//      lowers the potential most is kept; deterministic for a seed;
//   3. Lloyd iterations, accelerated with Hamerly's bounds (exact: the same
//      sequence of centroids as plain Lloyd), until the sum of squared
//      centroid shifts is <= tolerance * mean per-feature variance of the
//      scaled data (scikit-learn's rule), or the labels stop changing, or
//      max_iterations. A cluster left empty is re-seeded with the point
//      farthest from its centroid. When the loop stops on the tolerance the
//      labels are recomputed once against the final centroids (as
//      scikit-learn), so sizes and inertia describe the returned centroids.
//
// Distances, inertia and silhouette are all measured in the SCALED space the
// model was fitted in; centroids are reported in ORIGINAL units (the scaling
// inverted; for log1p_zscore that is expm1 of the scaled-space centroid, i.e.
// the back-transformed centroid, a geometric-mean-like value, not the
// arithmetic mean of the cluster's raw values).
//
// Everything is single-threaded and deterministic: the same points (in ANY
// order: they are first put in a canonical order, by a fixed hash of their
// values), options and seed give the same model on every machine, whether a
// parallel plan merged the workers' points or not.
// src/core: pure C++17, no PostgreSQL header.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/bytes.hpp"
#include "core/common/interrupt.hpp"
#include "core/common/memory_budget.hpp"

namespace personalize::kmeans {

enum class KMeansScaling { None, ZScore, Log1pZScore };

// "none", "zscore", "log1p_zscore".
const char *kmeans_scaling_name(KMeansScaling kind);
// The inverse of kmeans_scaling_name (case-sensitive); InvalidParameter
// naming the argument "scaling" otherwise.
KMeansScaling parse_kmeans_scaling(std::string_view name);

struct KMeansOptions {
    std::int64_t k = 0;                 // >= 1 and <= the number of distinct (scaled) points
    std::uint64_t seed = 0;             // seeding is deterministic for a seed
    std::int64_t max_iterations = 300;  // >= 1
    double tolerance = 1e-4;            // >= 0, relative to the mean per-feature variance (scikit-learn's tol)
    // Empty or one entry: that kind (none when empty) for every feature;
    // otherwise exactly one entry per feature.
    std::vector<KMeansScaling> scaling;

    // The checks that do not depend on the data (InvalidParameter naming the
    // argument). kmeans_fit() calls it too.
    void validate() const;
};

// Accumulates the input points (all of them, no sampling), row-major in one
// contiguous buffer whose capacity is charged to the builder's own budget.
class KMeansBuilder {
public:
    explicit KMeansBuilder(MemoryBudget budget = MemoryBudget()) : budget_(std::move(budget)) {}
    KMeansBuilder(KMeansBuilder &&) = default;
    KMeansBuilder &operator=(KMeansBuilder &&) = default;
    KMeansBuilder(const KMeansBuilder &) = delete;  // merge() copies points, with their charge
    KMeansBuilder &operator=(const KMeansBuilder &) = delete;

    // One point. Every point must have the same length, >= 1, and finite
    // values (InvalidParameter naming "features").
    void add(const double *x, std::size_t dim);
    // Appends another builder's points (another parallel worker's).
    void merge(const KMeansBuilder &other);

    std::size_t size() const { return dim_ == 0 ? 0 : data_.size() / dim_; }  // points
    std::size_t dim() const { return dim_; }                                  // 0 until the first point
    bool empty() const { return data_.empty(); }
    const double *data() const { return data_.data(); }  // size() x dim(), row-major
    const double *point(std::size_t i) const { return data_.data() + i * dim_; }
    // The builder's budget (points charged so far). fit and silhouette charge
    // their working memory to a copy of it, so the limit covers both.
    const MemoryBudget &budget() const { return budget_; }

    // The byte form (core/common/bytes.hpp), part of the kmeans() state.
    // read() checks everything and throws DataCorrupted on bad bytes.
    void write(ByteWriter &out) const;
    static KMeansBuilder read(ByteReader &in, MemoryBudget budget);

private:
    void reserve_values(std::size_t needed);  // capacity for `needed` doubles, charged first
    void set_dim(std::size_t dim);

    MemoryBudget budget_;  // data_.capacity() doubles are charged to it
    std::size_t dim_ = 0;
    std::vector<double> data_;
};

// How one feature is scaled: z = (t(x) - mean) / std with t = identity or
// log1p. For kind None, mean = 0 and std = 1.
struct KMeansFeatureScaling {
    KMeansScaling kind = KMeansScaling::None;
    double mean = 0.0;
    double std = 1.0;

    // Original units -> scaled space. x must be finite (and > -1 for log1p).
    double forward(double x) const;
    // Scaled space -> original units (expm1 for log1p).
    double inverse(double z) const;
};

class KMeansModel;

// Fits k-means to the builder's points (left unchanged). Working memory
// (scaled copy of the points, labels, bounds) is charged to a copy of the
// builder's budget: OutOfMemory over the limit. Errors: "kmeans: no input
// rows", the KMeansOptions checks, "kmeans: \"k\" (9) exceeds the number of
// distinct points (5)" (distinct after scaling), log1p domain. Polls
// `interrupt` (Canceled). If `labels` is given it receives each point's
// cluster, in the builder's order (consistent with sizes()).
KMeansModel kmeans_fit(const KMeansBuilder &points, const KMeansOptions &options, const Interrupt &interrupt,
                       std::vector<std::uint32_t> *labels = nullptr);

struct KMeansAssignment {
    std::size_t cluster;  // 0-based index into the model's centroids
    double distance;      // Euclidean distance to that centroid, in the model's scaled space
};

class KMeansModel {
public:
    KMeansModel() = default;

    std::size_t k() const { return k_; }
    std::size_t dim() const { return dim_; }
    // k x dim, row-major, in original units (see the file comment for log1p).
    const std::vector<double> &centroids() const { return centroids_; }
    const double *centroid(std::size_t j) const { return centroids_.data() + j * dim_; }
    // The same centroids in the scaled space (forward of centroids(); this is
    // what assign() measures against, recomputed the same way after
    // from_json, so a model read back assigns exactly like the original).
    const std::vector<double> &scaled_centroids() const { return scaled_centroids_; }
    const std::vector<KMeansFeatureScaling> &scaling() const { return scaling_; }
    // Sum of squared distances of the points to their centroid, in the SCALED
    // space where it was minimised (scikit-learn's inertia_ when scaling is none).
    double inertia() const { return inertia_; }
    std::int64_t iterations() const { return iterations_; }  // Lloyd iterations run
    bool converged() const { return converged_; }  // stopped on tolerance / stable labels, not max_iterations
    std::uint64_t seed() const { return seed_; }
    const std::vector<std::int64_t> &sizes() const { return sizes_; }  // points per cluster
    std::int64_t points() const { return points_; }                    // points fitted

    // Nearest centroid of x (x has dim() values, finite, > -1 for
    // log1p_zscore features); ties go to the lower index.
    KMeansAssignment assign(const double *x, std::size_t dim) const;
    // x in original units -> scaled space (same checks as assign).
    void scale(const double *x, std::size_t dim, double *out) const;

    // Compact JSON, numbers at 17 significant digits, integers exact:
    // {"model":"kmeans","k":..,"dim":..,"centroids":[[..],..],
    //  "scaling":[{"kind":"zscore","mean":..,"std":..},..],"inertia":..,
    //  "iterations":..,"converged":true,"seed":..,"sizes":[..],"points":..}
    std::string to_json() const;
    // Reads that shape back. Required: "model" = "kmeans" and "centroids";
    // "k" and "dim" must match the centroids when present; "scaling" defaults
    // to none; the other keys are optional; unknown keys are ignored.
    // Syntax errors: InvalidText; a wrong shape: InvalidParameter
    // ("kmeans: model is not a kmeans model", "kmeans: model is missing \"centroids\"", ...).
    static KMeansModel from_json(std::string_view text);

private:
    // Checks the scaling and centroids and computes scaled_centroids_.
    void finish();

    std::size_t k_ = 0;
    std::size_t dim_ = 0;
    std::vector<double> centroids_;
    std::vector<double> scaled_centroids_;
    std::vector<KMeansFeatureScaling> scaling_;
    double inertia_ = 0.0;
    std::int64_t iterations_ = 0;
    bool converged_ = true;
    std::uint64_t seed_ = 0;
    std::vector<std::int64_t> sizes_;
    std::int64_t points_ = 0;

    friend KMeansModel kmeans_fit(const KMeansBuilder &, const KMeansOptions &, const Interrupt &,
                                  std::vector<std::uint32_t> *);
};

// The same as model.assign(x, dim).
inline KMeansAssignment kmeans_assign(const KMeansModel &model, const double *x, std::size_t dim) {
    return model.assign(x, dim);
}

// Mean silhouette coefficient of the model's clustering on a deterministic
// random sample (without replacement, from `seed`, independent of the input
// order) of min(sample_size, n) points: O(sample^2 * dim). Labels are the nearest centroids, distances
// Euclidean in the model's scaled space; a point alone in its cluster within
// the sample scores 0 (scikit-learn's convention). nullopt when the sample
// holds fewer than 2 clusters. sample_size must be >= 2.
std::optional<double> kmeans_silhouette(const KMeansBuilder &points, const KMeansModel &model,
                                        std::size_t sample_size, std::uint64_t seed, const Interrupt &interrupt);

}  // namespace personalize::kmeans
