#include "core/common/eigen_config.hpp"  // first: Eigen assertions throw

#include "core/suggest/ease.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <string>

#include "core/common/charged_vector.hpp"
#include "core/common/error.hpp"
#include "core/mining/association_rules.hpp"
#include "core/mining/data.hpp"
#include "core/mining/pair_counting.hpp"
#include "core/suggest/best_neighbours.hpp"
#include "core/suggest/cooccurrence.hpp"
#include "core/suggest/ease_kernel.hpp"

namespace personalize::suggest {

namespace {

using MatrixF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic>;
using Eigen::Index;

// Block sizes (core/suggest/ease_kernel.hpp): the diagonal blocks of the
// Cholesky factorisation and the column blocks of the inverse (kBlock), the
// panels of the trailing update and of the triangular solves (kPanel). Each
// step between two polls costs about n * kBlock * kPanel multiply-adds: 0.1 s
// at 20,000 items (baseline build).
constexpr Index kBlock = ease_kernel::kBlock;
constexpr Index kPanel = ease_kernel::kPanel;

[[noreturn]] void too_large(const Error &e, std::size_t items) {
    std::string hint = e.hint();
    if (!hint.empty()) hint[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(hint[0])));
    throw Error(ErrorCode::OutOfMemory, e.what(), e.detail(),
                "EASE needs 4 bytes per item pair (" + std::to_string(items) +
                    " items here). For a catalogue this large use rp3beta_similarities() (sparse), keep fewer "
                    "items with a higher \"min_count\", or " + hint);
}

}  // namespace

void validate(const EaseOptions &options) {
    if (!(options.lambda > 0.0) || !std::isfinite(options.lambda))
        throw_invalid("ease_similarities: \"lambda\" must be a positive finite number");
    if (options.neighbours < 1) throw_invalid("ease_similarities: \"neighbours\" must be at least 1");
    if (options.min_count < 1) throw_invalid("ease_similarities: \"min_count\" must be at least 1");
    if (options.max_basket_size < 0)
        throw_invalid("ease_similarities: \"max_basket_size\" must not be negative", "Use 0 for no limit.");
}

std::size_t ease_matrix_bytes(std::size_t items, unsigned threads) {
    return (items * items + items * static_cast<std::size_t>(kBlock) * std::max(1u, threads)) * sizeof(float);
}

namespace detail {

bool cholesky_in_place(float *data, std::size_t size, const Interrupt &interrupt, const Crew &crew,
                       const ease_kernel::Steps *steps) {
    const ease_kernel::Steps &k = steps != nullptr ? *steps : ease_kernel::steps();
    const auto n = static_cast<Index>(size);
    // Right-looking blocked Cholesky: factor the diagonal block, solve the
    // block column under it, subtract its outer product from the trailing
    // lower triangle panel by panel (the diagonal panel's strict upper part
    // receives values nobody reads).
    for (Index k0 = 0; k0 < n; k0 += kBlock) {
        interrupt.check();
        const Index m = std::min(kBlock, n - k0), k1 = k0 + m, rest = n - k1;
        if (!k.factor_block(data, n, k0)) return false;
        if (rest == 0) break;
        // The panels write disjoint columns and only read the block column: one task each.
        const auto panels = static_cast<std::size_t>((rest + kPanel - 1) / kPanel);
        crew.run(panels, interrupt, [&](std::size_t p, const std::function<void()> &) {
            k.update_panel(data, n, k0, k1 + static_cast<Index>(p) * kPanel);
        });
    }
    return true;
}

void inverse_from_cholesky(float *data, std::size_t size, MemoryBudget &budget, const Interrupt &interrupt,
                           const Crew &crew, const ease_kernel::Steps *steps) {
    const ease_kernel::Steps &k = steps != nullptr ? *steps : ease_kernel::steps();
    const auto n = static_cast<Index>(size);
    const Index width = std::min(kBlock, n);
    const Index blocks = (n + kBlock - 1) / kBlock;
    const auto wave = static_cast<Index>(std::min<Index>(crew.threads(), blocks));
    ChargedVector<float> buffer(budget, "ease_similarities: a column block of the inverse");
    buffer.resize(static_cast<std::size_t>(n) * static_cast<std::size_t>(width) * static_cast<std::size_t>(wave));
    // Column block J = [j0, j1) of P = L^-T L^-1: rows >= j0 of L^-1 E_J only
    // need L's trailing block, then L^T solves back; rows < j0 are the
    // transpose of earlier blocks. L's columns < j1 are not needed after
    // block J, so P is written over them (lower part) and mirrored into the
    // strict upper triangle, which L never uses. A wave of blocks is solved
    // at once (one per thread, into its own buffer: L is only read), then
    // written back in order.
    const auto solve = [&](Index j0, float *out, const std::function<void()> &poll) {
        const Index w = std::min(kBlock, n - j0), m = n - j0;
        k.start_solve(out, m, w);
        // Forward: L y = E, by row panels (y's rows above a panel are final).
        for (Index r0 = 0; r0 < m; r0 += kPanel) {
            poll();
            k.forward_panel(data, n, j0, out, w, r0);
        }
        // Backward: L^T x = y, by row panels from the bottom.
        for (Index r1 = m; r1 > 0; r1 -= std::min(kPanel, r1)) {
            poll();
            k.backward_panel(data, n, j0, out, w, r1);
        }
    };
    const std::size_t stride = static_cast<std::size_t>(n) * static_cast<std::size_t>(width);
    for (Index first = 0; first < blocks; first += wave) {
        interrupt.check();
        const Index count = std::min(wave, blocks - first);
        crew.run(static_cast<std::size_t>(count), interrupt, [&](std::size_t b, const std::function<void()> &poll) {
            solve((first + static_cast<Index>(b)) * kBlock, buffer.data() + b * stride, poll);
        });
        for (Index b = 0; b < count; ++b) {
            const Index j0 = (first + b) * kBlock, w = std::min(kBlock, n - j0);
            k.store_block(data, n, j0, buffer.data() + static_cast<std::size_t>(b) * stride, w);
        }
    }
}

}  // namespace detail

SimilarityStats ease_similarities(const mining::BasketCollection &baskets, const EaseOptions &options,
                                  MemoryBudget &budget, const Interrupt &interrupt,
                                  const std::function<void(const SimilarityRow &)> &emit) {
    validate(options);
    SimilarityStats stats;
    mining::RuleOptions mining_options;
    mining_options.min_count = options.min_count;
    mining_options.max_basket_size = options.max_basket_size;
    mining::MiningStats mining_stats;
    mining::PreparedBaskets prepared(budget);
    try {
        mining::prepare_baskets(baskets, mining_options, budget, interrupt, mining_stats, prepared);
    } catch (const Error &e) {
        if (e.code() != ErrorCode::OutOfMemory) throw;
        throw Error(e.code(), "ease_similarities: the baskets need more than the memory limit", e.what(), e.hint());
    }
    stats.baskets = mining_stats.baskets;
    stats.skipped_baskets = mining_stats.skipped_baskets;
    if (prepared.baskets < 2)
        throw_invalid("ease_similarities: \"baskets\" must hold at least 2 baskets, got " +
                          std::to_string(prepared.baskets),
                      "One basket per customer: baskets(customer_id, item_id).");
    const std::size_t items = prepared.item_id.size();
    if (items < 2)
        throw_invalid("ease_similarities: \"baskets\" must hold at least 2 items in at least " +
                          std::to_string(options.min_count) + " baskets (\"min_count\"), got " + std::to_string(items));
    stats.items = static_cast<std::int64_t>(items);

    // The matrix first: a catalogue too large fails before any work.
    const std::string matrix_what = "ease_similarities: the " + std::to_string(items) + " x " +
                                    std::to_string(items) + " item matrix (float32)";
    try {
        budget.charge(ease_matrix_bytes(items, options.threads), matrix_what.c_str());
    } catch (const Error &e) {
        if (e.code() == ErrorCode::OutOfMemory) too_large(e, items);
        throw;
    }
    struct Release {
        MemoryBudget &budget;
        std::size_t bytes;
        ~Release() { budget.release(bytes); }
    } release{budget, ease_matrix_bytes(items, options.threads)};
    const auto n = static_cast<Index>(items);
    MatrixF a(n, n);
    for (Index j = 0; j < n; ++j) {
        interrupt.poll(64);
        a.col(j).setZero();
        a(j, j) = static_cast<float>(prepared.item_count[static_cast<std::size_t>(j)] + options.lambda);
    }
    try {
        // The Gram matrix's lower triangle: every pair seen at least once.
        const mining::MiningContext ctx{budget,
                                        interrupt,
                                        1,
                                        2,
                                        false,
                                        false,
                                        prepared.rank_to_global.data(),
                                        prepared.role.data(),
                                        prepared.rank_to_global.size(),
                                        mining_stats};
        mining::count_pairs(
            ctx, prepared.transactions,
            [&](std::uint32_t x, std::uint32_t y, std::uint32_t c) { a(y, x) = static_cast<float>(c); },
            mining::PairCounter::Rows);
        stats.pairs = mining_stats.frequent_itemsets;
    } catch (const Error &e) {
        if (e.code() != ErrorCode::OutOfMemory) throw;
        std::string message = e.what();
        const std::string mining = "association_rules: ";
        if (message.compare(0, mining.size(), mining) == 0)
            message = "ease_similarities: " + message.substr(mining.size());
        throw Error(e.code(), message, e.detail(), e.hint());
    }

    const Crew crew(options.threads);
    if (!detail::cholesky_in_place(a.data(), items, interrupt, crew))
        throw_invalid("ease_similarities: the regularised Gram matrix is not positive definite in float32",
                      "Raise \"lambda\".");
    detail::inverse_from_cholesky(a.data(), items, budget, interrupt, crew);

    // Rows of B: B[i][j] = -P[j][i] / P[j][j] (P symmetric: column i).
    const CoOccurrence walk(prepared, budget, interrupt, "ease_similarities: the co-occurrence index");
    prepared.transactions.items.free();
    prepared.transactions.ends.free();
    ChargedVector<float> inverse_diagonal(budget, "ease_similarities: the neighbour lists");
    inverse_diagonal.resize(items);
    for (std::size_t j = 0; j < items; ++j) inverse_diagonal[j] = 1.0f / a(static_cast<Index>(j), static_cast<Index>(j));
    ChargedVector<Candidate> row(budget, "ease_similarities: the neighbour lists");
    row.reserve(items);
    ChargedVector<std::uint32_t> slot(budget, "ease_similarities: the neighbour lists");
    slot.assign(items, 0);
    ChargedVector<std::uint32_t> together(budget, "ease_similarities: the neighbour lists");
    const auto k = static_cast<std::size_t>(std::min<std::int64_t>(options.neighbours, static_cast<std::int64_t>(items)));
    together.resize(k + 1);
    for (std::size_t i = 0; i < items; ++i) {
        interrupt.check();
        const float *p = a.col(static_cast<Index>(i)).data();
        row.clear();
        for (std::size_t j = 0; j < items; ++j) {
            if (j == i) continue;
            const double weight = -static_cast<double>(p[j]) * static_cast<double>(inverse_diagonal[j]);
            if (weight > 0.0) row.push_back({weight, static_cast<std::uint32_t>(j)});
        }
        keep_best(row, k);
        // together: the baskets holding i and each kept neighbour.
        for (std::size_t r = 0; r < row.size(); ++r) {
            slot[row[r].item] = static_cast<std::uint32_t>(r + 1);
            together[r + 1] = 0;
        }
        for (const std::uint32_t *t = walk.baskets_of_begin(i); t != walk.baskets_of_end(i); ++t) {
            interrupt.poll();
            for (const std::uint32_t *j = walk.items_begin(*t); j != walk.items_end(*t); ++j) ++together[slot[*j]];
        }
        const std::int64_t item = prepared.item_id[i];
        emit({item, item, 0.0, static_cast<std::int64_t>(prepared.item_count[i])});
        ++stats.rows;
        for (std::size_t r = 0; r < row.size(); ++r) {
            slot[row[r].item] = 0;
            emit({item, prepared.item_id[row[r].item], row[r].score, static_cast<std::int64_t>(together[r + 1])});
            ++stats.rows;
        }
    }
    stats.peak_bytes = budget.peak();
    return stats;
}

}  // namespace personalize::suggest
