// Same-start comparison for test/bench/kmeans.sh: writes the k-means++
// centres that personalize.kmeans(f, k, seed) starts from (scaling none), so
// scikit-learn can be started from exactly those centres
// (kmeans_sklearn.py --init FILE), and times this project's Lloyd/Hamerly
// iterations from them.
//
//   kmeans_same_start POINTS.csv K OUT_DIR SEED...
//
// For every seed prints one line
//   core seed S: fit T s (I iterations, inertia X); from the same start: lloyd T s (I iterations, inertia X)
// and writes OUT_DIR/init_S.csv (k lines of comma-separated values). The
// whole fit and the Lloyd run from the written centres must agree (same
// iterations and inertia): that checks that the file holds the fit's start.
//
//   kmeans_same_start POINTS.csv K --from FILE...
//
// runs the Lloyd/Hamerly iterations from other centres instead, e.g.
// scikit-learn's own k-means++ starts (kmeans_sklearn.py --plusplus-only
// DIR): one line "from FILE: lloyd T s (I iterations, inertia X)" each.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/kmeans/kmeans.hpp"
#include "core/kmeans/internal.hpp"
#include "core/common/random.hpp"

namespace {

using namespace personalize;
using namespace personalize::kmeans;
using namespace personalize::kmeans::detail;

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

bool read_points(const char *path, KMeansBuilder &builder) {
    FILE *f = std::fopen(path, "r");
    if (f == nullptr) return false;
    std::vector<double> row;
    char line[65536];
    while (std::fgets(line, sizeof line, f) != nullptr) {
        row.clear();
        char *p = line;
        while (*p != '\0' && *p != '\n') {
            char *end = nullptr;
            row.push_back(std::strtod(p, &end));
            if (end == p) break;
            p = *end == ',' ? end + 1 : end;
        }
        if (!row.empty()) builder.add(row.data(), row.size());
    }
    std::fclose(f);
    return true;
}

}  // namespace

int main(int argc, char **argv) {
    if (argc < 5) {
        std::fprintf(stderr, "usage: %s POINTS.csv K OUT_DIR SEED...\n       %s POINTS.csv K --from FILE...\n", argv[0],
                     argv[0]);
        return 2;
    }
    KMeansBuilder points;
    if (!read_points(argv[1], points) || points.empty()) {
        std::fprintf(stderr, "cannot read points from %s\n", argv[1]);
        return 1;
    }
    const std::size_t n = points.size(), d = points.dim(), k = std::strtoull(argv[2], nullptr, 10);
    const std::string out_dir = argv[3];
    const Interrupt interrupt;

    // kmeans_fit's steps before the seeding, for scaling none: the points in
    // canonical order, and the tolerance scaled by the mean variance.
    MemoryBudget budget;
    const std::vector<std::size_t> order = canonical_order(points.data(), n, d, budget, interrupt);
    const std::vector<KMeansScaling> kinds(d, KMeansScaling::None);
    std::vector<double> x(n * d);
    transform_points(points, order, kinds, x.data(), interrupt);
    const ScalingFit scaling = fit_scaling(x.data(), n, d, kinds, interrupt);

    const double tolerance = KMeansOptions().tolerance * scaling.mean_variance;
    std::vector<std::uint32_t> labels(n);
    std::vector<double> upper(n), lower(n), scratch(lloyd_scratch_size(k, d));
    const LloydWork work{labels.data(), upper.data(), lower.data(), scratch.data()};

    if (out_dir == "--from") {
        for (int a = 4; a < argc; ++a) {
            KMeansBuilder file;
            if (!read_points(argv[a], file) || file.size() != k || file.dim() != d) {
                std::fprintf(stderr, "%s: expected %zu centres of %zu values\n", argv[a], k, d);
                return 1;
            }
            std::vector<double> centers(file.data(), file.data() + k * d);
            const auto start = std::chrono::steady_clock::now();
            const LloydResult lloyd = lloyd_hamerly(x.data(), n, d, k, centers.data(), work, tolerance,
                                                    KMeansOptions().max_iterations, interrupt);
            std::printf("from %s: lloyd %.3f s (%lld iterations, inertia %.10g)\n", argv[a], seconds_since(start),
                        static_cast<long long>(lloyd.iterations), lloyd.inertia);
            std::fflush(stdout);
        }
        return 0;
    }

    int status = 0;
    for (int a = 4; a < argc; ++a) {
        KMeansOptions options;
        options.k = static_cast<std::int64_t>(k);
        options.seed = std::strtoull(argv[a], nullptr, 10);
        auto start = std::chrono::steady_clock::now();
        const KMeansModel fit = kmeans_fit(points, options, interrupt);
        const double fit_time = seconds_since(start);

        std::vector<double> centers(k * d), closest(n);
        Random random(options.seed);
        kmeans_plusplus(x.data(), n, d, k, random, centers.data(), closest.data(), interrupt);
        const std::string path = out_dir + "/init_" + argv[a] + ".csv";
        FILE *f = std::fopen(path.c_str(), "w");
        if (f == nullptr) {
            std::fprintf(stderr, "cannot write %s\n", path.c_str());
            return 1;
        }
        for (std::size_t c = 0; c < k; ++c)
            for (std::size_t j = 0; j < d; ++j) std::fprintf(f, j + 1 < d ? "%.17g," : "%.17g\n", centers[c * d + j]);
        std::fclose(f);

        start = std::chrono::steady_clock::now();
        const LloydResult lloyd =
            lloyd_hamerly(x.data(), n, d, k, centers.data(), work, tolerance, options.max_iterations, interrupt);
        const double lloyd_time = seconds_since(start);
        std::printf("core seed %s: fit %.3f s (%lld iterations, inertia %.10g); from the same start: lloyd %.3f s "
                    "(%lld iterations, inertia %.10g)\n",
                    argv[a], fit_time, static_cast<long long>(fit.iterations()), fit.inertia(), lloyd_time,
                    static_cast<long long>(lloyd.iterations), lloyd.inertia);
        std::fflush(stdout);
        if (lloyd.iterations != fit.iterations() || lloyd.inertia != fit.inertia()) {
            std::fprintf(stderr, "seed %s: the written start does not reproduce the fit\n", argv[a]);
            status = 1;
        }
    }
    return status;
}
