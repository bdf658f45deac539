#include "core/als/als.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <vector>

#include "core/als/model.hpp"
#include "core/common/error.hpp"
#include "../common/bytes_test_util.hpp"

namespace personalize::als {
namespace {

struct Triple {
    std::int64_t customer, item;
    double strength;
};

// Two tastes: customers 1..20 buy from items 100..109, customers 21..40 from
// items 200..209; each buys 5 of the 10 (a different rotation per customer).
std::vector<Triple> two_tastes() {
    std::vector<Triple> rows;
    for (std::int64_t c = 1; c <= 40; ++c) {
        const std::int64_t base = c <= 20 ? 100 : 200;
        for (std::int64_t k = 0; k < 5; ++k) rows.push_back({c, base + (c * 3 + k) % 10, 1.0 + static_cast<double>(k % 2)});
    }
    return rows;
}

std::unique_ptr<AlsCollector> collect(const std::vector<Triple> &rows, MemoryBudget budget = MemoryBudget()) {
    auto c = std::make_unique<AlsCollector>(std::move(budget));
    for (const auto &r : rows) c->add(r.customer, r.item, r.strength);
    return c;
}

// The stored bytes, 8-byte aligned.
struct Stored {
    std::vector<std::uint64_t> words;
    std::size_t size = 0;
    const unsigned char *data() const { return reinterpret_cast<const unsigned char *>(words.data()); }
    unsigned char *data() { return reinterpret_cast<unsigned char *>(words.data()); }
    AlsModelView view() const { return AlsModelView::open(data(), size); }
};

Stored fit(const std::vector<Triple> &rows, const AlsOptions &o) {
    auto c = collect(rows);
    const AlsTrainedModel m = als_fit(*c, o);
    Stored s;
    s.size = byte_size(m);
    s.words.assign((s.size + 7) / 8, 0);
    write_bytes(m, s.data(), s.size);
    return s;
}

Stored stored(const std::vector<unsigned char> &bytes) {
    Stored s;
    s.size = bytes.size();
    s.words.assign((s.size + 7) / 8, 0);
    if (s.size != 0) std::memcpy(s.data(), bytes.data(), s.size);
    return s;
}

// Adds the rows of one whole serialised collector.
void append(AlsCollector &c, const unsigned char *data, std::size_t size) {
    read_whole(data, size, "als_fit", [&](ByteReader &in) { c.read(in); });
}

AlsOptions small_options(AlsSolver solver = AlsSolver::ConjugateGradient) {
    AlsOptions o;
    o.factors = 4;
    o.iterations = 15;
    o.regularization = 0.1;
    o.alpha = 5.0;
    o.seed = 7;
    o.solver = solver;
    return o;
}

TEST(Als, RecommendsWithinTheCustomersTasteAndLeavesOutWhatWasBought) {
    for (AlsSolver solver : {AlsSolver::ConjugateGradient, AlsSolver::Cholesky}) {
        // Two factors: room for the two tastes, not for the rotation pattern.
        AlsOptions o = small_options(solver);
        o.factors = 2;
        const Stored s = fit(two_tastes(), o);
        const AlsModelView m = s.view();
        EXPECT_EQ(m.customers(), 40u);
        EXPECT_EQ(m.items(), 20u);
        EXPECT_EQ(m.header.interactions, 200u);
        for (std::int64_t c : {1, 7, 20, 21, 33, 40}) {
            const std::int64_t index = m.customer_index(c);
            ASSERT_GE(index, 0);
            const auto top = als_recommend(m, static_cast<std::size_t>(index), 5, true);
            ASSERT_EQ(top.size(), 5u);
            const std::int64_t base = c <= 20 ? 100 : 200;
            for (const auto &t : top) {
                EXPECT_GE(t.item_id, base) << "customer " << c;
                EXPECT_LT(t.item_id, base + 10) << "customer " << c;
                for (std::int64_t k = 0; k < 5; ++k) EXPECT_NE(t.item_id, base + (c * 3 + k) % 10);
            }
            for (std::size_t k = 1; k < top.size(); ++k) EXPECT_GE(top[k - 1].score, top[k].score);
            // Without the exclusion: the whole taste, bought items included.
            const auto with_bought = als_recommend(m, static_cast<std::size_t>(index), 10, false);
            ASSERT_EQ(with_bought.size(), 10u);
            for (const auto &t : with_bought) {
                EXPECT_GE(t.item_id, base);
                EXPECT_LT(t.item_id, base + 10);
            }
        }
        EXPECT_EQ(m.customer_index(41), -1);
        EXPECT_EQ(m.item_index(150), -1);
    }
}

TEST(Als, SameRowsInAnyOrderGiveTheSameBytes) {
    std::vector<Triple> rows = two_tastes();
    const Stored a = fit(rows, small_options());
    std::mt19937_64 rng(3);
    std::shuffle(rows.begin(), rows.end(), rng);
    // A pair split over two rows counts as their sum.
    rows.push_back({5, (5 * 3 + 1) % 10 + 100, 1.0});
    for (auto &r : rows)
        if (r.customer == 5 && r.item == (5 * 3 + 1) % 10 + 100 && r.strength == 2.0) r.strength = 1.0;
    const Stored b = fit(rows, small_options());
    ASSERT_EQ(a.size, b.size);
    EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size), 0);
    EXPECT_EQ(a.view().header.fingerprint, b.view().header.fingerprint);
    AlsOptions other = small_options();
    other.seed = 8;
    EXPECT_NE(fit(two_tastes(), other).view().header.fingerprint, a.view().header.fingerprint);
}

TEST(Als, CholeskyLossNeverIncreasesAndCgComesClose) {
    double previous = std::numeric_limits<double>::infinity();
    for (std::int64_t iterations : {1, 2, 5, 15}) {
        AlsOptions o = small_options(AlsSolver::Cholesky);
        o.iterations = iterations;
        const double loss = fit(two_tastes(), o).view().header.loss;
        EXPECT_LE(loss, previous + 1e-9) << iterations << " iterations";
        previous = loss;
    }
    const double cg = fit(two_tastes(), small_options(AlsSolver::ConjugateGradient)).view().header.loss;
    EXPECT_GT(cg, 0.0);
    EXPECT_LT(std::abs(cg - previous) / previous, 0.05) << "cg " << cg << " cholesky " << previous;
}

TEST(Als, FoldInOfATrainingCustomerReproducesTheStoredFactors) {
    const std::vector<Triple> rows = two_tastes();
    const Stored s = fit(rows, small_options(AlsSolver::Cholesky));
    const AlsModelView m = s.view();
    std::vector<double> gram(m.factors() * m.factors());
    als_item_gram(m, gram.data());
    for (std::int64_t c : {3, 25}) {
        std::vector<std::int64_t> items;
        std::vector<double> strengths;
        for (const auto &r : rows)
            if (r.customer == c) items.push_back(r.item), strengths.push_back(r.strength);
        items.push_back(999);  // unknown: ignored
        strengths.push_back(4.0);
        std::vector<std::uint32_t> known;
        const std::vector<float> x = als_fold_in(m, gram.data(), items.data(), items.size(), strengths.data(), strengths.size(),
                                                 known, "test");
        EXPECT_EQ(known.size(), 5u);
        const float *stored = m.customer_row(static_cast<std::size_t>(m.customer_index(c)));
        for (std::size_t k = 0; k < m.factors(); ++k) EXPECT_NEAR(x[k], stored[k], 1e-4) << "customer " << c;
    }
    std::vector<std::uint32_t> known;
    const std::int64_t unknown[] = {1, 2};
    const auto zero = als_fold_in(m, gram.data(), unknown, 2, nullptr, 0, known, "test");
    EXPECT_TRUE(known.empty());
    for (float v : zero) EXPECT_EQ(v, 0.0f);
    const std::int64_t one[] = {100};
    const double bad[] = {std::nan("")};
    EXPECT_THROW(als_fold_in(m, gram.data(), one, 1, bad, 1, known, "test"), Error);
    EXPECT_THROW(als_fold_in(m, gram.data(), one, 1, bad, 0, known, "test"), Error);
    // Finite strengths whose confidence would overflow the solve: the bound of als_fit.
    const std::int64_t three[] = {100, 101, 102};
    const double huge[] = {1e30, 1e30, 1e30};
    std::string what;
    try {
        als_fold_in(m, gram.data(), three, 3, huge, 3, known, "test");
    } catch (const Error &e) {
        what = e.what();
    }
    EXPECT_EQ(what.rfind("test: the model's alpha * \"strengths\" is too large", 0), 0u) << what;
    // Duplicates are summed before the bound.
    const std::int64_t same[] = {100, 100};
    const double halves[] = {1.5e308, 1.5e308};
    EXPECT_THROW(als_fold_in(m, gram.data(), same, 2, halves, 2, known, "test"), Error);
}

TEST(Als, BatchEqualsOneCustomerAtATime) {
    const Stored s = fit(two_tastes(), small_options());
    const AlsModelView m = s.view();
    std::vector<std::size_t> customers;
    for (std::size_t c = m.customers(); c-- > 0;) customers.push_back(c);
    MemoryBudget budget;
    std::size_t calls = 0;
    als_recommend_batch(m, customers, 3, true, budget, Interrupt(),
                        [&](std::size_t position, const AlsScoredItem *items, std::size_t count) {
                            EXPECT_EQ(position, calls++);
                            const auto one = als_recommend(m, customers[position], 3, true);
                            ASSERT_EQ(count, one.size());
                            for (std::size_t k = 0; k < count; ++k) {
                                EXPECT_EQ(items[k].item_id, one[k].item_id);
                                EXPECT_NEAR(items[k].score, one[k].score, 1e-5);
                            }
                        });
    EXPECT_EQ(calls, customers.size());
    EXPECT_EQ(budget.used(), 0u);
    // n larger than what is left: everything not bought (20 - 5 items).
    EXPECT_EQ(als_recommend(m, 0, 1000, true).size(), 15u);
}

TEST(Als, OpenRejectsChangedOrTruncatedBytes) {
    Stored s = fit(two_tastes(), small_options());
    EXPECT_NO_THROW(s.view());
    for (std::size_t at : {std::size_t{0}, std::size_t{9}, std::size_t{200}, s.size - 3}) {
        Stored t = s;
        t.data()[at] ^= 0x10;
        try {
            t.view();
            ADD_FAILURE() << "byte " << at;
        } catch (const Error &e) {
            EXPECT_EQ(e.code(), ErrorCode::DataCorrupted) << e.what();
        }
    }
    Stored shorter = s;
    shorter.size -= 8;
    EXPECT_THROW(shorter.view(), Error);
    Stored tiny = s;
    tiny.size = 16;
    EXPECT_THROW(tiny.view(), Error);
}

TEST(Als, BadInputIsRejectedWithTheArgumentNamed) {
    AlsCollector c{MemoryBudget()};
    auto message = [](auto &&f) {
        try {
            f();
        } catch (const Error &e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    EXPECT_EQ(message([&] { c.add(1, 2, 0.0); }),
              "als_fit: \"strength\" must be a finite number > 0, not 0");
    EXPECT_EQ(message([&] { c.add(1, 2, std::nan("")); }), "als_fit: \"strength\" must be a finite number > 0, not NaN");
    EXPECT_EQ(message([&] { c.add(1, 2, -1.5); }), "als_fit: \"strength\" must be a finite number > 0, not -1.5");
    EXPECT_EQ(message([&] { als_fit(c, small_options()); }), "als_fit: no input rows");
    AlsOptions o = small_options();
    o.factors = 0;
    EXPECT_EQ(message([&] { o.validate("als_fit"); }), "als_fit: \"factors\" must be between 1 and 1024, not 0");
    o = small_options();
    o.iterations = 1001;
    EXPECT_EQ(message([&] { o.validate("als_fit"); }), "als_fit: \"iterations\" must be between 1 and 1000, not 1001");
    o = small_options();
    o.regularization = -1;
    EXPECT_EQ(message([&] { o.validate("als_fit"); }), "als_fit: \"regularization\" must be a finite number >= 0, not -1");
    o = small_options();
    o.alpha = std::numeric_limits<double>::infinity();
    EXPECT_EQ(message([&] { o.validate("als_fit"); }), "als_fit: \"alpha\" must be a finite number > 0, not Infinity");
    EXPECT_EQ(message([] { parse_als_solver("lu"); }), "als_fit: \"solver\" must be 'cg' or 'cholesky', not 'lu'");
    c.add(1, 2, 1e300);
    o = small_options();
    o.alpha = 1e10;
    EXPECT_EQ(message([&] { als_fit(c, o); }).rfind("als_fit: \"alpha\" * \"strength\" is too large", 0), 0u);
}

TEST(Als, MemoryBudgetAndCancellation) {
    std::vector<Triple> rows;
    for (std::int64_t c = 0; c < 2000; ++c)
        for (std::int64_t k = 0; k < 10; ++k) rows.push_back({c, (c * 7 + k * 13) % 500, 1.0});
    try {
        auto c = collect(rows, MemoryBudget(64 * 1024, "personalize.memory_limit"));
        AlsOptions o = small_options();
        als_fit(*c, o);
        ADD_FAILURE() << "no error";
    } catch (const Error &e) {
        EXPECT_EQ(e.code(), ErrorCode::OutOfMemory);
        EXPECT_NE(std::string(e.what()).find("personalize.memory_limit"), std::string::npos) << e.what();
    }
    auto c = collect(rows);
    static int polls = 0;
    polls = 0;
    const Interrupt cancel_soon([] { return ++polls > 3; });
    try {
        als_fit(*c, small_options(), cancel_soon);
        ADD_FAILURE() << "no error";
    } catch (const Error &e) {
        EXPECT_EQ(e.code(), ErrorCode::Canceled);
    }
}

TEST(Als, CollectorBytesRoundTripAndCorruptionIsDetected) {
    auto a = collect(two_tastes());
    auto bytes = to_bytes(*a);
    AlsCollector b{MemoryBudget()};
    append(b, bytes.data(), bytes.size());
    append(b, bytes.data(), bytes.size());
    EXPECT_EQ(b.rows(), 2 * a->rows());
    // Twice the same rows: every strength doubled, so a model equal to one
    // fitted on doubled strengths.
    std::vector<Triple> doubled = two_tastes();
    for (auto &r : doubled) r.strength *= 2;
    auto d = collect(doubled);
    const AlsTrainedModel from_b = als_fit(b, small_options());
    const AlsTrainedModel from_d = als_fit(*d, small_options());
    EXPECT_EQ(to_bytes(from_b), to_bytes(from_d));
    testing::expect_truncations_rejected(bytes, [](const unsigned char *data, std::size_t size) {
        AlsCollector c{MemoryBudget()};
        append(c, data, size);
    });
    bytes[0] ^= 1;
    EXPECT_THROW(append(b, bytes.data(), bytes.size()), Error);
    bytes[0] ^= 1;
    bytes[bytes.size() - 1] ^= 0x80;  // the last strength becomes negative
    EXPECT_THROW(append(b, bytes.data(), bytes.size()), Error);
}

// The aggregate's state: options and rows.
TEST(Als, FitStateRoundTrip) {
    AlsFitState state{MemoryBudget()};
    AlsOptions o = small_options(AlsSolver::Cholesky);
    o.seed = 11;
    state.set_options(o);
    for (const auto &r : two_tastes()) state.rows.add(r.customer, r.item, r.strength);
    const auto bytes = to_bytes(state);
    AlsFitState back{MemoryBudget()};
    read_whole(bytes.data(), bytes.size(), "als_fit", [&](ByteReader &in) { back.read(in); });
    EXPECT_TRUE(back.has_options);
    EXPECT_TRUE(back.options == o);
    EXPECT_EQ(to_bytes(back), bytes);
    testing::expect_truncations_rejected(bytes, [](const unsigned char *data, std::size_t size) {
        AlsFitState s{MemoryBudget()};
        read_whole(data, size, "als_fit", [&](ByteReader &in) { s.read(in); });
    });
    auto corrupted = [](std::vector<unsigned char> b) {
        return testing::error_code([&] {
            AlsFitState s{MemoryBudget()};
            read_whole(b.data(), b.size(), "als_fit", [&](ByteReader &in) { s.read(in); });
        });
    };
    auto bad = bytes;
    bad[8 + 1 + 5 * 8] = 2;  // the solver
    EXPECT_EQ(corrupted(bad), ErrorCode::DataCorrupted);
    bad = bytes;
    std::memset(bad.data() + 9, 0, 8);  // factors 0: options that do not validate
    EXPECT_EQ(corrupted(bad), ErrorCode::DataCorrupted);
}

// A model as the 0.1.0 library stored it (built from commit 9e068cb): rows
// (1, 10, 1), (1, 20, 2), (2, 20, 1), factors 2, iterations 3, seed 7, the
// other options default. personalize.als_model values on disk must stay
// readable, and this library writes the same layout byte for byte.
constexpr const char *kModel010 =
    "414c4d3101000000020000000000000002000000000000000200000000000000"
    "03000000000000000300000003000000000000000000e03f0000000000001440"
    "07000000000000006fccd9fe742ac23f6a5b78be40ca58d70000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000"
    "010000000000000002000000000000000a000000000000001400000000000000"
    "0000000000000000020000000000000003000000000000000000000001000000"
    "01000000000000000e811ebb29d3973f1f3e403f401a493fa10be1bee2a13e3f"
    "7d15b43ee420473f";

TEST(Als, ReadsAndWritesTheStoredModelOf010) {
    const auto bytes = testing::from_hex(kModel010);
    const Stored s = stored(bytes);
    const AlsModelView v = s.view();
    EXPECT_EQ(v.factors(), 2u);
    ASSERT_EQ(v.customers(), 2u);
    ASSERT_EQ(v.items(), 2u);
    EXPECT_EQ(v.header.interactions, 3u);
    EXPECT_EQ(v.header.iterations, 3u);
    EXPECT_EQ(v.header.seed, 7);
    EXPECT_EQ(v.header.alpha, 5.0);
    EXPECT_EQ(v.header.regularization, 0.5);
    EXPECT_EQ(v.header.solver, AlsSolver::ConjugateGradient);
    EXPECT_EQ(v.customer_ids[1], 2);
    EXPECT_EQ(v.item_ids[0], 10);
    const auto top = als_recommend(v, static_cast<std::size_t>(v.customer_index(2)), 5, true);
    ASSERT_EQ(top.size(), 1u);
    EXPECT_EQ(top[0].item_id, 10);  // the one item customer 2 did not buy

    // Written again from its arrays: the very same bytes.
    MemoryBudget budget;
    AlsTrainedModel m(budget);
    m.options.factors = v.header.factors;
    m.options.iterations = v.header.iterations;
    m.options.cg_steps = v.header.cg_steps;
    m.options.regularization = v.header.regularization;
    m.options.alpha = v.header.alpha;
    m.options.seed = static_cast<std::uint64_t>(v.header.seed);
    m.options.solver = v.header.solver;
    m.loss = v.header.loss;
    m.customer_ids.append(v.customer_ids, v.customer_ids + 2);
    m.item_ids.append(v.item_ids, v.item_ids + 2);
    m.offsets.append(v.offsets, v.offsets + 3);
    m.history.append(v.history, v.history + 3);
    m.customer_factors.append(v.customer_factors, v.customer_factors + 4);
    m.item_factors.append(v.item_factors, v.item_factors + 4);
    EXPECT_EQ(to_bytes(m), bytes);

    testing::expect_truncations_rejected(bytes, [](const unsigned char *data, std::size_t size) {
        AlsModelView::open(stored(std::vector<unsigned char>(data, data + size)).data(), size);
    });
    // A newer format version is named in the error.
    auto newer = bytes;
    newer[4] = 2;
    try {
        AlsModelView::open(stored(newer).data(), newer.size());
        ADD_FAILURE() << "no error";
    } catch (const Error &e) {
        EXPECT_EQ(e.code(), ErrorCode::DataCorrupted);
        EXPECT_STREQ(e.what(), "als_model: the value is corrupted: format version 2 is not supported "
                               "(this library reads version 1)");
    }
}

}  // namespace
}  // namespace personalize::als
