// The input of the buy-till-you-die lifetime models, per customer, and the
// weighted aggregation that keeps a fit state small.
//
// A customer is (x, t_x, T) as produced by customer_summary():
//   x   = frequency, the number of repeat purchases (a whole number >= 0);
//   t_x = recency, the time of the last purchase after the first (>= 0);
//   T   = age, the time from the first purchase to the end of the
//         observation period (>= t_x);
// all times in one unit of the caller's choosing (days, weeks, ...). The
// fitted scale parameters (alpha, beta) are in that unit.
//
// Rules, the same for BG/NBD and Pareto/NBD, checked by validate_customer():
//   * every number finite (no NaN, no Infinity);
//   * x a whole number >= 0, t_x >= 0, T >= 0 and t_x <= T;
//   * x = 0 requires t_x = 0 (no repeat purchase, no recency);
//   * x > 0 requires t_x > 0: repeat purchases happen after the first one.
//     (customer_summary() counts one purchase per day, so its recency is at
//     least one day when x > 0; a row with x > 0 and t_x = 0 is a data error,
//     typically a recency measured in a unit coarser than the data.)
// A weight w > 0 (finite) is the number of identical customers, so a fit on
// `GROUP BY x, t_x, T` rows with w = count(*) equals the fit on the raw rows.
//
// Both accumulators keep one entry per distinct input with its total weight
// (CDNOW's 2,357 customers have 1,016 distinct triples) and hand the rows out
// sorted, so a fit does not depend on the order of add() and merge() calls.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/common/bytes.hpp"

namespace personalize::lifetime {

// One (aggregated) customer of a transaction model.
struct RfRow {
    double x;    // frequency (repeat purchases)
    double t_x;  // recency
    double T;    // age
    double w;    // weight: number of customers with these values
};

// One (aggregated) customer of the Gamma-Gamma spend model.
struct SpendRow {
    double x;  // frequency (repeat purchases), > 0
    double m;  // mean value of the repeat purchases, > 0
    double w;  // weight
};

// Rows in canonical order (by x, then t_x, then T) with, per row, the rank
// of each coordinate among that coordinate's distinct values: what the
// likelihoods need to evaluate per-x / per-time terms once per distinct value.
struct RankedRfRows {
    std::vector<RfRow> rows;
    std::vector<double> xs, t_xs, Ts;      // distinct values, ascending
    std::vector<std::uint32_t> xi, ti, Ti;  // per row: index into xs, t_xs, Ts
};

// Throws InvalidParameter naming the field, e.g.
// `bgnbd: "recency" must not exceed "age"`. `model` prefixes the message.
void validate_customer(const char *model, double x, double t_x, double T);
void validate_weight(const char *model, double w);
// x must be a finite whole number >= 0; monetary must be finite.
void validate_spend(const char *model, double x, double m);

// Open-addressing map from K doubles (compared bitwise, -0 folded into +0 by
// the callers) to a weight: a flat entry array plus a power-of-two index
// table with linear probing. Several times faster than std::unordered_map
// for the 10^5-10^6 distinct keys of a large customer base.
template <int K>
class WeightTable {
public:
    struct Entry {
        double key[K];
        double w;
    };

    // The weight slot of `key`, inserted with weight 0 if new.
    double &at(const double *key);
    // The slot, or nullptr.
    double *find(const double *key);
    const std::vector<Entry> &entries() const { return entries_; }
    std::size_t size() const { return entries_.size(); }
    void reserve(std::size_t n);
    std::size_t memory_bytes() const {
        return entries_.capacity() * sizeof(Entry) + slots_.capacity() * sizeof(std::uint32_t);
    }

private:
    static std::size_t hash(const double *key);
    void rehash(std::size_t capacity);

    std::vector<Entry> entries_;
    std::vector<std::uint32_t> slots_;  // 0 = empty, else entry index + 1
};

// The aggregated (x, t_x, T) input of a BG/NBD or Pareto/NBD fit.
class RfAccumulator {
public:
    // `model` ("bgnbd", "pareto_nbd") names the model in messages and is
    // written into the serialized form, so one model's state cannot be read
    // as another's. It must be a string literal (it is not copied).
    explicit RfAccumulator(const char *model) : model_(model) {}

    void add(double x, double t_x, double T, double w = 1.0);
    void merge(const RfAccumulator &other);

    bool empty() const { return map_.size() == 0; }
    std::size_t distinct() const { return map_.size(); }
    double total_weight() const;
    // Sorted by (x, t_x, T).
    std::vector<RfRow> rows() const { return ranked_rows().rows; }
    RankedRfRows ranked_rows() const;
    const char *model() const { return model_; }
    // Rough heap use, for a caller that enforces a memory limit.
    std::size_t memory_bytes() const;

    // The byte form (core/common/bytes.hpp). read() throws DataCorrupted
    // when the bytes are not a state of this model.
    void write(ByteWriter &out) const;
    static RfAccumulator read(ByteReader &in, const char *model);

private:
    const char *model_;
    WeightTable<3> map_;
};

// The aggregated (x, monetary) input of a Gamma-Gamma fit. Only repeat
// buyers (x > 0) with a positive monetary value enter the model; the others
// are counted in ignored_weight() and otherwise left out.
class SpendAccumulator {
public:
    void add(double x, double m, double w = 1.0);
    void merge(const SpendAccumulator &other);

    bool empty() const { return map_.size() == 0; }
    std::size_t distinct() const { return map_.size(); }
    double total_weight() const;
    double ignored_weight() const { return ignored_; }
    // Sorted by (x, m).
    std::vector<SpendRow> rows() const;
    std::size_t memory_bytes() const;

    void write(ByteWriter &out) const;
    static SpendAccumulator read(ByteReader &in);

private:
    WeightTable<2> map_;
    double ignored_ = 0.0;
};

// What a model's fit state (the aggregate state of its SQL fit) hands on to
// its accumulator, its byte form included; the model's state adds add(),
// merge(), read() and the fit itself.
template <typename Accumulator>
class AccumulatedState {
public:
    bool empty() const { return data_.empty(); }
    std::size_t distinct() const { return data_.distinct(); }
    double total_weight() const { return data_.total_weight(); }
    std::size_t memory_bytes() const { return data_.memory_bytes(); }
    const Accumulator &data() const { return data_; }

    void write(ByteWriter &out) const { data_.write(out); }

protected:
    explicit AccumulatedState(Accumulator data) : data_(std::move(data)) {}

    Accumulator data_;
};

}  // namespace personalize::lifetime
