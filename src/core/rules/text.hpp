// Text helpers of the offer rule language: source positions (line and column
// in code points) for error messages, UTF-8 checks, quoting, truncation and
// "did you mean" suggestions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/error.hpp"

namespace personalize::rules::detail {

struct Position {
    std::size_t line = 1;
    std::size_t column = 1;  // 1-based, in code points (a tab is one column)
};
Position locate(std::string_view text, std::size_t offset);

// "line L, column C".
std::string where(std::string_view text, std::size_t offset);

// Throws Error(code, "rule: line L, column C: " + message).
[[noreturn]] void fail_at(ErrorCode code, std::string_view text, std::size_t offset, const std::string &message);

// Offset of the first byte that does not start a valid UTF-8 sequence, or npos.
std::size_t invalid_utf8_offset(std::string_view text);
// The code point at `offset` of valid UTF-8 text and its length in bytes.
std::uint32_t code_point_at(std::string_view text, std::size_t offset, std::size_t &length);
// "U+00A0".
std::string code_point_name(std::uint32_t cp);

// At most max_bytes of s, cut at a code point boundary, with "..." when cut.
std::string truncate_utf8(std::string_view s, std::size_t max_bytes);

// A text literal as the rule language writes it: 'it''s'.
std::string quote_text(std::string_view s);

// Optimal string alignment distance (insertions, deletions, substitutions,
// adjacent transpositions), ASCII case-insensitive.
std::size_t edit_distance(std::string_view a, std::string_view b);
// The candidate closest to word when it is close enough to be a typo, else "".
std::string_view closest_match(std::string_view word, const std::vector<std::string_view> &candidates);

}  // namespace personalize::rules::detail
