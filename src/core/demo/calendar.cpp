// The demo shop's hours of activity (see calendar.hpp).
#include "core/demo/calendar.hpp"

#include <iterator>
#include <vector>

namespace personalize::demo {

namespace {

// Share of activity per UTC hour (the customers are mostly in Europe): busy evenings.
constexpr double kHourWeights[24] = {
    1.0, 0.6, 0.4, 0.3, 0.3, 0.5, 1.2, 2.2, 3.0, 3.5, 3.8, 4.0,
    4.8, 4.5, 4.0, 4.0, 4.3, 5.0, 6.0, 7.5, 8.5, 8.0, 5.5, 2.8,
};

}  // namespace

Calendar::Calendar(const ShopSpec &spec)
    : start_(spec.history_start),
      days_((spec.history_end - spec.history_start) / kDay),
      hours_(std::vector<double>(std::begin(kHourWeights), std::end(kHourWeights))) {}

}  // namespace personalize::demo
