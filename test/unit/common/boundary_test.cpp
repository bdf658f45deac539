// Core-side guarantees the PostgreSQL boundary relies on.
#include <gtest/gtest.h>

#include "core/common/eigen_config.hpp"
#include "core/common/error.hpp"
#include "core/common/interrupt.hpp"

namespace personalize {
namespace {

TEST(EigenConfig, FailedAssertionThrowsInsteadOfAborting) {
    Eigen::MatrixXd a(2, 3), b(2, 3);
    a.setOnes();
    b.setOnes();
    try {
        Eigen::MatrixXd c = a * b;  // 2x3 * 2x3: inner dimensions differ
        FAIL() << "expected an exception, got a " << c.rows() << "x" << c.cols() << " matrix";
    } catch (const Error &e) {
        EXPECT_EQ(e.code(), ErrorCode::Internal);
        EXPECT_NE(std::string(e.what()).find("Eigen assertion failed"), std::string::npos);
    }
}

bool g_pending = false;
bool probe() { return g_pending; }

TEST(Interrupt, PollThrowsCanceledOnlyWhenPending) {
    Interrupt interrupt(probe);
    g_pending = false;
    for (int i = 0; i < 10000; ++i) interrupt.poll(16);
    g_pending = true;
    try {
        for (int i = 0; i < 16; ++i) interrupt.poll(16);
        FAIL() << "expected Canceled within one stride";
    } catch (const Error &e) {
        EXPECT_EQ(e.code(), ErrorCode::Canceled);
    }
    EXPECT_THROW(interrupt.check(), Error);
    g_pending = false;
}

TEST(Interrupt, NoProbeNeverThrows) {
    Interrupt none;
    for (int i = 0; i < 5000; ++i) none.poll(1);
    none.check();
}

}  // namespace
}  // namespace personalize
