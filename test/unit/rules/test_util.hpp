// Helpers shared by the offer rule tests: compile a rule, evaluate it against
// JSON text, and catch the error a rule or context must produce.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/rules/context_tree.hpp"
#include "core/common/error.hpp"
#include "core/rules/rules.hpp"

namespace personalize::rules::testing {

constexpr std::int64_t kNow = 1767225600000000LL;  // 2026-01-01T00:00:00Z
constexpr std::int64_t kDay = 86400LL * 1000000;

inline Truth eval(const std::string &rule, const std::string &context = "{}", std::int64_t now = kNow) {
    const RulePtr r = compile(rule);
    const OwnedContextTree tree = OwnedContextTree::parse(context);
    Evaluator evaluator(tree.view(), now);
    return evaluator.evaluate(*r);
}

inline std::string reason(const std::string &rule, const std::string &context) {
    const RulePtr r = compile(rule);
    const OwnedContextTree tree = OwnedContextTree::parse(context);
    Evaluator evaluator(tree.view(), kNow);
    return evaluator.reason(*r);
}

inline std::vector<ExplainStep> explain(const std::string &rule, const std::string &context) {
    const RulePtr r = compile(rule);
    const OwnedContextTree tree = OwnedContextTree::parse(context);
    Evaluator evaluator(tree.view(), kNow);
    return evaluator.explain(*r);
}

struct Caught {
    bool thrown = false;
    ErrorCode code = ErrorCode::Internal;
    std::string message;
};

inline Caught compile_error(const std::string &rule) {
    Caught c;
    try {
        compile(rule);
    } catch (const Error &e) {
        c.thrown = true;
        c.code = e.code();
        c.message = e.what();
    }
    return c;
}

inline Caught eval_error(const std::string &rule, const std::string &context) {
    Caught c;
    const RulePtr r = compile(rule);
    const OwnedContextTree tree = OwnedContextTree::parse(context);
    try {
        Evaluator evaluator(tree.view(), kNow);
        evaluator.evaluate(*r);
    } catch (const Error &e) {
        c.thrown = true;
        c.code = e.code();
        c.message = e.what();
    }
    return c;
}

}  // namespace personalize::rules::testing

// A compile error with this code and exactly this message.
#define EXPECT_RULE_ERROR(rule, error_code, text)                                  \
    do {                                                                           \
        const auto caught_ = ::personalize::rules::testing::compile_error(rule);  \
        EXPECT_TRUE(caught_.thrown) << "no error for: " << (rule);                \
        EXPECT_EQ(caught_.code, error_code) << caught_.message;                    \
        EXPECT_EQ(caught_.message, text);                                          \
    } while (0)

#define EXPECT_SYNTAX_ERROR(rule, text) EXPECT_RULE_ERROR(rule, ::personalize::ErrorCode::Syntax, text)
#define EXPECT_TYPE_ERROR(rule, text) EXPECT_RULE_ERROR(rule, ::personalize::ErrorCode::InvalidParameter, text)
