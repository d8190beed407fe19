// A row-major single-precision product C = A·B for the thin matrices of
// small convolutions (both of A's sides at most SECNN_SMALL_GEMM_MAX_SIDE),
// in AVX2/FMA, chosen at run time: SECNNCore's `SmallGEMM` decides when to
// call it instead of OpenBLAS (Sources/SECNNCore/Kernels/SmallGEMM.swift says
// why). C, not Swift: Swift emits AVX2 only for a whole build's target CPU,
// while a C function can carry its own instruction set and be called only
// where the CPU has it.
#ifndef SECNN_SMALL_GEMM_H
#define SECNN_SMALL_GEMM_H

#include <stdbool.h>

#define SECNN_SMALL_GEMM_MAX_SIDE 64

/// Whether this CPU runs AVX2 and FMA (the kernel's instructions).
bool secnn_cpu_has_avx2_fma(void);
/// Whether this CPU runs AVX-512F (OpenBLAS's small-matrix kernels use it).
bool secnn_cpu_has_avx512f(void);

/// C (m×n, row stride ldc) = A (m×k, row stride lda) · B (k×n, row stride
/// ldb), overwriting C. Requires secnn_cpu_has_avx2_fma(), 1 <= m and
/// 1 <= k <= SECNN_SMALL_GEMM_MAX_SIDE; any n >= 0.
void secnn_small_sgemm(int m, int n, int k, const float *a, long lda, const float *b, long ldb,
                       float *c, long ldc);

/// The same product with B's row p starting at b + row_offsets[p] (k
/// offsets, in any order): a 3×3 convolution's nine taps per channel read in
/// place from a zero-padded image, with no im2col matrix.
void secnn_small_sgemm_rows(int m, int n, int k, const float *a, long lda, const float *b,
                            const long *row_offsets, float *c, long ldc);

#endif
