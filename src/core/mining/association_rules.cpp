#include "core/mining/association_rules.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "core/common/charged_hash_map.hpp"
#include "core/common/charged_vector.hpp"
#include "core/common/error.hpp"
#include "core/mining/fp_growth.hpp"
#include "core/mining/data.hpp"
#include "core/mining/pair_counting.hpp"

namespace personalize::mining {

namespace {

using mining::ItemsetStore;
using mining::MiningContext;
using mining::Transactions;

constexpr double kSupportEpsilon = 1e-9;      // n * min_support within this of an integer counts as that integer
constexpr double kConfidenceEpsilon = 1e-12;  // arules' tolerance for the confidence threshold

// Original item id -> a 32-bit value (first the item's count, later its
// rank + 1): a plain array over the id range when that is no bigger than
// the baskets' own items, a hash map otherwise.
class ItemIndex {
public:
    ItemIndex(MemoryBudget &budget, std::int64_t lo, std::int64_t hi, std::uint64_t lines)
        : lo_(lo),
          dense_(budget, "association_rules: item counters"),
          map_(budget, "association_rules: item counters") {
        const std::uint64_t span = static_cast<std::uint64_t>(hi) - static_cast<std::uint64_t>(lo);
        is_dense_ = span < std::max<std::uint64_t>(2 * lines, std::uint64_t{1} << 16);
        if (is_dense_) dense_.assign(span + 1, 0);
    }

    std::uint32_t &slot(std::int64_t item) { return is_dense_ ? dense_[offset(item)] : map_[item]; }
    std::uint32_t get(std::int64_t item) const {
        if (is_dense_) return dense_[offset(item)];
        const auto it = map_.map().find(item);
        return it == map_.map().end() ? 0 : it->second;
    }
    // (item, value) for every item with a value >= min, ascending by item.
    void collect(std::uint32_t min, ChargedVector<std::int64_t> &items, ChargedVector<std::uint32_t> &values,
                 const Interrupt &interrupt) const {
        if (is_dense_) {
            for (std::size_t k = 0; k < dense_.size(); ++k) {
                interrupt.poll();
                if (dense_[k] >= min) {
                    items.push_back(static_cast<std::int64_t>(static_cast<std::uint64_t>(lo_) + k));
                    values.push_back(dense_[k]);
                }
            }
            return;
        }
        for (const auto &entry : map_.map()) {
            interrupt.poll();
            if (entry.second >= min) items.push_back(entry.first);
        }
        std::sort(items.begin(), items.end());
        for (const std::int64_t item : items) values.push_back(get(item));
    }
    void clear_values() {
        if (is_dense_)
            std::fill(dense_.begin(), dense_.end(), 0u);
        else
            for (auto &entry : map_.map()) entry.second = 0;
    }

private:
    std::size_t offset(std::int64_t item) const {
        return static_cast<std::size_t>(static_cast<std::uint64_t>(item) - static_cast<std::uint64_t>(lo_));
    }

    std::int64_t lo_;
    bool is_dense_ = false;
    ChargedVector<std::uint32_t> dense_;
    ChargedHashMap<std::int64_t, std::uint32_t> map_;
};

std::vector<std::int64_t> sorted_unique(std::vector<std::int64_t> v) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
    return v;
}

}  // namespace

void validate(const RuleOptions &options) {
    if (!(options.min_support > 0.0 && options.min_support <= 1.0))
        throw_invalid("association_rules: \"min_support\" must be in (0, 1]");
    if (!(options.min_confidence >= 0.0 && options.min_confidence <= 1.0))
        throw_invalid("association_rules: \"min_confidence\" must be in [0, 1]");
    if (options.max_len < 2) throw_invalid("association_rules: \"max_len\" must be at least 2");
    if (options.min_count < 0) throw_invalid("association_rules: \"min_count\" must not be negative");
    if (options.min_len < 1 || options.min_len > options.max_len)
        throw_invalid("association_rules: \"min_len\" must be between 1 and \"max_len\"");
    if (options.max_basket_size < 0)
        throw_invalid("association_rules: \"max_basket_size\" must not be negative", "Use 0 for no limit.");
}

void fill_metrics(double antecedent_support, double consequent_support, double support, Rule &rule) {
    const double sA = antecedent_support, sC = consequent_support, sAC = support;
    rule.antecedent_support = sA;
    rule.consequent_support = sC;
    rule.support = sAC;
    const double confidence = sA > 0.0 ? sAC / sA : 0.0;
    rule.confidence = confidence;
    rule.lift = sC > 0.0 ? confidence / sC : 0.0;
    rule.leverage = sAC - sA * sC;
    rule.conviction = confidence >= 1.0 - 1e-12 ? std::numeric_limits<double>::infinity()
                                                : (1.0 - sC) / (1.0 - confidence);
    const double union_support = sA + sC - sAC;
    rule.jaccard = union_support > 0.0 ? sAC / union_support : 0.0;
    rule.certainty = sC == 1.0 ? 0.0 : (confidence - sC) / (1.0 - sC);
    rule.kulczynski = ((sA > 0.0 ? sAC / sA : 0.0) + (sC > 0.0 ? sAC / sC : 0.0)) / 2.0;
    const double zhang_denominator = std::max(sAC * (1.0 - sA), sA * (sC - sAC));
    rule.zhangs_metric = zhang_denominator == 0.0 ? 0.0 : (sAC - sA * sC) / zhang_denominator;
}


bool prepare_baskets(const BasketCollection &baskets, const RuleOptions &options, MemoryBudget &budget,
                     const Interrupt &interrupt, MiningStats &stats, PreparedBaskets &out) {
    const std::size_t max_size = options.max_basket_size > 0 ? static_cast<std::size_t>(options.max_basket_size)
                                                             : std::numeric_limits<std::size_t>::max();

    // Pass 1: which baskets are mined, and the range of their item ids.
    std::uint64_t n = 0, lines = 0;
    std::int64_t lo = std::numeric_limits<std::int64_t>::max(), hi = std::numeric_limits<std::int64_t>::min();
    for (std::size_t b = 0; b < baskets.size(); ++b) {
        interrupt.poll();
        const std::size_t size = baskets.basket_size(b);
        if (size > max_size) {
            ++stats.skipped_baskets;
            continue;
        }
        if (size == 0) {  // not produced by BasketCollection, but harmless
            ++n;
            continue;
        }
        ++n;
        lines += size;
        lo = std::min(lo, *baskets.begin(b));     // items are sorted
        hi = std::max(hi, *(baskets.end(b) - 1));
    }
    stats.baskets = static_cast<std::int64_t>(n);
    out.baskets = n;
    if (n >= std::numeric_limits<std::uint32_t>::max())
        throw Error(ErrorCode::ProgramLimit, "association_rules: more than 4294967294 baskets");

    // The minimum count, as arules: ceil(n * min_support).
    std::uint64_t min_count;
    if (options.min_count > 0) {
        min_count = static_cast<std::uint64_t>(options.min_count);
        stats.min_count = options.min_count;
    } else {
        const double wanted = std::ceil(static_cast<double>(n) * options.min_support - kSupportEpsilon);
        min_count = wanted < 1.0 ? 1 : static_cast<std::uint64_t>(wanted);
        stats.min_count = static_cast<std::int64_t>(min_count);
    }
    if (n == 0 || lines == 0 || min_count > n) return false;
    const auto min_count32 = static_cast<std::uint32_t>(min_count);
    out.min_count = min_count32;

    // Pass 2: item counts; the frequent items get global ids.
    out.antecedent_filter = !options.antecedents.empty();
    out.consequent_filter = !options.consequents.empty();
    ItemIndex index(budget, lo, hi, lines);
    for (std::size_t b = 0; b < baskets.size(); ++b) {
        interrupt.poll();
        if (baskets.basket_size(b) > max_size) continue;
        for (const std::int64_t *it = baskets.begin(b); it != baskets.end(b); ++it) ++index.slot(*it);
    }
    index.collect(min_count32, out.item_id, out.item_count, interrupt);
    const std::size_t frequent = out.item_id.size();
    stats.frequent_items = static_cast<std::int64_t>(frequent);

    const std::vector<std::int64_t> antecedents = sorted_unique(options.antecedents);
    const std::vector<std::int64_t> consequents = sorted_unique(options.consequents);
    out.role.resize(frequent);
    for (std::size_t g = 0; g < frequent; ++g) {
        std::uint8_t r = 0;
        if (!out.antecedent_filter || std::binary_search(antecedents.begin(), antecedents.end(), out.item_id[g]))
            r |= kCanBeAntecedent;
        if (!out.consequent_filter || std::binary_search(consequents.begin(), consequents.end(), out.item_id[g]))
            r |= kCanBeConsequent;
        out.role[g] = r;
        if (r != 0) out.rank_to_global.push_back(static_cast<std::uint32_t>(g));  // else in no rule at all
    }
    const ChargedVector<std::uint32_t> &item_count = out.item_count;
    std::sort(out.rank_to_global.begin(), out.rank_to_global.end(), [&](std::uint32_t a, std::uint32_t b) {
        return item_count[a] != item_count[b] ? item_count[a] > item_count[b] : a < b;
    });

    // Pass 3: each basket as the ranks of its rule-capable frequent items.
    index.clear_values();
    for (std::size_t r = 0; r < out.rank_to_global.size(); ++r)
        index.slot(out.item_id[out.rank_to_global[r]]) = static_cast<std::uint32_t>(r + 1);
    std::vector<std::uint32_t> basket;
    for (std::size_t b = 0; b < baskets.size(); ++b) {
        interrupt.poll();
        if (baskets.basket_size(b) > max_size) continue;
        basket.clear();
        for (const std::int64_t *it = baskets.begin(b); it != baskets.end(b); ++it)
            if (const std::uint32_t v = index.get(*it)) basket.push_back(v - 1);
        if (basket.size() < 2) continue;
        std::sort(basket.begin(), basket.end());
        out.transactions.items.append(basket.data(), basket.data() + basket.size());
        out.transactions.ends.push_back(out.transactions.items.size());
    }
    return true;
}


MiningStats mine_rules(const BasketCollection &baskets, const RuleOptions &options, MemoryBudget &budget,
                       const Interrupt &interrupt, const std::function<void(const Rule &)> &emit) {
    validate(options);
    MiningStats stats;
    mining::PreparedBaskets prepared(budget);
    if (!mining::prepare_baskets(baskets, options, budget, interrupt, stats, prepared)) {
        stats.peak_bytes = budget.peak();
        return stats;
    }
    const std::uint64_t n = prepared.baskets;
    const ChargedVector<std::int64_t> &item_id = prepared.item_id;
    const ChargedVector<std::uint32_t> &item_count = prepared.item_count;
    const ChargedVector<std::uint32_t> &rank_to_global = prepared.rank_to_global;
    Transactions &transactions = prepared.transactions;

    // Frequent itemsets.
    ItemsetStore store(budget);
    const MiningContext ctx{budget,
                            interrupt,
                            prepared.min_count,
                            options.max_len,
                            prepared.antecedent_filter,
                            prepared.consequent_filter,
                            rank_to_global.data(),
                            prepared.role.data(),
                            rank_to_global.size(),
                            stats};
    if (options.max_len == 2)
        mining::count_pairs(ctx, transactions, store);
    else
        mining::fp_growth(ctx, transactions, store);
    transactions.items.free();
    transactions.ends.free();
    store.sort(interrupt);

    // Rules: by itemset (length, then items), then consequent, ascending.
    const double baskets_n = static_cast<double>(n);
    if (options.min_len == 1) {  // {} => c: how popular each frequent item is
        for (std::size_t g = 0; g < item_id.size(); ++g) {
            interrupt.poll();
            if (!ctx.can_be_consequent(static_cast<std::uint32_t>(g))) continue;
            const double support = item_count[g] / baskets_n;
            if (support < options.min_confidence - kConfidenceEpsilon) continue;
            Rule rule{};
            rule.antecedent = nullptr;
            rule.antecedent_len = 0;
            rule.consequent = item_id[g];
            rule.count = item_count[g];
            fill_metrics(1.0, support, support, rule);
            ++stats.rules;
            if (emit) emit(rule);
        }
    }
    std::vector<std::uint32_t> antecedent_global;
    std::vector<std::int64_t> antecedent;
    for (std::size_t k = std::max<std::size_t>(2, options.min_len); k <= store.max_length(); ++k) {
        antecedent_global.resize(k - 1);
        antecedent.resize(k - 1);
        for (std::size_t r = 0; r < store.count(k); ++r) {
            interrupt.poll();
            const std::uint32_t *items = store.record(k, r);
            const std::uint32_t count = items[k];
            std::size_t outside = 0;
            for (std::size_t q = 0; q < k; ++q) outside += ctx.can_be_antecedent(items[q]) ? 0 : 1;
            if (outside >= 2) continue;
            for (std::size_t p = 0; p < k; ++p) {
                const std::uint32_t c = items[p];
                if (!ctx.can_be_consequent(c)) continue;
                if (outside != (ctx.can_be_antecedent(c) ? 0u : 1u)) continue;
                for (std::size_t q = 0, a = 0; q < k; ++q)
                    if (q != p) antecedent_global[a++] = items[q];
                const std::uint32_t antecedent_count =
                    k == 2 ? item_count[antecedent_global[0]] : store.find(antecedent_global.data(), k - 1);
                if (antecedent_count == 0)
                    throw Error(ErrorCode::Internal, "association_rules: an antecedent itemset was not counted");
                const double confidence = static_cast<double>(count) / static_cast<double>(antecedent_count);
                if (confidence < options.min_confidence - kConfidenceEpsilon) continue;
                for (std::size_t a = 0; a + 1 < k; ++a) antecedent[a] = item_id[antecedent_global[a]];
                Rule rule{};
                rule.antecedent = antecedent.data();
                rule.antecedent_len = k - 1;
                rule.consequent = item_id[c];
                rule.count = count;
                fill_metrics(antecedent_count / baskets_n, item_count[c] / baskets_n, count / baskets_n, rule);
                ++stats.rules;
                if (emit) emit(rule);
            }
        }
    }
    stats.peak_bytes = budget.peak();
    return stats;
}

}  // namespace personalize::mining
