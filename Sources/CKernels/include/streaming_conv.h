#ifndef PNEUMO_STREAMING_CONV_H
#define PNEUMO_STREAMING_CONV_H

#include <stdint.h>

/// A convolution with few output pixels (at most 16 in all: a late ResNet stage at batch 1) is bound by
/// reading its weights once. This kernel streams them in order, prefetched far ahead of the FMAs, so that
/// DRAM reads overlap the arithmetic; oneDNN's kernels leave that to the hardware prefetcher, which does not
/// run far enough ahead when every call starts with the weights out of cache.
///
/// Two builds of it, chosen at run time: AVX-512F (all pixels' accumulators in registers) and AVX2 + FMA + F16C
/// (passes of 4 or 6 pixels; later passes over a weight group read it from L2). Each reads float32 or IEEE half
/// weights (an FP16 plan's: half the bytes to stream).
///
/// Layouts (float32, except the weights where `weightType` says IEEE half):
/// - `input`: zero-padded NHWC; output pixel `p` reads tap `t` at `input + pixels[p] + taps[t]` (`channels` floats).
/// - `weights`: `[outChannels / (16·group)][tapCount][channels][16·group]`, `group` = `pneumo_streaming_conv_group`
///   (only the taps that read inside the map for some pixel: the caller leaves out those that read padding alone).
/// - `output`, `residual`: NHWC, pixel `p`'s `outChannels` floats at `p · outChannels`; `residual` may be `output`.
/// Instruction sets the kernel is built for.
enum { PNEUMO_ISA_NONE = 0, PNEUMO_ISA_AVX2 = 1, PNEUMO_ISA_AVX512 = 2 };
/// How the weights are stored: float32, or IEEE half (converted to float32 as they are loaded: half the bytes to
/// stream, the same float32 arithmetic).
enum { PNEUMO_WEIGHTS_F32 = 0, PNEUMO_WEIGHTS_F16 = 1 };

typedef struct {
    int32_t isa;            // PNEUMO_ISA_AVX2 or PNEUMO_ISA_AVX512, which this CPU must run
    const float *input;
    const int64_t *pixels;
    const int64_t *taps;
    int64_t pixelCount;
    int64_t tapCount;
    int64_t channels;
    const void *weights;    // float or IEEE half (`weightType`)
    int32_t weightType;     // PNEUMO_WEIGHTS_F32 or PNEUMO_WEIGHTS_F16
    const float *bias;      // [outChannels] or NULL
    const float *residual;  // or NULL
    float *output;
    int64_t outChannels;
    int32_t relu;
    int64_t prefetchBytes;  // how far ahead of the FMAs the weights are prefetched
} pneumo_streaming_conv;

/// The instruction sets of the kernel this CPU runs (AVX2 with FMA and F16C): PNEUMO_ISA_AVX512 and PNEUMO_ISA_AVX2 as bits (0: none).
int pneumo_streaming_conv_isas(void);

/// The most output pixels the AVX2 build takes. Its passes of 6 pixels by 16 channels keep 12 accumulators in
/// registers whatever the map's size, re-reading a weight group (at most a few tens of KiB) from L2 once a pass, so
/// it also runs ResNet-18's layers 1 and 2 at batch 1 (256 and 64 pixels), where it beat oneDNN's AVX2 kernels
/// (`bench/README.md`, "Kernel decisions", the dense-streaming branch); plans keep it only where `auto` measures a gain.
enum { PNEUMO_STREAMING_AVX2_MAX_PIXELS = 256 };

/// How many 16-channel output blocks one weight group holds for `pixelCount` pixels and `outChannels` with
/// `isa`'s kernel (AVX-512: 4, 2 or 1, so that pixels × 16·group accumulators fill the 32 vector registers best;
/// AVX2: 1); 0 when the kernel does not apply (more than 16 pixels with AVX-512, more than
/// `PNEUMO_STREAMING_AVX2_MAX_PIXELS` with AVX2, or output channels not a multiple of 16).
int pneumo_streaming_conv_group(int32_t isa, int64_t pixelCount, int64_t outChannels);

/// The AVX2 build's pixels per pass with `pixelsLeft` pixels still to compute: 6 while more than 4 remain, except 8
/// (two passes of 4 waste no lane); 4 for the last 4 or fewer. With all of a map's pixels, the pass width plans report.
int pneumo_streaming_conv_avx2_pass(int64_t pixelsLeft);

/// Computes the weight groups `first ..< end` (of `outChannels / (16·group)`).
void pneumo_streaming_conv_run(const pneumo_streaming_conv *conv, int64_t first, int64_t end);

/// Copies NHWC `[n][h][w][c]` into `[n][h + 2·padH][w + 2·padW][c]` with a zero border.
void pneumo_pad_nhwc(const float *src, float *dst, int64_t n, int64_t h, int64_t w, int64_t c, int64_t padH, int64_t padW);

#endif
