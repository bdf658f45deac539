// RFM (recency, frequency, monetary) scoring by population quantiles.
//
// The rule (equal to NTILE(bins) on tie-free data, identical values always
// get the same score):
//   * sort the n values ascending;
//   * NTILE puts ceil(n/N) rows in the first n mod N buckets and floor(n/N)
//     in the rest; start(k) is the first (0-based) position of bucket k;
//   * breakpoint k is the value at position start(k+1), or, when a run of
//     identical values starts before that position and reaches it, the first
//     value after the run (none when the run reaches the top; none either for
//     buckets NTILE would leave empty when n < N);
//   * score(v) = 1 + #{breakpoints b : b <= v}.
// A run of identical values spanning a bucket start therefore stays whole in
// the bucket where it begins, where NTILE would split it arbitrarily.
//
// Recency is "time since the last purchase" (lower is better): the rule is
// applied to the negated values, so the most recent customers score N. The
// recency breakpoints are stored in the original units, ascending, and
// recency score(v) = 1 + #{breakpoints b : b >= v}.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/bytes.hpp"
#include "core/common/interrupt.hpp"
#include "core/common/memory_budget.hpp"

namespace personalize::customers {

constexpr int kRfmMinBins = 2;
constexpr int kRfmMaxBins = 10;
constexpr int kRfmDefaultBins = 5;

// InvalidParameter naming "bins" unless kRfmMinBins <= bins <= kRfmMaxBins.
// `function` prefixes the message, e.g. "rfm_breakpoints".
void validate_rfm_bins(std::int64_t bins, const char *function);

// First 0-based position of each bucket k = 1..bins in NTILE(bins) over n
// rows: element k-1 is start(k). start(1) = 0.
std::vector<std::size_t> ntile_starts(std::size_t n, int bins);

// The breakpoints of `values` (any order; reordered in place) for `bins`
// buckets: the values at positions start(2..bins) of the ascending order,
// only those positions that exist (< n).
std::vector<double> quantile_breakpoints(std::vector<double> &values, int bins, const Interrupt &interrupt = Interrupt());

// 1 + #{b in breakpoints : b <= v} ("higher is better" scores).
int score_ascending(const std::vector<double> &breakpoints, double v);
// 1 + #{b in breakpoints : b >= v} (recency: lower is better).
int score_descending(const std::vector<double> &breakpoints, double v);

struct RfmScore {
    int r, f, m;
};

struct RfmBreakpoints {
    int bins = kRfmDefaultBins;
    std::int64_t customers = 0;
    std::vector<double> recency, frequency, monetary;  // ascending, in the input's units

    // Checks the values (finite, named in the error) and scores them.
    RfmScore score(double recency, double frequency, double monetary) const;

    // {"bins":5,"customers":n,"recency":[...],"frequency":[...],"monetary":[...]}
    // Numbers use the shortest text that reads back as the same double.
    std::string to_json() const;
    // Strict reader of to_json()'s output (keys in any order, unknown keys
    // rejected); InvalidParameter naming "breakpoints" on anything else.
    static RfmBreakpoints from_json(std::string_view text);
};

// The aggregate state of rfm_breakpoints: every customer's three values,
// charged to a MemoryBudget.
class RfmCollector {
public:
    explicit RfmCollector(MemoryBudget budget = MemoryBudget()) : budget_(std::move(budget)) {}
    RfmCollector(RfmCollector &&) = default;
    RfmCollector &operator=(RfmCollector &&) = default;
    RfmCollector(const RfmCollector &) = delete;
    RfmCollector &operator=(const RfmCollector &) = delete;

    // Sets (first call) or checks (later calls) the number of bins.
    void set_bins(std::int64_t bins);
    // One customer; every value must be finite (InvalidParameter naming it).
    void add(double recency, double frequency, double monetary);
    // Appends another collector's customers (another parallel worker's).
    void merge(const RfmCollector &other);

    std::size_t size() const { return values_.size() / 3; }
    bool empty() const { return values_.empty(); }
    int bins() const { return bins_; }
    const MemoryBudget &budget() const { return budget_; }

    // The quantiles. Charges its working copies to the budget.
    RfmBreakpoints breakpoints(const Interrupt &interrupt = Interrupt()) const;

    // The byte form for parallel aggregation (core/common/bytes.hpp).
    // deserialize() checks it and throws DataCorrupted on bad bytes.
    void write(ByteWriter &out) const;
    static RfmCollector deserialize(const unsigned char *data, std::size_t size, MemoryBudget budget);

private:
    void reserve_values(std::size_t needed);

    MemoryBudget budget_;     // values_.capacity() doubles are charged to it
    int bins_ = 0;            // 0 until set_bins
    std::vector<double> values_;  // r, f, m interleaved
};

}  // namespace personalize::customers
