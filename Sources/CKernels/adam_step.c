#include "adam_step.h"
#include "streaming_conv.h"

#include <math.h>

// The scalar reference (Swift) multiplies and adds separately; a contracted a·b + c would round once instead of
// twice and the builds would disagree in the last bit.
#pragma clang fp contract(off)

// Elements the vector loop leaves over (< one vector), and the whole update where no vector build runs.
static float adam_scalar(const pneumo_adam *a, float *p, const float *g, float *m, float *v, int64_t first, int64_t end) {
    const float b1 = a->beta1, b2 = a->beta2, c1 = 1 - a->beta1, c2 = 1 - a->beta2, wd = a->weightDecay;
    const float decay = 1 - a->learningRate * a->weightDecay;
    float finite = 0;
    for (int64_t i = first; i < end; i++) {
        float pi = p[i], gi = g[i];
        if (a->decoupled) pi = pi * decay; else gi = gi + wd * pi;
        finite += gi * 0;
        const float mi = b1 * m[i] + c1 * gi, vi = b2 * v[i] + c2 * gi * gi;
        m[i] = mi; v[i] = vi;
        p[i] = pi - a->stepSize * mi / (sqrtf(vi) / a->correction2Root + a->epsilon);
    }
    return finite;
}

#if defined(__x86_64__)
#include <immintrin.h>

// One body for both builds: V is the vector type, P the intrinsic prefix, W the lane count.
#define ADAM_KERNEL(NAME, TARGET, V, P, W)                                                                       \
__attribute__((target(TARGET)))                                                                                 \
static float NAME(const pneumo_adam *a, float *p, const float *g, float *m, float *v, int64_t count) {          \
    const V b1 = P##_set1_ps(a->beta1), b2 = P##_set1_ps(a->beta2);                                             \
    const V c1 = P##_set1_ps(1 - a->beta1), c2 = P##_set1_ps(1 - a->beta2);                                     \
    const V wd = P##_set1_ps(a->weightDecay), decay = P##_set1_ps(1 - a->learningRate * a->weightDecay);         \
    const V step = P##_set1_ps(a->stepSize), root = P##_set1_ps(a->correction2Root);                           \
    const V eps = P##_set1_ps(a->epsilon), zero = P##_setzero_ps();                                             \
    V finite = zero;                                                                                            \
    int64_t i = 0;                                                                                              \
    for (; i + (W) <= count; i += (W)) {                                                                        \
        V pi = P##_loadu_ps(p + i), gi = P##_loadu_ps(g + i);                                                   \
        if (a->decoupled) pi = P##_mul_ps(pi, decay); else gi = P##_add_ps(gi, P##_mul_ps(wd, pi));             \
        finite = P##_add_ps(finite, P##_mul_ps(gi, zero));                                                      \
        const V mi = P##_add_ps(P##_mul_ps(b1, P##_loadu_ps(m + i)), P##_mul_ps(c1, gi));                       \
        const V vi = P##_add_ps(P##_mul_ps(b2, P##_loadu_ps(v + i)), P##_mul_ps(P##_mul_ps(c2, gi), gi));        \
        P##_storeu_ps(m + i, mi);                                                                               \
        P##_storeu_ps(v + i, vi);                                                                               \
        const V denom = P##_add_ps(P##_div_ps(P##_sqrt_ps(vi), root), eps);                                     \
        P##_storeu_ps(p + i, P##_sub_ps(pi, P##_div_ps(P##_mul_ps(step, mi), denom)));                          \
    }                                                                                                           \
    float lanes[W];                                                                                             \
    P##_storeu_ps(lanes, finite);                                                                               \
    float sum = adam_scalar(a, p, g, m, v, i, count);                                                           \
    for (int k = 0; k < (W); k++) sum += lanes[k];                                                              \
    return sum;                                                                                                 \
}

ADAM_KERNEL(adam_avx512, "avx512f", __m512, _mm512, 16)
ADAM_KERNEL(adam_avx2, "avx2,fma", __m256, _mm256, 8)

int pneumo_adam_step(int32_t isa, const pneumo_adam *adam, float *p, const float *g, float *m, float *v, int64_t count) {
    float finite;
    if (isa == PNEUMO_ISA_AVX512) finite = adam_avx512(adam, p, g, m, v, count);
    else if (isa == PNEUMO_ISA_AVX2) finite = adam_avx2(adam, p, g, m, v, count);
    else finite = adam_scalar(adam, p, g, m, v, 0, count);
    return isfinite(finite);
}

#else

int pneumo_adam_step(int32_t isa, const pneumo_adam *adam, float *p, const float *g, float *m, float *v, int64_t count) {
    (void)isa;
    return isfinite(adam_scalar(adam, p, g, m, v, 0, count));
}

#endif
