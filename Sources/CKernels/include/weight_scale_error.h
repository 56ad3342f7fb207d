#ifndef PNEUMO_WEIGHT_SCALE_ERROR_H
#define PNEUMO_WEIGHT_SCALE_ERROR_H

#include <stdint.h>

// Σ (clamp(round_half_even(w[i] / scale), −limit, limit) · scale − w[i])² over w[0..count): the error of one
// channel's INT8 weights at one candidate scale (`Int8WeightRange.quantize`'s search calls it ~50 times a channel).
double pneumo_int8_squared_error(const float *w, int64_t count, float scale, float limit);

// The same sum by the scalar loop that builds without AVX run, for tests: both give the same bits.
double pneumo_int8_squared_error_scalar(const float *w, int64_t count, float scale, float limit);

#endif
