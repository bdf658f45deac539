// How values are written in explain/reason output and in messages: numbers
// as the shortest text that reads back as the same double (integers without
// ".0"), money with two decimals and its code, timestamps in ISO 8601 UTC,
// text quoted like a rule literal, long lists abbreviated.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/rules/context_tree.hpp"

namespace personalize::rules::detail {

constexpr std::size_t kShownTextBytes = 80;   // longer text values are cut with "..."
constexpr std::size_t kShownListItems = 10;   // longer lists show their first items and the count

std::string format_number(double v);
// A number as reason() and explain() show it: integers exactly, anything else
// to 6 significant digits (days_since 366.381, not 366.3812347244676).
std::string format_shown_number(double v);
// 1234567 -> "1,234,567" (item counts in messages).
std::string format_count(std::size_t n);

// A JSON value of the context in a message: true, 42, "text" (cut), an array
// of 3 items, an object, null.
std::string describe_json(const ContextNode &node);

}  // namespace personalize::rules::detail
