// Rules with one antecedent item (max_len 2): count every co-occurring pair
// of rule-capable frequent items and store the frequent pairs.
#pragma once

#include <cstdint>
#include <functional>

#include "core/mining/data.hpp"

namespace personalize::mining {

enum class PairCounter { Automatic, Dense, Rows, Hash };

// Adds every frequent pair that can yield a rule to `store` (length 2).
// Counters, chosen by memory:
//   Dense: a triangular array of every possible pair (4 bytes each), when
//          that is small (few frequent items);
//   Rows:  one item at a time: the suffixes after item i of the transactions
//          holding i (an inverted index, 8 bytes per item occurrence) are
//          counted into one dense row of counters; memory grows with the
//          data, not with the square of the items;
//   Hash:  a hash map of the pairs that occur (fallback beyond 2^32 item
//          occurrences, where the inverted index's 32-bit offsets end).
// `counter` forces one (tests and benchmarks).
void count_pairs(const MiningContext &ctx, const Transactions &transactions, ItemsetStore &store,
                 PairCounter counter = PairCounter::Automatic);

// The same counting, streamed: `sink` receives every frequent pair that can
// yield a rule as global ids a < b with its count, and nothing is stored
// (item-item similarities keep only each item's best neighbours). Pairs
// arrive in an order that depends on the counter.
using PairSink = std::function<void(std::uint32_t a, std::uint32_t b, std::uint32_t count)>;
void count_pairs(const MiningContext &ctx, const Transactions &transactions, const PairSink &sink,
                 PairCounter counter = PairCounter::Automatic);

}  // namespace personalize::mining
