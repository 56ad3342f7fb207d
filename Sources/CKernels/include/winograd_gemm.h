#ifndef PNEUMO_WINOGRAD_GEMM_H
#define PNEUMO_WINOGRAD_GEMM_H

#include <stdint.h>

/// Winograd's products, one small matrix product per transformed plane: `m[e][t][k] = Σ_c v[e][t][c] · u[e][c][k]`
/// for every plane `e`, tile `t` and output channel `k`. At batch 1 these products are small (tens of tiles by 64–128
/// channels a plane) and their weights come from memory at every call (4× the direct convolution's with F(4×4, 3×3)).
/// This kernel computes one column (a plane's 16 output channels) at a time, its 6 tiles × 16 channels in 12 AVX2
/// registers, reading the column's weights (a few KiB, contiguous) from L1 across the tiles while prefetching the
/// next columns' ahead of the FMAs.
///
/// All float32: `v` `[planes][tiles][channels]`, `m` `[planes][tiles][outChannels]` (row-major), `u` packed as
/// `[planes][outChannels / 16][channels][16]` (`pneumo_winograd_gemm_pack`); `outChannels` a multiple of 16.
/// Needs AVX2 and FMA (`pneumo_streaming_conv_isas`).
typedef struct {
    const float *v;
    const float *u;
    float *m;
    int64_t tiles;
    int64_t channels;
    int64_t outChannels;
    int64_t prefetchBytes;  // how far ahead of the FMAs the weights are prefetched
} pneumo_winograd_gemm;

/// Computes the columns `first ..< end` of `planes · outChannels / 16` (column `j`: plane `j / (outChannels / 16)`,
/// output channels `16 · (j % (outChannels / 16))` on).
void pneumo_winograd_gemm_avx2(const pneumo_winograd_gemm *gemm, int64_t first, int64_t end);

/// Packs row-major `[planes][channels][outChannels]` into the kernel's `[planes][outChannels / 16][channels][16]`.
void pneumo_winograd_gemm_pack(const float *src, float *dst, int64_t planes, int64_t channels, int64_t outChannels);

#endif
