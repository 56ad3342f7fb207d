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
// ([H + 2][W + 2]). Per block of 8 output channels the nine weight vectors stay in registers; four pixels at a time.
__attribute__((target("avx2,fma")))
static void image_conv_row(const float *padded, int64_t paddedWidth, const float *weights, int64_t K, int64_t S, int64_t y,
                           int64_t Wo, float *row) {
    const float *r0 = padded + y * S * paddedWidth, *r1 = r0 + paddedWidth, *r2 = r1 + paddedWidth;
    for (int64_t b = 0; b < K; b += 8) {
        __m256 w[9];
        for (int t = 0; t < 9; t++) w[t] = _mm256_loadu_ps(weights + t * K + b);
        int64_t x = 0;
        for (; x + 4 <= Wo; x += 4) {
            __m256 acc[4];
            _Pragma("clang loop unroll(full)")
            for (int j = 0; j < 4; j++) {
                const int64_t cx = (x + j) * S;
                __m256 a = _mm256_mul_ps(_mm256_broadcast_ss(r0 + cx), w[0]);
                a = _mm256_fmadd_ps(_mm256_broadcast_ss(r0 + cx + 1), w[1], a);
                a = _mm256_fmadd_ps(_mm256_broadcast_ss(r0 + cx + 2), w[2], a);
                a = _mm256_fmadd_ps(_mm256_broadcast_ss(r1 + cx), w[3], a);
                a = _mm256_fmadd_ps(_mm256_broadcast_ss(r1 + cx + 1), w[4], a);
                a = _mm256_fmadd_ps(_mm256_broadcast_ss(r1 + cx + 2), w[5], a);
                a = _mm256_fmadd_ps(_mm256_broadcast_ss(r2 + cx), w[6], a);
                a = _mm256_fmadd_ps(_mm256_broadcast_ss(r2 + cx + 1), w[7], a);
                acc[j] = _mm256_fmadd_ps(_mm256_broadcast_ss(r2 + cx + 2), w[8], a);
            }
            _Pragma("clang loop unroll(full)")
            for (int j = 0; j < 4; j++) _mm256_storeu_ps(row + (x + j) * K + b, acc[j]);
        }
        for (; x < Wo; x++) {
            const int64_t cx = x * S;
            __m256 a = _mm256_mul_ps(_mm256_broadcast_ss(r0 + cx), w[0]);
            for (int t = 1; t < 9; t++) {
                const float *r = t < 3 ? r0 : t < 6 ? r1 : r2;
                a = _mm256_fmadd_ps(_mm256_broadcast_ss(r + cx + t % 3), w[t], a);
            }
            _mm256_storeu_ps(row + x * K + b, a);
        }
    }
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
