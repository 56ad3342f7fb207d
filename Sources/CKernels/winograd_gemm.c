#include "winograd_gemm.h"

#include <string.h>

void pneumo_winograd_gemm_pack(const float *src, float *dst, int64_t planes, int64_t channels, int64_t outChannels) {
    for (int64_t e = 0; e < planes; e++)
        for (int64_t kb = 0; kb < outChannels / 16; kb++)
            for (int64_t c = 0; c < channels; c++)
                memcpy(dst + ((e * (outChannels / 16) + kb) * channels + c) * 16, src + (e * channels + c) * outChannels + 16 * kb,
                       16 * sizeof(float));
}

#if defined(__x86_64__)
#include <immintrin.h>

// P tiles (`t0 ..< t0 + count`, count ≤ P; unused lanes repeat the last tile) by column `j`'s 16 output channels.
// P = 6 keeps 12 accumulators in flight, enough to hide the FMA latency on two FMA pipes.
#define WINOGRAD_GEMM_PASS(P)                                                                                     \
__attribute__((target("avx2,fma")))                                                                               \
static void winograd_gemm_p##P(const pneumo_winograd_gemm *g, int64_t j, int64_t t0, int64_t count) {             \
    const int64_t c = g->channels, blocks = g->outChannels / 16, e = j / blocks, k0 = 16 * (j % blocks);          \
    const float *x[P];                                                                                            \
    for (int q = 0; q < (P); q++) x[q] = g->v + (e * g->tiles + t0 + (q < count ? q : count - 1)) * c;            \
    __m256 acc[2 * (P)];                                                                                          \
    for (int i = 0; i < 2 * (P); i++) acc[i] = _mm256_setzero_ps();                                               \
    const float *w = g->u + j * c * 16;                                                                           \
    for (int64_t ic = 0; ic < c; ic++, w += 16) {                                                                 \
        const __m256 w0 = _mm256_loadu_ps(w), w1 = _mm256_loadu_ps(w + 8);                                       \
        _mm_prefetch((const char *)w + g->prefetchBytes, _MM_HINT_T0);                                            \
        _Pragma("clang loop unroll(full)")                                                                        \
        for (int q = 0; q < (P); q++) {                                                                           \
            const __m256 xv = _mm256_broadcast_ss(x[q] + ic);                                                     \
            acc[2 * q] = _mm256_fmadd_ps(xv, w0, acc[2 * q]);                                                     \
            acc[2 * q + 1] = _mm256_fmadd_ps(xv, w1, acc[2 * q + 1]);                                             \
        }                                                                                                         \
    }                                                                                                             \
    _Pragma("clang loop unroll(full)")                                                                            \
    for (int q = 0; q < (P); q++) {                                                                               \
        if (q >= count) continue;                                                                                 \
        float *y = g->m + (e * g->tiles + t0 + q) * g->outChannels + k0;                                          \
        _mm256_storeu_ps(y, acc[2 * q]);                                                                          \
        _mm256_storeu_ps(y + 8, acc[2 * q + 1]);                                                                  \
    }                                                                                                             \
}

WINOGRAD_GEMM_PASS(4)
WINOGRAD_GEMM_PASS(6)

void pneumo_winograd_gemm_avx2(const pneumo_winograd_gemm *g, int64_t first, int64_t end) {
    for (int64_t j = first; j < end; j++) {
        // Passes of 6 tiles while more than 4 remain, except 8 → 4, 4 (no lane wasted).
        for (int64_t t0 = 0; t0 < g->tiles;) {
            const int64_t left = g->tiles - t0, pass = left <= 4 || left == 8 ? 4 : 6;
            const int64_t count = left < pass ? left : pass;
            if (pass == 4) winograd_gemm_p4(g, j, t0, count);
            else winograd_gemm_p6(g, j, t0, count);
            t0 += pass;
        }
    }
}

#else

void pneumo_winograd_gemm_avx2(const pneumo_winograd_gemm *gemm, int64_t first, int64_t end) { (void)gemm; (void)first; (void)end; }

#endif
