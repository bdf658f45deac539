// Area under the ROC curve of scores against binary labels: the core of the
// aggregate personalize.auc(score, label).
//
// AUC = P(score of a random positive > score of a random negative), ties
// counting one half: the Mann-Whitney U statistic divided by
// positives * negatives, computed from mid-ranks after one sort. Exact and
// independent of the row order (a parallel plan's workers in any order).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "core/common/bytes.hpp"
#include "core/common/charged_vector.hpp"
#include "core/common/interrupt.hpp"
#include "core/common/memory_budget.hpp"

namespace personalize::propensity {

class AucCollector {
public:
    explicit AucCollector(MemoryBudget budget) : budget_(std::move(budget)), rows_(budget_, "auc input rows") {}
    AucCollector(const AucCollector &) = delete;
    AucCollector &operator=(const AucCollector &) = delete;

    // One row; a NaN score is an InvalidParameter error naming "score"
    // (infinite scores are ordered like any other).
    void add(double score, bool label);
    void merge(const AucCollector &other);
    std::size_t rows() const { return rows_.size(); }

    // NULL (nullopt) without a positive and a negative row. Sorts the rows.
    std::optional<double> auc(const Interrupt &interrupt = Interrupt());

    // The byte form (serialfunc / deserialfunc); read() adds the rows of a
    // serialised collector (DataCorrupted on bad bytes).
    void write(ByteWriter &out) const;
    void read(ByteReader &in);

private:
    struct Row {
        double score;
        std::uint64_t label;  // 0 / 1 (a full word keeps the layout simple)
    };
    MemoryBudget budget_;
    ChargedVector<Row> rows_;
};

}  // namespace personalize::propensity
