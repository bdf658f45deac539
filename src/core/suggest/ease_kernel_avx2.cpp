// EASE's dense steps built with -mavx2 -mfma (Makefile, CMakeLists.txt; on
// x86-64 only), chosen at run time by ease_kernel::steps(). Nothing here may
// be shared with the baseline build (core/suggest/ease_kernel.hpp): Eigen's
// namespace is renamed, its assertions call an out-of-line function, and no
// other project header is included.
#include "core/suggest/ease_kernel.hpp"

#if defined(__AVX2__) && defined(__FMA__)

#include <algorithm>

#define Eigen EigenAvx2
#define eigen_assert(condition) \
    do {                                                                                \
        if (!(condition)) ::personalize::suggest::ease_kernel::assertion_failed(#condition); \
    } while (false)
#include <Eigen/Dense>

namespace personalize::suggest::ease_kernel {
namespace avx2 {
#include "core/suggest/ease_kernel_steps.inc"
}  // namespace avx2

const Steps *avx2_steps() {
    static const Steps steps{"avx2",          avx2::factor_block,   avx2::update_panel, avx2::start_solve,
                             avx2::forward_panel, avx2::backward_panel, avx2::store_block};
    return &steps;
}

}  // namespace personalize::suggest::ease_kernel

#else

namespace personalize::suggest::ease_kernel {
const Steps *avx2_steps() { return nullptr; }
}  // namespace personalize::suggest::ease_kernel

#endif
