#include "image_conv_int8.h"
#include <string.h>

static int64_t out_size(int64_t n, int32_t stride) { return (n - 1) / (stride == 2 ? 2 : 1) + 1; }

int64_t pneumo_image_conv_int8_scratch_floats(const pneumo_image_conv_int8 *c) {
    return (c->height + 2) * (c->width + 2) + out_size(c->width, c->stride) * c->out_channels;
}

int pneumo_image_conv_int8_applies(int64_t outChannels) {
    return pneumo_int8_kernels_available() && outChannels > 0 && outChannels % 8 == 0;
}

#if defined(__x86_64__)
#include <immintrin.h>

// Output row `y` of one image into `row` ([Wo][K] sums): `padded` is the widened image with a zero border
// ([H + 2][W + 2]). G blocks of 8 output channels at a time: each input value is broadcast once and multiplied by the G
// blocks' weight vectors, read from memory (nine weight vectors per block would not fit AVX2's 16 registers beside the
// accumulators: kept in registers, they spilled).
#define IMAGE_CONV_BLOCKS(G)                                                                                        \
__attribute__((target("avx2,fma")))                                                                                 \
static void image_conv_g##G(const float *r0, int64_t paddedWidth, const float *weights, int64_t K, int64_t b0,       \
                            int64_t S, int64_t Wo, float *row) {                                                    \
    const float *r1 = r0 + paddedWidth, *r2 = r1 + paddedWidth;                                                     \
    for (int64_t x = 0; x < Wo; x++) {                                                                              \
        const int64_t cx = x * S;                                                                                   \
        const float *taps[9] = {r0 + cx, r0 + cx + 1, r0 + cx + 2, r1 + cx, r1 + cx + 1, r1 + cx + 2,               \
                                r2 + cx, r2 + cx + 1, r2 + cx + 2};                                                 \
        __m256 acc[G];                                                                                              \
        _Pragma("clang loop unroll(full)")                                                                          \
        for (int g = 0; g < (G); g++) acc[g] = _mm256_setzero_ps();                                                 \
        _Pragma("clang loop unroll(full)")                                                                          \
        for (int t = 0; t < 9; t++) {                                                                               \
            const __m256 v = _mm256_broadcast_ss(taps[t]);                                                          \
            _Pragma("clang loop unroll(full)")                                                                      \
            for (int g = 0; g < (G); g++)                                                                           \
                acc[g] = _mm256_fmadd_ps(v, _mm256_loadu_ps(weights + t * K + b0 + 8 * g), acc[g]);                 \
        }                                                                                                           \
        _Pragma("clang loop unroll(full)")                                                                          \
        for (int g = 0; g < (G); g++) _mm256_storeu_ps(row + x * K + b0 + 8 * g, acc[g]);                           \
    }                                                                                                               \
}

IMAGE_CONV_BLOCKS(1)
IMAGE_CONV_BLOCKS(2)
IMAGE_CONV_BLOCKS(4)

static void image_conv_row(const float *padded, int64_t paddedWidth, const float *weights, int64_t K, int64_t S, int64_t y,
                           int64_t Wo, float *row) {
    const float *r0 = padded + y * S * paddedWidth;
    int64_t b = 0;
    for (; b + 32 <= K; b += 32) image_conv_g4(r0, paddedWidth, weights, K, b, S, Wo, row);
    for (; b + 16 <= K; b += 16) image_conv_g2(r0, paddedWidth, weights, K, b, S, Wo, row);
    for (; b < K; b += 8) image_conv_g1(r0, paddedWidth, weights, K, b, S, Wo, row);
}

void pneumo_image_conv_int8_run(const pneumo_image_conv_int8 *c, int64_t first, int64_t end, float *scratch) {
    if (!pneumo_image_conv_int8_applies(c->out_channels)) return;
    const int64_t H = c->height, W = c->width, K = c->out_channels, S = c->stride == 2 ? 2 : 1;
    const int64_t Ho = out_size(H, c->stride), Wo = out_size(W, c->stride), Wp = W + 2;
    float *padded = scratch, *row = padded + (H + 2) * Wp;
    memset(padded, 0, (size_t)((H + 2) * Wp) * sizeof(float));   // the border stays zero; the inside is rewritten per image
    const int64_t element = c->epilogue.output_type == 0 ? (int64_t)sizeof(float) : 1;
    for (int64_t n = first; n < end; n++) {
        const int8_t *image = (const int8_t *)c->input + n * H * W;
        for (int64_t iy = 0; iy < H; iy++) pneumo_int8_widen(image + iy * W, c->input_signed, padded + (iy + 1) * Wp + 1, W);
        for (int64_t y = 0; y < Ho; y++) {
            image_conv_row(padded, Wp, c->weights, K, S, y, Wo, row);
            pneumo_int8_finish(&c->epilogue, row, (char *)c->output + ((n * Ho + y) * Wo * K) * element, Wo, K);
        }
    }
}

#else

void pneumo_image_conv_int8_run(const pneumo_image_conv_int8 *c, int64_t first, int64_t end, float *scratch) {
    (void)c; (void)first; (void)end; (void)scratch;
}

#endif
