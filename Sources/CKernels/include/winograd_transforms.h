#ifndef PNEUMO_WINOGRAD_TRANSFORMS_H
#define PNEUMO_WINOGRAD_TRANSFORMS_H

#include <stdint.h>

/// Winograd F(m×m, 3×3)'s tile transforms (m = 2 or 4) as vector code for AVX2 + FMA or AVX-512F (`isa`:
/// PNEUMO_ISA_AVX2 or PNEUMO_ISA_AVX512 of streaming_conv.h, which this CPU must run). The same arithmetic as the Swift
/// transforms (`WinogradF2x2`, `WinogradF4x4`), which stay for CPUs without AVX2: Swift's vectors are built for the
/// baseline x86-64 (SSE), these for the CPU's own width.
///
/// Maps are NHWC float32 (`height × width × channels` per image, `channels` a multiple of 16). Tile `t` is image
/// `t / (tH·tW)`, tile row `t / tW % tH`, column `t % tW` (`tH = ⌈height/m⌉`, `tW = ⌈width/m⌉`). Plane `e` of tile `t`'s
/// transform lies at `dst + e·planeStride + (t − first)·channels`. Pixels outside the map read as zeros.

/// `Bᵀ d B` of the input tiles `[begin, end)`: tile `(i, j)` reads rows `m·i − 1 … m·i + m`, columns `m·j − 1 … m·j + m`.
void pneumo_winograd_input(int32_t isa, int32_t m, const float *map, int64_t height, int64_t width, int64_t channels,
                           int64_t begin, int64_t end, int64_t first, int64_t planeStride, float *dst);

/// `A y Aᵀ` of the output-gradient tiles `[begin, end)` (the weight gradient's): tile `(i, j)` reads rows `m·i … m·i + m − 1`,
/// columns `m·j … m·j + m − 1`.
void pneumo_winograd_output_gradient(int32_t isa, int32_t m, const float *map, int64_t height, int64_t width,
                                     int64_t channels, int64_t begin, int64_t end, int64_t first, int64_t planeStride,
                                     float *dst);

/// `y = Aᵀ M A + bias (+ residual)`, ReLU when `relu`, into the outputs of tiles `[begin, end)` that lie inside the map:
/// the forward pass's last step. `src` holds `M` as `dst` above does the transforms; `bias` (`[channels]`) and
/// `residual` (NHWC like `output`, may be `output`) may be NULL.
void pneumo_winograd_output(int32_t isa, int32_t m, const float *src, int64_t planeStride, int64_t height, int64_t width,
                            int64_t channels, int64_t begin, int64_t end, int64_t first, const float *bias,
                            const float *residual, int32_t relu, float *output);

#endif
