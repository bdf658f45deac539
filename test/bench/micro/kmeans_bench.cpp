// k-means micro benchmarks: the 1,000,000 x 8, k = 8 fit that
// personalize.kmeans is compared on with scikit-learn
// (test/bench/kmeans_sklearn.py), plus point accumulation and silhouette.
//
// The data: 8 Gaussian blobs (std 1, and std 4 for overlapping blobs)
// around centres drawn uniformly from [-10, 10]^8, point i in blob i % 8,
// all from Random(2024): the same on every machine. To give
// scikit-learn the identical points (writes <prefix>_std1.csv, _std4.csv):
//
//   KMEANS_BENCH_CSV=/tmp/kmeans_blobs ./micro_bench --benchmark_filter=KMeans
//   OMP_NUM_THREADS=1 /usr/bin/python3 test/bench/kmeans_sklearn.py /tmp/kmeans_blobs_std4.csv
//
// Counters: inertia (scaled space; equal to scikit-learn's inertia_ for
// scaling none) and Lloyd iterations.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/kmeans/kmeans.hpp"
#include "core/common/random.hpp"

namespace {

using personalize::kmeans::KMeansBuilder;
using personalize::kmeans::KMeansModel;
using personalize::kmeans::KMeansOptions;
using personalize::kmeans::KMeansScaling;

constexpr std::size_t kPoints = 1000000;
constexpr std::size_t kDim = 8;
constexpr std::size_t kBlobs = 8;

// spread 1: well-separated blobs (Lloyd settles in 2-3 iterations);
// spread 4: overlapping blobs (tens of iterations), closer to real data.
std::vector<double> make_blobs(int spread) {
    personalize::Random random(2024);
    std::vector<double> centres(kBlobs * kDim);
    for (double &c : centres) c = -10.0 + 20.0 * random.uniform();
    std::vector<double> x(kPoints * kDim);
    for (std::size_t i = 0; i < kPoints; ++i)
        for (std::size_t j = 0; j < kDim; ++j)
            x[i * kDim + j] = centres[(i % kBlobs) * kDim + j] + spread * random.normal();
    if (const char *prefix = std::getenv("KMEANS_BENCH_CSV")) {
        const std::string path = std::string(prefix) + "_std" + std::to_string(spread) + ".csv";
        if (FILE *f = std::fopen(path.c_str(), "w")) {
            for (std::size_t i = 0; i < kPoints; ++i)
                for (std::size_t j = 0; j < kDim; ++j)
                    std::fprintf(f, j + 1 < kDim ? "%.17g," : "%.17g\n", x[i * kDim + j]);
            std::fclose(f);
            std::fprintf(stderr, "kmeans_bench: wrote %zu points to %s\n", kPoints, path.c_str());
        } else {
            std::fprintf(stderr, "kmeans_bench: cannot write %s\n", path.c_str());
        }
    }
    return x;
}

const std::vector<double> &blob_points(int spread) {
    static const std::vector<double> separated = make_blobs(1);
    static const std::vector<double> overlapping = make_blobs(4);
    return spread == 1 ? separated : overlapping;
}

const KMeansBuilder &blob_builder(int spread) {
    auto build = [](int s) {
        KMeansBuilder b;
        const std::vector<double> &x = blob_points(s);
        for (std::size_t i = 0; i < kPoints; ++i) b.add(x.data() + i * kDim, kDim);
        return b;
    };
    static const KMeansBuilder separated = build(1);
    static const KMeansBuilder overlapping = build(4);
    return spread == 1 ? separated : overlapping;
}

void BM_KMeansBuilderAdd(benchmark::State &state) {
    const std::vector<double> &x = blob_points(1);
    for (auto _ : state) {
        KMeansBuilder b;
        for (std::size_t i = 0; i < kPoints; ++i) b.add(x.data() + i * kDim, kDim);
        benchmark::DoNotOptimize(b.data());
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kPoints));
}
BENCHMARK(BM_KMeansBuilderAdd)->Unit(benchmark::kMillisecond);

// Args: blob spread (1 or 4), k, scaling (0 none, 1 zscore), seed.
void BM_KMeansFit(benchmark::State &state) {
    const KMeansBuilder &b = blob_builder(static_cast<int>(state.range(0)));
    KMeansOptions o;
    o.k = state.range(1);
    o.scaling = {state.range(2) == 0 ? KMeansScaling::None : KMeansScaling::ZScore};
    o.seed = static_cast<std::uint64_t>(state.range(3));
    double inertia = 0.0, iterations = 0.0;
    for (auto _ : state) {
        const KMeansModel m = personalize::kmeans::kmeans_fit(b, o, personalize::Interrupt());
        inertia = m.inertia();
        iterations = static_cast<double>(m.iterations());
    }
    state.counters["inertia"] = inertia;
    state.counters["iterations"] = iterations;
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kPoints));
}
BENCHMARK(BM_KMeansFit)
    ->ArgNames({"spread", "k", "zscore", "seed"})
    ->Args({1, 8, 0, 0})
    ->Args({1, 8, 0, 1})
    ->Args({1, 8, 0, 2})
    ->Args({1, 8, 1, 0})
    ->Args({4, 8, 0, 0})
    ->Args({4, 8, 0, 1})
    ->Args({4, 8, 0, 2})
    ->Args({4, 32, 0, 0})
    ->Unit(benchmark::kMillisecond);

void BM_KMeansSilhouette(benchmark::State &state) {
    const KMeansBuilder &b = blob_builder(1);
    KMeansOptions o;
    o.k = 8;
    const KMeansModel m = personalize::kmeans::kmeans_fit(b, o, personalize::Interrupt());
    double score = 0.0;
    for (auto _ : state)
        score = personalize::kmeans::kmeans_silhouette(b, m, static_cast<std::size_t>(state.range(0)), 1,
                                               personalize::Interrupt())
                    .value_or(0.0);
    state.counters["silhouette"] = score;
}
BENCHMARK(BM_KMeansSilhouette)->Arg(10000)->Unit(benchmark::kMillisecond);

}  // namespace
