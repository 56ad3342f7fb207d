#include "streaming_conv.h"

#include <string.h>

int pneumo_streaming_conv_avx2_pass(int64_t pixelsLeft) { return pixelsLeft <= 4 || pixelsLeft == 8 ? 4 : 6; }

#if defined(__x86_64__)
#include <immintrin.h>

int pneumo_streaming_conv_isas(void) {
    __builtin_cpu_init();
    return (__builtin_cpu_supports("avx512f") ? PNEUMO_ISA_AVX512 : 0)
        | (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c") ? PNEUMO_ISA_AVX2 : 0);
}

// One weight group: P pixels × G blocks of 16 output channels, all accumulators in registers.
// `W`: the weights' element type (float, or uint16_t for IEEE half); `LOAD16(w)`: 16 of them as floats.
#define LOAD16_F32(w) _mm512_loadu_ps(w)
#define LOAD16_F16(w) _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(w)))
#define STREAMING_KERNEL(P, G, SUFFIX, W, LOAD16)                                                                 \
__attribute__((target("avx512f")))                                                                                \
static void streaming_p##P##_g##G##SUFFIX(const pneumo_streaming_conv *c, int64_t first, int64_t end) {          \
    const int64_t cin = c->channels, width = 16 * (G);                                                            \
    const int64_t groupWeights = c->tapCount * cin * width;                                                       \
    int64_t pix[P];                                                                                               \
    for (int p = 0; p < (P); p++) pix[p] = c->pixels[p < c->pixelCount ? p : 0];                                  \
    for (int64_t g = first; g < end; g++) {                                                                       \
        __m512 acc[(P) * (G)];                                                                                    \
        for (int i = 0; i < (P) * (G); i++) acc[i] = _mm512_setzero_ps();                                         \
        const W *w = (const W *)c->weights + g * groupWeights;                                                    \
        for (int64_t t = 0; t < c->tapCount; t++) {                                                               \
            const float *x = c->input + c->taps[t];                                                               \
            for (int64_t ic = 0; ic < cin; ic++, w += width) {                                                    \
                __m512 wv[G];                                                                                     \
                for (int j = 0; j < (G); j++) {                                                                   \
                    wv[j] = LOAD16(w + 16 * j);                                                                   \
                    _mm_prefetch((const char *)(w + 16 * j) + c->prefetchBytes, _MM_HINT_T0);                     \
                }                                                                                                 \
                for (int p = 0; p < (P); p++) {                                                                   \
                    __m512 xv = _mm512_set1_ps(x[pix[p] + ic]);                                                   \
                    for (int j = 0; j < (G); j++) acc[p * (G) + j] = _mm512_fmadd_ps(xv, wv[j], acc[p * (G) + j]); \
                }                                                                                                 \
            }                                                                                                     \
        }                                                                                                         \
        const __m512 zero = _mm512_setzero_ps();                                                                  \
        _Pragma("clang loop unroll(full)")                                                                        \
        for (int p = 0; p < (P); p++) {                                                                           \
            if (p >= c->pixelCount) continue; /* constant bounds keep the accumulators in registers */            \
            _Pragma("clang loop unroll(full)")                                                                    \
            for (int j = 0; j < (G); j++) {                                                                       \
                const int64_t at = p * c->outChannels + g * width + 16 * j;                                       \
                __m512 y = acc[p * (G) + j];                                                                      \
                if (c->bias) y = _mm512_add_ps(y, _mm512_loadu_ps(c->bias + g * width + 16 * j));                 \
                if (c->residual) y = _mm512_add_ps(y, _mm512_loadu_ps(c->residual + at));                         \
                if (c->relu) y = _mm512_max_ps(y, zero);                                                          \
                _mm512_storeu_ps(c->output + at, y);                                                              \
            }                                                                                                     \
        }                                                                                                         \
    }                                                                                                             \
}

STREAMING_KERNEL(16, 1, , float, LOAD16_F32)
STREAMING_KERNEL(8, 2, , float, LOAD16_F32)
STREAMING_KERNEL(4, 4, , float, LOAD16_F32)
STREAMING_KERNEL(16, 1, _f16, uint16_t, LOAD16_F16)
STREAMING_KERNEL(8, 2, _f16, uint16_t, LOAD16_F16)
STREAMING_KERNEL(4, 4, _f16, uint16_t, LOAD16_F16)

// AVX2: one group of 16 output channels (two vectors), P pixels per pass (pixels `p0 ..< p0 + count`, count ≤ P;
// unused lanes repeat the last pixel). P = 6 keeps 12 accumulators in flight, enough to hide the FMA latency on
// two FMA pipes (P = 4's 8 were not: `bench/README.md`, "Batch-1 latency on AVX2"); P = 4 wastes no lanes on ≤ 4 pixels.
#define LOAD8_F32(w) _mm256_loadu_ps(w)
#define LOAD8_F16(w) _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(w)))
#define STREAMING_AVX2_PASS(P, SUFFIX, W, LOAD8)                                                                  \
__attribute__((target("avx2,fma,f16c")))                                                                          \
static void streaming_avx2_p##P##SUFFIX(const pneumo_streaming_conv *c, int64_t g, int64_t p0, int64_t count) {   \
    const int64_t cin = c->channels, groupWeights = c->tapCount * cin * 16;                                       \
    int64_t pix[P];                                                                                               \
    for (int q = 0; q < (P); q++) pix[q] = c->pixels[p0 + (q < count ? q : count - 1)];                           \
    __m256 acc[2 * (P)];                                                                                          \
    for (int i = 0; i < 2 * (P); i++) acc[i] = _mm256_setzero_ps();                                               \
    const W *w = (const W *)c->weights + g * groupWeights;                                                        \
    for (int64_t t = 0; t < c->tapCount; t++) {                                                                   \
        const float *x = c->input + c->taps[t];                                                                   \
        for (int64_t ic = 0; ic < cin; ic++, w += 16) {                                                           \
            const __m256 w0 = LOAD8(w), w1 = LOAD8(w + 8);                                                        \
            _mm_prefetch((const char *)w + c->prefetchBytes, _MM_HINT_T0);                                        \
            _Pragma("clang loop unroll(full)")                                                                    \
            for (int q = 0; q < (P); q++) {                                                                       \
                const __m256 xv = _mm256_broadcast_ss(x + pix[q] + ic);                                           \
                acc[2 * q] = _mm256_fmadd_ps(xv, w0, acc[2 * q]);                                                 \
                acc[2 * q + 1] = _mm256_fmadd_ps(xv, w1, acc[2 * q + 1]);                                         \
            }                                                                                                     \
        }                                                                                                         \
    }                                                                                                             \
    const __m256 zero = _mm256_setzero_ps();                                                                      \
    _Pragma("clang loop unroll(full)")                                                                            \
    for (int q = 0; q < (P); q++) {                                                                               \
        if (q >= count) continue;                                                                                 \
        _Pragma("clang loop unroll(full)")                                                                        \
        for (int j = 0; j < 2; j++) {                                                                             \
            const int64_t at = (p0 + q) * c->outChannels + g * 16 + 8 * j;                                        \
            __m256 y = acc[2 * q + j];                                                                            \
            if (c->bias) y = _mm256_add_ps(y, _mm256_loadu_ps(c->bias + g * 16 + 8 * j));                         \
            if (c->residual) y = _mm256_add_ps(y, _mm256_loadu_ps(c->residual + at));                             \
            if (c->relu) y = _mm256_max_ps(y, zero);                                                              \
            _mm256_storeu_ps(c->output + at, y);                                                                  \
        }                                                                                                         \
    }                                                                                                             \
}

STREAMING_AVX2_PASS(4, , float, LOAD8_F32)
STREAMING_AVX2_PASS(6, , float, LOAD8_F32)
STREAMING_AVX2_PASS(4, _f16, uint16_t, LOAD8_F16)
STREAMING_AVX2_PASS(6, _f16, uint16_t, LOAD8_F16)

// Passes of 6 pixels while more than 4 remain (16 → 6, 6, 4), except 8 → 4, 4.
static void streaming_avx2(const pneumo_streaming_conv *c, int64_t first, int64_t end) {
    const int half = c->weightType == PNEUMO_WEIGHTS_F16;
    for (int64_t g = first; g < end; g++) {
        for (int64_t p0 = 0; p0 < c->pixelCount;) {
            const int64_t left = c->pixelCount - p0, pass = pneumo_streaming_conv_avx2_pass(left);
            const int64_t count = left < pass ? left : pass;
            if (pass == 4) (half ? streaming_avx2_p4_f16 : streaming_avx2_p4)(c, g, p0, count);
            else (half ? streaming_avx2_p6_f16 : streaming_avx2_p6)(c, g, p0, count);
            p0 += pass;
        }
    }
}

int pneumo_streaming_conv_group(int32_t isa, int64_t pixelCount, int64_t outChannels) {
    if (pixelCount < 1 || outChannels % 16 != 0) return 0;
    if (isa == PNEUMO_ISA_AVX2) return pixelCount <= PNEUMO_STREAMING_AVX2_MAX_PIXELS;
    if (pixelCount > 16) return 0;
    if (isa != PNEUMO_ISA_AVX512) return 0;
    if (pixelCount <= 4 && outChannels % 64 == 0) return 4;
    if (pixelCount <= 8 && outChannels % 32 == 0) return 2;
    return 1;
}

void pneumo_streaming_conv_run(const pneumo_streaming_conv *conv, int64_t first, int64_t end) {
    if (conv->isa == PNEUMO_ISA_AVX2) {
        if (pneumo_streaming_conv_group(conv->isa, conv->pixelCount, conv->outChannels) == 1) streaming_avx2(conv, first, end);
        return;
    }
    const int half = conv->weightType == PNEUMO_WEIGHTS_F16;
    switch (pneumo_streaming_conv_group(conv->isa, conv->pixelCount, conv->outChannels)) {
    case 4: (half ? streaming_p4_g4_f16 : streaming_p4_g4)(conv, first, end); break;
    case 2: (half ? streaming_p8_g2_f16 : streaming_p8_g2)(conv, first, end); break;
    case 1: (half ? streaming_p16_g1_f16 : streaming_p16_g1)(conv, first, end); break;
    default: break;
    }
}

#else

int pneumo_streaming_conv_isas(void) { return 0; }
int pneumo_streaming_conv_group(int32_t isa, int64_t pixelCount, int64_t outChannels) { (void)isa; (void)pixelCount; (void)outChannels; return 0; }
void pneumo_streaming_conv_run(const pneumo_streaming_conv *conv, int64_t first, int64_t end) { (void)conv; (void)first; (void)end; }

#endif

void pneumo_pad_nhwc(const float *src, float *dst, int64_t n, int64_t h, int64_t w, int64_t c, int64_t padH, int64_t padW) {
    const int64_t hp = h + 2 * padH, row = (w + 2 * padW) * c;
    for (int64_t i = 0; i < n; i++) {
        float *image = dst + i * hp * row;
        memset(image, 0, (size_t)(padH * row) * sizeof(float));
        memset(image + (hp - padH) * row, 0, (size_t)(padH * row) * sizeof(float));
        for (int64_t y = 0; y < h; y++) {
            float *line = image + (y + padH) * row;
            memset(line, 0, (size_t)(padW * c) * sizeof(float));
            memcpy(line + padW * c, src + (i * h + y) * w * c, (size_t)(w * c) * sizeof(float));
            memset(line + (padW + w) * c, 0, (size_t)(padW * c) * sizeof(float));
        }
    }
}
