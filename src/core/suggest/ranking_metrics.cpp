#include "core/suggest/ranking_metrics.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/common/error.hpp"

namespace personalize::suggest {

RankingMetrics ranking_metrics(const std::int64_t *recommended, const bool *recommended_null, std::size_t recommended_count,
                               const std::int64_t *relevant, std::size_t relevant_count, std::int64_t k) {
    if (k < 1) throw_invalid("ranking_metrics: \"k\" must be at least 1");
    if (relevant_count == 0) throw_invalid("ranking_metrics: \"relevant\" must not be empty");
    std::vector<std::int64_t> truth(relevant, relevant + relevant_count);
    std::sort(truth.begin(), truth.end());
    truth.erase(std::unique(truth.begin(), truth.end()), truth.end());

    const std::size_t depth = std::min<std::size_t>(recommended_count, static_cast<std::uint64_t>(k));
    std::vector<std::int64_t> seen;
    seen.reserve(depth);
    double dcg = 0.0;
    std::int64_t hits = 0;
    for (std::size_t r = 0; r < depth; ++r) {
        if (recommended_null != nullptr && recommended_null[r]) continue;
        const std::int64_t item = recommended[r];
        if (!std::binary_search(truth.begin(), truth.end(), item)) continue;
        if (std::find(seen.begin(), seen.end(), item) != seen.end()) continue;
        seen.push_back(item);
        ++hits;
        dcg += 1.0 / std::log2(static_cast<double>(r) + 2.0);
    }
    const std::size_t ideal = std::min<std::size_t>(truth.size(), static_cast<std::uint64_t>(k));
    double idcg = 0.0;
    for (std::size_t r = 0; r < ideal; ++r) idcg += 1.0 / std::log2(static_cast<double>(r) + 2.0);
    RankingMetrics m;
    m.hits = hits;
    m.precision = static_cast<double>(hits) / static_cast<double>(k);
    m.recall = static_cast<double>(hits) / static_cast<double>(truth.size());
    m.ndcg = dcg / idcg;
    return m;
}

}  // namespace personalize::suggest
