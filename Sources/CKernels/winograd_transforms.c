#include "winograd_transforms.h"
#include "streaming_conv.h"

// The body twice: 8 lanes for AVX2 + FMA, 16 for AVX-512F. Vectors are 4-byte aligned types, so that every load and
// store is an unaligned one (the maps' rows are 64-byte aligned only when the channels are).
typedef float v8 __attribute__((vector_size(32), aligned(4)));
typedef float v16 __attribute__((vector_size(64), aligned(4)));

#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#define V v8
#define L 8
#define NAME(x) x##_avx2
#include "winograd_transforms_body.inc"
#undef V
#undef L
#undef NAME
#pragma clang attribute pop

#pragma clang attribute push(__attribute__((target("avx512f"))), apply_to = function)
#define V v16
#define L 16
#define NAME(x) x##_avx512
#include "winograd_transforms_body.inc"
#undef V
#undef L
#undef NAME
#pragma clang attribute pop

void pneumo_winograd_input(int32_t isa, int32_t m, const float *map, int64_t height, int64_t width, int64_t channels,
                           int64_t begin, int64_t end, int64_t first, int64_t planeStride, float *dst) {
    if (isa == PNEUMO_ISA_AVX512) {
        (m == 4 ? input4_avx512 : input2_avx512)(map, height, width, channels, begin, end, first, planeStride, dst);
    } else {
        (m == 4 ? input4_avx2 : input2_avx2)(map, height, width, channels, begin, end, first, planeStride, dst);
    }
}

void pneumo_winograd_output_gradient(int32_t isa, int32_t m, const float *map, int64_t height, int64_t width,
                                     int64_t channels, int64_t begin, int64_t end, int64_t first, int64_t planeStride,
                                     float *dst) {
    if (isa == PNEUMO_ISA_AVX512) {
        (m == 4 ? gradient4_avx512 : gradient2_avx512)(map, height, width, channels, begin, end, first, planeStride, dst);
    } else {
        (m == 4 ? gradient4_avx2 : gradient2_avx2)(map, height, width, channels, begin, end, first, planeStride, dst);
    }
}

void pneumo_winograd_output(int32_t isa, int32_t m, const float *src, int64_t planeStride, int64_t height, int64_t width,
                            int64_t channels, int64_t begin, int64_t end, int64_t first, const float *bias,
                            const float *residual, int32_t relu, float *output) {
    if (isa == PNEUMO_ISA_AVX512) {
        (m == 4 ? output4_avx512 : output2_avx512)(src, planeStride, height, width, channels, begin, end, first, bias,
                                                   residual, relu, output);
    } else {
        (m == 4 ? output4_avx2 : output2_avx2)(src, planeStride, height, width, channels, begin, end, first, bias,
                                               residual, relu, output);
    }
}
