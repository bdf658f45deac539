// explain() and reason(): rule evaluation shown condition by condition, with
// the values each condition saw ("cart.total = 42.50 GBP",
// "customer.p_alive is missing").
#pragma once

#include <string>
#include <vector>

#include "core/rules/rules.hpp"

namespace personalize::rules::detail {

std::string reason(EvalState &s, const Program &p);
// reason() for a rule the caller has just evaluated as TRUE (no re-run of the
// whole rule), appended to `out`.
void append_reason_of_true(EvalState &s, const Program &p, std::string &out);
std::vector<ExplainStep> explain(EvalState &s, const Program &p);

// A value as explain shows it: 42.50 GBP, 'gold', 2026-01-01T00:00:00Z, [1, 2, 3].
std::string format_value(const Slot &v, Type type);

}  // namespace personalize::rules::detail
