#include "conv_im2col.h"

#include <string.h>

void pneumo_im2col_nhwc(const float *x, const pneumo_conv_geometry *g, int64_t first, int64_t end, float *col) {
    const int64_t c = g->channels, pixels = (int64_t)g->outHeight * g->outWidth;
    const int64_t rowLength = (int64_t)g->kernelHeight * g->kernelWidth * c;
    for (int64_t p = first; p < end; p++) {
        const int64_t image = p / pixels, oy = (p % pixels) / g->outWidth, ox = p % g->outWidth;
        const float *source = x + image * g->height * g->width * c;
        float *row = col + (p - first) * rowLength;
        for (int32_t ky = 0; ky < g->kernelHeight; ky++) {
            const int64_t iy = oy * g->strideY - g->padTop + (int64_t)ky * g->dilationY;
            for (int32_t kx = 0; kx < g->kernelWidth; kx++) {
                const int64_t ix = ox * g->strideX - g->padLeft + (int64_t)kx * g->dilationX;
                float *dst = row + ((int64_t)ky * g->kernelWidth + kx) * c;
                if (iy < 0 || iy >= g->height || ix < 0 || ix >= g->width) {
                    memset(dst, 0, (size_t)c * sizeof(float));
                } else {
                    memcpy(dst, source + (iy * g->width + ix) * c, (size_t)c * sizeof(float));
                }
            }
        }
    }
}

void pneumo_ohwi_to_oihw(const float *ohwi, int32_t in, int32_t kernelArea, int32_t first, int32_t end, float *oihw) {
    const int64_t per = (int64_t)in * kernelArea;
    for (int64_t o = first; o < end; o++) {
        const float *src = ohwi + o * per;
        float *dst = oihw + o * per;
        // Reads the kernelArea rows of `in` values (a few KB, in L1) for each input channel; writes in order.
        for (int32_t i = 0; i < in; i++) {
            for (int32_t k = 0; k < kernelArea; k++) dst[(int64_t)i * kernelArea + k] = src[(int64_t)k * in + i];
        }
    }
}

void pneumo_taps_last(const float *tapsFirst, int64_t columns, int32_t kernelArea, int64_t first, int64_t end, float *tapsLast) {
    // Reads kernelArea rows in step (each in order); writes in order.
    for (int64_t i = first; i < end; i++) {
        for (int32_t k = 0; k < kernelArea; k++) tapsLast[i * kernelArea + k] = tapsFirst[k * columns + i];
    }
}

void pneumo_column_sums(const float *m, int64_t rows, int32_t columns, int32_t first, int32_t end, float *sums) {
    for (int64_t r = 0; r < rows; r++) {
        const float *row = m + r * columns;
        for (int32_t j = first; j < end; j++) sums[j] += row[j];
    }
}
