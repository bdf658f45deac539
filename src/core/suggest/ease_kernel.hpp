// The dense steps of EASE's blocked Cholesky factor and inverse (ease.cpp
// drives them: loops, threads, interrupt polls, buffers), compiled twice:
// ease_kernel.cpp with the baseline flags and ease_kernel_avx2.cpp with
// -mavx2 -mfma (x86-64 only; Eigen's 8-wide float kernels with fused
// multiply-add: 2.2-3x the baseline's SSE2 speed, docs/BENCHMARKS.md).
// steps() picks the AVX2 build at run time when the CPU has AVX2 and FMA.
//
// The two builds must not share code: Eigen's templates instantiated in both
// translation units would be merged by the linker, and a baseline caller
// could end up in an AVX2 instance (SIGILL on an older CPU). The AVX2 unit
// renames Eigen's namespace (EigenAvx2) and includes nothing of this project
// but this header (plain declarations, no inline code); `make
// check-kernel-odr` proves that no symbol defined in it is defined anywhere
// else in the library. Every function works on raw float pointers.
#pragma once

#include <cstddef>

namespace personalize::suggest::ease_kernel {

// Block sizes (ease.cpp): the diagonal blocks of the factor and the column
// blocks of the inverse (kBlock), the panels of the trailing update and of
// the triangular solves (kPanel).
constexpr long kBlock = 256;
constexpr long kPanel = 512;

// `a` is an n x n column-major float matrix.
struct Steps {
    const char *name;  // "baseline" or "avx2"
    // The diagonal block at k0 (m = min(kBlock, n - k0) columns) becomes its
    // Cholesky factor and the block column under it is solved against it;
    // false when a pivot is not positive.
    bool (*factor_block)(float *a, long n, long k0);
    // The trailing update of columns [c0, c0 + min(kPanel, n - c0)), rows
    // >= c0, by the block column of k0.
    void (*update_panel)(float *a, long n, long k0, long c0);
    // y (m x w, column-major) = the first w columns of the m x m identity.
    void (*start_solve)(float *y, long m, long w);
    // Row panel r0 of the forward solve L y = E (L = a's trailing block at
    // j0, m = n - j0 rows), rows above r0 final.
    void (*forward_panel)(const float *a, long n, long j0, float *y, long w, long r0);
    // Row panel ending at r1 of the backward solve L^T x = y, rows >= r1 final.
    void (*backward_panel)(const float *a, long n, long j0, float *y, long w, long r1);
    // Column block j0 of the inverse from y (m x w): the lower part into a's
    // columns [j0, j0 + w), mirrored into the strict upper triangle.
    void (*store_block)(float *a, long n, long j0, const float *y, long w);
};

// The baseline build (always there).
const Steps &baseline_steps();
// The AVX2 + FMA build, or nullptr where it is not compiled (not x86-64).
const Steps *avx2_steps();
// The AVX2 build when compiled and the CPU has AVX2 and FMA, else the baseline.
const Steps &steps();

// An Eigen assertion failed inside a kernel: throws the project's Internal
// error (defined in ease_kernel.cpp, so the AVX2 unit does not instantiate
// the error's inline code).
[[noreturn]] void assertion_failed(const char *condition);

}  // namespace personalize::suggest::ease_kernel
