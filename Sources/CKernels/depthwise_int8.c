#include "depthwise_int8.h"
#include "depthwise_conv.h"
#include <string.h>

int64_t pneumo_depthwise_int8_scratch_floats(const pneumo_depthwise_int8 *conv) {
    const int64_t outWidth = (conv->width - 1) / (conv->stride == 2 ? 2 : 1) + 1;
    return (conv->height * conv->width + conv->width + outWidth) * conv->channels;
}

int pneumo_depthwise_int8_applies(int32_t isa, int64_t channels) {
    return pneumo_int8_kernels_available() && pneumo_depthwise_conv_applies(isa, channels);
}

void pneumo_depthwise_int8_run(const pneumo_depthwise_int8 *d, int64_t first, int64_t end, float *scratch) {
    if (!pneumo_depthwise_int8_applies(d->isa, d->channels)) return;
    const int64_t H = d->height, W = d->width, C = d->channels, S = d->stride == 2 ? 2 : 1;
    const int64_t Ho = (H - 1) / S + 1, Wo = (W - 1) / S + 1;
    float *image = scratch, *zeros = image + H * W * C, *row = zeros + W * C;
    memset(zeros, 0, (size_t)(W * C) * sizeof(float));
    const pneumo_depthwise_conv f = {.isa = d->isa, .input = image, .output = 0, .weights = d->weights, .bias = 0, .residual = 0,
                                     .zeros = zeros, .height = H, .width = W, .channels = C, .activation = 0, .stride = (int32_t)S};
    const int64_t element = d->epilogue.output_type == 0 ? (int64_t)sizeof(float) : 1;
    for (int64_t n = first; n < end; n++) {
        pneumo_int8_widen((const int8_t *)d->input + n * H * W * C, d->input_signed, image, H * W * C);
        for (int64_t y = 0; y < Ho; y++) {
            pneumo_depthwise_conv_row(&f, y, row, 0);
            pneumo_int8_finish(&d->epilogue, row, (char *)d->output + ((n * Ho + y) * Wo * C) * element, Wo, C);
        }
    }
}
