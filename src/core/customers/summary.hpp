// Per-customer purchase summary: the input of RFM scoring and of the
// buy-till-you-die lifetime models (BG/NBD, Pareto/NBD, Gamma-Gamma).
//
// Semantics follow lifetimes / BTYD exactly:
//   * every order is reduced to its calendar day (the caller decides the time
//     zone; the PostgreSQL glue uses the session's TimeZone);
//   * all orders on one day form one purchase, their amounts summed;
//   * frequency = purchase days - 1 (repeat purchases);
//   * recency   = (last purchase day - first purchase day) / unit;
//   * age       = (as_of day - first purchase day) / unit;
//   * monetary  = mean amount of the repeat purchase days (the first day is
//     left out), 0 when there are none.
// Amounts may be negative (returns); they are summed into their day like any
// other amount.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/common/bytes.hpp"

namespace personalize::customers {

// Arguments that must be the same for every row of one summary.
struct SummaryParams {
    std::int64_t as_of = 0;     // an opaque, ordered timestamp (the glue: PostgreSQL microseconds)
    std::int32_t as_of_day = 0; // calendar day of as_of, same day numbering as add()
    double unit_days = 1.0;     // length of the reporting unit in days, > 0

    bool operator==(const SummaryParams &o) const {
        return as_of == o.as_of && as_of_day == o.as_of_day && unit_days == o.unit_days;
    }
};

struct SummaryResult {
    std::int64_t orders;
    std::int64_t first_order_at;
    std::int64_t last_order_at;
    std::int64_t frequency;
    double recency;
    double age;
    double monetary;
    double total;
};

class CustomerSummary {
public:
    // Checks the arguments of one row (names them in the error) and records it.
    void add(const SummaryParams &params, std::int64_t ordered_at, std::int32_t day, double amount);

    // Folds another partial summary (another parallel worker's) into this one.
    void merge(const CustomerSummary &other);

    bool empty() const { return orders_ == 0; }
    // The arguments of the first row, or nullptr before any row.
    const SummaryParams *params() const { return has_params_ ? &params_ : nullptr; }
    SummaryResult result() const;

    // Flat byte form for parallel aggregation (serialfunc / deserialfunc).
    void write(ByteWriter &out) const;
    static CustomerSummary deserialize(const unsigned char *data, std::size_t size);

    static void validate_params(const SummaryParams &params);

private:
    struct DayTotal {
        std::int32_t day;
        double amount;
    };

    void set_params(const SummaryParams &params);

    bool has_params_ = false;
    SummaryParams params_;
    std::int64_t orders_ = 0;
    std::int64_t first_at_ = 0;
    std::int64_t last_at_ = 0;
    std::vector<DayTotal> days_;  // sorted by day, one entry per purchase day
};

}  // namespace personalize::customers
