#include "separable_conv.h"
#include "streaming_conv.h"

int64_t pneumo_separable_conv_block(int32_t isa, int64_t out_channels) {
    const int64_t lanes = isa == PNEUMO_ISA_AVX512 ? 16 : 8;
    return out_channels % (2 * lanes) == 0 ? 2 * lanes : lanes;
}

void pneumo_separable_conv_pack(int32_t isa, const float *weights, int64_t channels, int64_t out_channels, float *packed) {
    const int64_t block = pneumo_separable_conv_block(isa, out_channels);
    for (int64_t kb = 0; kb < out_channels / block; kb++) {
        for (int64_t c = 0; c < channels; c++) {
            for (int64_t j = 0; j < block; j++) packed[(kb * channels + c) * block + j] = weights[(kb * block + j) * channels + c];
        }
    }
}

#if defined(__x86_64__)
#include <immintrin.h>

// One tile of the 1×1 part: P pixels × G vectors of output channels, in registers over all input channels; each
// depthwise value is broadcast once and feeds G FMAs. P and G are constants where it is inlined (the loops unroll
// and the accumulators become registers).
#define POINTWISE(NAME, TARGET, V, L, LD, ST, FMA, ADD, MAX, MIN, SET1, ZERO, PMAX1, PMAX2)                                  \
__attribute__((target(TARGET), always_inline))                                                                              \
static inline void NAME##_tile(const float *t, int64_t C, const float *w, const float *bias, const float *res, float *out,   \
                               int64_t K, int32_t act, const int P, const int G) {                                          \
    V acc[16][2];                                                                                                           \
    _Pragma("clang loop unroll(full)")                                                                                      \
    for (int p = 0; p < P; p++) {                                                                                           \
        _Pragma("clang loop unroll(full)")                                                                                  \
        for (int g = 0; g < G; g++) acc[p][g] = bias ? LD(bias + g * (L)) : ZERO();                                         \
    }                                                                                                                       \
    for (int64_t c = 0; c < C; c++) {                                                                                       \
        V wv[2];                                                                                                            \
        _Pragma("clang loop unroll(full)")                                                                                  \
        for (int g = 0; g < G; g++) wv[g] = LD(w + c * G * (L) + g * (L));                                                  \
        _Pragma("clang loop unroll(full)")                                                                                  \
        for (int p = 0; p < P; p++) {                                                                                       \
            const V b = SET1(t[p * C + c]);                                                                                 \
            _Pragma("clang loop unroll(full)")                                                                              \
            for (int g = 0; g < G; g++) acc[p][g] = FMA(b, wv[g], acc[p][g]);                                               \
        }                                                                                                                   \
    }                                                                                                                       \
    const V zero = ZERO(), six = SET1(6.0f);                                                                                \
    _Pragma("clang loop unroll(full)")                                                                                      \
    for (int p = 0; p < P; p++) {                                                                                           \
        _Pragma("clang loop unroll(full)")                                                                                  \
        for (int g = 0; g < G; g++) {                                                                                       \
            V v = acc[p][g];                                                                                                \
            /* The residual may be the output: each element reads its own first. */                                         \
            if (res) v = ADD(v, LD(res + p * K + g * (L)));                                                                 \
            if (act) v = MAX(v, zero);                                                                                      \
            if (act == 2) v = MIN(v, six);                                                                                  \
            ST(out + p * K + g * (L), v);                                                                                   \
        }                                                                                                                   \
    }                                                                                                                       \
}                                                                                                                           \
                                                                                                                            \
/* The 1×1 part over M consecutive pixels of depthwise output t, output channel blocks kb0 ..< kb1: pixel blocks of */      \
/* equal size (at most PMAX1 with one vector, PMAX2 with two), so that no block is left with a pixel or two. */             \
__attribute__((target(TARGET)))                                                                                             \
static void NAME(const float *t, int64_t M, const pneumo_separable_conv *s, int64_t kb0, int64_t kb1, float *out,           \
                 const float *res) {                                                                                        \
    const int64_t C = s->depthwise.channels, K = s->out_channels;                                                           \
    const int G = K % (2 * (L)) == 0 ? 2 : 1, pmax = G == 2 ? (PMAX2) : (PMAX1);                                            \
    const int64_t blocks = (M + pmax - 1) / pmax, P = (M + blocks - 1) / blocks;                                            \
    for (int64_t kb = kb0 * G * (L); kb < kb1 * G * (L); kb += G * (L)) {                                                   \
        const float *w = s->weights + kb * C, *bias = s->bias ? s->bias + kb : 0;                                           \
        for (int64_t p0 = 0; p0 < M; p0 += P) {                                                                             \
            const int np = (int)(M - p0 < P ? M - p0 : P);                                                                  \
            const float *tp = t + p0 * C, *rp = res ? res + p0 * K + kb : 0;                                                \
            float *op = out + p0 * K + kb;                                                                                  \
            if (G == 2) {                                                                                                   \
                switch (np) { TILE_CASES(NAME##_tile, 2) }                                                                  \
            } else {                                                                                                        \
                switch (np) { TILE_CASES(NAME##_tile, 1) }                                                                  \
            }                                                                                                               \
        }                                                                                                                   \
    }                                                                                                                       \
}

#define TILE_CASE(FN, P, G) case P: if (P <= pmax) FN(tp, C, w, bias, rp, op, K, s->activation, P, G); break;
#define TILE_CASES(FN, G) TILE_CASE(FN, 1, G) TILE_CASE(FN, 2, G) TILE_CASE(FN, 3, G) TILE_CASE(FN, 4, G) TILE_CASE(FN, 5, G) \
    TILE_CASE(FN, 6, G) TILE_CASE(FN, 7, G) TILE_CASE(FN, 8, G) TILE_CASE(FN, 9, G) TILE_CASE(FN, 10, G) TILE_CASE(FN, 11, G) \
    TILE_CASE(FN, 12, G) TILE_CASE(FN, 13, G) TILE_CASE(FN, 14, G) TILE_CASE(FN, 15, G) TILE_CASE(FN, 16, G)

// AVX-512: 32 registers hold 14 pixels × 2 vectors (+ 2 weights and a broadcast), or 16 × 1.
POINTWISE(pointwise_avx512, "avx512f", __m512, 16, _mm512_loadu_ps, _mm512_storeu_ps, _mm512_fmadd_ps, _mm512_add_ps,
          _mm512_max_ps, _mm512_min_ps, _mm512_set1_ps, _mm512_setzero_ps, 16, 14)
// AVX2: 16 registers hold 6 pixels × 2 vectors, or 12 × 1.
POINTWISE(pointwise_avx2, "avx2,fma", __m256, 8, _mm256_loadu_ps, _mm256_storeu_ps, _mm256_fmadd_ps, _mm256_add_ps,
          _mm256_max_ps, _mm256_min_ps, _mm256_set1_ps, _mm256_setzero_ps, 12, 6)

int pneumo_separable_conv_applies(int32_t isa, int64_t channels, int64_t out_channels) {
    const int64_t lanes = isa == PNEUMO_ISA_AVX512 ? 16 : 8;
    return pneumo_depthwise_conv_applies(isa, channels) && out_channels >= lanes && out_channels % lanes == 0;
}

void pneumo_separable_conv_run(const pneumo_separable_conv *s, float *scratch, int64_t first, int64_t end, int64_t first_block,
                               int64_t end_block) {
    const int32_t isa = s->depthwise.isa;
    const int64_t W = pneumo_depthwise_conv_out_width(&s->depthwise), C = s->depthwise.channels, K = s->out_channels;
    if (!pneumo_separable_conv_applies(isa, C, K)) return;
    const int64_t blocks = K / pneumo_separable_conv_block(isa, K);
    const int64_t kb0 = first_block < 0 ? 0 : first_block, kb1 = end_block > blocks ? blocks : end_block;
    const int64_t rows = s->chunk_rows > 0 ? s->chunk_rows : 1;
    for (int64_t r0 = first; r0 < end; r0 += rows) {
        const int64_t r1 = end - r0 < rows ? end : r0 + rows;
        // Depthwise rows into the scratch, then the 1×1 part over them while they are in L1.
        for (int64_t r = r0; r < r1; r++) pneumo_depthwise_conv_row(&s->depthwise, r, scratch + (r - r0) * W * C, 0);
        float *out = s->output + r0 * W * K;
        const float *res = s->residual ? s->residual + r0 * W * K : 0;
        if (isa == PNEUMO_ISA_AVX512) pointwise_avx512(scratch, (r1 - r0) * W, s, kb0, kb1, out, res);
        else pointwise_avx2(scratch, (r1 - r0) * W, s, kb0, kb1, out, res);
    }
}

#else

int pneumo_separable_conv_applies(int32_t isa, int64_t channels, int64_t out_channels) {
    (void)isa; (void)channels; (void)out_channels; return 0;
}
void pneumo_separable_conv_run(const pneumo_separable_conv *conv, float *scratch, int64_t first, int64_t end, int64_t first_block,
                               int64_t end_block) {
    (void)conv; (void)scratch; (void)first; (void)end; (void)first_block; (void)end_block;
}

#endif
