// Options an aggregate takes on every row (kmeans' k, als_fit's factors,
// rfm_breakpoints' bins, customer_summary's as_of, a lifetime fit's
// penalty, ...): one rule and one error for all of them.
#pragma once

#include <initializer_list>
#include <utility>

namespace personalize {

// One option of a row: its SQL argument name, and whether the row's value
// equals the one kept from the first row.
struct RowOption {
    const char *name;
    bool same;
};

// 22023 FUNCTION: "NAME" must be the same for every row (with a hint to pass a constant).
[[noreturn]] void throw_not_same_for_every_row(const char *function, const char *name);

// The first row's options are kept: keep() checks and stores them, and
// `known` becomes true. Every later row, and every partial state merged in,
// must bring the same options: the first of `options` that differs is named
// in the error.
template <typename Keep>
void same_for_every_row(bool &known, const char *function, Keep &&keep, std::initializer_list<RowOption> options) {
    if (!known) {
        std::forward<Keep>(keep)();
        known = true;
        return;
    }
    for (const RowOption &option : options)
        if (!option.same) throw_not_same_for_every_row(function, option.name);
}

}  // namespace personalize
