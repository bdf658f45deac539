#include "core/mining/pair_counting.hpp"

#include <algorithm>
#include <limits>

#include "core/common/charged_hash_map.hpp"
#include "core/common/error.hpp"

namespace personalize::mining {

namespace {

constexpr std::size_t kSmallTriangleBytes = std::size_t{16} << 20;

template <bool Filtered>
bool pair_allowed(const std::uint8_t *rank_role, std::uint32_t i, std::uint32_t j) {
    if constexpr (!Filtered) {
        return true;
    } else {
        const std::uint8_t ri = rank_role[i], rj = rank_role[j];
        return ((ri & kCanBeAntecedent) && (rj & kCanBeConsequent)) ||
               ((rj & kCanBeAntecedent) && (ri & kCanBeConsequent));
    }
}

// Calls visit(i, j) for every pair of ranks i < j of each transaction that
// could form a rule under the filters.
template <bool Filtered, typename Visit>
void for_each_pair(const MiningContext &ctx, const Transactions &tx, const std::uint8_t *rank_role, Visit &&visit) {
    for (std::size_t t = 0; t < tx.size(); ++t) {
        ctx.interrupt.poll();
        const std::uint32_t *items = tx.items.data() + tx.begin_of(t);
        const std::size_t m = tx.ends[t] - tx.begin_of(t);
        for (std::size_t a = 0; a + 1 < m; ++a) {
            if (m > 64) ctx.interrupt.poll();  // a long basket: poll per row, too
            const std::uint32_t i = items[a];
            for (std::size_t b = a + 1; b < m; ++b) {
                const std::uint32_t j = items[b];
                if (pair_allowed<Filtered>(rank_role, i, j)) visit(i, j);
            }
        }
    }
}

template <typename Visit>
void pairs(const MiningContext &ctx, const Transactions &tx, const std::uint8_t *rank_role, Visit &&visit) {
    if (ctx.antecedent_filter || ctx.consequent_filter)
        for_each_pair<true>(ctx, tx, rank_role, visit);
    else
        for_each_pair<false>(ctx, tx, rank_role, visit);
}

void emit_pair(const MiningContext &ctx, const PairSink &sink, std::uint32_t i, std::uint32_t j, std::uint32_t count) {
    std::uint32_t a = ctx.rank_to_global[i], b = ctx.rank_to_global[j];
    if (a > b) std::swap(a, b);
    ++ctx.stats.frequent_itemsets;
    sink(a, b, count);
}

template <typename Key>
void count_with_hash(const MiningContext &ctx, const Transactions &tx, const std::uint8_t *rank_role,
                     const PairSink &sink) {
    constexpr unsigned kShift = sizeof(Key) * 4;
    ChargedHashMap<Key, std::uint32_t> counts(ctx.budget, "association_rules: pair counters");
    pairs(ctx, tx, rank_role, [&](std::uint32_t i, std::uint32_t j) {
        ++counts[static_cast<Key>((static_cast<Key>(i) << kShift) | j)];
    });
    // Frequent pairs, ordered so what the sink receives does not depend on the
    // hash table's iteration order (the rule store sorts again anyway).
    ChargedVector<std::pair<Key, std::uint32_t>> frequent(ctx.budget, "association_rules: pair counters");
    for (const auto &entry : counts.map()) {
        ctx.interrupt.poll();
        if (entry.second >= ctx.min_count) frequent.push_back({entry.first, entry.second});
    }
    std::sort(frequent.begin(), frequent.end());
    const Key mask = static_cast<Key>((Key{1} << kShift) - 1);
    for (const auto &[key, count] : frequent) {
        ctx.interrupt.poll();
        const auto i = static_cast<std::uint32_t>(key >> kShift), j = static_cast<std::uint32_t>(key & mask);
        emit_pair(ctx, sink, i, j, count);
    }
}

void count_with_triangle(const MiningContext &ctx, const Transactions &tx, const std::uint8_t *rank_role,
                         const PairSink &sink) {
    const std::uint64_t f = ctx.ranked;
    // Row i holds the pairs (i, j > i); it starts at i * (2f - i - 1) / 2.
    ChargedVector<std::uint64_t> row(ctx.budget, "association_rules: pair counters");
    row.resize(f);
    // row[i] + j is the cell of (i, j); the sum wraps around for i = 0 (well
    // defined for unsigned integers) and is always a valid index.
    for (std::uint64_t i = 0; i < f; ++i) row[i] = i * (2 * f - i - 1) / 2 - i - 1;
    ChargedVector<std::uint32_t> counts(ctx.budget, "association_rules: pair counters");
    counts.assign(f * (f - 1) / 2, 0);
    std::uint32_t *cells = counts.data();
    const std::uint64_t *rows = row.data();
    pairs(ctx, tx, rank_role, [&](std::uint32_t i, std::uint32_t j) { ++cells[rows[i] + j]; });
    for (std::uint64_t i = 0; i + 1 < f; ++i) {
        ctx.interrupt.poll();
        const std::uint64_t r = rows[i];
        for (std::uint64_t j = i + 1; j < f; ++j) {
            const std::uint32_t c = cells[r + j];
            if (c >= ctx.min_count)
                emit_pair(ctx, sink, static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(j), c);
        }
    }
}

constexpr std::uint64_t kPrefetch = 16;

inline void prefetch(const void *p) {
#if defined(__GNUC__)
    __builtin_prefetch(p);
#else
    (void)p;
#endif
}

struct Suffix {
    std::uint32_t begin, end;  // positions in Transactions::items
};

template <bool Filtered>
void count_rows(const MiningContext &ctx, const Transactions &tx, const std::uint8_t *rank_role, const PairSink &sink) {
    const std::size_t f = ctx.ranked;
    const std::uint32_t *items = tx.items.data();
    // Inverted index: for each rank i, the non-empty suffixes that follow i
    // in the transactions holding it (transactions are sorted by rank, so
    // the suffix holds exactly the partners j > i). Built by counting sort.
    ChargedVector<std::uint64_t> start(ctx.budget, "association_rules: pair counters");
    start.assign(f + 1, 0);
    for (std::size_t t = 0; t < tx.size(); ++t)
        for (std::uint64_t p = tx.begin_of(t); p + 1 < tx.ends[t]; ++p) ++start[items[p] + 1];
    for (std::size_t i = 0; i < f; ++i) start[i + 1] += start[i];
    ChargedVector<Suffix> suffixes(ctx.budget, "association_rules: pair counters");
    suffixes.resize(start[f]);
    {
        ChargedVector<std::uint64_t> fill(ctx.budget, "association_rules: pair counters");
        fill.resize(f);
        std::copy(start.begin(), start.begin() + static_cast<std::ptrdiff_t>(f), fill.begin());
        for (std::size_t t = 0; t < tx.size(); ++t) {
            ctx.interrupt.poll();
            const auto end = static_cast<std::uint32_t>(tx.ends[t]);
            for (std::uint64_t p = tx.begin_of(t); p + 1 < tx.ends[t]; ++p)
                suffixes[fill[items[p]]++] = {static_cast<std::uint32_t>(p + 1), end};
        }
    }

    ChargedVector<std::uint32_t> row(ctx.budget, "association_rules: pair counters");
    row.assign(f, 0);
    ChargedVector<std::uint32_t> touched(ctx.budget, "association_rules: pair counters");
    touched.reserve(f);
    for (std::size_t i = 0; i < f; ++i) {
        ctx.interrupt.poll();
        const auto ri = static_cast<std::uint32_t>(i);
        const std::uint64_t row_end = start[i + 1];
        for (std::uint64_t s = start[i]; s < row_end; ++s) {
            ctx.interrupt.poll();
            // The suffixes are scattered over the transactions: fetch ahead.
            if (s + kPrefetch < row_end) prefetch(items + suffixes[s + kPrefetch].begin);
            for (std::uint32_t q = suffixes[s].begin; q < suffixes[s].end; ++q) {
                const std::uint32_t j = items[q];
                if (!pair_allowed<Filtered>(rank_role, ri, j)) continue;
                if (row[j]++ == 0) touched.push_back(j);
            }
        }
        for (const std::uint32_t j : touched) {
            if (row[j] >= ctx.min_count) emit_pair(ctx, sink, ri, j, row[j]);
            row[j] = 0;
        }
        touched.clear();
    }
}

}  // namespace

void count_pairs(const MiningContext &ctx, const Transactions &tx, ItemsetStore &store, PairCounter counter) {
    count_pairs(
        ctx, tx,
        [&store](std::uint32_t a, std::uint32_t b, std::uint32_t count) {
            const std::uint32_t items[2] = {a, b};
            store.add(items, 2, count);
        },
        counter);
}

void count_pairs(const MiningContext &ctx, const Transactions &tx, const PairSink &sink, PairCounter counter) {
    const std::uint64_t f = ctx.ranked;
    if (f < 2 || tx.size() == 0) return;

    ChargedVector<std::uint8_t> rank_role(ctx.budget, "association_rules: pair counters");
    rank_role.resize(f);
    for (std::uint64_t r = 0; r < f; ++r) rank_role[r] = ctx.role[ctx.rank_to_global[r]];

    const bool rows_possible = tx.items.size() < std::numeric_limits<std::uint32_t>::max();
    if (counter == PairCounter::Automatic) {
        // Dense: 4 bytes for every possible pair. Rows: 8 bytes per item
        // occurrence (plus a row of counters). Hash: ~10-20 bytes for every
        // distinct pair that occurs. Dense when it is small or smaller than
        // the inverted index (many occurrences per possible pair); else rows.
        const std::uint64_t dense_bytes = f * (f - 1) / 2 * sizeof(std::uint32_t);
        const std::uint64_t rows_bytes = tx.items.size() * sizeof(Suffix) + f * 24;
        if (dense_bytes <= kSmallTriangleBytes || dense_bytes <= rows_bytes)
            counter = PairCounter::Dense;
        else
            counter = rows_possible ? PairCounter::Rows : PairCounter::Hash;
    }
    if (counter == PairCounter::Rows && !rows_possible) counter = PairCounter::Hash;
    if (counter == PairCounter::Rows) {
        if (ctx.antecedent_filter || ctx.consequent_filter)
            count_rows<true>(ctx, tx, rank_role.data(), sink);
        else
            count_rows<false>(ctx, tx, rank_role.data(), sink);
    } else if (counter == PairCounter::Dense) {
        if (f > (std::uint64_t{1} << 31))
            throw Error(ErrorCode::ProgramLimit, "association_rules: too many frequent items for dense pair counters");
        count_with_triangle(ctx, tx, rank_role.data(), sink);
    } else if (f <= (std::uint64_t{1} << 16)) {
        count_with_hash<std::uint32_t>(ctx, tx, rank_role.data(), sink);
    } else {
        count_with_hash<std::uint64_t>(ctx, tx, rank_role.data(), sink);
    }
}

}  // namespace personalize::mining
