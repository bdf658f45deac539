// Limits of the offer rule language (part of the public API, re-exported by
// core/rules/rules.hpp). Over a limit: Error(ErrorCode::ProgramLimit).
#pragma once

#include <cstddef>

namespace personalize::rules {

constexpr std::size_t kMaxRuleBytes = 4000;  // rule text
constexpr int kMaxDepth = 32;                // nesting: parentheses, not, unary minus, function calls
constexpr std::size_t kMaxListItems = 1000;  // literals in one [...] list
constexpr std::size_t kMaxRuleFields = 64;   // distinct fields one rule reads

}  // namespace personalize::rules
