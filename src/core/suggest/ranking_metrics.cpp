#include "core/suggest/ranking_metrics.hpp"

#include <algorithm>
#include <cmath>

#include "core/common/charged_hash_map.hpp"
#include "core/common/error.hpp"

namespace personalize::suggest {

RankingMetrics ranking_metrics(const std::int64_t *recommended, const bool *recommended_null, std::size_t recommended_count,
                               const std::int64_t *relevant, std::size_t relevant_count, std::int64_t k,
                               MemoryBudget *budget, const Interrupt &interrupt) {
    if (k < 1) throw_invalid("ranking_metrics: \"k\" must be at least 1");
    if (relevant_count == 0) throw_invalid("ranking_metrics: \"relevant\" must not be empty");
    MemoryBudget unlimited;
    // Relevant item -> found yet: a repeated recommendation hits once.
    ChargedHashMap<std::int64_t, bool> truth(budget != nullptr ? *budget : unlimited, "ranking_metrics' relevant items");
    truth.reserve(relevant_count);
    for (std::size_t i = 0; i < relevant_count; ++i) {
        interrupt.poll();
        truth.map().emplace(relevant[i], false);
    }

    const std::size_t depth = std::min<std::size_t>(recommended_count, static_cast<std::uint64_t>(k));
    double dcg = 0.0;
    std::int64_t hits = 0;
    for (std::size_t r = 0; r < depth; ++r) {
        interrupt.poll();
        if (recommended_null != nullptr && recommended_null[r]) continue;
        const auto found = truth.map().find(recommended[r]);
        if (found == truth.map().end() || found->second) continue;
        found->second = true;
        ++hits;
        dcg += 1.0 / std::log2(static_cast<double>(r) + 2.0);
    }
    const std::size_t ideal = std::min<std::size_t>(truth.size(), static_cast<std::uint64_t>(k));
    double idcg = 0.0;
    for (std::size_t r = 0; r < ideal; ++r) {
        interrupt.poll();
        idcg += 1.0 / std::log2(static_cast<double>(r) + 2.0);
    }
    RankingMetrics m;
    m.hits = hits;
    m.precision = static_cast<double>(hits) / static_cast<double>(k);
    m.recall = static_cast<double>(hits) / static_cast<double>(truth.size());
    m.ndcg = dcg / idcg;
    return m;
}

}  // namespace personalize::suggest
