#ifndef PNEUMO_DEPTHWISE_CONV_H
#define PNEUMO_DEPTHWISE_CONV_H

#include <stdint.h>

/// A 3×3 depthwise convolution, stride 1 or 2, padding 1 (one filter per channel), NHWC float32, with bias, an
/// optional residual add and ReLU or ReLU6 fused. oneDNN's kernel leaves much of a core unused on the small
/// maps of our models; this one keeps the nine weights of a 16-channel block in registers and splits each
/// pixel's sum over its three kernel rows, so that its FMA chains are short.
///
/// Builds: AVX-512F (16 channels per vector, interior pixels four at a time) and AVX2 + FMA (8 channels).
/// Output maps are `(height − 1) / stride + 1` × `(width − 1) / stride + 1`.
typedef struct {
    int32_t isa;                // PNEUMO_ISA_AVX2 or PNEUMO_ISA_AVX512 (streaming_conv.h), which this CPU must run
    const float *input;         // [n][height][width][channels]
    float *output;              // [n][out_height][out_width][channels]
    const float *weights;       // [9][channels]: tap ky·3 + kx, then channel
    const float *bias;          // [channels] or NULL
    const float *residual;      // like output, or NULL; may be output
    const float *zeros;         // width · channels zeros: the rows above and below the map
    int64_t height, width, channels;   // of the input
    int32_t activation;         // 0 none, 1 ReLU, 2 ReLU6
    int32_t stride;             // 1 (or 0) or 2
} pneumo_depthwise_conv;

/// The output map's height and width.
int64_t pneumo_depthwise_conv_out_height(const pneumo_depthwise_conv *conv);
int64_t pneumo_depthwise_conv_out_width(const pneumo_depthwise_conv *conv);

/// Whether `isa`'s build takes `channels` (a multiple of 16 for AVX-512, of 8 for AVX2).
int pneumo_depthwise_conv_applies(int32_t isa, int64_t channels);

/// Computes output row `row` of the `n · out_height` rows into `out` (`out_width · channels` floats), adding `residual`'s
/// (the same size) when not NULL; `conv->output` and `conv->residual` are not read.
void pneumo_depthwise_conv_row(const pneumo_depthwise_conv *conv, int64_t row, float *out, const float *residual);

/// Computes output rows `first ..< end` of the `n · out_height` rows.
void pneumo_depthwise_conv_run(const pneumo_depthwise_conv *conv, int64_t first, int64_t end);

#endif
