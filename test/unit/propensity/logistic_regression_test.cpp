#include "core/propensity/logistic_regression.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <optional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/propensity/auc.hpp"
#include "core/common/error.hpp"
#include "../common/bytes_test_util.hpp"
#include "core/common/random.hpp"

namespace personalize::propensity {
namespace {

struct Example {
    bool label;
    std::vector<double> x;
};

LogisticModel fit(const std::vector<Example> &rows, double l2, std::vector<std::string> names = {},
                  std::int64_t max_iterations = 100) {
    LogisticCollector c{MemoryBudget()};
    for (const auto &r : rows) c.add(r.label, r.x.data(), r.x.size());
    LogisticOptions o;
    o.l2 = l2;
    o.max_iterations = max_iterations;
    return logistic_fit(c, o, names);
}

std::string error_of(const std::function<void()> &f) {
    try {
        f();
    } catch (const Error &e) {
        return e.what();
    }
    return "no error";
}

double logit(double p) { return std::log(p / (1 - p)); }

TEST(LogisticRegression, InterceptOnlyIsTheLogOddsWithTheBinomialStandardError) {
    std::vector<Example> rows;
    for (int i = 0; i < 100; ++i) rows.push_back({i < 30, {}});
    const LogisticModel m = fit(rows, 0.0);
    EXPECT_TRUE(m.converged);
    EXPECT_NEAR(m.intercept, logit(0.3), 1e-10);
    ASSERT_TRUE(m.has_standard_errors);
    EXPECT_NEAR(m.intercept_standard_error, 1.0 / std::sqrt(100 * 0.3 * 0.7), 1e-10);
    EXPECT_NEAR(m.log_likelihood, 30 * std::log(0.3) + 70 * std::log(0.7), 1e-9);
    EXPECT_EQ(m.observations, 100);
    EXPECT_EQ(m.positives, 30);
    EXPECT_TRUE(m.warning.empty());
}

TEST(LogisticRegression, OneBinaryFeatureMatchesTheTwoByTwoTable) {
    // x = 0: 40 true, 60 false; x = 1: 75 true, 25 false.
    std::vector<Example> rows;
    for (int i = 0; i < 100; ++i) rows.push_back({i < 40, {0.0}});
    for (int i = 0; i < 100; ++i) rows.push_back({i < 75, {1.0}});
    const LogisticModel m = fit(rows, 0.0, {"x"});
    EXPECT_TRUE(m.converged);
    EXPECT_LE(m.iterations, 10);
    EXPECT_NEAR(m.intercept, logit(0.4), 1e-9);
    EXPECT_NEAR(m.coefficients[0], logit(0.75) - logit(0.4), 1e-9);
    EXPECT_NEAR(m.intercept_standard_error, std::sqrt(1.0 / 40 + 1.0 / 60), 1e-9);
    EXPECT_NEAR(m.standard_errors[0], std::sqrt(1.0 / 40 + 1.0 / 60 + 1.0 / 75 + 1.0 / 25), 1e-9);
    const double x1 = 1.0;
    EXPECT_NEAR(m.probability(&x1, 1, "test"), 0.75, 1e-9);
}

std::vector<Example> simulated(std::size_t n, std::uint64_t seed) {
    // logit P = -1 + 0.8 x1 - 0.5 x2 + 0 x3
    Random rng(seed);
    std::vector<Example> rows;
    for (std::size_t i = 0; i < n; ++i) {
        const double x1 = rng.normal(), x2 = rng.normal() * 2, x3 = rng.uniform();
        const double p = 1 / (1 + std::exp(-(-1 + 0.8 * x1 - 0.5 * x2)));
        rows.push_back({rng.uniform() < p, {x1, x2, x3}});
    }
    return rows;
}

TEST(LogisticRegression, RecoversSimulatedCoefficientsWithinTheirStandardErrors) {
    const LogisticModel m = fit(simulated(20000, 11), 0.0);
    ASSERT_TRUE(m.converged);
    const double truth[3] = {0.8, -0.5, 0.0};
    EXPECT_LT(std::abs(m.intercept + 1) / m.intercept_standard_error, 4);
    for (int j = 0; j < 3; ++j)
        EXPECT_LT(std::abs(m.coefficients[j] - truth[j]) / m.standard_errors[j], 4) << "coefficient " << j;
    EXPECT_LT(m.standard_errors[0], 0.05);
}

TEST(LogisticRegression, L2ShrinksTheSlopesButNotTheIntercept) {
    std::vector<Example> rows;
    for (int i = 0; i < 100; ++i) rows.push_back({i < 40, {0.0}});
    for (int i = 0; i < 100; ++i) rows.push_back({i < 75, {1.0}});
    double previous = 1e9;
    for (double l2 : {0.0, 1.0, 10.0, 100.0, 1e6}) {
        const LogisticModel m = fit(rows, l2);
        EXPECT_TRUE(m.converged) << l2;
        EXPECT_LT(m.coefficients[0], previous) << l2;
        previous = m.coefficients[0];
        EXPECT_NEAR(m.penalized_log_likelihood, m.log_likelihood - l2 / 2 * m.coefficients[0] * m.coefficients[0], 1e-9);
    }
    // Infinite penalty: no slope, the intercept alone carries the label share (but
    // evaluated at x = 0 the share of the x = 1 rows is folded in).
    const LogisticModel flat = fit(rows, 1e9);
    EXPECT_NEAR(flat.coefficients[0], 0.0, 1e-6);
    EXPECT_NEAR(flat.intercept, logit(115.0 / 200), 1e-5);
}

TEST(LogisticRegression, SameRowsInAnyOrderGiveTheSameModel) {
    std::vector<Example> rows = simulated(3000, 5);
    const std::string a = fit(rows, 1.0).to_json();
    std::mt19937_64 g(1);
    std::shuffle(rows.begin(), rows.end(), g);
    EXPECT_EQ(fit(rows, 1.0).to_json(), a);
}

TEST(LogisticRegression, PerfectSeparationDoesNotConvergeWithoutL2AndIsFiniteWithIt) {
    std::vector<Example> rows;
    for (double x : {-3.0, -2.0, -1.0, -0.5}) rows.push_back({false, {x}});
    for (double x : {0.5, 1.0, 2.0, 3.0}) rows.push_back({true, {x}});
    const LogisticModel free = fit(rows, 0.0);
    EXPECT_FALSE(free.converged);
    EXPECT_NE(free.warning.find("perfectly separable"), std::string::npos) << free.warning;
    EXPECT_GT(free.coefficients[0], 5.0);  // large and still growing
    EXPECT_GT(free.log_likelihood, -1e-2);
    const LogisticModel penalised = fit(rows, 1.0);
    EXPECT_TRUE(penalised.converged);
    EXPECT_TRUE(penalised.warning.empty());
    EXPECT_GT(penalised.coefficients[0], 0.5);
    EXPECT_LT(penalised.coefficients[0], 5.0);
    EXPECT_TRUE(penalised.has_standard_errors);
}

TEST(LogisticRegression, QuasiSeparationIsReported) {
    // Anonymous visitors (x = 0) never buy; signed-in ones sometimes do.
    std::vector<Example> rows;
    for (int i = 0; i < 50; ++i) rows.push_back({false, {0.0}});
    for (int i = 0; i < 50; ++i) rows.push_back({i < 20, {1.0}});
    const LogisticModel free = fit(rows, 0.0);
    EXPECT_FALSE(free.converged);
    EXPECT_NE(free.warning.find("quasi-separable"), std::string::npos) << free.warning;
    const LogisticModel penalised = fit(rows, 0.5);
    EXPECT_TRUE(penalised.converged);
}

TEST(LogisticRegression, BadInputNamesTheArgument) {
    LogisticCollector c{MemoryBudget()};
    const double two[2] = {1, 2}, three[3] = {1, 2, 3}, nan[2] = {1, std::nan("")};
    c.add(true, two, 2);
    EXPECT_EQ(error_of([&] { c.add(false, three, 3); }),
              "logistic_fit: \"features\" must have the same length in every row (2 and 3)");
    EXPECT_EQ(error_of([&] { c.add(false, nan, 2); }), "logistic_fit: \"features\" must be finite numbers, element 2 is NaN");
    EXPECT_EQ(error_of([&] { logistic_fit(c, LogisticOptions(), {}); }),
              "logistic_fit: every \"label\" is true; both classes are needed");
    c.add(false, two, 2);
    EXPECT_EQ(error_of([&] { logistic_fit(c, LogisticOptions(), {"a"}); }),
              "logistic_fit: \"feature_names\" must have one name per feature (2 features, 1 names)");
    LogisticCollector empty{MemoryBudget()};
    EXPECT_EQ(error_of([&] { logistic_fit(empty, LogisticOptions(), {}); }), "logistic_fit: no input rows");
    LogisticOptions o;
    o.l2 = -1;
    EXPECT_EQ(error_of([&] { o.validate("logistic_fit"); }), "logistic_fit: \"l2\" must be a finite number >= 0, not -1");
    o = LogisticOptions();
    o.max_iterations = 0;
    EXPECT_EQ(error_of([&] { o.validate("logistic_fit"); }),
              "logistic_fit: \"max_iterations\" must be between 1 and 10000, not 0");
    std::vector<double> wide(1001, 0.0);
    LogisticCollector w{MemoryBudget()};
    EXPECT_EQ(error_of([&] { w.add(true, wide.data(), wide.size()); }),
              "logistic_fit: \"features\" has 1001 elements; at most 1000 are supported");
}

TEST(LogisticRegression, JsonRoundTripAndScoringErrors) {
    const LogisticModel m = fit(simulated(2000, 3), 1.0, {"a", "b \"quoted\"", "c"});
    const LogisticModel back = LogisticModel::from_json(m.to_json(), "logistic_score");
    const double x[3] = {0.5, -1, 0.25};
    EXPECT_EQ(back.probability(x, 3, "t"), m.probability(x, 3, "t"));
    EXPECT_EQ(back.feature_names, m.feature_names);
    EXPECT_EQ(error_of([&] { m.probability(x, 2, "logistic_score"); }),
              "logistic_score: \"features\" has 2 elements but the model has 3 features");
    const double inf[3] = {0, std::numeric_limits<double>::infinity(), 0};
    EXPECT_EQ(error_of([&] { m.probability(inf, 3, "logistic_score"); }),
              "logistic_score: \"features\" must be finite numbers, element 2 is Infinity");
    EXPECT_EQ(error_of([] { LogisticModel::from_json("{\"intercept\": 1}", "logistic_score"); }),
              "logistic_score: \"model\" is not a logistic_fit result (\"model\": \"logistic_regression\" missing)");
    EXPECT_EQ(error_of([] { LogisticModel::from_json("[1]", "logistic_score"); }),
              "logistic_score: \"model\" must be a JSON object");
    EXPECT_EQ(error_of([] {
                  LogisticModel::from_json("{\"model\":\"logistic_regression\",\"intercept\":0,\"coefficients\":[1,\"x\"]}",
                                           "logistic_score");
              }),
              "logistic_score: \"model\" \"coefficients\" must be numbers");
    // Extreme linear predictors stay in [0, 1] without overflow.
    const LogisticModel hand = LogisticModel::from_json(
        "{\"model\":\"logistic_regression\",\"intercept\":0,\"coefficients\":[1]}", "t");
    const double big = 1e6, small = -1e6;
    EXPECT_EQ(hand.probability(&big, 1, "t"), 1.0);
    EXPECT_EQ(hand.probability(&small, 1, "t"), 0.0);
}

// Adds the rows of one whole serialised collector.
void append(LogisticCollector &c, const unsigned char *data, std::size_t size) {
    read_whole(data, size, "logistic_fit", [&](ByteReader &in) { c.read(in); });
}

TEST(LogisticRegression, CollectorBytesRoundTrip) {
    LogisticCollector a{MemoryBudget()};
    for (const auto &r : simulated(500, 9)) a.add(r.label, r.x.data(), r.x.size());
    auto bytes = to_bytes(a);
    LogisticCollector b{MemoryBudget()};
    append(b, bytes.data(), bytes.size());
    EXPECT_EQ(b.rows(), 500u);
    EXPECT_EQ(logistic_fit(a, LogisticOptions(), {}).to_json(), logistic_fit(b, LogisticOptions(), {}).to_json());
    testing::expect_truncations_rejected(bytes, [](const unsigned char *data, std::size_t size) {
        LogisticCollector c{MemoryBudget()};
        append(c, data, size);
    });
    bytes[bytes.size() - 1] = 7;  // a label that is neither 0 nor 1
    LogisticCollector c{MemoryBudget()};
    EXPECT_THROW(append(c, bytes.data(), bytes.size()), Error);
}

// The aggregate's state: options, feature names and rows.
TEST(LogisticRegression, FitStateRoundTrip) {
    LogisticFitState state{MemoryBudget()};
    LogisticOptions o;
    o.l2 = 0.5;
    o.max_iterations = 20;
    state.set_options(o);
    state.set_names({"recency", "", "frequency"});
    for (const auto &r : simulated(50, 3)) state.rows.add(r.label, r.x.data(), r.x.size());
    const auto bytes = to_bytes(state);
    auto read = [](const unsigned char *data, std::size_t size) {
        auto s = std::make_unique<LogisticFitState>(MemoryBudget());
        read_whole(data, size, "logistic_fit", [&](ByteReader &in) { s->read(in); });
        return s;
    };
    const auto back = read(bytes.data(), bytes.size());
    EXPECT_TRUE(back->has_options && back->has_names);
    EXPECT_TRUE(back->options == o);
    EXPECT_EQ(back->names, (std::vector<std::string>{"recency", "", "frequency"}));
    EXPECT_EQ(back->rows.rows(), 50u);
    EXPECT_EQ(to_bytes(*back), bytes);
    testing::expect_truncations_rejected(bytes, read);
    auto bad = bytes;
    bad[10 + 7] ^= 0x80;  // l2 becomes negative: options that do not validate
    EXPECT_EQ(testing::error_code([&] { read(bad.data(), bad.size()); }), ErrorCode::DataCorrupted);
}

TEST(LogisticRegression, MemoryBudgetAndCancellation) {
    LogisticCollector small{MemoryBudget(4096, "personalize.memory_limit")};
    const double x[3] = {1, 2, 3};
    try {
        for (int i = 0; i < 1000; ++i) small.add(i % 2 == 0, x, 3);
        ADD_FAILURE() << "no error";
    } catch (const Error &e) {
        EXPECT_EQ(e.code(), ErrorCode::OutOfMemory);
    }
    LogisticCollector c{MemoryBudget()};
    for (const auto &r : simulated(500, 9)) c.add(r.label, r.x.data(), r.x.size());
    const Interrupt cancel([] { return true; });
    try {
        logistic_fit(c, LogisticOptions(), {}, cancel);
        ADD_FAILURE() << "no error";
    } catch (const Error &e) {
        EXPECT_EQ(e.code(), ErrorCode::Canceled);
    }
}

// ---------------------------------------------------------------- AUC

std::optional<double> auc_of(const std::vector<std::pair<double, bool>> &rows) {
    AucCollector c{MemoryBudget()};
    for (const auto &[s, l] : rows) c.add(s, l);
    return c.auc();
}

TEST(Auc, KnownValues) {
    EXPECT_EQ(auc_of({{0.1, false}, {0.2, false}, {0.8, true}, {0.9, true}}), 1.0);
    EXPECT_EQ(auc_of({{0.1, true}, {0.2, true}, {0.8, false}, {0.9, false}}), 0.0);
    EXPECT_EQ(auc_of({{0.5, true}, {0.5, false}, {0.5, true}, {0.5, false}}), 0.5);
    // Positives 0.8, 0.4; negatives 0.6, 0.4, 0.2: pairs won 3 + 0.5 + 1 = 4.5 of 6.
    EXPECT_EQ(auc_of({{0.8, true}, {0.4, true}, {0.6, false}, {0.4, false}, {0.2, false}}), 0.75);
    EXPECT_EQ(auc_of({{-std::numeric_limits<double>::infinity(), false}, {std::numeric_limits<double>::infinity(), true}}), 1.0);
    EXPECT_FALSE(auc_of({{0.1, true}, {0.2, true}}).has_value());
    EXPECT_FALSE(auc_of({}).has_value());
    AucCollector c{MemoryBudget()};
    EXPECT_EQ(error_of([&] { c.add(std::nan(""), true); }), "auc: \"score\" must not be NaN");
}

TEST(Auc, EqualsTheBruteForcePairCountInAnyOrder) {
    std::mt19937_64 g(4);
    std::vector<std::pair<double, bool>> rows;
    for (int i = 0; i < 700; ++i) rows.push_back({static_cast<double>(g() % 50), g() % 3 == 0});
    double won = 0, pairs = 0;
    for (const auto &a : rows)
        for (const auto &b : rows)
            if (a.second && !b.second) {
                pairs += 1;
                won += a.first > b.first ? 1 : a.first == b.first ? 0.5 : 0;
            }
    const double expected = won / pairs;
    EXPECT_NEAR(*auc_of(rows), expected, 1e-12);
    std::shuffle(rows.begin(), rows.end(), g);
    EXPECT_EQ(*auc_of(rows), *auc_of(rows));
    EXPECT_NEAR(*auc_of(rows), expected, 1e-12);
    // Split into two collectors and merged (a parallel plan).
    AucCollector a{MemoryBudget()}, b{MemoryBudget()};
    for (std::size_t i = 0; i < rows.size(); ++i) (i % 2 ? a : b).add(rows[i].first, rows[i].second);
    auto bytes = to_bytes(b);
    AucCollector merged{MemoryBudget()};
    merged.merge(a);
    read_whole(bytes.data(), bytes.size(), "auc", [&](ByteReader &in) { merged.read(in); });
    testing::expect_truncations_rejected(bytes, [](const unsigned char *data, std::size_t size) {
        AucCollector c{MemoryBudget()};
        read_whole(data, size, "auc", [&](ByteReader &in) { c.read(in); });
    });
    EXPECT_NEAR(*merged.auc(), expected, 1e-12);
}

}  // namespace
}  // namespace personalize::propensity
