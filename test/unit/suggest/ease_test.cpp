#include "core/common/eigen_config.hpp"  // first: Eigen assertions throw

#include "core/suggest/ease.hpp"
#include "core/suggest/ease_kernel.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <map>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/common/error.hpp"

namespace personalize::suggest {
namespace {

mining::BasketCollection collection(const std::vector<std::vector<std::int64_t>> &baskets) {
    mining::BasketBuilder builder{MemoryBudget()};
    for (std::size_t b = 0; b < baskets.size(); ++b)
        for (const std::int64_t item : baskets[b]) builder.add(static_cast<std::int64_t>(b), item);
    return builder.finish(Interrupt());
}

std::vector<SimilarityRow> rows_of(const mining::BasketCollection &baskets, const EaseOptions &options) {
    std::vector<SimilarityRow> rows;
    MemoryBudget budget;
    const SimilarityStats s =
        ease_similarities(baskets, options, budget, Interrupt(), [&](const SimilarityRow &r) { rows.push_back(r); });
    EXPECT_EQ(s.rows, static_cast<std::int64_t>(rows.size()));
    EXPECT_EQ(budget.used(), 0u);
    return rows;
}

std::vector<std::vector<std::int64_t>> random_baskets(std::size_t count, int items, std::uint32_t seed) {
    std::mt19937 rng(seed);
    std::vector<std::vector<std::int64_t>> baskets(count);
    for (auto &b : baskets) {
        const int size = 1 + static_cast<int>(rng() % 6);
        // Skewed item choice: low ids are popular.
        for (int s = 0; s < size; ++s) b.push_back(10 + static_cast<std::int64_t>((rng() % items) * (rng() % items) / items));
    }
    return baskets;
}

// The closed form in double precision, straight from the definition.
std::map<std::pair<std::int64_t, std::int64_t>, double> dense_ease(const std::vector<std::vector<std::int64_t>> &baskets,
                                                                   double lambda) {
    std::set<std::int64_t> ids;
    for (const auto &b : baskets) ids.insert(b.begin(), b.end());
    const std::vector<std::int64_t> item(ids.begin(), ids.end());
    std::map<std::int64_t, int> index;
    for (std::size_t i = 0; i < item.size(); ++i) index[item[i]] = static_cast<int>(i);
    const auto n = static_cast<Eigen::Index>(item.size());
    Eigen::MatrixXd g = Eigen::MatrixXd::Zero(n, n);
    for (const auto &b : baskets) {
        const std::set<std::int64_t> distinct(b.begin(), b.end());
        for (const auto x : distinct)
            for (const auto y : distinct) g(index[x], index[y]) += 1.0;
    }
    g.diagonal().array() += lambda;
    const Eigen::MatrixXd p = g.inverse();
    std::map<std::pair<std::int64_t, std::int64_t>, double> b;
    for (Eigen::Index i = 0; i < n; ++i)
        for (Eigen::Index j = 0; j < n; ++j)
            if (i != j) b[{item[static_cast<std::size_t>(i)], item[static_cast<std::size_t>(j)]}] = -p(i, j) / p(j, j);
    return b;
}

TEST(Ease, MatchesDenseDoubleInverseOn30Items) {
    const auto baskets = random_baskets(400, 30, 7);
    for (const double lambda : {1.0, 20.0, 500.0}) {
        EaseOptions options;
        options.lambda = lambda;
        options.neighbours = 100;
        options.min_count = 1;
        const auto expected = dense_ease(baskets, lambda);
        const auto rows = rows_of(collection(baskets), options);
        std::size_t positive = 0;
        for (const auto &[pair, weight] : expected) positive += weight > 0 ? 1 : 0;
        std::size_t checked = 0;
        for (const auto &r : rows) {
            if (r.item == r.neighbour) {
                EXPECT_EQ(r.score, 0.0);
                continue;
            }
            const double want = expected.at({r.item, r.neighbour});
            EXPECT_NEAR(r.score, want, 2e-4 * std::abs(want) + 1e-6) << r.item << " " << r.neighbour << " lambda " << lambda;
            ++checked;
        }
        EXPECT_EQ(checked, positive) << "every positive weight is kept when neighbours >= items";
    }
}

TEST(Ease, RowsOrderedAndTruncatedWithCounts) {
    const auto baskets = random_baskets(300, 40, 11);
    EaseOptions options;
    options.lambda = 10.0;
    options.neighbours = 5;
    options.min_count = 1;
    const auto rows = rows_of(collection(baskets), options);
    const auto expected = dense_ease(baskets, options.lambda);
    std::map<std::int64_t, std::vector<SimilarityRow>> by_item;
    std::int64_t last = -1;
    for (const auto &r : rows) {
        EXPECT_GE(r.item, last);
        last = r.item;
        by_item[r.item].push_back(r);
    }
    for (const auto &[item, list] : by_item) {
        ASSERT_FALSE(list.empty());
        EXPECT_EQ(list[0].neighbour, item) << "the own row first";
        std::size_t holders = 0;
        for (const auto &b : baskets) holders += std::set<std::int64_t>(b.begin(), b.end()).count(item);
        EXPECT_EQ(list[0].together, static_cast<std::int64_t>(holders));
        EXPECT_LE(list.size(), 6u);
        for (std::size_t r = 1; r < list.size(); ++r) {
            EXPECT_GT(list[r].score, 0.0);
            if (r > 1) {
                EXPECT_GE(list[r - 1].score, list[r].score);
            }
            std::int64_t both = 0;
            for (const auto &b : baskets) {
                const std::set<std::int64_t> s(b.begin(), b.end());
                both += (s.count(item) && s.count(list[r].neighbour)) ? 1 : 0;
            }
            EXPECT_EQ(list[r].together, both);
        }
        // Nothing left out beats the last kept weight.
        if (list.size() == 6) {
            int better = 0;
            for (const auto &[pair, w] : expected)
                if (pair.first == item && w > list.back().score * (1 + 1e-4)) ++better;
            EXPECT_LE(better, 5) << item;
        }
    }
}

class EaseThreads : public ::testing::TestWithParam<unsigned> {};

TEST_P(EaseThreads, BlockedFactorAndInverseMatchDouble) {
    // Larger than one block and one panel, so every blocked path runs.
    const std::size_t n = 1100;
    const Crew crew(GetParam());
    std::mt19937 rng(3);
    std::uniform_real_distribution<double> u(-1.0, 1.0);
    Eigen::MatrixXd m(static_cast<Eigen::Index>(n), 40);
    for (Eigen::Index i = 0; i < m.rows(); ++i)
        for (Eigen::Index j = 0; j < m.cols(); ++j) m(i, j) = u(rng);
    Eigen::MatrixXd spd = m * m.transpose();
    spd.diagonal().array() += 5.0;
    Eigen::MatrixXf a = spd.cast<float>();
    MemoryBudget budget;
    ASSERT_TRUE(detail::cholesky_in_place(a.data(), n, Interrupt(), crew));
    detail::inverse_from_cholesky(a.data(), n, budget, Interrupt(), crew);
    const Eigen::MatrixXd want = spd.inverse();
    const double scale = want.cwiseAbs().maxCoeff();
    EXPECT_LT((a.cast<double>() - want).cwiseAbs().maxCoeff(), 1e-4 * scale);
    EXPECT_EQ(budget.used(), 0u);
}

// The AVX2 + FMA build of the dense steps (core/suggest/ease_kernel.hpp)
// against the baseline build: the same factor, inverse and EASE weights up to
// float rounding (FMA rounds once where the baseline rounds twice, and the
// kernels sum in another order).
TEST_P(EaseThreads, Avx2BuildMatchesBaseline) {
    const ease_kernel::Steps *avx2 = ease_kernel::avx2_steps();
    if (avx2 == nullptr || &ease_kernel::steps() != avx2) GTEST_SKIP() << "no AVX2 + FMA build or CPU";
    EXPECT_STREQ(ease_kernel::steps().name, "avx2");
    // A Gram matrix plus lambda, as EASE factors it: larger than a block and
    // a panel, with a ragged last block.
    const std::size_t n = 1100;
    const Crew crew(GetParam());
    std::mt19937 rng(11);
    Eigen::MatrixXf gram = Eigen::MatrixXf::Zero(static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(n));
    for (int basket = 0; basket < 3000; ++basket) {
        std::vector<Eigen::Index> items;
        for (int s = 0, size = 2 + static_cast<int>(rng() % 8); s < size; ++s)
            items.push_back(static_cast<Eigen::Index>((rng() % n) * (rng() % n) / n));
        for (const auto x : items)
            for (const auto y : items) gram(x, y) += 1.0f;
    }
    gram.diagonal().array() += 50.0f;
    Eigen::MatrixXf a = gram, b = gram;
    MemoryBudget budget;
    ASSERT_TRUE(detail::cholesky_in_place(a.data(), n, Interrupt(), crew, &ease_kernel::baseline_steps()));
    ASSERT_TRUE(detail::cholesky_in_place(b.data(), n, Interrupt(), crew, avx2));
    const Eigen::MatrixXf la = a.triangularView<Eigen::Lower>(), lb = b.triangularView<Eigen::Lower>();
    EXPECT_LT((la - lb).cwiseAbs().maxCoeff(), 1e-5f * la.cwiseAbs().maxCoeff());
    detail::inverse_from_cholesky(a.data(), n, budget, Interrupt(), crew, &ease_kernel::baseline_steps());
    detail::inverse_from_cholesky(b.data(), n, budget, Interrupt(), crew, avx2);
    EXPECT_LT((a - b).cwiseAbs().maxCoeff(), 1e-5f * a.cwiseAbs().maxCoeff());
    // The weights B[i][j] = -P[i][j] / P[j][j] served as similarities.
    double worst = 0.0, largest = 0.0;
    for (Eigen::Index j = 0; j < a.cols(); ++j)
        for (Eigen::Index i = 0; i < a.rows(); ++i) {
            if (i == j) continue;
            const double wa = -a(i, j) / a(j, j), wb = -b(i, j) / b(j, j);
            worst = std::max(worst, std::abs(wa - wb));
            largest = std::max(largest, std::abs(wa));
        }
    EXPECT_LT(worst, 1e-4 * largest);
    EXPECT_EQ(budget.used(), 0u);
}

TEST_P(EaseThreads, SameRowsAsOneThread) {
    const auto baskets = random_baskets(2000, 600, 21);
    EaseOptions options;
    options.min_count = 1;
    options.lambda = 30;
    options.neighbours = 10;
    const auto one = rows_of(collection(baskets), options);
    options.threads = GetParam();
    const auto many = rows_of(collection(baskets), options);
    ASSERT_EQ(one.size(), many.size());
    for (std::size_t r = 0; r < one.size(); ++r) {
        EXPECT_EQ(one[r].item, many[r].item);
        EXPECT_EQ(one[r].neighbour, many[r].neighbour);
        EXPECT_EQ(one[r].score, many[r].score) << "the same blocks in the same order: bit-identical";
    }
}

TEST_P(EaseThreads, CancelsWithHelpersRunning) {
    static int calls = 0;
    calls = 0;
    const Interrupt interrupt([] { return ++calls > 40; });
    MemoryBudget budget;
    EaseOptions o;
    o.min_count = 1;
    o.threads = GetParam();
    try {
        ease_similarities(collection(random_baskets(3000, 900, 9)), o, budget, interrupt, [](const SimilarityRow &) {});
        FAIL() << "not cancelled";
    } catch (const Error &e) {
        EXPECT_EQ(e.code(), ErrorCode::Canceled);
    }
    EXPECT_EQ(budget.used(), 0u);
}

TEST_P(EaseThreads, CancelInsideTheFactorAndTheInverse) {
    const std::size_t n = 1300;
    Eigen::MatrixXf a = Eigen::MatrixXf::Identity(static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(n));
    static int calls = 0;
    for (const int after : {3, 12}) {
        calls = 0;
        static int limit = 0;
        limit = after;
        const Interrupt interrupt([] { return ++calls > limit; });
        MemoryBudget budget;
        EXPECT_THROW(
            {
                detail::cholesky_in_place(a.data(), n, interrupt, Crew(GetParam()));
                detail::inverse_from_cholesky(a.data(), n, budget, interrupt, Crew(GetParam()));
            },
            Error);
        EXPECT_EQ(budget.used(), 0u);
    }
}

INSTANTIATE_TEST_SUITE_P(Threads, EaseThreads, ::testing::Values(1u, 2u, 3u));

TEST(Crew, RunsEveryTaskOnceAndRethrowsTheFirstError) {
    for (const unsigned threads : {1u, 2u, 4u}) {
        std::vector<std::atomic<int>> seen(100);
        Crew(threads).run(100, Interrupt(), [&](std::size_t i, const std::function<void()> &) { ++seen[i]; });
        for (const auto &s : seen) EXPECT_EQ(s.load(), 1);
        EXPECT_THROW(Crew(threads).run(100, Interrupt(),
                                       [&](std::size_t i, const std::function<void()> &poll) {
                                           poll();
                                           if (i == 37) throw Error(ErrorCode::Internal, "task 37");
                                       }),
                     Error);
    }
}

TEST(Ease, NotPositiveDefiniteIsReported) {
    Eigen::MatrixXf a(2, 2);
    a << 1, 2, 2, 1;
    EXPECT_FALSE(detail::cholesky_in_place(a.data(), 2, Interrupt()));
}

std::string error_of(const std::vector<std::vector<std::int64_t>> &baskets, const EaseOptions &options,
                     std::size_t limit = 0) {
    MemoryBudget budget(limit, "personalize.memory_limit");
    try {
        ease_similarities(collection(baskets), options, budget, Interrupt(), [](const SimilarityRow &) {});
    } catch (const Error &e) {
        return std::string(e.what()) + (e.hint().empty() ? "" : " | " + e.hint());
    }
    return "no error";
}

TEST(Ease, BadInput) {
    const std::vector<std::vector<std::int64_t>> small = {{1, 2, 3}, {1, 2}, {2, 3}, {1, 2, 4}};
    EaseOptions o;
    o.lambda = 0;
    EXPECT_EQ(error_of(small, o), "ease_similarities: \"lambda\" must be a positive finite number");
    o.lambda = std::nan("");
    EXPECT_EQ(error_of(small, o), "ease_similarities: \"lambda\" must be a positive finite number");
    o = EaseOptions();
    o.neighbours = 0;
    EXPECT_EQ(error_of(small, o), "ease_similarities: \"neighbours\" must be at least 1");
    o = EaseOptions();
    EXPECT_EQ(error_of({{1, 2, 3}}, o),
              "ease_similarities: \"baskets\" must hold at least 2 baskets, got 1 | One basket per customer: "
              "baskets(customer_id, item_id).");
    EXPECT_EQ(error_of({{1}, {1}, {1, 2}}, o),
              "ease_similarities: \"baskets\" must hold at least 2 items in at least 2 baskets (\"min_count\"), got 1");
    o.min_count = 1;
    EXPECT_EQ(error_of(small, o), "no error");
}

TEST(Ease, TooLargeForTheBudgetNamesLimitItemsAndFallback) {
    const auto baskets = random_baskets(3000, 700, 5);
    EaseOptions o;
    o.min_count = 1;
    const std::string e = error_of(baskets, o, 1u << 20);
    EXPECT_NE(e.find("ease_similarities: the "), std::string::npos) << e;
    EXPECT_NE(e.find(" item matrix (float32) needs more than personalize.memory_limit (1 MB)"), std::string::npos) << e;
    EXPECT_NE(e.find("rp3beta_similarities()"), std::string::npos) << e;
    EXPECT_NE(e.find("raise personalize.memory_limit"), std::string::npos) << e;
}

TEST(Ease, Cancels) {
    static int calls = 0;
    calls = 0;
    const Interrupt interrupt([] { return ++calls > 3; });
    MemoryBudget budget;
    EaseOptions o;
    o.min_count = 1;
    try {
        ease_similarities(collection(random_baskets(2000, 600, 9)), o, budget, interrupt, [](const SimilarityRow &) {});
        FAIL() << "not cancelled";
    } catch (const Error &e) {
        EXPECT_EQ(e.code(), ErrorCode::Canceled);
    }
    EXPECT_EQ(budget.used(), 0u);
}

}  // namespace
}  // namespace personalize::suggest
