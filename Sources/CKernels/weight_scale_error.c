#include "weight_scale_error.h"

// Each step rounds as the Swift loop this replaced did (float quotient, product and difference, then double), so
// that the search keeps picking the same scale: no contraction into fused multiply-adds.
#pragma clang fp contract(off)

// In C so that the search is fast in every build: a debug build's generic SIMD code in Swift took most of an INT8
// plan's compile time (and of the test suite's pipelines).
double pneumo_int8_squared_error(const float *w, int64_t count, float scale, float limit) {
    // Eight lanes, each summed in order and then added lane by lane, as `SIMD8<Double>` accumulated them.
    double lanes[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int64_t i = 0;
    for (; i + 8 <= count; i += 8) {
        for (int k = 0; k < 8; k++) {
            float q = __builtin_roundevenf(w[i + k] / scale);
            q = q < -limit ? -limit : q > limit ? limit : q;
            const float d = q * scale - w[i + k];
            const double e = d;
            lanes[k] += e * e;
        }
    }
    double error = -0.0;
    for (int k = 0; k < 8; k++) error += lanes[k];
    for (; i < count; i++) {
        float q = __builtin_roundevenf(w[i] / scale);
        q = q < -limit ? -limit : q > limit ? limit : q;
        const float d = q * scale - w[i];
        error += (double)d * (double)d;
    }
    return error;
}
