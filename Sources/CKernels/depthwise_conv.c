#include "depthwise_conv.h"
#include "streaming_conv.h"

#if defined(__x86_64__)
#include <immintrin.h>

// One build per vector width: V (the vector type), L (lanes), and its load/store/FMA/max/min/broadcast.
#define DEPTHWISE_KERNEL(NAME, TARGET, V, L, LD, ST, FMA, MUL, ADD, MAX, MIN, SET1, ZERO, BLOCK4)                           \
/* Output row r (of the n · height rows) into out, adding res when not NULL. */                                         \
__attribute__((target(TARGET)))                                                                                            \
static void NAME(const pneumo_depthwise_conv *d, int64_t r, float *out, const float *res) {                                \
    const int64_t C = d->channels, H = d->height, W = d->width, S = d->stride == 2 ? 2 : 1;                                \
    const int64_t Ho = (H - 1) / S + 1, Wo = (W - 1) / S + 1;                                                              \
    const V zero = ZERO(), six = SET1(6.0f);                                                                               \
    {                                                                                                                      \
        const int64_t n = r / Ho, y = (r % Ho) * S;                                                                        \
        const float *image = d->input + n * H * W * C;                                                                     \
        const float *r0 = y > 0 ? image + (y - 1) * W * C : d->zeros;                                                      \
        const float *r1 = image + y * W * C;                                                                               \
        const float *r2 = y + 1 < H ? image + (y + 1) * W * C : d->zeros;                                                  \
        for (int64_t cb = 0; cb < C; cb += (L)) {                                                                          \
            const float *wt = d->weights + cb;                                                                             \
            const V w0 = LD(wt), w1 = LD(wt + C), w2 = LD(wt + 2 * C), w3 = LD(wt + 3 * C), w4 = LD(wt + 4 * C),           \
                    w5 = LD(wt + 5 * C), w6 = LD(wt + 6 * C), w7 = LD(wt + 7 * C), w8 = LD(wt + 8 * C);                    \
            const V b = d->bias ? LD(d->bias + cb) : zero;                                                                 \
            const float *p0 = r0 + cb, *p1 = r1 + cb, *p2 = r2 + cb;                                                       \
            _Pragma("clang loop unroll(disable)")                                                                          \
            for (int64_t x = 0; x < Wo;) {                                                                                 \
                if (BLOCK4 && x >= 1 && (S == 1 ? x + 4 <= W - 1 : 2 * x + 7 <= W - 1)) {                                 \
                    /* Four interior pixels, three accumulators each (one per kernel row): twelve short chains. */         \
                    V s[4];                                                                                                \
                    if (S == 1) {                                                                                          \
                        const float *q0 = p0 + (x - 1) * C, *q1 = p1 + (x - 1) * C, *q2 = p2 + (x - 1) * C;                \
                        V t0 = LD(q0), t1 = LD(q0 + C), t2 = LD(q0 + 2 * C), t3 = LD(q0 + 3 * C), t4 = LD(q0 + 4 * C),     \
                          t5 = LD(q0 + 5 * C);                                                                             \
                        V a0 = FMA(t2, w2, FMA(t1, w1, FMA(t0, w0, b))), a1 = FMA(t3, w2, FMA(t2, w1, FMA(t1, w0, b)));    \
                        V a2 = FMA(t4, w2, FMA(t3, w1, FMA(t2, w0, b))), a3 = FMA(t5, w2, FMA(t4, w1, FMA(t3, w0, b)));    \
                        t0 = LD(q1); t1 = LD(q1 + C); t2 = LD(q1 + 2 * C); t3 = LD(q1 + 3 * C); t4 = LD(q1 + 4 * C);     \
                        t5 = LD(q1 + 5 * C);                                                                               \
                        V b0 = FMA(t2, w5, FMA(t1, w4, MUL(t0, w3))), b1 = FMA(t3, w5, FMA(t2, w4, MUL(t1, w3)));          \
                        V b2 = FMA(t4, w5, FMA(t3, w4, MUL(t2, w3))), b3 = FMA(t5, w5, FMA(t4, w4, MUL(t3, w3)));          \
                        t0 = LD(q2); t1 = LD(q2 + C); t2 = LD(q2 + 2 * C); t3 = LD(q2 + 3 * C); t4 = LD(q2 + 4 * C);     \
                        t5 = LD(q2 + 5 * C);                                                                               \
                        V c0 = FMA(t2, w8, FMA(t1, w7, MUL(t0, w6))), c1 = FMA(t3, w8, FMA(t2, w7, MUL(t1, w6)));          \
                        V c2 = FMA(t4, w8, FMA(t3, w7, MUL(t2, w6))), c3 = FMA(t5, w8, FMA(t4, w7, MUL(t3, w6)));          \
                        s[0] = ADD(ADD(a0, b0), c0); s[1] = ADD(ADD(a1, b1), c1);                                          \
                        s[2] = ADD(ADD(a2, b2), c2); s[3] = ADD(ADD(a3, b3), c3);                                          \
                    } else {                                                                                               \
                        /* Stride 2: nine columns per kernel row; pixel j reads the three from 2j. */                      \
                        const float *q[3] = {p0 + (2 * x - 1) * C, p1 + (2 * x - 1) * C, p2 + (2 * x - 1) * C};            \
                        const V wk[9] = {w0, w1, w2, w3, w4, w5, w6, w7, w8};                                              \
                        V part[3][4];                                                                                      \
                        _Pragma("clang loop unroll(full)")                                                                 \
                        for (int ky = 0; ky < 3; ky++) {                                                                   \
                            V t[9];                                                                                        \
                            _Pragma("clang loop unroll(full)")                                                             \
                            for (int i = 0; i < 9; i++) t[i] = LD(q[ky] + i * C);                                          \
                            _Pragma("clang loop unroll(full)")                                                             \
                            for (int j = 0; j < 4; j++) {                                                                  \
                                const V first = ky == 0 ? FMA(t[2 * j], wk[0], b) : MUL(t[2 * j], wk[3 * ky]);             \
                                part[ky][j] = FMA(t[2 * j + 2], wk[3 * ky + 2], FMA(t[2 * j + 1], wk[3 * ky + 1], first)); \
                            }                                                                                              \
                        }                                                                                                  \
                        _Pragma("clang loop unroll(full)")                                                                 \
                        for (int j = 0; j < 4; j++) s[j] = ADD(ADD(part[0][j], part[1][j]), part[2][j]);                   \
                    }                                                                                                      \
                    _Pragma("clang loop unroll(full)")                                                                     \
                    for (int j = 0; j < 4; j++) {                                                                          \
                        V v = s[j];                                                                                        \
                        if (res) v = ADD(v, LD(res + (x + j) * C + cb));                                                   \
                        if (d->activation) v = MAX(v, zero);                                                               \
                        if (d->activation == 2) v = MIN(v, six);                                                           \
                        ST(out + (x + j) * C + cb, v);                                                                     \
                    }                                                                                                      \
                    x += 4;                                                                                                \
                    continue;                                                                                              \
                }                                                                                                          \
                /* One pixel (input column cx); its left and right columns only inside the map. */                         \
                const int64_t cx = x * S;                                                                                  \
                V a = FMA(LD(p0 + cx * C), w1, b), e = MUL(LD(p1 + cx * C), w4), f = MUL(LD(p2 + cx * C), w7);            \
                if (cx > 0) {                                                                                              \
                    a = FMA(LD(p0 + (cx - 1) * C), w0, a); e = FMA(LD(p1 + (cx - 1) * C), w3, e);                          \
                    f = FMA(LD(p2 + (cx - 1) * C), w6, f);                                                                 \
                }                                                                                                          \
                if (cx + 1 < W) {                                                                                          \
                    a = FMA(LD(p0 + (cx + 1) * C), w2, a); e = FMA(LD(p1 + (cx + 1) * C), w5, e);                          \
                    f = FMA(LD(p2 + (cx + 1) * C), w8, f);                                                                 \
                }                                                                                                          \
                V v = ADD(ADD(a, e), f);                                                                                   \
                if (res) v = ADD(v, LD(res + x * C + cb));                                                                 \
                if (d->activation) v = MAX(v, zero);                                                                       \
                if (d->activation == 2) v = MIN(v, six);                                                                   \
                ST(out + x * C + cb, v);                                                                                   \
                x++;                                                                                                       \
            }                                                                                                              \
        }                                                                                                                  \
    }                                                                                                                      \
}

DEPTHWISE_KERNEL(depthwise_row_avx512, "avx512f", __m512, 16, _mm512_loadu_ps, _mm512_storeu_ps, _mm512_fmadd_ps, _mm512_mul_ps,
                 _mm512_add_ps, _mm512_max_ps, _mm512_min_ps, _mm512_set1_ps, _mm512_setzero_ps, 1)
// AVX2 has 16 vector registers: nine weights leave no room for the four-pixel block's twelve accumulators.
DEPTHWISE_KERNEL(depthwise_row_avx2, "avx2,fma", __m256, 8, _mm256_loadu_ps, _mm256_storeu_ps, _mm256_fmadd_ps, _mm256_mul_ps,
                 _mm256_add_ps, _mm256_max_ps, _mm256_min_ps, _mm256_set1_ps, _mm256_setzero_ps, 0)

int64_t pneumo_depthwise_conv_out_height(const pneumo_depthwise_conv *conv) { return (conv->height - 1) / (conv->stride == 2 ? 2 : 1) + 1; }
int64_t pneumo_depthwise_conv_out_width(const pneumo_depthwise_conv *conv) { return (conv->width - 1) / (conv->stride == 2 ? 2 : 1) + 1; }

int pneumo_depthwise_conv_applies(int32_t isa, int64_t channels) {
    if (channels < 1) return 0;
    if (isa == PNEUMO_ISA_AVX512) return channels % 16 == 0;
    if (isa == PNEUMO_ISA_AVX2) return channels % 8 == 0;
    return 0;
}

void pneumo_depthwise_conv_row(const pneumo_depthwise_conv *conv, int64_t row, float *out, const float *residual) {
    if (!pneumo_depthwise_conv_applies(conv->isa, conv->channels)) return;
    if (conv->isa == PNEUMO_ISA_AVX512) depthwise_row_avx512(conv, row, out, residual);
    else depthwise_row_avx2(conv, row, out, residual);
}

void pneumo_depthwise_conv_run(const pneumo_depthwise_conv *conv, int64_t first, int64_t end) {
    const int64_t row = pneumo_depthwise_conv_out_width(conv) * conv->channels;
    for (int64_t r = first; r < end; r++) {
        pneumo_depthwise_conv_row(conv, r, conv->output + r * row, conv->residual ? conv->residual + r * row : 0);
    }
}

#else

int64_t pneumo_depthwise_conv_out_height(const pneumo_depthwise_conv *conv) { return (conv->height - 1) / (conv->stride == 2 ? 2 : 1) + 1; }
int64_t pneumo_depthwise_conv_out_width(const pneumo_depthwise_conv *conv) { return (conv->width - 1) / (conv->stride == 2 ? 2 : 1) + 1; }
int pneumo_depthwise_conv_applies(int32_t isa, int64_t channels) { (void)isa; (void)channels; return 0; }
void pneumo_depthwise_conv_row(const pneumo_depthwise_conv *conv, int64_t row, float *out, const float *residual) {
    (void)conv; (void)row; (void)out; (void)residual;
}
void pneumo_depthwise_conv_run(const pneumo_depthwise_conv *conv, int64_t first, int64_t end) { (void)conv; (void)first; (void)end; }

#endif
