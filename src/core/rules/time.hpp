// Timestamps of the offer rule language: microseconds since the Unix epoch,
// UTC, read from ISO 8601 text and written back as ISO 8601 UTC.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

namespace personalize::rules::detail {

// PostgreSQL's 'infinity' / '-infinity'.
constexpr std::int64_t kInfinityTime = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kMinusInfinityTime = std::numeric_limits<std::int64_t>::min();
constexpr std::int64_t kMicrosPerHour = 3600LL * 1000000;
constexpr std::int64_t kMicrosPerDay = 24 * kMicrosPerHour;

inline bool is_finite_time(std::int64_t t) { return t != kInfinityTime && t != kMinusInfinityTime; }

// Accepts YYYY-MM-DD, optionally followed by "T" or " " and HH:MM[:SS[.fraction]]
// and an offset (Z, +HH, +HH:MM, +HHMM, +HH:MM:SS; none = UTC), years
// 0001-9999, and "infinity" / "-infinity". That covers what PostgreSQL's
// to_jsonb() writes for timestamptz, timestamp and date. Fractions beyond
// microseconds are rounded. On failure returns false and says why
// ("month 13", "expected ...").
bool parse_timestamp(std::string_view text, std::int64_t &micros, std::string &why);

// "2026-01-01T10:00:00Z", with ".250000"-style fractions trimmed of zeros
// ("2026-01-01T10:00:00.25Z"); "infinity" / "-infinity".
std::string format_timestamp(std::int64_t micros);

// Days since 1970-01-01 of a proleptic Gregorian date, and back.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d);
void civil_from_days(std::int64_t z, std::int64_t &y, unsigned &m, unsigned &d);

}  // namespace personalize::rules::detail
