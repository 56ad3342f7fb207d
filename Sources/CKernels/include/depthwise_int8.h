#ifndef PNEUMO_DEPTHWISE_INT8_H
#define PNEUMO_DEPTHWISE_INT8_H

#include <stdint.h>
#include "int8_epilogue.h"

/// A 3×3 depthwise convolution of an INT8 plan, stride 1 or 2, padding 1: u8 or s8 input (NHWC), integer weights
/// (|k| ≤ 127), and the plan's epilogue (`int8_epilogue.h`). The sums `Σ q · k` are exact: each image is widened to
/// float32 integers, and every product (|q · k| ≤ 128 · 127) and sum of nine stays below 2^24.
///
/// oneDNN's int8 depthwise kernels widen to 16 bits and ran our models' small maps at a fraction of a core without
/// VNNI; this reuses the float32 kernel (`depthwise_conv.h`) on the widened image.
typedef struct {
    int32_t isa;                // the float32 kernel's build (PNEUMO_ISA_AVX2 or PNEUMO_ISA_AVX512); the rest is AVX2
    const void *input;          // [n][height][width][channels] of u8 or s8 (`input_signed`)
    void *output;               // [n][out_height][out_width][channels] of the epilogue's output type
    const float *weights;       // [9][channels]: integers, tap ky·3 + kx, then channel
    pneumo_int8_epilogue epilogue;
    int64_t height, width, channels;   // of the input
    int32_t input_signed;       // 1: s8, 0: u8
    int32_t stride;             // 1 or 2
} pneumo_depthwise_int8;

/// Whether `isa`'s build takes `channels` (the float32 kernel's rule) and this CPU runs AVX2.
int pneumo_depthwise_int8_applies(int32_t isa, int64_t channels);

/// Floats of scratch one call of `pneumo_depthwise_int8_run` needs: the widened image, a zero row and an output row.
int64_t pneumo_depthwise_int8_scratch_floats(const pneumo_depthwise_int8 *conv);

/// Computes images `first ..< end` of the batch, using `scratch` (`pneumo_depthwise_int8_scratch_floats` floats).
void pneumo_depthwise_int8_run(const pneumo_depthwise_int8 *conv, int64_t first, int64_t end, float *scratch);

#endif
