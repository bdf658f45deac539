// EASE's dense steps with the baseline flags, and the run-time choice
// between them and the AVX2 build (core/suggest/ease_kernel.hpp).
#include "core/common/eigen_config.hpp"  // first: Eigen assertions throw

#include "core/suggest/ease_kernel.hpp"

#include <algorithm>
#include <string>

#include "core/common/error.hpp"

namespace personalize::suggest::ease_kernel {

namespace baseline {
#include "core/suggest/ease_kernel_steps.inc"
}  // namespace baseline

void assertion_failed(const char *condition) {
    throw Error(ErrorCode::Internal, std::string("Eigen assertion failed: ") + condition);
}

const Steps &baseline_steps() {
    static const Steps steps{"baseline",          baseline::factor_block,   baseline::update_panel,
                             baseline::start_solve, baseline::forward_panel, baseline::backward_panel,
                             baseline::store_block};
    return steps;
}

const Steps &steps() {
    static const Steps *const chosen = [] {
        const Steps *avx2 = avx2_steps();
#if defined(__x86_64__) || defined(__i386__)
        __builtin_cpu_init();
        if (avx2 != nullptr && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return avx2;
#else
        (void)avx2;
#endif
        return &baseline_steps();
    }();
    return *chosen;
}

}  // namespace personalize::suggest::ease_kernel
