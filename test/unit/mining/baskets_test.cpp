#include "core/mining/baskets.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "core/common/error.hpp"
#include "../common/bytes_test_util.hpp"

namespace personalize::mining {
namespace {

using Reference = std::map<std::int64_t, std::set<std::int64_t>>;

Reference contents(const BasketCollection &c) {
    Reference r;
    for (std::size_t b = 0; b < c.size(); ++b) r[c.id(b)] = std::set<std::int64_t>(c.begin(b), c.end(b));
    return r;
}

// Checks the CSR invariants a collection must always satisfy.
void expect_well_formed(const BasketCollection &c) {
    std::size_t lines = 0;
    for (std::size_t b = 0; b < c.size(); ++b) {
        if (b > 0) {
            EXPECT_LT(c.id(b - 1), c.id(b));
        }
        EXPECT_GT(c.basket_size(b), 0u);
        for (const std::int64_t *it = c.begin(b) + 1; it < c.end(b); ++it) EXPECT_LT(*(it - 1), *it);
        lines += c.basket_size(b);
    }
    EXPECT_EQ(lines, c.lines());
}

std::vector<unsigned char> serialize(const BasketCollection &c) { return to_bytes(c); }

BasketCollection make(const Reference &r) {
    BasketCollection c;
    for (const auto &[id, items] : r) {
        const std::vector<std::int64_t> v(items.begin(), items.end());
        c.append(id, v.data(), v.size());
    }
    return c;
}

ErrorCode code_of(const std::function<void()> &f) { return testing::error_code(f); }

TEST(Baskets, DuplicatesCollapseAndUnsortedInputIsSorted) {
    BasketBuilder builder{MemoryBudget()};
    builder.add(7, 10);
    builder.add(1, 20);
    builder.add(1, 10);
    builder.add(7, 10);  // duplicate line
    builder.add(1, 20);  // duplicate line
    builder.add(-3, 5);
    EXPECT_EQ(builder.pending_lines(), 6u);
    const BasketCollection c = builder.finish(Interrupt());
    EXPECT_EQ(builder.pending_lines(), 0u);
    expect_well_formed(c);
    ASSERT_EQ(c.size(), 3u);
    EXPECT_EQ(c.lines(), 4u);
    EXPECT_EQ(c.to_text(), "{-3:{5},1:{10,20},7:{10}}");
    EXPECT_EQ(c.id(1), 1);
    EXPECT_EQ(c.basket_size(1), 2u);
}

TEST(Baskets, FinishMatchesReferenceOnRandomLines) {
    std::mt19937_64 rng(7);
    for (int round = 0; round < 4; ++round) {
        BasketBuilder builder{MemoryBudget()};
        Reference expected;
        // Round 3 spreads ids over the whole int64 range (the compare-sort path).
        const bool wide = round == 3;
        std::uniform_int_distribution<std::int64_t> basket(wide ? INT64_MIN : -50, wide ? INT64_MAX : 500);
        std::vector<std::int64_t> basket_ids(200);
        for (auto &b : basket_ids) b = basket(rng);
        std::uniform_int_distribution<std::int64_t> item(wide ? INT64_MIN : 0, wide ? INT64_MAX : 80);
        std::vector<std::int64_t> item_ids(100);
        for (auto &i : item_ids) i = item(rng);
        for (int k = 0; k < 5000; ++k) {
            const std::int64_t b = basket_ids[rng() % basket_ids.size()], i = item_ids[rng() % item_ids.size()];
            builder.add(b, i);
            expected[b].insert(i);
        }
        const BasketCollection c = builder.finish(Interrupt());
        expect_well_formed(c);
        EXPECT_EQ(contents(c), expected) << "round " << round;
    }
}

TEST(Baskets, ExtremeIdsSurviveTheRadixPath) {
    BasketBuilder builder{MemoryBudget()};
    builder.add(0, INT64_MIN);
    builder.add(0, INT64_MAX);
    builder.add(0, 0);
    const BasketCollection c = builder.finish(Interrupt());
    ASSERT_EQ(c.size(), 1u);
    EXPECT_EQ(std::vector<std::int64_t>(c.begin(0), c.end(0)), (std::vector<std::int64_t>{INT64_MIN, 0, INT64_MAX}));
    BasketBuilder single{MemoryBudget()};
    single.add(INT64_MAX, 4);
    EXPECT_EQ(single.finish(Interrupt()).to_text(), "{9223372036854775807:{4}}");
}

TEST(Baskets, EmptyBuilderGivesEmptyCollection) {
    BasketBuilder builder{MemoryBudget()};
    const BasketCollection c = builder.finish(Interrupt());
    EXPECT_EQ(c.size(), 0u);
    EXPECT_EQ(c.lines(), 0u);
    EXPECT_EQ(c.to_text(), "{}");
}

TEST(Baskets, AddAllAndBuilderMerge) {
    BasketBuilder a{MemoryBudget()}, b{MemoryBudget()};
    const std::int64_t items[] = {3, 1, 2};
    a.add_all(5, items, 3);
    b.add(5, 4);
    b.add(6, 1);
    a.merge(b);
    EXPECT_EQ(a.finish(Interrupt()).to_text(), "{5:{1,2,3,4},6:{1}}");
}

TEST(Baskets, MergeUnitesOverlappingBaskets) {
    const BasketCollection a = make({{1, {10, 20}}, {3, {5}}, {7, {1, 2, 3}}});
    const BasketCollection b = make({{2, {8}}, {3, {5, 6}}, {7, {0, 2, 9}}, {9, {4}}});
    MemoryBudget budget;
    const BasketCollection m = BasketCollection::merge(a, b, budget, Interrupt());
    expect_well_formed(m);
    EXPECT_EQ(m.to_text(), "{1:{10,20},2:{8},3:{5,6},7:{0,1,2,3,9},9:{4}}");
    EXPECT_EQ(BasketCollection::merge(b, a, budget, Interrupt()).to_text(), m.to_text());
    EXPECT_EQ(BasketCollection::merge(a, BasketCollection(), budget, Interrupt()).to_text(), a.to_text());
    EXPECT_EQ(BasketCollection::merge(BasketCollection(), BasketCollection(), budget, Interrupt()).size(), 0u);
    EXPECT_GT(budget.used(), 0u);  // the results stay charged
}

TEST(Baskets, MergeEqualsBuildingFromAllLines) {
    std::mt19937 rng(3);
    BasketBuilder left{MemoryBudget()}, right{MemoryBudget()}, all{MemoryBudget()};
    for (int k = 0; k < 3000; ++k) {
        const std::int64_t b = rng() % 300, i = rng() % 50;
        (k % 3 ? left : right).add(b, i);
        all.add(b, i);
    }
    MemoryBudget budget;
    const BasketCollection l = left.finish(Interrupt()), r = right.finish(Interrupt());
    const BasketCollection m = BasketCollection::merge(l, r, budget, Interrupt());
    EXPECT_EQ(contents(m), contents(all.finish(Interrupt())));
}

TEST(Baskets, AppendChecksItsPreconditions) {
    BasketCollection c;
    const std::int64_t ok[] = {1, 2}, unsorted[] = {2, 1}, dup[] = {1, 1};
    c.append(5, ok, 2);
    EXPECT_EQ(code_of([&] { c.append(5, ok, 2); }), ErrorCode::InvalidParameter);
    EXPECT_EQ(code_of([&] { c.append(6, unsorted, 2); }), ErrorCode::InvalidParameter);
    EXPECT_EQ(code_of([&] { c.append(6, dup, 2); }), ErrorCode::InvalidParameter);
    EXPECT_EQ(code_of([&] { c.append(6, ok, 0); }), ErrorCode::InvalidParameter);
    EXPECT_EQ(c.size(), 1u);
}

TEST(Baskets, SerializationRoundTrip) {
    const BasketCollection c = make({{-4, {1}}, {1, {10, 20}}, {7, {INT64_MIN, 10, INT64_MAX}}});
    const auto bytes = serialize(c);
    MemoryBudget budget;
    const BasketCollection back = BasketCollection::deserialize(bytes.data(), bytes.size(), budget);
    expect_well_formed(back);
    EXPECT_EQ(contents(back), contents(c));
    EXPECT_EQ(serialize(back), bytes);

    const auto empty = serialize(BasketCollection());
    EXPECT_EQ(BasketCollection::deserialize(empty.data(), empty.size(), budget).size(), 0u);
}

// {1:{10,20},7:{10}} as the 0.1.0 library wrote it (built from commit 9e068cb):
// the personalize.baskets values on disk. They must stay readable, and this
// library writes the very same bytes (the layout is version 0 of "PBK1").
TEST(Baskets, ReadsTheBytesOf010) {
    const auto v010 = testing::from_hex(
        "50424b3100000000020000000000000003000000000000000100000000000000"
        "0700000000000000020000000000000003000000000000000a00000000000000"
        "14000000000000000a00000000000000");
    MemoryBudget budget;
    const BasketCollection c = BasketCollection::deserialize(v010.data(), v010.size(), budget);
    EXPECT_EQ(c.to_text(), "{1:{10,20},7:{10}}");
    EXPECT_EQ(serialize(c), v010);
}

TEST(Baskets, EveryTruncationIsCorrupted) {
    MemoryBudget budget;
    testing::expect_truncations_rejected(serialize(make({{1, {10, 20}}, {7, {10}}})),
                                         [&](const unsigned char *data, std::size_t size) {
                                             BasketCollection::deserialize(data, size, budget);
                                         });
    EXPECT_EQ(budget.used(), 0u);  // rejected values give their memory back
}

TEST(Baskets, CorruptedBytesAreRejected) {
    // Layout: tag(4) version(2) flags(2) baskets(8) lines(8) ids[2] ends[2] items[3].
    const auto good = serialize(make({{1, {10, 20}}, {7, {10}}}));
    ASSERT_EQ(good.size(), 24u + 16 + 16 + 24);
    auto patch = [&](std::size_t at, std::int64_t value) {
        auto bytes = good;
        std::memcpy(bytes.data() + at, &value, sizeof value);
        return bytes;
    };
    MemoryBudget budget;
    auto bad = [&](const std::vector<unsigned char> &bytes) {
        return code_of([&] { BasketCollection::deserialize(bytes.data(), bytes.size(), budget); });
    };
    auto tag = good;
    tag[0] ^= 1;
    EXPECT_EQ(bad(tag), ErrorCode::DataCorrupted);
    auto version = good;
    version[4] = 1;
    EXPECT_EQ(bad(version), ErrorCode::DataCorrupted);
    auto flags = good;
    flags[6] = 1;
    EXPECT_EQ(bad(flags), ErrorCode::DataCorrupted);
    EXPECT_EQ(bad(patch(8, 3)), ErrorCode::DataCorrupted);                 // basket count
    EXPECT_EQ(bad(patch(8, INT64_MAX)), ErrorCode::DataCorrupted);         // huge basket count
    EXPECT_EQ(bad(patch(16, 4)), ErrorCode::DataCorrupted);                // line count
    EXPECT_EQ(bad(patch(24, 7)), ErrorCode::DataCorrupted);                // ids not increasing
    EXPECT_EQ(bad(patch(40, 0)), ErrorCode::DataCorrupted);                // empty first basket
    EXPECT_EQ(bad(patch(40, 3)), ErrorCode::DataCorrupted);                // offset beyond next
    EXPECT_EQ(bad(patch(48, 2)), ErrorCode::DataCorrupted);                // last end != lines
    EXPECT_EQ(bad(patch(48, -1)), ErrorCode::DataCorrupted);               // end out of range
    EXPECT_EQ(bad(patch(56, 20)), ErrorCode::DataCorrupted);               // duplicate item
    EXPECT_EQ(bad(patch(56, 30)), ErrorCode::DataCorrupted);               // unsorted items
    EXPECT_EQ(code_of([&] { BasketCollection::deserialize(nullptr, 10, budget); }), ErrorCode::DataCorrupted);
    // Random garbage never crashes and is (almost surely) rejected.
    std::mt19937 rng(11);
    for (int k = 0; k < 200; ++k) {
        auto bytes = good;
        bytes[rng() % bytes.size()] ^= static_cast<unsigned char>(1 + rng() % 255);
        try {
            expect_well_formed(BasketCollection::deserialize(bytes.data(), bytes.size(), budget));
        } catch (const Error &e) {
            EXPECT_EQ(e.code(), ErrorCode::DataCorrupted);
        }
    }
}

TEST(Baskets, BuilderSerializationRoundTrip) {
    BasketBuilder builder{MemoryBudget()};
    builder.add(3, 1);
    builder.add(1, 2);
    builder.add(3, 1);
    auto bytes = to_bytes(builder);
    BasketBuilder back = BasketBuilder::deserialize(bytes.data(), bytes.size(), MemoryBudget());
    EXPECT_EQ(back.pending_lines(), 3u);
    EXPECT_EQ(back.finish(Interrupt()).to_text(), "{1:{2},3:{1}}");
    testing::expect_truncations_rejected(bytes, [](const unsigned char *data, std::size_t size) {
        BasketBuilder::deserialize(data, size, MemoryBudget());
    });
    bytes[0] ^= 0xff;
    EXPECT_EQ(code_of([&] { BasketBuilder::deserialize(bytes.data(), bytes.size(), MemoryBudget()); }),
              ErrorCode::DataCorrupted);
}

TEST(Baskets, TextRoundTrip) {
    MemoryBudget budget;
    for (const char *text : {"{}", "{1:{10,20},7:{10}}", "{-9223372036854775808:{-1,0,9223372036854775807}}"}) {
        EXPECT_EQ(BasketCollection::from_text(text, budget).to_text(), text);
    }
    const BasketCollection c =
        BasketCollection::from_text("  { 7 : { 10 } ,\n 1:{20, 10 ,20}, 7:{3}, +2:{-5} }  ", budget);
    expect_well_formed(c);
    EXPECT_EQ(c.to_text(), "{1:{10,20},2:{-5},7:{3,10}}");
    EXPECT_EQ(BasketCollection::from_text(" { } ", budget).size(), 0u);
}

TEST(Baskets, TextErrorsNamePosition) {
    MemoryBudget budget;
    auto message = [&](const char *text) -> std::string {
        try {
            BasketCollection::from_text(text, budget);
        } catch (const Error &e) {
            EXPECT_EQ(e.code(), ErrorCode::InvalidText) << text;
            return e.what();
        }
        ADD_FAILURE() << "accepted: " << text;
        return {};
    };
    EXPECT_EQ(message("{123x"), "baskets: invalid input at character 5: expected ':'");
    EXPECT_EQ(message(""), "baskets: invalid input at end of input: expected '{'");
    EXPECT_EQ(message("[1:{2}]"), "baskets: invalid input at character 1: expected '{'");
    EXPECT_EQ(message("{1:{2}"), "baskets: invalid input at end of input: expected ',' or '}'");
    EXPECT_EQ(message("{1:{}}"), "baskets: invalid input at character 5: expected an item id");
    EXPECT_EQ(message("{1:2}"), "baskets: invalid input at character 4: expected '{'");
    EXPECT_EQ(message("{a:{2}}"), "baskets: invalid input at character 2: expected a basket id");
    EXPECT_EQ(message("{1:{2;3}}"), "baskets: invalid input at character 6: expected ',' or '}'");
    EXPECT_EQ(message("{1:{2}} x"), "baskets: invalid input at character 9: expected end of input");
    EXPECT_EQ(message("{1:{2},}"), "baskets: invalid input at character 8: expected a basket id");
    EXPECT_EQ(message("{1:{99999999999999999999}}"),
              "baskets: invalid input at character 5: an item id is out of range for bigint");
    EXPECT_EQ(message("{1:{+-2}}"), "baskets: invalid input at character 5: expected an item id");
    EXPECT_EQ(message("{1:{-}}"), "baskets: invalid input at character 5: expected an item id");
    EXPECT_EQ(budget.used(), 0u);  // failed parses give their memory back
}

TEST(Baskets, MemoryBudgetExceeded) {
    BasketBuilder builder{MemoryBudget(64 << 10, "personalize.memory_limit")};
    try {
        for (int k = 0; k < 100000; ++k) builder.add(k, k % 7);
        FAIL() << "no error";
    } catch (const Error &e) {
        EXPECT_EQ(e.code(), ErrorCode::OutOfMemory);
        EXPECT_NE(std::string(e.what()).find("personalize.memory_limit"), std::string::npos) << e.what();
    }
    // Within the budget, finish() still needs room for the collection next to the lines.
    BasketBuilder tight{MemoryBudget(16 * 4096 + 100)};
    for (int k = 0; k < 4096; ++k) tight.add(k, 1);
    EXPECT_EQ(code_of([&] { tight.finish(Interrupt()); }), ErrorCode::OutOfMemory);

    MemoryBudget small(1024);
    const auto bytes = serialize(make({{1, {1, 2, 3}}, {2, {4}}}));
    MemoryBudget tiny(16);
    EXPECT_EQ(code_of([&] { BasketCollection::deserialize(bytes.data(), bytes.size(), tiny); }),
              ErrorCode::OutOfMemory);
    std::string text = "{";
    for (int k = 0; k < 1000; ++k) text += std::to_string(k) + ":{1,2},";
    text.back() = '}';
    EXPECT_EQ(code_of([&] { BasketCollection::from_text(text.c_str(), small); }), ErrorCode::OutOfMemory);
    EXPECT_EQ(small.used(), 0u);
}

TEST(Baskets, BudgetIsReleasedByFinish) {
    BasketBuilder builder{MemoryBudget(1 << 20)};
    for (int k = 0; k < 1000; ++k) builder.add(k % 10, k);
    EXPECT_EQ(builder.budget().used(), 1024u * 16);  // capacity 1024 lines of 16 bytes
    const BasketCollection c = builder.finish(Interrupt());
    EXPECT_EQ(c.size(), 10u);
    EXPECT_EQ(builder.budget().used(), 0u);
    EXPECT_GE(builder.budget().peak(), 1024u * 16 + 1000 * 8);  // lines and collection at once
    // The builder is empty and can collect again from a clean budget.
    for (int k = 0; k < 1000; ++k) builder.add(k % 10, k);
    EXPECT_EQ(builder.finish(Interrupt()).lines(), 1000u);
}

bool always_interrupted() { return true; }

TEST(Baskets, FinishCanBeCanceled) {
    BasketBuilder builder{MemoryBudget()};
    for (int k = 0; k < 1000; ++k) builder.add(k, k);
    EXPECT_EQ(code_of([&] { builder.finish(Interrupt(&always_interrupted)); }), ErrorCode::Canceled);
}

long merge_probes = 0, merge_cancel_at = -1;
bool merge_probe() { return ++merge_probes > merge_cancel_at && merge_cancel_at >= 0; }

TEST(Baskets, CanceledMergeReleasesItsBudget) {
    BasketBuilder left{MemoryBudget()}, right{MemoryBudget()};
    for (int k = 0; k < 5000; ++k) {
        left.add(2 * k, k % 9);
        right.add(3 * k, k % 5);
    }
    const BasketCollection a = left.finish(Interrupt()), b = right.finish(Interrupt());
    MemoryBudget budget;
    merge_probes = 0;
    merge_cancel_at = -1;
    BasketCollection::merge(a, b, budget, Interrupt(&merge_probe));
    const long total = merge_probes;
    ASSERT_GE(total, 4);
    merge_probes = 0;
    merge_cancel_at = total - 1;  // in the second (copying) pass
    MemoryBudget canceled;
    EXPECT_EQ(code_of([&] { BasketCollection::merge(a, b, canceled, Interrupt(&merge_probe)); }), ErrorCode::Canceled);
    EXPECT_EQ(canceled.used(), 0u);
    EXPECT_GT(canceled.peak(), 0u);
}

}  // namespace
}  // namespace personalize::mining
