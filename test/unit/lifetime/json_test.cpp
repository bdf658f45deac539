#include <gtest/gtest.h>

#include <string>

#include "core/common/error.hpp"
#include "core/lifetime/bgnbd.hpp"
#include "core/lifetime/fit.hpp"
#include "core/lifetime/simulate.hpp"
#include "lifetime_test_support.hpp"

namespace personalize::lifetime {
namespace {

using namespace test_support;

FitResult sample_fit() {
    return transaction_state<BgNbdFitState>(simulate_bgnbd(0.4, 5.0, 0.7, 3.0, simulation(800, 2))).fit();
}

void expect_error(const std::string &text, const char *model, ErrorCode code, const std::string &message) {
    try {
        FitResult::from_json(text, model);
        FAIL() << "accepted: " << text;
    } catch (const Error &e) {
        EXPECT_EQ(e.code(), code) << e.what();
        EXPECT_NE(std::string(e.what()).find(message), std::string::npos) << e.what();
    }
}

TEST(LifetimeJson, RoundTripIsExact) {
    const FitResult fit = sample_fit();
    ASSERT_TRUE(fit.converged);
    const std::string json = fit.to_json();
    EXPECT_EQ(json.rfind("{\"model\":\"bgnbd\",\"params\":{\"r\":", 0), 0u) << json;
    const FitResult back = FitResult::from_json(json, "bgnbd");
    EXPECT_EQ(back.model, fit.model);
    EXPECT_EQ(back.names, fit.names);
    EXPECT_EQ(back.params, fit.params);
    EXPECT_EQ(back.log_likelihood, fit.log_likelihood);
    EXPECT_EQ(back.std_errors, fit.std_errors);
    EXPECT_EQ(back.covariance, fit.covariance);
    EXPECT_EQ(back.iterations, fit.iterations);
    EXPECT_EQ(back.converged, fit.converged);
    EXPECT_EQ(back.customers, fit.customers);
    EXPECT_EQ(back.penalty, fit.penalty);
    EXPECT_TRUE(back.std_errors_available);
    EXPECT_EQ(back.to_json(), json);
    EXPECT_NO_THROW(FitResult::from_json(json, nullptr));
}

TEST(LifetimeJson, UnavailableStandardErrorsAndMessagesRoundTrip) {
    FitResult fit;
    fit.model = "gamma_gamma";
    fit.names = lifetime_parameter_names("gamma_gamma");
    fit.params = {1.5, 2.5, 1e-300};
    fit.log_likelihood = -12.25;
    fit.converged = false;
    fit.message = "a \"quoted\"\nmessage\\";
    fit.ignored = 7;
    const std::string json = fit.to_json();
    EXPECT_NE(json.find("\"std_errors\":null"), std::string::npos);
    EXPECT_NE(json.find("\"covariance\":null"), std::string::npos);
    const FitResult back = FitResult::from_json(json, "gamma_gamma");
    EXPECT_FALSE(back.std_errors_available);
    EXPECT_TRUE(back.covariance.empty());
    EXPECT_EQ(back.message, fit.message);
    EXPECT_EQ(back.params, fit.params);
    EXPECT_EQ(back.ignored, 7.0);
    EXPECT_FALSE(back.converged);
}

TEST(LifetimeJson, HandWrittenParametersAreEnough) {
    const FitResult fit =
        FitResult::from_json(" { \"model\" : \"pareto_nbd\", \"params\": {\"beta\": 11.67, \"s\": 0.61, "
                             "\"alpha\": 10.58, \"r\": 0.55, \"extra\": 1}, \"note\": [1, {\"x\": null}] } ",
                             "pareto_nbd");
    EXPECT_EQ(fit.params, (std::vector<double>{0.55, 10.58, 0.61, 11.67}));
    EXPECT_TRUE(fit.converged);
    EXPECT_FALSE(fit.std_errors_available);
}

TEST(LifetimeJson, RejectsOtherModelsAndMissingKeys) {
    const std::string json = sample_fit().to_json();
    expect_error(json, "pareto_nbd", ErrorCode::InvalidParameter, "pareto_nbd: model is a bgnbd model");
    expect_error(json, "gamma_gamma", ErrorCode::InvalidParameter, "gamma_gamma: model is a bgnbd model");
    expect_error("{\"model\":\"bgnbd\",\"params\":{\"alpha\":1,\"a\":1,\"b\":1}}", "bgnbd", ErrorCode::InvalidParameter,
                 "bgnbd: missing key \"r\"");
    expect_error("{\"params\":{}}", "bgnbd", ErrorCode::InvalidParameter, "bgnbd: missing key \"model\"");
    expect_error("{\"model\":\"bgnbd\"}", "bgnbd", ErrorCode::InvalidParameter, "missing key \"params\"");
    expect_error("{\"model\":\"lstm\",\"params\":{}}", nullptr, ErrorCode::InvalidParameter, "unknown model \"lstm\"");
    expect_error("{\"model\":\"bgnbd\",\"params\":{\"r\":-1,\"alpha\":1,\"a\":1,\"b\":1}}", "bgnbd",
                 ErrorCode::InvalidParameter, "parameter \"r\" must be a positive number");
    expect_error("{\"model\":\"bgnbd\",\"params\":{\"r\":\"1\",\"alpha\":1,\"a\":1,\"b\":1}}", "bgnbd",
                 ErrorCode::InvalidParameter, "parameter \"r\"");
    expect_error("{\"model\":\"bgnbd\",\"params\":{\"r\":1,\"alpha\":1,\"a\":1,\"b\":1},\"covariance\":[[1,2],[2,1]]}",
                 "bgnbd", ErrorCode::InvalidParameter, "4x4");
    expect_error("{\"model\":\"bgnbd\",\"params\":{\"r\":1,\"alpha\":1,\"a\":1,\"b\":1},\"converged\":1}", "bgnbd",
                 ErrorCode::InvalidParameter, "\"converged\"");
    expect_error("[1,2]", "bgnbd", ErrorCode::InvalidParameter, "must be a JSON object");
}

TEST(LifetimeJson, RejectsMalformedText) {
    for (const char *bad : {"", "{", "{\"model\":}", "{\"model\":\"bgnbd\",}", "{\"a\":1 \"b\":2}", "{\"a\":01}",
                            "{\"a\":1.}", "{\"a\":1e}", "{\"a\":tru}", "{\"a\":\"x}", "{\"a\":1}}", "{\"a\":NaN}",
                            "{\"a\":1e999}", "{\"a\":1,\"a\":2}", "{\"a\":\"\\q\"}"}) {
        try {
            FitResult::from_json(bad, "bgnbd");
            FAIL() << "accepted: " << bad;
        } catch (const Error &e) {
            EXPECT_EQ(e.code(), ErrorCode::InvalidText) << bad << ": " << e.what();
        }
    }
    std::string deep;
    for (int i = 0; i < 100; ++i) deep += "[";
    EXPECT_THROW(FitResult::from_json(deep, "bgnbd"), Error);
}

}  // namespace
}  // namespace personalize::lifetime
