#include "core/kmeans/kmeans.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "core/common/error.hpp"
#include "core/kmeans/internal.hpp"
#include "core/kmeans/state.hpp"
#include "core/common/random.hpp"
#include "../common/bytes_test_util.hpp"

namespace personalize::kmeans {
namespace {

using Point = std::vector<double>;

// Gaussian blobs: `sizes[b]` points around `centers[b]` with standard
// deviation `spread`, blob after blob.
std::vector<Point> blobs(const std::vector<Point> &centers, const std::vector<int> &sizes, double spread,
                         std::uint64_t seed) {
    Random random(seed);
    std::vector<Point> points;
    for (std::size_t b = 0; b < centers.size(); ++b)
        for (int i = 0; i < sizes[b]; ++i) {
            Point p = centers[b];
            for (double &v : p) v += spread * random.normal();
            points.push_back(p);
        }
    return points;
}

KMeansBuilder build(const std::vector<Point> &points, MemoryBudget budget = MemoryBudget()) {
    KMeansBuilder b(std::move(budget));
    for (const Point &p : points) b.add(p.data(), p.size());
    return b;
}

KMeansOptions options(std::int64_t k, std::uint64_t seed = 42, std::vector<KMeansScaling> scaling = {}) {
    KMeansOptions o;
    o.k = k;
    o.seed = seed;
    o.scaling = std::move(scaling);
    return o;
}

template <typename F>
void expect_error(F &&f, ErrorCode code, const std::string &message) {
    try {
        f();
        ADD_FAILURE() << "no error, expected: " << message;
    } catch (const Error &e) {
        EXPECT_EQ(e.code(), code) << e.what();
        EXPECT_EQ(std::string(e.what()), message);
    }
}

template <typename F>
void expect_code(F &&f, ErrorCode code) {
    try {
        f();
        ADD_FAILURE() << "no error";
    } catch (const Error &e) {
        EXPECT_EQ(e.code(), code) << e.what();
    }
}

const std::vector<Point> kThreeCenters = {{0.0, 0.0}, {10.0, 10.0}, {20.0, 0.0}};
const std::vector<int> kThreeSizes = {50, 80, 120};

TEST(KMeans, RecoversSeparatedBlobs) {
    const auto points = blobs(kThreeCenters, kThreeSizes, 0.5, 7);
    const KMeansBuilder b = build(points);
    std::vector<std::uint32_t> labels;
    const KMeansModel m = kmeans_fit(b, options(3), Interrupt(), &labels);
    ASSERT_EQ(m.k(), 3u);
    ASSERT_EQ(m.dim(), 2u);
    EXPECT_TRUE(m.converged());
    EXPECT_EQ(m.points(), 250);
    std::vector<std::int64_t> sizes = m.sizes();
    std::sort(sizes.begin(), sizes.end());
    EXPECT_EQ(sizes, (std::vector<std::int64_t>{50, 80, 120}));
    // Every blob is exactly one cluster, and its centroid is near the blob centre.
    std::size_t start = 0;
    for (std::size_t blob = 0; blob < 3; ++blob) {
        const std::uint32_t label = labels[start];
        for (int i = 0; i < kThreeSizes[blob]; ++i) EXPECT_EQ(labels[start + i], label);
        EXPECT_NEAR(m.centroid(label)[0], kThreeCenters[blob][0], 0.3);
        EXPECT_NEAR(m.centroid(label)[1], kThreeCenters[blob][1], 0.3);
        start += static_cast<std::size_t>(kThreeSizes[blob]);
    }
    // Inertia is the sum of squared distances to the centroids.
    double inertia = 0.0;
    for (std::size_t i = 0; i < points.size(); ++i) {
        const double dx = points[i][0] - m.centroid(labels[i])[0], dy = points[i][1] - m.centroid(labels[i])[1];
        inertia += dx * dx + dy * dy;
    }
    EXPECT_NEAR(m.inertia(), inertia, 1e-9 * inertia);
}

TEST(KMeans, DeterministicForASeed) {
    Random random(3);
    std::vector<Point> points(400);
    for (Point &p : points) p = {random.uniform(), random.uniform(), random.uniform()};
    const KMeansBuilder b = build(points);
    const std::string first = kmeans_fit(b, options(6, 1), Interrupt()).to_json();
    EXPECT_EQ(kmeans_fit(b, options(6, 1), Interrupt()).to_json(), first);
    // Uniform noise has many local optima: some other seed lands elsewhere.
    bool any_different = false;
    for (std::uint64_t seed = 2; seed < 12 && !any_different; ++seed) {
        const KMeansModel other = kmeans_fit(b, options(6, seed), Interrupt());
        EXPECT_EQ(other.seed(), seed);
        any_different = other.centroids() != kmeans_fit(b, options(6, 1), Interrupt()).centroids();
    }
    EXPECT_TRUE(any_different);
}

TEST(KMeans, InputOrderDoesNotMatter) {
    auto points = blobs({{0, 0, 0}, {2, 2, 2}, {0, 3, 1}}, {150, 150, 200}, 1.0, 13);
    for (int i = 0; i < 40; ++i) points.push_back(points[static_cast<std::size_t>(i) * 7]);  // duplicates
    std::vector<std::size_t> perm(points.size());
    for (std::size_t i = 0; i < perm.size(); ++i) perm[i] = i;
    Random random(99);
    for (std::size_t i = perm.size(); i-- > 1;) std::swap(perm[i], perm[random.below(i + 1)]);
    std::vector<Point> shuffled;
    for (const std::size_t i : perm) shuffled.push_back(points[i]);
    const KMeansBuilder a = build(points), b = build(shuffled);
    for (const auto &scaling : std::vector<std::vector<KMeansScaling>>{{}, {KMeansScaling::ZScore}}) {
        std::vector<std::uint32_t> la, lb;
        const KMeansModel ma = kmeans_fit(a, options(4, 3, scaling), Interrupt(), &la);
        const KMeansModel mb = kmeans_fit(b, options(4, 3, scaling), Interrupt(), &lb);
        EXPECT_EQ(ma.to_json(), mb.to_json());
        for (std::size_t i = 0; i < perm.size(); ++i) EXPECT_EQ(lb[i], la[perm[i]]);
        EXPECT_EQ(kmeans_silhouette(a, ma, 100, 7, Interrupt()), kmeans_silhouette(b, mb, 100, 7, Interrupt()));
    }
}

TEST(KMeans, OneClusterIsTheMean) {
    const auto points = blobs({{1.0, -2.0, 300.0}}, {97}, 3.0, 11);
    const KMeansModel m = kmeans_fit(build(points), options(1), Interrupt());
    double mean[3] = {0, 0, 0};
    for (const Point &p : points)
        for (int j = 0; j < 3; ++j) mean[j] += p[j] / 97.0;
    double inertia = 0.0;
    for (const Point &p : points)
        for (int j = 0; j < 3; ++j) inertia += (p[j] - mean[j]) * (p[j] - mean[j]);
    for (int j = 0; j < 3; ++j) EXPECT_NEAR(m.centroid(0)[j], mean[j], 1e-12 * (1 + std::abs(mean[j])));
    EXPECT_NEAR(m.inertia(), inertia, 1e-9 * inertia);
    EXPECT_EQ(m.sizes(), std::vector<std::int64_t>{97});
    EXPECT_TRUE(m.converged());
}

TEST(KMeans, KEqualsDistinctPoints) {
    const std::vector<Point> points = {{0, 0}, {1, 0}, {0, 1}, {5, 5}, {-3, 2}, {2, -7}};
    const KMeansModel m = kmeans_fit(build(points), options(6), Interrupt());
    EXPECT_EQ(m.inertia(), 0.0);
    EXPECT_EQ(m.sizes(), std::vector<std::int64_t>(6, 1));
    std::vector<Point> centroids;
    for (std::size_t c = 0; c < 6; ++c) centroids.push_back({m.centroid(c)[0], m.centroid(c)[1]});
    std::sort(centroids.begin(), centroids.end());
    std::vector<Point> expected = points;
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(centroids, expected);
}

TEST(KMeans, DuplicatePoints) {
    std::vector<Point> points;
    for (int copy = 0; copy < 3; ++copy)
        for (const Point &p : std::vector<Point>{{0, 0}, {4, 0}, {0, 4}, {4, 4}}) points.push_back(p);
    points.push_back({-0.0, 0.0});  // equal to (0, 0)
    const KMeansBuilder b = build(points);
    const KMeansModel m = kmeans_fit(b, options(4), Interrupt());
    EXPECT_EQ(m.inertia(), 0.0);
    std::vector<std::int64_t> sizes = m.sizes();
    std::sort(sizes.begin(), sizes.end());
    EXPECT_EQ(sizes, (std::vector<std::int64_t>{3, 3, 3, 4}));
    expect_error([&] { kmeans_fit(b, options(5), Interrupt()); }, ErrorCode::InvalidParameter,
                 "kmeans: \"k\" (5) exceeds the number of distinct points (4)");
    // Many copies of two points, k = 2: fine; k = 3: not.
    KMeansBuilder two;
    for (int i = 0; i < 5000; ++i) {
        const double p[2] = {static_cast<double>(i % 2), 1.0};
        two.add(p, 2);
    }
    EXPECT_EQ(kmeans_fit(two, options(2), Interrupt()).sizes(), (std::vector<std::int64_t>{2500, 2500}));
    expect_error([&] { kmeans_fit(two, options(3), Interrupt()); }, ErrorCode::InvalidParameter,
                 "kmeans: \"k\" (3) exceeds the number of distinct points (2)");
}

TEST(KMeans, InputErrors) {
    KMeansBuilder b;
    const double eight[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    b.add(eight, 8);
    expect_error([&] { b.add(eight, 7); }, ErrorCode::InvalidParameter,
                 "kmeans: \"features\" must all have the same length (expected 8, got 7)");
    double bad[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    bad[3] = std::numeric_limits<double>::quiet_NaN();
    expect_error([&] { b.add(bad, 8); }, ErrorCode::InvalidParameter, "kmeans: \"features\" must be finite numbers");
    bad[3] = -std::numeric_limits<double>::infinity();
    expect_error([&] { b.add(bad, 8); }, ErrorCode::InvalidParameter, "kmeans: \"features\" must be finite numbers");
    expect_error([&] { b.add(eight, 0); }, ErrorCode::InvalidParameter, "kmeans: \"features\" must not be empty");
    EXPECT_EQ(b.size(), 1u);  // the bad rows were not added

    KMeansBuilder other;
    other.add(eight, 7);
    expect_error([&] { b.merge(other); }, ErrorCode::InvalidParameter,
                 "kmeans: \"features\" must all have the same length (expected 8, got 7)");

    expect_error([&] { kmeans_fit(KMeansBuilder(), options(2), Interrupt()); }, ErrorCode::InvalidParameter,
                 "kmeans: no input rows");
}

TEST(KMeans, OptionErrors) {
    std::vector<Point> points;
    for (int i = 0; i < 5; ++i) points.push_back({static_cast<double>(i), 1.0});
    const KMeansBuilder b = build(points);
    auto fit = [&](KMeansOptions o) { return kmeans_fit(b, o, Interrupt()); };
    expect_error([&] { fit(options(0)); }, ErrorCode::InvalidParameter, "kmeans: \"k\" must be at least 1");
    expect_error([&] { fit(options(-3)); }, ErrorCode::InvalidParameter, "kmeans: \"k\" must be at least 1");
    expect_error([&] { fit(options(9)); }, ErrorCode::InvalidParameter,
                 "kmeans: \"k\" (9) exceeds the number of distinct points (5)");
    KMeansOptions o = options(2);
    o.max_iterations = 0;
    expect_error([&] { fit(o); }, ErrorCode::InvalidParameter, "kmeans: \"max_iterations\" must be at least 1");
    o = options(2);
    o.tolerance = -1;
    expect_error([&] { fit(o); }, ErrorCode::InvalidParameter, "kmeans: \"tolerance\" must be a finite number >= 0");
    o.tolerance = std::numeric_limits<double>::quiet_NaN();
    expect_error([&] { fit(o); }, ErrorCode::InvalidParameter, "kmeans: \"tolerance\" must be a finite number >= 0");
    o = options(2, 1, {KMeansScaling::ZScore, KMeansScaling::None, KMeansScaling::None});
    expect_error([&] { fit(o); }, ErrorCode::InvalidParameter,
                 "kmeans: \"scaling\" must have one entry or one per feature (2), not 3");
    expect_error([&] { parse_kmeans_scaling("log"); }, ErrorCode::InvalidParameter,
                 "kmeans: \"scaling\" must be none, zscore or log1p_zscore, not \"log\"");
    EXPECT_EQ(parse_kmeans_scaling("log1p_zscore"), KMeansScaling::Log1pZScore);
    EXPECT_STREQ(kmeans_scaling_name(KMeansScaling::ZScore), "zscore");

    const KMeansBuilder negative = build({{1.0, 0.5}, {2.0, -1.0}, {3.0, 2.0}});
    expect_error([&] { kmeans_fit(negative, options(2, 1, {KMeansScaling::Log1pZScore}), Interrupt()); },
                 ErrorCode::InvalidParameter, "kmeans: log1p_zscore scaling needs values > -1, but feature 2 has -1");
    // Only the log1p feature is checked.
    EXPECT_NO_THROW(kmeans_fit(negative, options(2, 1, {KMeansScaling::Log1pZScore, KMeansScaling::ZScore}),
                               Interrupt()));
}

// Features on very different scales.
std::vector<Point> mixed_scale_points() {
    auto points = blobs({{0.0, 1000.0}, {1.0, 1000.0}, {0.5, 5000.0}}, {60, 70, 80}, 0.05, 5);
    Random random(6);
    for (Point &p : points) p[1] += 50.0 * random.normal();
    return points;
}

TEST(KMeans, ZScoreCentroidsAreClusterMeansInOriginalUnits) {
    const auto points = mixed_scale_points();
    const KMeansBuilder b = build(points);
    std::vector<std::uint32_t> labels;
    const KMeansModel m = kmeans_fit(b, options(3, 9, {KMeansScaling::ZScore}), Interrupt(), &labels);
    ASSERT_TRUE(m.converged());
    // Scaling statistics: population mean and std of each feature.
    for (int j = 0; j < 2; ++j) {
        double mean = 0.0, ss = 0.0;
        for (const Point &p : points) mean += p[j];
        mean /= static_cast<double>(points.size());
        for (const Point &p : points) ss += (p[j] - mean) * (p[j] - mean);
        EXPECT_EQ(m.scaling()[j].kind, KMeansScaling::ZScore);
        EXPECT_NEAR(m.scaling()[j].mean, mean, 1e-12 * std::abs(mean) + 1e-12);
        EXPECT_NEAR(m.scaling()[j].std, std::sqrt(ss / static_cast<double>(points.size())), 1e-9);
    }
    std::vector<std::int64_t> sizes = m.sizes();
    std::sort(sizes.begin(), sizes.end());
    EXPECT_EQ(sizes, (std::vector<std::int64_t>{60, 70, 80}));
    for (std::size_t c = 0; c < 3; ++c) {
        double mean[2] = {0, 0};
        int count = 0;
        for (std::size_t i = 0; i < points.size(); ++i)
            if (labels[i] == c) {
                mean[0] += points[i][0];
                mean[1] += points[i][1];
                ++count;
            }
        ASSERT_GT(count, 0);
        EXPECT_NEAR(m.centroid(c)[0], mean[0] / count, 1e-9);
        EXPECT_NEAR(m.centroid(c)[1], mean[1] / count, 1e-9);
    }
}

TEST(KMeans, Log1pCentroidsAreBackTransformed) {
    // Skewed "money" values in two groups.
    Random random(17);
    std::vector<Point> points;
    for (int i = 0; i < 300; ++i) {
        const double base = i < 150 ? 20.0 : 2000.0;
        points.push_back({base * std::exp(0.1 * random.normal()), static_cast<double>(i % 3)});
    }
    const KMeansBuilder b = build(points);
    std::vector<std::uint32_t> labels;
    const KMeansModel m =
        kmeans_fit(b, options(2, 4, {KMeansScaling::Log1pZScore, KMeansScaling::None}), Interrupt(), &labels);
    EXPECT_EQ(m.scaling()[0].kind, KMeansScaling::Log1pZScore);
    EXPECT_EQ(m.scaling()[1].kind, KMeansScaling::None);
    for (std::size_t c = 0; c < 2; ++c) {
        double log_mean = 0.0;
        int count = 0;
        for (std::size_t i = 0; i < points.size(); ++i)
            if (labels[i] == c) {
                log_mean += std::log1p(points[i][0]);
                ++count;
            }
        EXPECT_EQ(count, 150);
        EXPECT_NEAR(m.centroid(c)[0], std::expm1(log_mean / count), 1e-9 * m.centroid(c)[0]);
    }
    // A value <= -1 cannot be assigned either.
    const double bad[2] = {-1.0, 0.0};
    expect_code([&] { m.assign(bad, 2); }, ErrorCode::InvalidParameter);
}

TEST(KMeans, AssignAgreesWithTrainingLabels) {
    auto points = blobs({{0, 0, 0}, {3, 3, 3}, {0, 4, 1}, {5, 0, 2}}, {100, 150, 200, 250}, 1.2, 21);
    for (Point &p : points) p[2] = std::abs(p[2]) * 10.0;  // a non-negative, wider feature
    const KMeansBuilder b = build(points);
    for (const auto &scaling : std::vector<std::vector<KMeansScaling>>{
             {KMeansScaling::None},
             {KMeansScaling::ZScore},
             {KMeansScaling::ZScore, KMeansScaling::None, KMeansScaling::Log1pZScore}}) {
        std::vector<std::uint32_t> labels;
        const KMeansModel m = kmeans_fit(b, options(4, 8, scaling), Interrupt(), &labels);
        std::vector<std::int64_t> counted(4, 0);
        double inertia = 0.0;
        for (std::size_t i = 0; i < points.size(); ++i) {
            const KMeansAssignment a = kmeans_assign(m, points[i].data(), 3);
            EXPECT_EQ(a.cluster, labels[i]);
            ++counted[labels[i]];
            inertia += a.distance * a.distance;
            // The distance is measured in the scaled space.
            double z[3];
            m.scale(points[i].data(), 3, z);
            const double *c = m.scaled_centroids().data() + 3 * a.cluster;
            EXPECT_NEAR(a.distance, std::sqrt((z[0] - c[0]) * (z[0] - c[0]) + (z[1] - c[1]) * (z[1] - c[1]) +
                                              (z[2] - c[2]) * (z[2] - c[2])),
                        1e-12);
        }
        EXPECT_EQ(counted, m.sizes());
        EXPECT_NEAR(inertia, m.inertia(), 1e-9 * m.inertia());
    }
    const KMeansModel m = kmeans_fit(b, options(4), Interrupt());
    const double short_point[2] = {1, 2};
    expect_error([&] { m.assign(short_point, 2); }, ErrorCode::InvalidParameter,
                 "kmeans: \"features\" has 2 values but the model has 3");
    const double nan_point[3] = {1, std::numeric_limits<double>::quiet_NaN(), 2};
    expect_error([&] { m.assign(nan_point, 3); }, ErrorCode::InvalidParameter,
                 "kmeans: \"features\" must be finite numbers");
}

TEST(KMeans, SilhouetteOfSeparatedBlobs) {
    const auto points = blobs(kThreeCenters, kThreeSizes, 0.5, 7);
    const KMeansBuilder b = build(points);
    const KMeansModel m = kmeans_fit(b, options(3), Interrupt());
    const auto s = kmeans_silhouette(b, m, 1000, 1, Interrupt());
    ASSERT_TRUE(s.has_value());
    EXPECT_GT(*s, 0.8);
    EXPECT_LE(*s, 1.0);
    // Sampled: deterministic for a seed, close to the full value.
    const auto s1 = kmeans_silhouette(b, m, 100, 5, Interrupt());
    ASSERT_TRUE(s1.has_value());
    EXPECT_EQ(*s1, *kmeans_silhouette(b, m, 100, 5, Interrupt()));
    EXPECT_NEAR(*s1, *s, 0.05);
    // One cluster: undefined.
    EXPECT_FALSE(kmeans_silhouette(b, kmeans_fit(b, options(1), Interrupt()), 100, 1, Interrupt()).has_value());
    expect_error([&] { kmeans_silhouette(b, m, 1, 1, Interrupt()); }, ErrorCode::InvalidParameter,
                 "kmeans: \"sample_size\" must be at least 2");
    // Random noise clustered anyway scores far lower.
    Random random(2);
    std::vector<Point> noise(300);
    for (Point &p : noise) p = {random.uniform(), random.uniform()};
    const KMeansBuilder nb = build(noise);
    EXPECT_LT(*kmeans_silhouette(nb, kmeans_fit(nb, options(3), Interrupt()), 300, 1, Interrupt()), 0.6);
}

TEST(KMeans, JsonRoundTrip) {
    auto points = blobs({{0, 0}, {3, 30}}, {40, 60}, 0.3, 4);
    const KMeansBuilder b = build(points);
    const std::uint64_t big_seed = std::numeric_limits<std::uint64_t>::max();
    const KMeansModel m =
        kmeans_fit(b, options(2, big_seed, {KMeansScaling::ZScore, KMeansScaling::Log1pZScore}), Interrupt());
    const std::string json = m.to_json();
    EXPECT_EQ(json.rfind("{\"model\":\"kmeans\",\"k\":2,\"dim\":2,\"centroids\":[[", 0), 0u) << json;
    EXPECT_NE(json.find("\"seed\":18446744073709551615"), std::string::npos) << json;
    EXPECT_NE(json.find("{\"kind\":\"log1p_zscore\",\"mean\":"), std::string::npos) << json;
    const KMeansModel back = KMeansModel::from_json(json);
    EXPECT_EQ(back.to_json(), json);
    EXPECT_EQ(back.centroids(), m.centroids());
    EXPECT_EQ(back.scaled_centroids(), m.scaled_centroids());
    EXPECT_EQ(back.seed(), big_seed);
    EXPECT_EQ(back.sizes(), m.sizes());
    EXPECT_EQ(back.inertia(), m.inertia());
    EXPECT_EQ(back.iterations(), m.iterations());
    for (const Point &p : points) {
        const KMeansAssignment a = m.assign(p.data(), 2), c = back.assign(p.data(), 2);
        EXPECT_EQ(a.cluster, c.cluster);
        EXPECT_EQ(a.distance, c.distance);
    }
    // A hand-written minimal model: centroids only (no scaling).
    const KMeansModel hand = KMeansModel::from_json(" { \"model\" : \"kmeans\", \"centroids\": [[0, 0], [10, 1e1]] } ");
    EXPECT_EQ(hand.k(), 2u);
    EXPECT_EQ(hand.dim(), 2u);
    const double p[2] = {9, 9};
    EXPECT_EQ(hand.assign(p, 2).cluster, 1u);
    EXPECT_DOUBLE_EQ(hand.assign(p, 2).distance, std::sqrt(2.0));
}

TEST(KMeans, BadJson) {
    auto invalid = [](const std::string &text, const std::string &message) {
        expect_error([&] { KMeansModel::from_json(text); }, ErrorCode::InvalidParameter, message);
    };
    invalid("{\"model\":\"bgnbd\",\"params\":{}}", "kmeans: model is not a kmeans model");
    invalid("{\"centroids\":[[1]]}", "kmeans: model is not a kmeans model");
    invalid("[1,2]", "kmeans: model is not a kmeans model");
    invalid("{\"model\":\"kmeans\",\"k\":2}", "kmeans: model is missing \"centroids\"");
    invalid("{\"model\":\"kmeans\",\"centroids\":[[1,2],[3]]}", "kmeans: model key \"centroids\" must have rows of equal length");
    invalid("{\"model\":\"kmeans\",\"centroids\":[]}",
            "kmeans: model key \"centroids\" must be a non-empty array of arrays of numbers");
    invalid("{\"model\":\"kmeans\",\"centroids\":[[1,\"a\"]]}", "kmeans: model key \"centroids\" must hold numbers");
    invalid("{\"model\":\"kmeans\",\"k\":3,\"centroids\":[[1,2],[3,4]]}",
            "kmeans: model key \"k\" (3) does not match the 2 centroids");
    invalid("{\"model\":\"kmeans\",\"dim\":3,\"centroids\":[[1,2],[3,4]]}",
            "kmeans: model key \"dim\" (3) does not match the centroids' length 2");
    invalid("{\"model\":\"kmeans\",\"k\":-1,\"centroids\":[[1,2],[3,4]]}",
            "kmeans: model key \"k\" must be a whole number >= 0");
    invalid("{\"model\":\"kmeans\",\"centroids\":[[1,2]],\"scaling\":[{\"kind\":\"zscore\",\"mean\":0,\"std\":1}]}",
            "kmeans: model key \"scaling\" must be an array of 2 objects");
    invalid("{\"model\":\"kmeans\",\"centroids\":[[1]],\"scaling\":[{\"kind\":\"zscore\",\"mean\":0,\"std\":0}]}",
            "kmeans: model scaling of feature 1 needs a \"std\" > 0");
    invalid("{\"model\":\"kmeans\",\"centroids\":[[1]],\"scaling\":[{\"kind\":\"cube\"}]}",
            "kmeans: model scaling of feature 1 has an unknown kind \"cube\"");
    invalid("{\"model\":\"kmeans\",\"centroids\":[[-1]],\"scaling\":[{\"kind\":\"log1p_zscore\",\"mean\":0,\"std\":1}]}",
            "kmeans: model centroid 1 is not a finite point in the model's scaling");
    invalid("{\"model\":\"kmeans\",\"centroids\":[[1],[2]],\"sizes\":[1]}",
            "kmeans: model key \"sizes\" must be an array of 2 whole numbers");
    invalid("{\"model\":\"kmeans\",\"centroids\":[[1],[2]],\"sizes\":[1,2],\"points\":4}",
            "kmeans: model key \"points\" must equal the sum of \"sizes\"");
    invalid("{\"model\":\"kmeans\",\"centroids\":[[1]],\"converged\":1}",
            "kmeans: model key \"converged\" must be true or false");
    for (const char *text : {"", "{", "{\"model\":\"kmeans\",}", "{\"model\":\"kmeans\"} x", "{\"a\":1,\"a\":2}",
                             "{\"model\":\"kmeans\",\"centroids\":[[1e999]]}", "[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]"})
        expect_code([&] { KMeansModel::from_json(text); }, ErrorCode::InvalidText);
}

KMeansBuilder read_points(const unsigned char *data, std::size_t size, MemoryBudget budget) {
    return read_whole(data, size, "kmeans", [&](ByteReader &in) { return KMeansBuilder::read(in, budget); });
}

TEST(KMeans, SerializationRoundTrip) {
    const auto points = blobs(kThreeCenters, kThreeSizes, 0.5, 3);
    const KMeansBuilder b = build(points);
    auto bytes = to_bytes(b);
    const KMeansBuilder back = read_points(bytes.data(), bytes.size(), MemoryBudget());
    ASSERT_EQ(back.size(), b.size());
    ASSERT_EQ(back.dim(), 2u);
    EXPECT_EQ(std::memcmp(back.data(), b.data(), b.size() * 2 * sizeof(double)), 0);
    EXPECT_EQ(kmeans_fit(back, options(3), Interrupt()).to_json(), kmeans_fit(b, options(3), Interrupt()).to_json());

    testing::expect_truncations_rejected(bytes, [](const unsigned char *data, std::size_t size) {
        read_points(data, size, MemoryBudget());
    });
    expect_code([&] { read_points(nullptr, 0, MemoryBudget()); }, ErrorCode::DataCorrupted);
    auto tampered = bytes;
    tampered[0] ^= 1;  // tag
    expect_code([&] { read_points(tampered.data(), tampered.size(), MemoryBudget()); },
                ErrorCode::DataCorrupted);
    tampered = bytes;
    tampered[8] = 3;  // dim 3 no longer divides the payload into the stored count
    expect_code([&] { read_points(tampered.data(), tampered.size(), MemoryBudget()); },
                ErrorCode::DataCorrupted);
    tampered = bytes;
    const double nan = std::numeric_limits<double>::quiet_NaN();
    std::memcpy(tampered.data() + 20 + 8 * 5, &nan, 8);
    expect_code([&] { read_points(tampered.data(), tampered.size(), MemoryBudget()); },
                ErrorCode::DataCorrupted);
    // An empty builder round-trips too.
    KMeansBuilder empty;
    auto none = to_bytes(empty);
    EXPECT_TRUE(read_points(none.data(), none.size(), MemoryBudget()).empty());
}

// The aggregate's state: options and points, with their byte form.
TEST(KMeans, FitStateRoundTripKeepsOptionsAndPoints) {
    const auto points = blobs(kThreeCenters, kThreeSizes, 0.5, 3);
    KMeansFitState state{MemoryBudget()};
    state.set_options(3, 7, "zscore, log1p_zscore", 50, 1e-6);
    for (const Point &p : points) state.points.add(p.data(), 2);
    const auto bytes = to_bytes(state);
    const KMeansFitState back = KMeansFitState::deserialize(bytes.data(), bytes.size(), MemoryBudget());
    EXPECT_TRUE(back.has_options);
    EXPECT_EQ(back.k, 3);
    EXPECT_EQ(back.seed, 7u);
    EXPECT_EQ(back.scaling, "zscore, log1p_zscore");
    EXPECT_EQ(back.max_iterations, 50);
    EXPECT_EQ(back.tolerance, 1e-6);
    EXPECT_EQ(to_bytes(back), bytes);
    testing::expect_truncations_rejected(bytes, [](const unsigned char *data, std::size_t size) {
        KMeansFitState::deserialize(data, size, MemoryBudget());
    });
    // Options that do not validate are a corrupted state, not a bad argument.
    KMeansFitState unset{MemoryBudget()};
    auto bad = to_bytes(unset);
    bad[8] = 1;  // has_options, with k = 0
    expect_code([&] { KMeansFitState::deserialize(bad.data(), bad.size(), MemoryBudget()); }, ErrorCode::DataCorrupted);
    // Merging checks that the options agree.
    KMeansFitState other{MemoryBudget()};
    other.set_options(4, 7, "zscore, log1p_zscore", 50, 1e-6);
    expect_code([&] { other.merge(back); }, ErrorCode::InvalidParameter);
    KMeansFitState empty{MemoryBudget()};
    empty.merge(back);
    EXPECT_EQ(to_bytes(empty), bytes);
}

TEST(KMeans, MergeEqualsOneBuilder) {
    const auto points = blobs(kThreeCenters, kThreeSizes, 0.8, 12);
    const KMeansBuilder whole = build(points);
    KMeansBuilder first, second, empty;
    for (std::size_t i = 0; i < points.size(); ++i) (i < 100 ? first : second).add(points[i].data(), 2);
    empty.merge(first);
    empty.merge(second);
    empty.merge(KMeansBuilder());
    ASSERT_EQ(empty.size(), whole.size());
    EXPECT_EQ(std::memcmp(empty.data(), whole.data(), whole.size() * 2 * sizeof(double)), 0);
    EXPECT_EQ(kmeans_fit(empty, options(3), Interrupt()).to_json(),
              kmeans_fit(whole, options(3), Interrupt()).to_json());
}

bool always_interrupted() { return true; }

TEST(KMeans, InterruptCancels) {
    const auto points = blobs(kThreeCenters, kThreeSizes, 0.5, 7);
    const KMeansBuilder b = build(points);
    const Interrupt interrupt(&always_interrupted);
    expect_code([&] { kmeans_fit(b, options(3), interrupt); }, ErrorCode::Canceled);
    expect_code([&] { kmeans_fit(b, options(3, 1, {KMeansScaling::ZScore}), interrupt); }, ErrorCode::Canceled);
    const KMeansModel m = kmeans_fit(b, options(3), Interrupt());
    expect_code([&] { kmeans_silhouette(b, m, 100, 1, interrupt); }, ErrorCode::Canceled);
}

TEST(KMeans, MemoryBudget) {
    // The points themselves.
    KMeansBuilder small(MemoryBudget(4096, "personalize.memory_limit"));
    const double p[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    try {
        for (int i = 0; i < 1000; ++i) small.add(p, 8);
        ADD_FAILURE() << "no error";
    } catch (const Error &e) {
        EXPECT_EQ(e.code(), ErrorCode::OutOfMemory);
        EXPECT_NE(std::string(e.what()).find("personalize.memory_limit"), std::string::npos) << e.what();
    }
    // The points fit, fit's working memory does not.
    Random random(1);
    // 20000 values: 256 kB of capacity, 384 kB while the last growth copies.
    KMeansBuilder b(MemoryBudget(450 * 1024));
    for (int i = 0; i < 10000; ++i) {
        const double q[2] = {random.uniform(), random.uniform()};
        b.add(q, 2);
    }
    EXPECT_LE(b.budget().used(), 450u * 1024);
    expect_code([&] { kmeans_fit(b, options(3, 1, {KMeansScaling::ZScore}), Interrupt()); }, ErrorCode::OutOfMemory);
    expect_code([&] { read_points(nullptr, 0, MemoryBudget(1)); }, ErrorCode::DataCorrupted);
    auto bytes = to_bytes(b);
    expect_code([&] { read_points(bytes.data(), bytes.size(), MemoryBudget(1024)); },
                ErrorCode::OutOfMemory);
}

TEST(KMeans, StopsOnMaxIterations) {
    Random random(8);
    std::vector<Point> points(2000);
    for (Point &p : points) p = {random.uniform(), random.uniform()};
    const KMeansBuilder b = build(points);
    KMeansOptions o = options(20);
    o.max_iterations = 1;
    const KMeansModel one = kmeans_fit(b, o, Interrupt());
    EXPECT_EQ(one.iterations(), 1);
    EXPECT_FALSE(one.converged());
    std::int64_t total = 0;
    for (const std::int64_t s : one.sizes()) total += s;
    EXPECT_EQ(total, 2000);
    o.max_iterations = 300;
    o.tolerance = 0.0;  // run to stable labels
    const KMeansModel full = kmeans_fit(b, o, Interrupt());
    EXPECT_TRUE(full.converged());
    EXPECT_GT(full.iterations(), 1);
    EXPECT_LT(full.inertia(), one.inertia());
}

// Plain Lloyd as scikit-learn runs it, for checking the accelerated version.
struct PlainLloyd {
    std::vector<double> centers;
    std::vector<std::uint32_t> labels;
    std::int64_t iterations = 0;
};

PlainLloyd plain_lloyd(const double *x, std::size_t n, std::size_t d, std::size_t k, std::vector<double> centers,
                       double tol, int max_iterations) {
    using detail::squared_distance;
    PlainLloyd r;
    std::vector<std::uint32_t> labels(n), previous(n, 0xFFFFFFFFu);
    bool strict = false;
    for (int it = 0; it < max_iterations; ++it) {
        for (std::size_t i = 0; i < n; ++i) {
            std::uint32_t best = 0;
            double best_sq = squared_distance(x + i * d, centers.data(), d);
            for (std::size_t c = 1; c < k; ++c) {
                const double sq = squared_distance(x + i * d, centers.data() + c * d, d);
                if (sq < best_sq) {
                    best_sq = sq;
                    best = static_cast<std::uint32_t>(c);
                }
            }
            labels[i] = best;
        }
        std::vector<double> sums(k * d, 0.0), counts(k, 0.0);
        for (std::size_t i = 0; i < n; ++i) {
            counts[labels[i]] += 1.0;
            for (std::size_t j = 0; j < d; ++j) sums[labels[i] * d + j] += x[i * d + j];
        }
        double shift = 0.0;
        for (std::size_t c = 0; c < k; ++c) {
            EXPECT_GT(counts[c], 0.0);
            for (std::size_t j = 0; j < d; ++j) sums[c * d + j] /= counts[c];
            shift += squared_distance(sums.data() + c * d, centers.data() + c * d, d);
        }
        centers = sums;
        r.iterations = it + 1;
        if (labels == previous) {
            strict = true;
            break;
        }
        if (shift <= tol) break;
        previous = labels;
    }
    if (!strict)  // labels against the final centres, as scikit-learn does
        for (std::size_t i = 0; i < n; ++i) {
            std::uint32_t best = 0;
            double best_sq = squared_distance(x + i * d, centers.data(), d);
            for (std::size_t c = 1; c < k; ++c) {
                const double sq = squared_distance(x + i * d, centers.data() + c * d, d);
                if (sq < best_sq) {
                    best_sq = sq;
                    best = static_cast<std::uint32_t>(c);
                }
            }
            labels[i] = best;
        }
    r.centers = centers;
    r.labels = labels;
    return r;
}

// Hamerly's bounds, the fused sweep and the vectorised distances change
// which distances are computed, never their values or the order of the
// additions: the centres, labels and iteration counts equal plain Lloyd's
// bit for bit.
void expect_hamerly_equals_plain(const std::vector<double> &x, std::size_t d, std::size_t k,
                                 const std::vector<double> &seeds, double tol) {
    using namespace detail;
    const std::size_t n = x.size() / d;
    std::vector<std::uint32_t> labels(n);
    std::vector<double> upper(n), lower(n), scratch(lloyd_scratch_size(k, d)), centers = seeds;
    const LloydResult h = lloyd_hamerly(x.data(), n, d, k, centers.data(),
                                        {labels.data(), upper.data(), lower.data(), scratch.data()}, tol, 300,
                                        Interrupt());
    const PlainLloyd p = plain_lloyd(x.data(), n, d, k, seeds, tol, 300);
    EXPECT_EQ(h.iterations, p.iterations);
    EXPECT_EQ(centers, p.centers);
    EXPECT_EQ(labels, p.labels);
}

TEST(KMeans, HamerlyMatchesPlainLloyd) {
    using namespace detail;
    // d = 1, 3, 5, 8 (the distance kernel's remainder and none), k = 1 to 12
    // (whole and padded groups of four centres).
    const std::vector<std::pair<std::size_t, std::size_t>> shapes = {{3, 7}, {1, 3}, {5, 9}, {8, 8}, {8, 12}, {2, 1}};
    for (const auto &[d, k] : shapes) {
        SCOPED_TRACE("d " + std::to_string(d) + ", k " + std::to_string(k));
        Random random(31 + d * 100 + k);
        const std::size_t n = 3000;
        std::vector<double> x(n * d);
        for (std::size_t i = 0; i < n; ++i)
            for (std::size_t j = 0; j < d; ++j) x[i * d + j] = random.normal() + (i % 5 == 0 ? 3.0 : 0.0) * j;
        std::vector<double> seeds(k * d), closest(n);
        Random seeding(5);
        kmeans_plusplus(x.data(), n, d, k, seeding, seeds.data(), closest.data(), Interrupt());
        for (const double tol : {1e-4, 0.0}) expect_hamerly_equals_plain(x, d, k, seeds, tol);
    }
}

TEST(KMeans, HamerlyBreaksTiesLikePlainLloyd) {
    // After the first move the centres are 2, 5.5 and 7, so the points at 6
    // (in cluster 2) are exactly as far from centres 1 and 2: the lower
    // index must win, although Hamerly's search tries the point's current
    // cluster first.
    const std::vector<double> x = {1, 6, 3, 7, 5, 6, 5};
    expect_hamerly_equals_plain(x, 1, 3, {0, 5, 7}, 0.0);
    // The same on a 2-D integer grid with repeated points.
    std::vector<double> grid;
    for (int a = 0; a < 9; ++a)
        for (int b = 0; b < 9; ++b)
            for (int copy = 0; copy < 1 + (a * b) % 3; ++copy) grid.insert(grid.end(), {double(a), double(b)});
    expect_hamerly_equals_plain(grid, 2, 5, {8, 8, 0, 0, 8, 0, 0, 8, 4, 4}, 0.0);
}

// Greedy k-means++ as scikit-learn's _kmeans_plusplus, written plainly (one
// pass per draw, one per candidate, one to add the chosen centre), for
// checking the fused, vectorised version.
std::vector<double> reference_plusplus(const std::vector<double> &x, std::size_t d, std::size_t k,
                                       std::uint64_t seed) {
    using detail::squared_distance;
    const std::size_t n = x.size() / d;
    const std::size_t trials = 2 + static_cast<std::size_t>(std::log(static_cast<double>(k)));
    Random random(seed);
    const std::size_t first = static_cast<std::size_t>(random.below(n));
    std::vector<double> centers(x.begin() + first * d, x.begin() + (first + 1) * d), closest(n);
    double potential = 0.0;
    for (std::size_t i = 0; i < n; ++i) potential += closest[i] = squared_distance(&x[i * d], &x[first * d], d);
    for (std::size_t c = 1; c < k; ++c) {
        std::vector<std::size_t> candidates(trials);
        for (std::size_t t = 0; t < trials; ++t) {
            const double draw = random.uniform() * potential;
            double cumulative = 0.0;
            std::size_t pick = n, last_positive = n;
            for (std::size_t i = 0; i < n && pick == n; ++i) {
                if (closest[i] > 0.0) last_positive = i;
                if (cumulative + closest[i] > draw && closest[i] > 0.0) pick = i;
                cumulative += closest[i];
            }
            candidates[t] = pick == n ? last_positive : pick;
        }
        std::size_t best = 0;
        double best_potential = std::numeric_limits<double>::infinity();
        for (std::size_t t = 0; t < trials; ++t) {
            double sum = 0.0;
            for (std::size_t i = 0; i < n; ++i)
                sum += std::min(squared_distance(&x[i * d], &x[candidates[t] * d], d), closest[i]);
            if (sum < best_potential) best_potential = sum, best = t;
        }
        const double *chosen = &x[candidates[best] * d];
        centers.insert(centers.end(), chosen, chosen + d);
        potential = 0.0;
        for (std::size_t i = 0; i < n; ++i) potential += closest[i] = std::min(closest[i], squared_distance(&x[i * d], chosen, d));
    }
    return centers;
}

TEST(KMeans, SeedingMatchesReference) {
    using namespace detail;
    // k = 3 (3 candidates, one padded group of four), 8 (4), 60 (6: two
    // groups); d with and without the kernel's remainder; duplicated points
    // (zero weight once chosen).
    const std::vector<std::pair<std::size_t, std::size_t>> shapes = {{2, 3}, {8, 8}, {5, 60}, {1, 4}};
    for (const auto &[d, k] : shapes) {
        SCOPED_TRACE("d " + std::to_string(d) + ", k " + std::to_string(k));
        Random random(7 * d + k);
        const std::size_t n = 2000;
        std::vector<double> x(n * d);
        for (std::size_t i = 0; i < n; ++i)
            for (std::size_t j = 0; j < d; ++j)
                x[i * d + j] = i % 4 == 3 ? x[(i - 1) * d + j] : random.normal() * (1.0 + static_cast<double>(i % 3));
        for (const std::uint64_t seed : {0u, 1u, 99u}) {
            std::vector<double> centers(k * d), closest(n);
            Random r(seed);
            kmeans_plusplus(x.data(), n, d, k, r, centers.data(), closest.data(), Interrupt());
            EXPECT_EQ(centers, reference_plusplus(x, d, k, seed)) << "seed " << seed;
        }
    }
}

TEST(KMeans, EmptyClusterIsReseeded) {
    using namespace detail;
    // Start with one centre far from every point: its cluster is empty after
    // the first assignment and takes the farthest point.
    const std::vector<double> x = {0, 0, 0.1, 0, 0, 0.1, 5, 5, 5.1, 5, 5, 5.2, 9, 0};
    const std::size_t n = 7, d = 2, k = 3;
    std::vector<double> centers = {0, 0, 5, 5, 100, 100};
    std::vector<std::uint32_t> labels(n);
    std::vector<double> upper(n), lower(n), scratch(lloyd_scratch_size(k, d));
    const LloydResult r = lloyd_hamerly(x.data(), n, d, k, centers.data(),
                                        {labels.data(), upper.data(), lower.data(), scratch.data()}, 0.0, 100,
                                        Interrupt());
    EXPECT_TRUE(r.converged);
    for (const std::int64_t s : r.sizes) EXPECT_GT(s, 0);
    EXPECT_EQ(labels[6], 2u);  // (9, 0) was farthest from its centre
    EXPECT_EQ(centers[4], 9.0);
    EXPECT_EQ(centers[5], 0.0);
}

}  // namespace
}  // namespace personalize::kmeans
