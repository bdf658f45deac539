// MemoryBudget: charging, releasing, and the sizes its error reports.
#include <gtest/gtest.h>

#include "core/common/memory_budget.hpp"

namespace personalize {
namespace {

Error over_limit(std::size_t limit, std::size_t charge) {
    MemoryBudget budget(limit, "personalize.memory_limit");
    try {
        budget.charge(charge, "baskets");
    } catch (const Error &e) {
        return e;
    }
    ADD_FAILURE() << "no error";
    return Error(ErrorCode::Internal, "no error");
}

TEST(MemoryBudget, ChargesReleasesAndKeepsThePeak) {
    MemoryBudget budget(1000);
    budget.charge(600, "a");
    budget.release(200);
    budget.charge(500, "b");
    EXPECT_EQ(budget.used(), 900u);
    EXPECT_EQ(budget.peak(), 900u);
    EXPECT_THROW(budget.charge(101, "c"), Error);
    EXPECT_EQ(budget.used(), 900u);  // a refused charge is not counted
    MemoryBudget unlimited;
    unlimited.charge(std::size_t{1} << 40, "huge");
    EXPECT_EQ(unlimited.used(), std::size_t{1} << 40);
}

// A 64 kB limit is reported as 64 kB, not rounded up to 1 MB.
TEST(MemoryBudget, ReportsSmallLimitsInTheirOwnUnit) {
    const Error e = over_limit(64 * 1024, 70 * 1024 + 5);
    EXPECT_EQ(e.code(), ErrorCode::OutOfMemory);
    EXPECT_STREQ(e.what(), "baskets needs more than personalize.memory_limit (64 kB)");
    EXPECT_EQ(e.detail(), "at least 70 kB would be in use");
}

TEST(MemoryBudget, SizeTexts) {
    EXPECT_EQ(MemoryBudget::exact_size(1000), "1000 bytes");
    EXPECT_EQ(MemoryBudget::exact_size(1024), "1 kB");
    EXPECT_EQ(MemoryBudget::exact_size(1536 * 1024), "1536 kB");
    EXPECT_EQ(MemoryBudget::exact_size(std::size_t{8} << 20), "8 MB");
    EXPECT_EQ(MemoryBudget::exact_size(std::size_t{2} << 30), "2 GB");
    EXPECT_EQ(MemoryBudget::at_least_size(1023), "1023 bytes");
    EXPECT_EQ(MemoryBudget::at_least_size((std::size_t{1} << 20) - 1), "1023 kB");  // rounded down
    EXPECT_EQ(MemoryBudget::at_least_size((std::size_t{3} << 20) + 1), "3 MB");
}

}  // namespace
}  // namespace personalize
