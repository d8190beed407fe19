// The AVX2/FMA kernel of small_gemm.h.
//
// C is computed in column panels 16 wide (two 8-lane registers) and row
// blocks of up to 6, whose 12 accumulators stay in registers across the
// whole sum over k: per step, two loads of B's panel and six broadcasts of
// A feed twelve fused multiply-adds. Each panel of B is first copied to a
// contiguous, zero-padded buffer, so the inner loop reads one aligned
// cache line per step wherever B's rows are (any stride or offsets: what
// lets the image layer read its taps in place), and a partial last panel
// computes on zeros and stores with masks. The copy is one pass over the
// panel against m/6 reads of it.

#include "small_gemm.h"

#if defined(__x86_64__) || defined(__i386__)

#include <immintrin.h>

enum { PANEL = 16, MAX_ROWS = 6 };

bool secnn_cpu_has_avx2_fma(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

bool secnn_cpu_has_avx512f(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f");
}

// `rows` rows of A times the packed panel, into C's `width` columns. Always
// inlined with a constant `rows`, so the loops unroll and the accumulators
// are registers.
__attribute__((target("avx2,fma"), always_inline))
static inline void rows_times_panel(int rows, int k, const float *a, long lda, const float *panel,
                                    float *c, long ldc, int width, __m256i mask0, __m256i mask1) {
    __m256 acc[MAX_ROWS][2];
    for (int r = 0; r < rows; r++) {
        acc[r][0] = _mm256_setzero_ps();
        acc[r][1] = _mm256_setzero_ps();
    }
    for (int p = 0; p < k; p++) {
        __m256 b0 = _mm256_load_ps(panel + p * PANEL), b1 = _mm256_load_ps(panel + p * PANEL + 8);
        for (int r = 0; r < rows; r++) {
            __m256 x = _mm256_broadcast_ss(a + r * lda + p);
            acc[r][0] = _mm256_fmadd_ps(x, b0, acc[r][0]);
            acc[r][1] = _mm256_fmadd_ps(x, b1, acc[r][1]);
        }
    }
    for (int r = 0; r < rows; r++) {
        float *row = c + r * ldc;
        if (width == PANEL) {
            _mm256_storeu_ps(row, acc[r][0]);
            _mm256_storeu_ps(row + 8, acc[r][1]);
        } else {
            _mm256_maskstore_ps(row, mask0, acc[r][0]);
            _mm256_maskstore_ps(row + 8, mask1, acc[r][1]);
        }
    }
}

__attribute__((target("avx2,fma")))
void secnn_small_sgemm(int m, int n, int k, const float *a, long lda, const float *b, long ldb,
                       float *c, long ldc) {
    long row_offsets[SECNN_SMALL_GEMM_MAX_SIDE];
    for (int p = 0; p < k; p++) row_offsets[p] = p * ldb;
    secnn_small_sgemm_rows(m, n, k, a, lda, b, row_offsets, c, ldc);
}

__attribute__((target("avx2,fma")))
void secnn_small_sgemm_rows(int m, int n, int k, const float *a, long lda, const float *b,
                            const long *row_offsets, float *c, long ldc) {
    _Alignas(32) float panel[SECNN_SMALL_GEMM_MAX_SIDE * PANEL];
    for (int j = 0; j < n; j += PANEL) {
        int width = n - j < PANEL ? n - j : PANEL;
        // Lane q of the masks is on (its sign bit set) when column j + q exists.
        __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        __m256i mask0 = _mm256_cmpgt_epi32(_mm256_set1_epi32(width), lanes);
        __m256i mask1 = _mm256_cmpgt_epi32(_mm256_set1_epi32(width - 8), lanes);
        for (int p = 0; p < k; p++) {
            const float *source = b + row_offsets[p] + j;
            float *target = panel + p * PANEL;
            if (width == PANEL) {
                _mm256_store_ps(target, _mm256_loadu_ps(source));
                _mm256_store_ps(target + 8, _mm256_loadu_ps(source + 8));
            } else {
                _mm256_store_ps(target, _mm256_maskload_ps(source, mask0));
                _mm256_store_ps(target + 8, _mm256_maskload_ps(source + 8, mask1));
            }
        }
        int i = 0;
        for (; i + MAX_ROWS <= m; i += MAX_ROWS)
            rows_times_panel(MAX_ROWS, k, a + i * lda, lda, panel, c + i * ldc + j, ldc, width, mask0, mask1);
        const float *ar = a + i * lda;
        float *cr = c + i * ldc + j;
        switch (m - i) {
        case 5: rows_times_panel(5, k, ar, lda, panel, cr, ldc, width, mask0, mask1); break;
        case 4: rows_times_panel(4, k, ar, lda, panel, cr, ldc, width, mask0, mask1); break;
        case 3: rows_times_panel(3, k, ar, lda, panel, cr, ldc, width, mask0, mask1); break;
        case 2: rows_times_panel(2, k, ar, lda, panel, cr, ldc, width, mask0, mask1); break;
        case 1: rows_times_panel(1, k, ar, lda, panel, cr, ldc, width, mask0, mask1); break;
        default: break;
        }
    }
}

#else  // Not x86: no AVX2, so SECNNCore never calls the kernel (secnn_cpu_has_avx2_fma() is false).

bool secnn_cpu_has_avx2_fma(void) { return false; }
bool secnn_cpu_has_avx512f(void) { return false; }

void secnn_small_sgemm(int m, int n, int k, const float *a, long lda, const float *b, long ldb,
                       float *c, long ldc) {
    (void)m, (void)n, (void)k, (void)a, (void)lda, (void)b, (void)ldb, (void)c, (void)ldc;
    __builtin_trap();
}

void secnn_small_sgemm_rows(int m, int n, int k, const float *a, long lda, const float *b,
                            const long *row_offsets, float *c, long ldc) {
    (void)m, (void)n, (void)k, (void)a, (void)lda, (void)b, (void)row_offsets, (void)c, (void)ldc;
    __builtin_trap();
}

#endif
