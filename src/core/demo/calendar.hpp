// The demo shop's clock: time units (Unix microseconds), and the hours of
// the day people shop at (busy evenings), for placing signups, orders and
// visits at realistic times.
#pragma once

#include <cstdint>

#include "core/demo/distributions.hpp"
#include "core/demo/shop.hpp"

namespace personalize::demo {

constexpr std::int64_t kSecond = 1000000;
constexpr std::int64_t kMinute = 60 * kSecond;
constexpr std::int64_t kHour = 60 * kMinute;
constexpr std::int64_t kDay = 24 * kHour;

class Calendar {
public:
    explicit Calendar(const ShopSpec &spec);

    // Whole days in the history.
    std::int64_t days() const { return days_; }

    // A moment of day `day` of the history: the hour by the share of
    // activity, the time within it uniform.
    std::int64_t moment_in_day(Random &rng, std::int64_t day) const {
        const auto hour = static_cast<std::int64_t>(hours_.sample(rng));
        const auto within = static_cast<std::int64_t>(scaled_below(rng, static_cast<std::uint64_t>(kHour)));
        return start_ + day * kDay + hour * kHour + within;
    }

    // t moved to a realistic moment of its day, strictly after `after`.
    std::int64_t place_in_day(Random &rng, std::int64_t t, std::int64_t after) const {
        std::int64_t r = moment_in_day(rng, (t - start_) / kDay);
        if (r <= after) r = after + kMinute + static_cast<std::int64_t>(scaled_below(rng, 2 * kHour));
        return r;
    }

private:
    std::int64_t start_;
    std::int64_t days_;
    AliasTable hours_;
};

}  // namespace personalize::demo
