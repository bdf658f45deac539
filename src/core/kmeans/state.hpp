// The state of the kmeans() aggregate: the points and the options every row
// must agree on, with its byte form (serialfunc / deserialfunc).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/common/bytes.hpp"
#include "core/common/memory_budget.hpp"
#include "core/kmeans/kmeans.hpp"

namespace personalize::kmeans {

struct KMeansFitState {
    explicit KMeansFitState(MemoryBudget budget) : points(std::move(budget)) {}

    KMeansBuilder points;
    bool has_options = false;
    std::int64_t k = 0;
    std::uint64_t seed = 0;
    std::string scaling = "none";  // as given: "zscore", or one kind per feature: "log1p_zscore,zscore,none"
    std::int64_t max_iterations = 300;
    double tolerance = 1e-4;

    // Sets (first row: validated, InvalidParameter) or checks (later rows:
    // same_for_every_row) the options.
    void set_options(std::int64_t k, std::uint64_t seed, std::string_view scaling, std::int64_t max_iterations,
                     double tolerance);
    KMeansOptions options() const;
    // Another worker's state: its options must agree; its points are copied.
    void merge(const KMeansFitState &other);

    void write(ByteWriter &out) const;
    // DataCorrupted on bad bytes (options that do not validate included).
    static KMeansFitState deserialize(const unsigned char *data, std::size_t size, MemoryBudget budget);
};

}  // namespace personalize::kmeans
