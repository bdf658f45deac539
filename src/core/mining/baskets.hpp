// Market baskets: order lines grouped by basket (order), each basket a sorted
// set of distinct item ids. BasketBuilder collects lines in any order (an
// aggregate's transition state, mergeable across parallel workers);
// BasketCollection is the finished, compact form (the SQL type
// personalize.baskets) that mining reads and that can be merged with another
// collection (yesterday's orders added to a stored value).
//
// Every basket holds at least one item. Memory: the functions that take a
// MemoryBudget& charge the arrays of the collection they return to it and
// leave them charged (the collection is alive); temporaries are released.
// BasketBuilder charges its lines to its own budget as they grow; finish()
// releases everything (the builder is left empty).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/common/bytes.hpp"
#include "core/common/interrupt.hpp"
#include "core/common/memory_budget.hpp"

namespace personalize::mining {

class BasketCollection {
public:
    BasketCollection() : offsets_{0} {}

    std::size_t size() const { return ids_.size(); }            // baskets
    std::size_t lines() const { return items_.size(); }         // distinct (basket, item) pairs
    std::int64_t id(std::size_t basket) const { return ids_[basket]; }
    const std::int64_t *begin(std::size_t basket) const { return items_.data() + offsets_[basket]; }
    const std::int64_t *end(std::size_t basket) const { return items_.data() + offsets_[basket + 1]; }
    std::size_t basket_size(std::size_t basket) const { return offsets_[basket + 1] - offsets_[basket]; }
    std::size_t memory_bytes() const;

    // Union of two collections: baskets with the same id are merged (their
    // items united); the result is sorted by basket id like its inputs.
    static BasketCollection merge(const BasketCollection &a, const BasketCollection &b, MemoryBudget &budget,
                                  const Interrupt &interrupt);

    // Appends one basket; ids must be strictly increasing and items sorted and
    // distinct (BasketBuilder and merge guarantee both); count must be > 0.
    // Throws InvalidParameter otherwise.
    void append(std::int64_t id, const std::int64_t *items, std::size_t count);

    // The byte form (core/common/bytes.hpp; also the SQL type's storage,
    // readable back to 0.1.0). deserialize checks every invariant and throws
    // DataCorrupted on malformed input.
    void write(ByteWriter &out) const;
    static BasketCollection deserialize(const unsigned char *data, std::size_t size, MemoryBudget &budget);

    // Text form: {basket_id:{item,item,...},...} e.g. {1:{10,20},7:{10}};
    // the empty collection is {}. from_text accepts whitespace between
    // tokens, baskets and items in any order and repeated (they collapse).
    std::string to_text() const;
    static BasketCollection from_text(const char *text, MemoryBudget &budget);  // InvalidText on bad input

private:
    friend class BasketBuilder;

    std::vector<std::int64_t> ids_;      // sorted, distinct
    std::vector<std::uint64_t> offsets_; // size() + 1 entries into items_
    std::vector<std::int64_t> items_;    // per basket: sorted, distinct
};

class BasketBuilder {
public:
    explicit BasketBuilder(MemoryBudget budget) : budget_(std::move(budget)) {}

    // Duplicates allowed; they collapse in finish(). Inline: the hot path of the aggregate.
    void add(std::int64_t basket_id, std::int64_t item_id) {
        if (lines_.size() == lines_.capacity()) reserve_lines(lines_.size() + 1);
        lines_.push_back({basket_id, item_id});
    }
    void add_all(std::int64_t basket_id, const std::int64_t *items, std::size_t count);
    void merge(const BasketBuilder &other);                  // another worker's lines
    BasketCollection finish(const Interrupt &interrupt);    // sorts and de-duplicates; builder is left empty

    std::size_t pending_lines() const { return lines_.size(); }
    const MemoryBudget &budget() const { return budget_; }  // used / peak bytes of this builder

    // Raw lines for parallel aggregation (serialfunc / deserialfunc).
    void write(ByteWriter &out) const;
    static BasketBuilder deserialize(const unsigned char *data, std::size_t size, MemoryBudget budget);

private:
    friend class BasketCollection;

    struct Line {
        std::int64_t basket;
        std::int64_t item;
    };
    // Grows lines_ to hold at least `needed` lines, charging budget_ first.
    void reserve_lines(std::size_t needed);
    // Sorts `lines`, drops duplicates and builds the collection. The lines'
    // capacity must be charged to `budget`; it is released (and `lines`
    // freed) once consumed; the returned collection stays charged.
    static BasketCollection build(std::vector<Line> &lines, MemoryBudget &budget, const Interrupt &interrupt);

    MemoryBudget budget_;          // lines_.capacity() lines are charged to it
    std::vector<Line> lines_;
};

}  // namespace personalize::mining
