// The best k candidates of one item's row, for the models that score a whole
// row at a time (EASE, RP3beta): higher score first, then the smaller id — a
// total order, so the kept neighbours never depend on the order of the row.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "core/common/charged_vector.hpp"

namespace personalize::suggest {

struct Candidate {
    double score;
    std::uint32_t item;  // global id
};

inline bool better_candidate(const Candidate &x, const Candidate &y) {
    return x.score > y.score || (x.score == y.score && x.item < y.item);
}

// Leaves the best k of `row` in it, best first.
inline void keep_best(ChargedVector<Candidate> &row, std::size_t k) {
    if (row.size() > k) {
        std::nth_element(row.begin(), row.begin() + static_cast<std::ptrdiff_t>(k), row.end(), better_candidate);
        while (row.size() > k) row.pop_back();
    }
    std::sort(row.begin(), row.end(), better_candidate);
}

}  // namespace personalize::suggest
