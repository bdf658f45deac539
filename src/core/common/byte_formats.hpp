// Every kind of serialised value of pg_personalize in one list: its tag and
// versions (the header of core/common/bytes.hpp). One list, so no two kinds
// share a tag and docs/architecture.md can name them all.
//
// The rule for versions: a version changes only when the layout after the
// header changes. The two stored SQL types are on disk: every version ever
// written stays readable (their oldest_version never rises). Aggregate
// states are transient (one query), so a new layout may drop the old one.
#pragma once

#include "core/common/bytes.hpp"

namespace personalize::byte_formats {

// ---- stored SQL types (on disk)
// personalize.baskets (BasketCollection). Version 0 is the layout of 0.1.0,
// whose header was "u32 tag, u32 reserved 0": read as version 0, flags 0.
inline constexpr ByteFormat kBaskets{byte_tag("PBK1"), 0, 0};
// personalize.als_model. 0.1.0 wrote "u32 magic, u32 version 1": version 1, flags 0.
inline constexpr ByteFormat kAlsModel{byte_tag("ALM1"), 1, 1};

// ---- aggregate states (serialfunc / deserialfunc)
inline constexpr ByteFormat kBasketLines{byte_tag("BKLN"), 1, 1};      // baskets(): order lines
inline constexpr ByteFormat kCustomerSummary{byte_tag("CSUM"), 1, 1};  // customer_summary()
inline constexpr ByteFormat kRfmValues{byte_tag("RFMC"), 1, 1};        // rfm_breakpoints()
inline constexpr ByteFormat kKMeansPoints{byte_tag("KMPT"), 1, 1};     // kmeans(): the points
inline constexpr ByteFormat kKMeansState{byte_tag("KMST"), 1, 1};      // kmeans(): options and points
inline constexpr ByteFormat kLifetimeCustomers{byte_tag("LTRF"), 1, 1};  // bgnbd_fit(), pareto_nbd_fit(): (x, t_x, T, w)
inline constexpr ByteFormat kLifetimeSpend{byte_tag("LTSP"), 1, 1};      // gamma_gamma_fit(): (x, m, w)
inline constexpr ByteFormat kLifetimeFitState{byte_tag("LTFS"), 1, 1};   // the three fits: penalty and customers
inline constexpr ByteFormat kAlsRows{byte_tag("ALSR"), 1, 1};          // als_fit(): the rows
inline constexpr ByteFormat kAlsFitState{byte_tag("ALSS"), 1, 1};      // als_fit(): options and rows
inline constexpr ByteFormat kLogisticRows{byte_tag("LGRW"), 1, 1};     // logistic_fit(): the rows
inline constexpr ByteFormat kLogisticFitState{byte_tag("LGST"), 1, 1}; // logistic_fit(): options, names and rows
inline constexpr ByteFormat kAucRows{byte_tag("AUCR"), 1, 1};          // auc()

inline constexpr ByteFormat kAll[] = {kBaskets,         kAlsModel,          kBasketLines,   kCustomerSummary,
                                      kRfmValues,       kKMeansPoints,      kKMeansState,   kLifetimeCustomers,
                                      kLifetimeSpend,   kLifetimeFitState,  kAlsRows,       kAlsFitState,
                                      kLogisticRows,    kLogisticFitState,  kAucRows};

constexpr bool tags_distinct() {
    const std::size_t n = sizeof kAll / sizeof kAll[0];
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = i + 1; j < n; ++j)
            if (kAll[i].tag == kAll[j].tag) return false;
    return true;
}
static_assert(tags_distinct(), "two byte formats share a tag");

}  // namespace personalize::byte_formats
