#include "core/suggest/item_similarity.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "core/mining/association_rules.hpp"
#include "core/common/charged_vector.hpp"
#include "core/common/error.hpp"
#include "core/mining/data.hpp"
#include "core/mining/pair_counting.hpp"

namespace personalize::suggest {

namespace {

struct Neighbour {
    double score;
    std::uint32_t item;      // global id
    std::uint32_t together;
};

// Higher score first, then the smaller id: a total order, so the kept
// neighbours do not depend on the order pairs arrive in.
bool better(const Neighbour &x, const Neighbour &y) {
    return x.score > y.score || (x.score == y.score && x.item < y.item);
}

// The k best neighbours of one item: a heap whose front is the worst kept.
class BestNeighbours {
public:
    BestNeighbours(MemoryBudget &budget, std::size_t k) : kept_(budget, "item_similarities: neighbour lists"), k_(k) {}

    void offer(const Neighbour &n) {
        if (kept_.size() < k_) {
            kept_.push_back(n);
            std::push_heap(kept_.begin(), kept_.end(), better);
        } else if (better(n, kept_[0])) {
            std::pop_heap(kept_.begin(), kept_.end(), better);
            kept_.back() = n;
            std::push_heap(kept_.begin(), kept_.end(), better);
        }
    }
    // Best first; the heap is consumed.
    ChargedVector<Neighbour> &sorted() {
        std::sort_heap(kept_.begin(), kept_.end(), better);
        return kept_;
    }

private:
    ChargedVector<Neighbour> kept_;
    std::size_t k_;
};

// Mining's memory errors name "association_rules"; here they are ours.
[[noreturn]] void rethrow_as_ours(const Error &e) {
    std::string message = e.what();
    const std::string mining = "association_rules: ";
    if (message.compare(0, mining.size(), mining) == 0) message = "item_similarities: " + message.substr(mining.size());
    throw Error(e.code(), message, e.detail(), e.hint());
}

}  // namespace

SimilarityMeasure parse_similarity_measure(std::string_view name) {
    if (name == "cosine") return SimilarityMeasure::Cosine;
    if (name == "jaccard") return SimilarityMeasure::Jaccard;
    if (name == "lift") return SimilarityMeasure::Lift;
    if (name == "confidence") return SimilarityMeasure::Confidence;
    throw_invalid("item_similarities: \"measure\" must be one of cosine, jaccard, lift, confidence, not \"" +
                  std::string(name.substr(0, 64)) + "\"");
}

const char *similarity_measure_name(SimilarityMeasure measure) {
    switch (measure) {
        case SimilarityMeasure::Cosine: return "cosine";
        case SimilarityMeasure::Jaccard: return "jaccard";
        case SimilarityMeasure::Lift: return "lift";
        case SimilarityMeasure::Confidence: return "confidence";
    }
    return "?";
}

double similarity(SimilarityMeasure measure, double together, double count_a, double count_b, double baskets) {
    switch (measure) {
        case SimilarityMeasure::Cosine: return together / std::sqrt(count_a * count_b);
        case SimilarityMeasure::Jaccard: return together / (count_a + count_b - together);
        case SimilarityMeasure::Lift: return baskets * together / (count_a * count_b);
        case SimilarityMeasure::Confidence: return together / count_a;
    }
    return 0.0;
}

void validate(const SimilarityOptions &options) {
    if (options.neighbours < 1) throw_invalid("item_similarities: \"neighbours\" must be at least 1");
    if (options.min_count < 1) throw_invalid("item_similarities: \"min_count\" must be at least 1");
    if (options.max_basket_size < 0)
        throw_invalid("item_similarities: \"max_basket_size\" must not be negative", "Use 0 for no limit.");
}

SimilarityStats item_similarities(const mining::BasketCollection &baskets, const SimilarityOptions &options,
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
        const bool any = mining::prepare_baskets(baskets, mining_options, budget, interrupt, mining_stats, prepared);
        stats.baskets = mining_stats.baskets;
        stats.skipped_baskets = mining_stats.skipped_baskets;
        if (!any) {
            stats.peak_bytes = budget.peak();
            return stats;
        }
        const std::size_t items = prepared.item_id.size();
        stats.items = static_cast<std::int64_t>(items);
        const double n = static_cast<double>(prepared.baskets);
        const auto k = static_cast<std::size_t>(
            std::min<std::int64_t>(options.neighbours, static_cast<std::int64_t>(items > 0 ? items - 1 : 0)));

        std::vector<BestNeighbours> best;
        best.reserve(items);
        budget.charge(items * sizeof(BestNeighbours), "item_similarities: neighbour lists");
        for (std::size_t g = 0; g < items; ++g) best.emplace_back(budget, k);
        if (k > 0) {
            const mining::MiningContext ctx{budget,
                                            interrupt,
                                            prepared.min_count,
                                            2,
                                            false,
                                            false,
                                            prepared.rank_to_global.data(),
                                            prepared.role.data(),
                                            prepared.rank_to_global.size(),
                                            mining_stats};
            const std::uint32_t *count = prepared.item_count.data();
            const SimilarityMeasure measure = options.measure;
            mining::count_pairs(ctx, prepared.transactions, [&](std::uint32_t a, std::uint32_t b, std::uint32_t c) {
                const double ab = c, ca = count[a], cb = count[b];
                best[a].offer({similarity(measure, ab, ca, cb, n), b, c});
                best[b].offer({similarity(measure, ab, cb, ca, n), a, c});
            });
            stats.pairs = mining_stats.frequent_itemsets;
        }
        prepared.transactions.items.free();
        prepared.transactions.ends.free();

        for (std::size_t g = 0; g < items; ++g) {
            interrupt.poll(64);
            const std::int64_t item = prepared.item_id[g];
            const double own = prepared.item_count[g];
            emit({item, item, similarity(options.measure, own, own, own, n), static_cast<std::int64_t>(own)});
            ++stats.rows;
            ChargedVector<Neighbour> &list = best[g].sorted();
            for (const Neighbour &x : list) {
                emit({item, prepared.item_id[x.item], x.score, x.together});
                ++stats.rows;
            }
            list.free();
        }
        budget.release(items * sizeof(BestNeighbours));
        stats.peak_bytes = budget.peak();
    } catch (const Error &e) {
        if (e.code() == ErrorCode::OutOfMemory) rethrow_as_ours(e);
        throw;
    }
    return stats;
}

}  // namespace personalize::suggest
