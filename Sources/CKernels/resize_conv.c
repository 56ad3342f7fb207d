#include "resize_conv.h"

#if defined(__x86_64__)
#include <immintrin.h>

// The block's pixels; a short block repeats its last pixel in the unused lanes (not stored).
#define BLOCK_PIXELS(P)                                                                                           \
    const pneumo_resize_conv_block *blk = c->blocks + b % c->blockCount;                                          \
    const int64_t image = b / c->blockCount;                                                                      \
    const float *x = c->input + image * c->inputImageFloats;                                                      \
    float *y = c->output + image * c->outputImageFloats;                                                          \
    const float *res = c->residual ? c->residual + image * c->outputImageFloats : 0;                              \
    int64_t in[P], out[P];                                                                                        \
    for (int p = 0; p < (P); p++) {                                                                               \
        const int64_t q = blk->first + (p < blk->count ? p : blk->count - 1);                                     \
        in[p] = c->inputOffsets[q];                                                                               \
        out[p] = c->outputOffsets[q];                                                                             \
    }

// AVX-512: P pixels × G vectors of 16 output channels in registers.
#define RESIZE_CONV_AVX512(P, G)                                                                                  \
__attribute__((target("avx512f")))                                                                                \
static void resize_conv_p##P##_g##G(const pneumo_resize_conv *c, int64_t first, int64_t end) {                  \
    const int64_t width = 16 * (G), cblocks = c->outChannels / width, T = c->tapCount;                           \
    const __m512 zero = _mm512_setzero_ps();                                                                      \
    for (int64_t b = first; b < end; b++) {                                                                       \
        BLOCK_PIXELS(P)                                                                                           \
        for (int64_t cb = 0; cb < cblocks; cb++) {                                                                \
            const float *w = c->weights + (blk->kernel * cblocks + cb) * T * width;                               \
            __m512 acc[(P) * (G)];                                                                                \
            for (int i = 0; i < (P) * (G); i++) acc[i] = zero;                                                    \
            for (int64_t t = 0; t < T; t++, w += width) {                                                         \
                const float *xt = x + c->taps[t];                                                                 \
                __m512 wv[G];                                                                                     \
                for (int j = 0; j < (G); j++) wv[j] = _mm512_loadu_ps(w + 16 * j);                                \
                for (int p = 0; p < (P); p++) {                                                                   \
                    const __m512 xv = _mm512_set1_ps(xt[in[p]]);                                                  \
                    for (int j = 0; j < (G); j++) acc[p * (G) + j] = _mm512_fmadd_ps(xv, wv[j], acc[p * (G) + j]); \
                }                                                                                                 \
            }                                                                                                     \
            _Pragma("clang loop unroll(full)")                                                                    \
            for (int p = 0; p < (P); p++) {                                                                       \
                if (p >= blk->count) continue;                                                                    \
                _Pragma("clang loop unroll(full)")                                                                \
                for (int j = 0; j < (G); j++) {                                                                   \
                    const int64_t at = out[p] + cb * width + 16 * j;                                              \
                    __m512 v = acc[p * (G) + j];                                                                  \
                    if (c->bias) v = _mm512_add_ps(v, _mm512_loadu_ps(c->bias + cb * width + 16 * j));            \
                    if (res) v = _mm512_add_ps(v, _mm512_loadu_ps(res + at));                                     \
                    if (c->relu) v = _mm512_max_ps(v, zero);                                                      \
                    _mm512_storeu_ps(y + at, v);                                                                  \
                }                                                                                                 \
            }                                                                                                     \
        }                                                                                                         \
    }                                                                                                             \
}

RESIZE_CONV_AVX512(8, 2)
RESIZE_CONV_AVX512(12, 1)

// AVX2 + FMA: 6 pixels × 16 output channels (two vectors): 12 accumulators, 2 weight loads and 6 broadcasts per tap.
#define AVX2_PIXELS 6
__attribute__((target("avx2,fma")))
static void resize_conv_avx2(const pneumo_resize_conv *c, int64_t first, int64_t end) {
    const int64_t cblocks = c->outChannels / 16, T = c->tapCount;
    const __m256 zero = _mm256_setzero_ps();
    for (int64_t b = first; b < end; b++) {
        BLOCK_PIXELS(AVX2_PIXELS)
        for (int64_t cb = 0; cb < cblocks; cb++) {
            const float *w = c->weights + (blk->kernel * cblocks + cb) * T * 16;
            __m256 acc[2 * AVX2_PIXELS];
            for (int i = 0; i < 2 * AVX2_PIXELS; i++) acc[i] = zero;
            for (int64_t t = 0; t < T; t++, w += 16) {
                const float *xt = x + c->taps[t];
                const __m256 w0 = _mm256_loadu_ps(w), w1 = _mm256_loadu_ps(w + 8);
                _Pragma("clang loop unroll(full)")
                for (int p = 0; p < AVX2_PIXELS; p++) {
                    const __m256 xv = _mm256_broadcast_ss(xt + in[p]);
                    acc[2 * p] = _mm256_fmadd_ps(xv, w0, acc[2 * p]);
                    acc[2 * p + 1] = _mm256_fmadd_ps(xv, w1, acc[2 * p + 1]);
                }
            }
            _Pragma("clang loop unroll(full)")
            for (int p = 0; p < AVX2_PIXELS; p++) {
                if (p >= blk->count) continue;
                _Pragma("clang loop unroll(full)")
                for (int j = 0; j < 2; j++) {
                    const int64_t at = out[p] + cb * 16 + 8 * j;
                    __m256 v = acc[2 * p + j];
                    if (c->bias) v = _mm256_add_ps(v, _mm256_loadu_ps(c->bias + cb * 16 + 8 * j));
                    if (res) v = _mm256_add_ps(v, _mm256_loadu_ps(res + at));
                    if (c->relu) v = _mm256_max_ps(v, zero);
                    _mm256_storeu_ps(y + at, v);
                }
            }
        }
    }
}

int pneumo_resize_conv_width(int32_t isa, int64_t outChannels) {
    if (outChannels < 16 || outChannels % 16 != 0) return 0;
    if (isa == PNEUMO_ISA_AVX2) return 16;
    if (isa == PNEUMO_ISA_AVX512) return outChannels % 32 == 0 ? 32 : 16;
    return 0;
}

int pneumo_resize_conv_pixels(int32_t isa, int64_t outChannels) {
    switch (pneumo_resize_conv_width(isa, outChannels)) {
    case 32: return 8;
    case 16: return isa == PNEUMO_ISA_AVX2 ? AVX2_PIXELS : 12;
    default: return 0;
    }
}

void pneumo_resize_conv_run(const pneumo_resize_conv *conv, int64_t first, int64_t end) {
    const int width = pneumo_resize_conv_width(conv->isa, conv->outChannels);
    if (conv->isa == PNEUMO_ISA_AVX2) {
        if (width == 16) resize_conv_avx2(conv, first, end);
    } else if (conv->isa == PNEUMO_ISA_AVX512) {
        if (width == 32) resize_conv_p8_g2(conv, first, end);
        else if (width == 16) resize_conv_p12_g1(conv, first, end);
    }
}

#else

int pneumo_resize_conv_width(int32_t isa, int64_t outChannels) { (void)isa; (void)outChannels; return 0; }
int pneumo_resize_conv_pixels(int32_t isa, int64_t outChannels) { (void)isa; (void)outChannels; return 0; }
void pneumo_resize_conv_run(const pneumo_resize_conv *conv, int64_t first, int64_t end) { (void)conv; (void)first; (void)end; }

#endif
