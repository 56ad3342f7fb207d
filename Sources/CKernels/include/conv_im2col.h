#ifndef PNEUMO_CONV_IM2COL_H
#define PNEUMO_CONV_IM2COL_H

#include <stdint.h>

// The geometry of a convolution whose activations lie in NHWC (channels last), as the training backend keeps them.
typedef struct {
    int32_t height, width, channels;           // input, per image
    int32_t outHeight, outWidth;
    int32_t kernelHeight, kernelWidth;
    int32_t strideY, strideX, padTop, padLeft, dilationY, dilationX;
} pneumo_conv_geometry;

// Rows [first, end) of the im2col matrix of `x` (NHWC, all images): row p is output pixel p (image-major, then
// y, then x), its kernelHeight·kernelWidth·channels columns the input values under the kernel, (ky, kx, channel)
// with the channel fastest, zero where the kernel overhangs the padding. Writes (end − first) rows into `col`.
void pneumo_im2col_nhwc(const float *x, const pneumo_conv_geometry *g, int64_t first, int64_t end, float *col);

// Output channels [first, end) of a weight gradient computed as [out][ky][kx][in] (`ohwi`, what a GEMM on the
// im2col matrix gives), written to `oihw` as [out][in][ky][kx], PyTorch's and ONNX's weight layout.
void pneumo_ohwi_to_oihw(const float *ohwi, int32_t in, int32_t kernelArea, int32_t first, int32_t end, float *oihw);

// Columns [first, end) of the `kernelArea × columns` row-major matrix `tapsFirst`, written to `tapsLast` as rows of
// `kernelArea`: a weight gradient computed tap by tap ([ky][kx][out·in], a Winograd weight gradient's last GEMM) into
// [out][in][ky][kx].
void pneumo_taps_last(const float *tapsFirst, int64_t columns, int32_t kernelArea, int64_t first, int64_t end, float *tapsLast);

// Columns [first, end) of Σ over `rows` rows of the row-major `rows × columns` matrix `m`, added into `sums` (a bias
// gradient: the output gradient summed over every pixel of every image).
void pneumo_column_sums(const float *m, int64_t rows, int32_t columns, int32_t first, int32_t end, float *sums);

#endif
