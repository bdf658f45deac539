#include "core/suggest/rp3beta.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/common/charged_vector.hpp"
#include "core/common/error.hpp"
#include "core/mining/association_rules.hpp"
#include "core/mining/data.hpp"
#include "core/suggest/best_neighbours.hpp"
#include "core/suggest/cooccurrence.hpp"

namespace personalize::suggest {

namespace {

constexpr const char *kLists = "rp3beta_similarities: the neighbour lists";

// x^-p for x >= 1 (p may be 0).
double inverse_power(double x, double p) { return p == 0.0 ? 1.0 : p == 1.0 ? 1.0 / x : std::pow(x, -p); }

}  // namespace

void validate(const Rp3betaOptions &options) {
    if (!(options.alpha >= 0.0) || !std::isfinite(options.alpha))
        throw_invalid("rp3beta_similarities: \"alpha\" must be a finite number >= 0");
    if (!(options.beta >= 0.0) || !std::isfinite(options.beta))
        throw_invalid("rp3beta_similarities: \"beta\" must be a finite number >= 0");
    if (options.neighbours < 1) throw_invalid("rp3beta_similarities: \"neighbours\" must be at least 1");
    if (options.min_count < 1) throw_invalid("rp3beta_similarities: \"min_count\" must be at least 1");
    if (options.max_basket_size < 0)
        throw_invalid("rp3beta_similarities: \"max_basket_size\" must not be negative", "Use 0 for no limit.");
}

SimilarityStats rp3beta_similarities(const mining::BasketCollection &baskets, const Rp3betaOptions &options,
                                     MemoryBudget &budget, const Interrupt &interrupt,
                                     const std::function<void(const SimilarityRow &)> &emit) {
    validate(options);
    SimilarityStats stats;
    try {
        mining::RuleOptions mining_options;
        mining_options.min_count = options.min_count;
        mining_options.max_basket_size = options.max_basket_size;
        mining::MiningStats mining_stats;
        mining::PreparedBaskets prepared(budget);
        mining::prepare_baskets(baskets, mining_options, budget, interrupt, mining_stats, prepared);
        stats.baskets = mining_stats.baskets;
        stats.skipped_baskets = mining_stats.skipped_baskets;
        if (prepared.baskets < 2)
            throw_invalid("rp3beta_similarities: \"baskets\" must hold at least 2 baskets, got " +
                              std::to_string(prepared.baskets),
                          "One basket per customer: baskets(customer_id, item_id).");
        const std::size_t items = prepared.item_id.size();
        if (items < 2)
            throw_invalid("rp3beta_similarities: \"baskets\" must hold at least 2 items in at least " +
                              std::to_string(options.min_count) + " baskets (\"min_count\"), got " +
                              std::to_string(items));
        stats.items = static_cast<std::int64_t>(items);

        const CoOccurrence walk(prepared, budget, interrupt, "rp3beta_similarities: the co-occurrence index");
        prepared.transactions.items.free();
        prepared.transactions.ends.free();

        // Per basket: (1 / n_u)^alpha; per item: c^-alpha and c^-beta.
        ChargedVector<double> step(budget, kLists);
        step.resize(walk.baskets());
        for (std::size_t t = 0; t < walk.baskets(); ++t)
            step[t] = inverse_power(static_cast<double>(walk.basket_size(t)), options.alpha);
        ChargedVector<double> from(budget, kLists), to(budget, kLists);
        from.resize(items);
        to.resize(items);
        for (std::size_t g = 0; g < items; ++g) {
            const double c = prepared.item_count[g];
            from[g] = inverse_power(c, options.alpha);
            to[g] = inverse_power(c, options.beta);
        }

        ChargedVector<double> mass(budget, kLists);
        mass.assign(items, 0.0);
        ChargedVector<std::uint32_t> together(budget, kLists);
        together.assign(items, 0);
        ChargedVector<std::uint32_t> touched(budget, kLists);
        touched.reserve(items);
        ChargedVector<Candidate> row(budget, kLists);
        row.reserve(items);
        const auto k = static_cast<std::size_t>(std::min<std::int64_t>(options.neighbours, static_cast<std::int64_t>(items)));
        for (std::size_t i = 0; i < items; ++i) {
            interrupt.poll(64);
            // Baskets in which i is the only kept item: n_u = 1, back to i.
            const std::size_t holders = static_cast<std::size_t>(walk.baskets_of_end(i) - walk.baskets_of_begin(i));
            double own = static_cast<double>(prepared.item_count[i] - holders);
            for (const std::uint32_t *t = walk.baskets_of_begin(i); t != walk.baskets_of_end(i); ++t) {
                interrupt.poll();
                const double w = step[*t];
                own += w;
                for (const std::uint32_t *j = walk.items_begin(*t); j != walk.items_end(*t); ++j) {
                    if (*j == i) continue;
                    if (together[*j]++ == 0) touched.push_back(*j);
                    mass[*j] += w;
                }
            }
            row.clear();
            for (const std::uint32_t j : touched) row.push_back({from[i] * mass[j] * to[j], j});
            keep_best(row, k);
            const std::int64_t item = prepared.item_id[i];
            emit({item, item, from[i] * own * to[i], static_cast<std::int64_t>(prepared.item_count[i])});
            ++stats.rows;
            for (const Candidate &c : row) {
                emit({item, prepared.item_id[c.item], c.score, static_cast<std::int64_t>(together[c.item])});
                ++stats.rows;
            }
            for (const std::uint32_t j : touched) {
                mass[j] = 0.0;
                together[j] = 0;
            }
            stats.pairs += static_cast<std::int64_t>(touched.size());
            touched.clear();
        }
        stats.pairs /= 2;  // each pair was seen from both sides
    } catch (const Error &e) {
        if (e.code() != ErrorCode::OutOfMemory) throw;
        std::string message = e.what();
        const std::string mining = "association_rules: ";
        if (message.compare(0, mining.size(), mining) == 0)
            message = "rp3beta_similarities: " + message.substr(mining.size());
        throw Error(e.code(), message, e.detail(), e.hint());
    }
    stats.peak_bytes = budget.peak();
    return stats;
}

}  // namespace personalize::suggest
