#include "int8_epilogue.h"
#include "streaming_conv.h"

#if defined(__x86_64__)
#include <immintrin.h>

int pneumo_int8_kernels_available(void) { return (pneumo_streaming_conv_isas() & PNEUMO_ISA_AVX2) != 0; }

__attribute__((target("avx2")))
void pneumo_int8_widen(const void *source, int32_t isSigned, float *out, int64_t count) {
    int64_t i = 0;
    if (isSigned) {
        const int8_t *s = source;
        for (; i + 8 <= count; i += 8)
            _mm256_storeu_ps(out + i, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(s + i)))));
        for (; i < count; i++) out[i] = (float)s[i];
    } else {
        const uint8_t *s = source;
        for (; i + 8 <= count; i += 8)
            _mm256_storeu_ps(out + i, _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(s + i)))));
        for (; i < count; i++) out[i] = (float)s[i];
    }
}

// The fields are read into locals first: stores through `out` (bytes) could alias `*e`, which would reload them per vector.
// Integer outputs: y · (1 / step) is clipped to the type's range, then converted with the default rounding mode (to
// nearest, half to even): the same as rounding first, for a clip to integer bounds. ReLU before a clip at 0 changes
// nothing (0 · (1 / step) = 0), so u8 outputs skip it. Four vectors at a time, packed into one 32-byte store.
__attribute__((target("avx2")))
void pneumo_int8_finish(const pneumo_int8_epilogue *e, const float *acc, void *out, int64_t pixels, int64_t channels) {
    const int64_t C = channels, count = pixels * C;
    const float *scales = e->scales, *bias = e->bias;
    const int32_t type = e->output_type, activation = e->activation, relu = activation != 0 && type != 1, relu6 = activation == 2;
    const __m256 zero = _mm256_setzero_ps(), six = _mm256_set1_ps(6.0f), inverse = _mm256_set1_ps(e->inverse_output_scale);
    const __m256 low = _mm256_set1_ps(type == 1 ? 0.0f : -128.0f), high = _mm256_set1_ps(type == 1 ? 255.0f : 127.0f);
    int64_t at = 0, c = 0;
#define PNEUMO_Y(offset)                                                                                 \
    __m256 y = _mm256_mul_ps(_mm256_loadu_ps(acc + at + (offset)), _mm256_loadu_ps(scales + c));         \
    if (bias) y = _mm256_add_ps(y, _mm256_loadu_ps(bias + c));                                           \
    if (relu) y = _mm256_max_ps(y, zero);                                                                \
    if (relu6) y = _mm256_min_ps(y, six);                                                                \
    c = c + 8 == C ? 0 : c + 8;
    if (type == 0) {
        for (; at < count; at += 8) {
            PNEUMO_Y(0)
            _mm256_storeu_ps((float *)out + at, y);
        }
        return;
    }
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    for (; at + 32 <= count; at += 32) {
        __m256i q[4];
        for (int j = 0; j < 4; j++) {
            PNEUMO_Y(8 * j)
            q[j] = _mm256_cvtps_epi32(_mm256_min_ps(_mm256_max_ps(_mm256_mul_ps(y, inverse), low), high));
        }
        // Per 128-bit lane the packs interleave the four vectors by 4 values; the permutation restores their order.
        const __m256i w01 = _mm256_packs_epi32(q[0], q[1]), w23 = _mm256_packs_epi32(q[2], q[3]);
        const __m256i b = type == 1 ? _mm256_packus_epi16(w01, w23) : _mm256_packs_epi16(w01, w23);
        _mm256_storeu_si256((__m256i *)((int8_t *)out + at), _mm256_permutevar8x32_epi32(b, order));
    }
    for (; at < count; at += 8) {
        PNEUMO_Y(0)
        const __m256i i32 = _mm256_cvtps_epi32(_mm256_min_ps(_mm256_max_ps(_mm256_mul_ps(y, inverse), low), high));
        const __m128i i16 = _mm_packs_epi32(_mm256_castsi256_si128(i32), _mm256_extracti128_si256(i32, 1));
        _mm_storel_epi64((__m128i *)((int8_t *)out + at), type == 1 ? _mm_packus_epi16(i16, i16) : _mm_packs_epi16(i16, i16));
    }
#undef PNEUMO_Y
}

#else

int pneumo_int8_kernels_available(void) { return 0; }
void pneumo_int8_widen(const void *source, int32_t isSigned, float *out, int64_t count) { (void)source; (void)isSigned; (void)out; (void)count; }
void pneumo_int8_finish(const pneumo_int8_epilogue *e, const float *acc, void *out, int64_t pixels, int64_t channels) {
    (void)e; (void)acc; (void)out; (void)pixels; (void)channels;
}

#endif
