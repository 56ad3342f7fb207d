#ifndef PNEUMO_INT8_EPILOGUE_H
#define PNEUMO_INT8_EPILOGUE_H

#include <stdint.h>

/// What an INT8 plan does with a convolution's integer sums (`Sources/Runtime/PlanBuilder+Int8.swift` states the
/// arithmetic), for our own INT8 kernels, which sum in float32 (exact while every sum stays below 2^24):
///
///     y   = acc · scales[c] + bias[c]   (scales: the source's scale times channel c's weight scale), then ReLU or
///                                       ReLU6, each a separate float32 operation (no fused multiply-add)
///     out = clip(rint(y · inverse_output_scale)) to 0…255 (u8) or −128…127 (s8), rint half to even; or y (float32)
typedef struct {
    const float *scales;        // [channels]
    const float *bias;          // [channels] or NULL
    float inverse_output_scale; // for an integer output
    int32_t activation;         // 0 none, 1 ReLU, 2 ReLU6
    int32_t output_type;        // 0 float32, 1 u8, 2 s8
} pneumo_int8_epilogue;

/// Whether this CPU runs the AVX2 + FMA code our INT8 kernels need.
int pneumo_int8_kernels_available(void);

/// `count` u8 (`is_signed` 0) or s8 values as float32.
void pneumo_int8_widen(const void *source, int32_t is_signed, float *out, int64_t count);

/// Finishes `pixels` pixels of `channels` sums (`channels` a multiple of 8) from `acc` into `out` (the output type's
/// elements, from the first).
void pneumo_int8_finish(const pneumo_int8_epilogue *e, const float *acc, void *out, int64_t pixels, int64_t channels);

#endif
