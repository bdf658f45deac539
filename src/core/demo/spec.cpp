// The demo shop's sizes (make_spec) and the check of a hand-made spec.
#include <cstdint>
#include <string>

#include "core/common/error.hpp"
#include "core/demo/walk.hpp"

namespace personalize::demo {

namespace {

// 2024-01-01 and 2026-01-01, 00:00 UTC, in Unix microseconds.
constexpr std::int64_t kHistoryStart = 1704067200LL * kSecond;
constexpr std::int64_t kHistoryEnd = 1767225600LL * kSecond;
constexpr std::int64_t kSessionDays = 90;
constexpr std::int64_t kMinProducts = 80;  // every base name (70) at least once, with room to spare

}  // namespace

ShopSpec make_spec(const std::string &size, std::int64_t seed) {
    ShopSpec spec;
    if (size == "tiny") {
        spec.customers = 300;
        spec.products = 80;
    } else if (size == "demo") {
        spec.customers = 10000;
        spec.products = 1000;
    } else if (size == "bench") {
        spec.customers = 200000;
        spec.products = 20000;
    } else {
        throw_invalid("demo shop: \"size\" must be one of tiny, demo, bench");
    }
    spec.size = size;
    spec.seed = static_cast<std::uint64_t>(seed);
    spec.mean_lines = 10.0;
    spec.history_start = kHistoryStart;
    spec.history_end = kHistoryEnd;
    spec.sessions_from = kHistoryEnd - kSessionDays * kDay;
    return spec;
}

const ShopSpec &checked(const ShopSpec &spec) {
    if (spec.customers < 0 || spec.customers > 100000000)
        throw_invalid("demo shop: \"customers\" must be between 0 and 100000000");
    if (spec.products < kMinProducts || spec.products > 1000000)
        throw_invalid("demo shop: \"products\" must be between " + std::to_string(kMinProducts) + " and 1000000");
    if (!(spec.mean_lines >= 2.0 && spec.mean_lines <= 30.0))
        throw_invalid("demo shop: \"mean_lines\" must be between 2 and 30");
    if (!(spec.history_start < spec.history_end) || spec.sessions_from < spec.history_start ||
        spec.sessions_from >= spec.history_end || spec.history_end - spec.history_start > 20 * 366 * kDay)
        throw_invalid("demo shop: the history window is invalid");
    return spec;
}

}  // namespace personalize::demo
