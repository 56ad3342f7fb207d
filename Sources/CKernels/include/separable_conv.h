#ifndef PNEUMO_SEPARABLE_CONV_H
#define PNEUMO_SEPARABLE_CONV_H

#include <stdint.h>
#include "depthwise_conv.h"

/// A depthwise-separable convolution in one pass: a 3×3 depthwise convolution (stride 1 or 2, padding 1, bias and
/// ReLU/ReLU6 fused) whose output goes straight into a 1×1 convolution (bias, optional residual add, ReLU/ReLU6),
/// NHWC float32. A few rows of the depthwise output at a time live in a per-thread scratch that stays in L1,
/// instead of a whole map written and read back by a second step with its own fork/join: what PneumoNet's and
/// MobileNetV2's blocks spend most of their time on at small sizes.
///
/// Builds: AVX-512F (16 channels per vector) and AVX2 + FMA (8). The 1×1 part keeps a block of pixels × one or
/// two vectors of output channels in registers and broadcasts each depthwise value once per block.
typedef struct {
    pneumo_depthwise_conv depthwise;  // input, weights, bias, zeros, sizes, activation; output and residual unused
    float *output;                    // [n][out_height][out_width][out_channels] (the depthwise convolution's map)
    const float *weights;             // pneumo_separable_conv_pack's layout
    const float *bias;                // [out_channels] or NULL
    const float *residual;            // like output, or NULL; may be output, never the input
    int64_t out_channels;
    int64_t chunk_rows;               // rows of depthwise output per pass (the scratch holds chunk_rows · out_width · channels)
    int32_t activation;               // 0 none, 1 ReLU, 2 ReLU6
} pneumo_separable_conv;

/// Whether `isa`'s build takes these channel counts (multiples of its vector: 16 for AVX-512, 8 for AVX2).
int pneumo_separable_conv_applies(int32_t isa, int64_t channels, int64_t out_channels);

/// Output channels per block of the packed 1×1 weights (one or two vectors).
int64_t pneumo_separable_conv_block(int32_t isa, int64_t out_channels);

/// Packs PyTorch's 1×1 weights `[out_channels][channels]` into `[out_channels / block][channels][block]`.
void pneumo_separable_conv_pack(int32_t isa, const float *weights, int64_t channels, int64_t out_channels, float *packed);

/// Computes output rows `first ..< end` of the `n · out_height` rows, output channel blocks `first_block ..< end_block`
/// (of `out_channels / pneumo_separable_conv_block`); `scratch` holds `chunk_rows · out_width · channels` floats (the
/// calling thread's own). Threads that split the channels each compute the depthwise rows they read.
void pneumo_separable_conv_run(const pneumo_separable_conv *conv, float *scratch, int64_t first, int64_t end, int64_t first_block,
                               int64_t end_block);

#endif
