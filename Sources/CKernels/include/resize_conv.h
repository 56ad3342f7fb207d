#ifndef PNEUMO_RESIZE_CONV_H
#define PNEUMO_RESIZE_CONV_H

#include <stdint.h>
#include "streaming_conv.h"

/// A bilinear resize followed by a convolution (the spec baseline's 64→224 upsampling, then its 7×7 stride-2
/// convolution), computed as one convolution on the source image: both are linear, so each output pixel is a
/// weighted sum over a small window of source pixels (4×4 for 64→224 and 7×7 stride 2, against 7×7 taps of the
/// resized image). The weights depend on where the pixel falls between source pixels: output rows (and columns)
/// fall into a few classes, and each pair of classes has its own composite kernel, made once by the caller.
///
/// Layouts (float32):
/// - `input`: NHWC source images, `inputImageFloats` apart; pixel `q` reads tap `t` at `input + inputOffsets[q] + taps[t]`.
/// - `weights`: `[kernels][outChannels / width][tapCount][width]`, `width` = `pneumo_resize_conv_width`.
/// - `output`, `residual`: NHWC, `outputImageFloats` apart; pixel `q`'s `outChannels` floats at `outputOffsets[q]`;
///   `residual` may be `output`.
/// - `blocks`: runs of at most `pneumo_resize_conv_pixels` pixels that share one kernel.
typedef struct {
    int64_t kernel;     // which composite kernel
    int64_t first;      // the block's pixels: first ..< first + count of the offset arrays
    int64_t count;
} pneumo_resize_conv_block;

typedef struct {
    int32_t isa;                 // PNEUMO_ISA_AVX2 or PNEUMO_ISA_AVX512, which this CPU must run
    const float *input;
    int64_t inputImageFloats;
    const int64_t *inputOffsets;
    const int64_t *outputOffsets;
    const pneumo_resize_conv_block *blocks;
    int64_t blockCount;          // blocks per image
    const int64_t *taps;
    int64_t tapCount;
    const float *weights;
    const float *bias;           // [outChannels] or NULL
    const float *residual;       // or NULL
    float *output;
    int64_t outputImageFloats;
    int64_t outChannels;
    int32_t relu;
} pneumo_resize_conv;

/// Output channels per weight block for `isa` and `outChannels` (AVX-512: 32 or 16; AVX2: 16); 0 when the kernel
/// does not apply (output channels not a multiple of 16, or an ISA it has no build for).
int pneumo_resize_conv_width(int32_t isa, int64_t outChannels);

/// Pixels per block for `isa` and `outChannels` (so that pixels × width accumulators fill the vector registers).
int pneumo_resize_conv_pixels(int32_t isa, int64_t outChannels);

/// Computes blocks `first ..< end` of all images (block `b` is block `b % blockCount` of image `b / blockCount`).
void pneumo_resize_conv_run(const pneumo_resize_conv *conv, int64_t first, int64_t end);

#endif
