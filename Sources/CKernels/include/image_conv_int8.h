#ifndef PNEUMO_IMAGE_CONV_INT8_H
#define PNEUMO_IMAGE_CONV_INT8_H

#include <stdint.h>
#include "int8_epilogue.h"

/// An INT8 plan's first convolution of a grey image: one input channel, 3×3, stride 1 or 2, padding 1, u8 or s8 input,
/// integer weights (|k| ≤ 127), `out_channels` a multiple of 8, and the plan's epilogue (`int8_epilogue.h`). The sums
/// are exact in float32 (nine products of at most 128 · 127).
///
/// oneDNN's AVX2 int8 kernels lay input channels out in blocks of 8 (7 of every 8 products on padding here) and ran
/// PneumoNet's stem at ~15 GMAC/s; this widens each image to float32 once and multiplies each pixel by a vector of
/// output channels' weights.
typedef struct {
    const void *input;          // [n][height][width] of u8 or s8 (`input_signed`)
    void *output;               // [n][out_height][out_width][out_channels] of the epilogue's output type
    const float *weights;       // [9][out_channels]: integers, tap ky·3 + kx, then channel
    pneumo_int8_epilogue epilogue;
    int64_t height, width, out_channels;
    int32_t input_signed;       // 1: s8, 0: u8
    int32_t stride;             // 1 or 2
} pneumo_image_conv_int8;

/// Whether the kernel runs here (AVX2 + FMA) and takes `out_channels` (a positive multiple of 8).
int pneumo_image_conv_int8_applies(int64_t out_channels);

/// Floats of scratch one call of `pneumo_image_conv_int8_run` needs: the widened image with its zero border, and an
/// output row.
int64_t pneumo_image_conv_int8_scratch_floats(const pneumo_image_conv_int8 *conv);

/// Computes images `first ..< end` of the batch, using `scratch` (`pneumo_image_conv_int8_scratch_floats` floats).
void pneumo_image_conv_int8_run(const pneumo_image_conv_int8 *conv, int64_t first, int64_t end, float *scratch);

#endif
