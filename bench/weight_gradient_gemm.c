// A convolution's weight gradient as one GEMM over the batch (im2col of the NHWC input, dnnl_sgemm, then
// [out][ky][kx][in] → [out][in][ky][kx]), timed step by step on random data: the prototype behind `ConvWeightGradient`
// (bench/README.md, "The weight gradient as one GEMM"). Batch 32, square input, padding kernel/2.
//
//     cc -O2 bench/weight_gradient_gemm.c -o /tmp/wgg -L/usr/local/lib -ldnnl -Wl,-rpath,/usr/local/lib
//     OMP_NUM_THREADS=2 /tmp/wgg IN OUT SIZE KERNEL STRIDE          # e.g. 512 512 2 3 1 (ResNet-18's layer4 at 64 px)
#include "/usr/local/include/dnnl.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e3 + t.tv_nsec / 1e6; }

static void im2col(const float *x, float *col, int n, int h, int w, int ic, int k, int s, int pad, int oh, int ow) {
    const long row = (long)k * k * ic;
    for (int b = 0; b < n; b++) for (int oy = 0; oy < oh; oy++) for (int ox = 0; ox < ow; ox++) {
        float *r = col + (((long)b * oh + oy) * ow + ox) * row;
        for (int ky = 0; ky < k; ky++) for (int kx = 0; kx < k; kx++) {
            const int iy = oy * s - pad + ky, ix = ox * s - pad + kx;
            float *dst = r + ((long)ky * k + kx) * ic;
            if (iy < 0 || iy >= h || ix < 0 || ix >= w) memset(dst, 0, ic * sizeof(float));
            else memcpy(dst, x + (((long)b * h + iy) * w + ix) * ic, ic * sizeof(float));
        }
    }
}

int main(int argc, char **argv) {
    if (argc != 6) { fprintf(stderr, "usage: %s IN OUT SIZE KERNEL STRIDE\n", argv[0]); return 2; }
    const int n = 32, ic = atoi(argv[1]), oc = atoi(argv[2]), h = atoi(argv[3]), k = atoi(argv[4]), s = atoi(argv[5]);
    const int pad = k / 2, w = h, oh = (h + 2 * pad - k) / s + 1, ow = oh;
    const long P = (long)n * oh * ow, K = (long)k * k * ic;
    float *x = malloc(4L * n * h * w * ic), *dy = malloc(4 * P * oc), *col = malloc(4 * P * K);
    float *ohwi = malloc(4L * oc * K), *oihw = malloc(4L * oc * K);
    for (long i = 0; i < (long)n * h * w * ic; i++) x[i] = rand() / (float)RAND_MAX;
    for (long i = 0; i < P * oc; i++) dy[i] = rand() / (float)RAND_MAX;
    double bi = 1e9, bg = 1e9, bp = 1e9;
    for (int r = 0; r < 10; r++) {
        const double t0 = now();
        im2col(x, col, n, h, w, ic, k, s, pad, oh, ow);
        const double t1 = now();
        dnnl_sgemm('T', 'N', oc, K, P, 1, dy, oc, col, K, 0, ohwi, K);
        const double t2 = now();
        for (int o = 0; o < oc; o++)
            for (int c = 0; c < ic; c++)
                for (int kk = 0; kk < k * k; kk++) oihw[((long)o * ic + c) * k * k + kk] = ohwi[(long)o * K + (long)kk * ic + c];
        const double t3 = now();
        if (t1 - t0 < bi) bi = t1 - t0;
        if (t2 - t1 < bg) bg = t2 - t1;
        if (t3 - t2 < bp) bp = t3 - t2;
    }
    printf("in %d out %d %dx%d kernel %d stride %d: im2col %.2f gemm %.2f permute %.2f total %.2f ms (im2col %.1f MB)\n",
           ic, oc, h, h, k, s, bi, bg, bp, bi + bg + bp, 4.0 * P * K / 1e6);
    return 0;
}
