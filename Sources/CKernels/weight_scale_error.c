#include "weight_scale_error.h"

// Each step rounds as the Swift loop this replaced did (float quotient, product and difference, then double), so
// that the search keeps picking the same scale: no contraction into fused multiply-adds.
#pragma clang fp contract(off)

// In C so that the search is fast in every build: a debug build's generic SIMD code in Swift took most of an INT8
// plan's compile time (and of the test suite's pipelines). Eight lanes, each summed in order and then added lane by
// lane, as the `SIMD8<Double>` accumulator did; the AVX build computes the same lanes, so both give the same sum.

static inline float clamp(float q, float limit) { return q < -limit ? -limit : q > limit ? limit : q; }

static double finish(const double lanes[8], const float *w, int64_t i, int64_t count, float scale, float limit) {
    double error = -0.0;
    for (int k = 0; k < 8; k++) error += lanes[k];
    for (; i < count; i++) {
        const float d = clamp(__builtin_roundevenf(w[i] / scale), limit) * scale - w[i];
        error += (double)d * (double)d;
    }
    return error;
}

#if defined(__x86_64__)
#include <immintrin.h>

__attribute__((target("avx")))
static double squared_error_avx(const float *w, int64_t count, float scale, float limit) {
    const __m256 s = _mm256_set1_ps(scale), hi = _mm256_set1_ps(limit), lo = _mm256_set1_ps(-limit);
    __m256d low = _mm256_setzero_pd(), high = _mm256_setzero_pd();
    int64_t i = 0;
    for (; i + 8 <= count; i += 8) {
        const __m256 v = _mm256_loadu_ps(w + i);
        const __m256 q = _mm256_min_ps(_mm256_max_ps(_mm256_round_ps(_mm256_div_ps(v, s), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC), lo), hi);
        const __m256 d = _mm256_sub_ps(_mm256_mul_ps(q, s), v);
        const __m256d d0 = _mm256_cvtps_pd(_mm256_castps256_ps128(d)), d1 = _mm256_cvtps_pd(_mm256_extractf128_ps(d, 1));
        low = _mm256_add_pd(low, _mm256_mul_pd(d0, d0));
        high = _mm256_add_pd(high, _mm256_mul_pd(d1, d1));
    }
    double lanes[8];
    _mm256_storeu_pd(lanes, low);
    _mm256_storeu_pd(lanes + 4, high);
    return finish(lanes, w, i, count, scale, limit);
}
#endif

double pneumo_int8_squared_error(const float *w, int64_t count, float scale, float limit) {
#if defined(__x86_64__)
    if (__builtin_cpu_supports("avx")) return squared_error_avx(w, count, scale, limit);
#endif
    return pneumo_int8_squared_error_scalar(w, count, scale, limit);
}

double pneumo_int8_squared_error_scalar(const float *w, int64_t count, float scale, float limit) {
    double lanes[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int64_t i = 0;
    for (; i + 8 <= count; i += 8) {
        for (int k = 0; k < 8; k++) {
            const float d = clamp(__builtin_roundevenf(w[i + k] / scale), limit) * scale - w[i + k];
            lanes[k] += (double)d * (double)d;
        }
    }
    return finish(lanes, w, i, count, scale, limit);
}
