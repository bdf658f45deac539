// Validation of the lifetime models against published CDNOW numbers. Reads
// the shared data folder (PERSONALIZE_SHARED_DATA overrides /work/shared/data)
// and skips when it is absent: a user's clone does not have it.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <initializer_list>
#include <sstream>
#include <string>
#include <vector>

#include "core/lifetime/bgnbd.hpp"
#include "core/lifetime/gamma_gamma.hpp"
#include "core/lifetime/pareto_nbd.hpp"
#include "lifetime_test_support.hpp"

namespace personalize::lifetime {
namespace {

using test_support::transaction_state;

struct CdnowRow {
    double x, t_x, T, m;
};

std::string shared_data() {
    const char *env = std::getenv("PERSONALIZE_SHARED_DATA");
    return env != nullptr && *env != '\0' ? env : "/work/shared/data";
}

// A CSV file with a header line: an id, then x, t_x and T; the mean spend in
// column `monetary_column`. Empty when the file is missing.
std::vector<CdnowRow> load(const std::string &file, std::size_t monetary_column) {
    std::vector<CdnowRow> rows;
    std::ifstream in(shared_data() + "/cdnow/" + file);
    if (!in) return rows;
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line)) {
        std::stringstream ss(line);
        std::vector<std::string> fields;
        for (std::string field; std::getline(ss, field, ',');) fields.push_back(field);
        rows.push_back({std::stod(fields.at(1)), std::stod(fields.at(2)), std::stod(fields.at(3)),
                        std::stod(fields.at(monetary_column))});
    }
    return rows;
}

// cdnow_customers_summary_with_transactions.csv: ID,x,t_x,T,zbar (2 decimals).
std::vector<CdnowRow> load_rounded() { return load("cdnow_customers_summary_with_transactions.csv", 4); }

// BTYD's cdnowSummary_cbs.csv: "sampleid","x","t.x","T.cal","x.star","m.x" (unrounded weeks).
std::vector<CdnowRow> load_exact() { return load("btyd/cdnowSummary_cbs.csv", 5); }

#define REQUIRE_DATA(rows)                                                          \
    do {                                                                            \
        if ((rows).empty()) GTEST_SKIP() << "CDNOW data not found under " << shared_data(); \
    } while (false)

// Fits and prints the model as JSON under `label`, with the time the fit took.
template <typename State>
FitResult fit_and_print(const char *label, const State &state) {
    const auto start = std::chrono::steady_clock::now();
    const FitResult fit = state.fit();
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    std::printf("%s: %s\n  fit %.2f ms\n", label, fit.to_json().c_str(), ms);
    return fit;
}

struct Published {
    const char *parameter;
    double value, tolerance;
};

void expect_published(const FitResult &fit, std::initializer_list<Published> published) {
    for (const Published &p : published) EXPECT_NEAR(fit.param(p.parameter), p.value, p.tolerance) << p.parameter;
}

TEST(LifetimeCdnow, BgNbdRoundedFile) {
    const auto rows = load_rounded();
    REQUIRE_DATA(rows);
    ASSERT_EQ(rows.size(), 2357u);
    const auto state = transaction_state<BgNbdFitState>(rows);
    EXPECT_EQ(state.distinct(), 1016u);
    const FitResult fit = fit_and_print("BG/NBD CDNOW (2-decimal file)", state);
    ASSERT_TRUE(fit.converged) << fit.message;
    // The maximum of this file's likelihood, as lifetimes documents it:
    // r = 0.242593, alpha = 4.413532, a = 0.792886, b = 2.425752 (se 0.012557,
    // 0.378221, 0.185719, 0.705345).
    expect_published(fit, {{"r", 0.242593, 2e-6}, {"alpha", 4.413532, 2e-5}, {"a", 0.792886, 2e-5}, {"b", 2.425752, 5e-5}});
    EXPECT_NEAR(fit.std_errors[0], 0.012557, 2e-6);
    EXPECT_NEAR(fit.std_errors[1], 0.378221, 2e-5);
    EXPECT_NEAR(fit.std_errors[2], 0.185719, 2e-5);
    EXPECT_NEAR(fit.std_errors[3], 0.705345, 5e-5);
    EXPECT_NEAR(fit.log_likelihood, -9582.43, 0.005);
    EXPECT_DOUBLE_EQ(fit.customers, 2357.0);
    // r = 0.2427, alpha = 4.4218, a = 0.7941, b = 2.4310, quoted elsewhere for
    // this file, is a slightly lower point of the same flat likelihood.
    const double quoted = state.log_likelihood({0.2427, 4.4218, 0.7941, 2.4310});
    EXPECT_GT(fit.log_likelihood, quoted);
    EXPECT_NEAR(quoted, fit.log_likelihood, 0.001);
    expect_published(fit, {{"r", 0.2427, 0.0005}, {"alpha", 4.4218, 0.01}, {"a", 0.7941, 0.002}, {"b", 2.4310, 0.006}});
}

TEST(LifetimeCdnow, BgNbdExactMatchesPaper) {
    const auto rows = load_exact();
    REQUIRE_DATA(rows);
    ASSERT_EQ(rows.size(), 2357u);
    const FitResult fit = fit_and_print("BG/NBD CDNOW (exact weeks)", transaction_state<BgNbdFitState>(rows));
    ASSERT_TRUE(fit.converged) << fit.message;
    // Fader, Hardie & Lee (2005): r = 0.243, alpha = 4.414, a = 0.793, b = 2.426, LL = -9582.4.
    expect_published(fit, {{"r", 0.243, 0.0005}, {"alpha", 4.414, 0.0005}, {"a", 0.793, 0.0005}, {"b", 2.426, 0.0005}});
    EXPECT_NEAR(fit.log_likelihood, -9582.4, 0.05);
    // Standard errors as lifetimes reports them: 0.0126, 0.378, 0.186, 0.705.
    ASSERT_TRUE(fit.std_errors_available);
    EXPECT_NEAR(fit.std_errors[0], 0.0126, 0.0005);
    EXPECT_NEAR(fit.std_errors[1], 0.378, 0.005);
    EXPECT_NEAR(fit.std_errors[2], 0.186, 0.005);
    EXPECT_NEAR(fit.std_errors[3], 0.705, 0.01);

    // FHL (2005): E[X(39) | x = 2, t_x = 30.43, T = 38.86] = 1.226.
    EXPECT_NEAR(BgNbdModel(BgNbdParams::from(fit)).expected_purchases(39, {2, 30.43, 38.86}), 1.226, 0.0005);
}

TEST(LifetimeCdnow, ParetoNbdRoundedFile) {
    const auto rows = load_rounded();
    REQUIRE_DATA(rows);
    const auto state = transaction_state<ParetoNbdFitState>(rows);
    const FitResult fit = fit_and_print("Pareto/NBD CDNOW (2-decimal file)", state);
    ASSERT_TRUE(fit.converged) << fit.message;
    // r = 0.553, alpha = 10.578, s = 0.606, beta = 11.669, LL = -9595.0
    expect_published(fit, {{"r", 0.553, 0.0005}, {"alpha", 10.578, 0.005}, {"s", 0.606, 0.0005}, {"beta", 11.669, 0.005}});
    EXPECT_NEAR(fit.log_likelihood, -9595.0, 0.05);
}

TEST(LifetimeCdnow, ParetoNbdExactMatchesBtyd) {
    const auto rows = load_exact();
    REQUIRE_DATA(rows);
    const auto state = transaction_state<ParetoNbdFitState>(rows);
    const FitResult fit = fit_and_print("Pareto/NBD CDNOW (exact weeks)", state);
    ASSERT_TRUE(fit.converged) << fit.message;
    // BTYD: r = 0.5534, alpha = 10.5802, s = 0.6061, beta = 11.6562; its
    // optimiser stops a little short in the flat beta direction.
    expect_published(fit, {{"r", 0.5534, 0.0005}, {"alpha", 10.5802, 0.005}, {"s", 0.6061, 0.0005}, {"beta", 11.6562, 0.02}});
    EXPECT_NEAR(fit.log_likelihood, -9595.0, 0.05);
    EXPECT_GE(fit.log_likelihood, state.log_likelihood({0.553397143256635, 10.5801985434744, 0.606062497117662,
                                                        11.6562236707077}));
    // Predictions for CDNOW customer 1 (x = 2, t_x = 30.43, T = 38.86).
    const ParetoNbdModel model(ParetoNbdParams::from(fit));
    const LifetimeCustomer customer{2, 30.4285714285714, 38.8571428571429};
    const double alive = model.probability_alive(customer);
    const double expected = model.expected_purchases(39, customer);
    std::printf("  customer 1: P(alive) = %.4f, E[X(39)] = %.4f\n", alive, expected);
    EXPECT_GT(alive, 0.8);
    EXPECT_NEAR(expected, 1.45, 0.02);
}

TEST(LifetimeCdnow, GammaGamma) {
    const auto rows = load_rounded();
    REQUIRE_DATA(rows);
    GammaGammaFitState state;
    for (const auto &row : rows) state.add(row.x, row.m);
    const FitResult fit = fit_and_print("Gamma-Gamma CDNOW", state);
    ASSERT_TRUE(fit.converged) << fit.message;
    EXPECT_DOUBLE_EQ(fit.customers, 946.0);
    EXPECT_DOUBLE_EQ(fit.ignored, 2357.0 - 946.0);
    // FHL (2005) "RFM and CLV": p = 6.25, q = 3.74, gamma = 15.44.
    expect_published(fit, {{"p", 6.25, 0.005}, {"q", 3.74, 0.005}, {"gamma", 15.44, 0.02}});
    const GammaGammaParams p = GammaGammaParams::from(fit);
    // The first ten customers, as published to two decimals (truncated) and as
    // lifetimes' documentation prints them.
    const double published[] = {24.65, 18.91, 35.17, 35.17, 35.17, 71.46, 18.91, 35.17, 27.28, 35.17};
    const double lifetimes[] = {24.658619, 18.911489, 35.170981, 35.170981, 35.170981,
                                71.462843, 18.911489, 35.170981, 27.282408, 35.170981};
    for (int i = 0; i < 10; ++i) {
        const double e = gamma_gamma_expected_spend(p, rows[i].x, rows[i].m);
        EXPECT_NEAR(e, published[i], 0.01) << "customer " << i + 1;
        EXPECT_NEAR(e, lifetimes[i], 1e-4) << "customer " << i + 1;
    }
}

}  // namespace
}  // namespace personalize::lifetime
