// The weight-streaming kernel (Sources/CKernels/streaming_conv.c) alone on ResNet-18's layer3 and layer4 convolutions at
// 64 px, batch 1, NHWC, in model order with distinct weights (42 MB with 4 MB of other traffic a call, so weights come
// from memory as in the whole model), or one of them repeated (its weights then stay in cache: the kernel's arithmetic
// rate). Prints each convolution's fastest and median call. The kernel must be compiled by clang: its register blocks
// rely on clang's loop pragmas (gcc's build ran layer3 2.3× slower).
//
//   clang -O2 -c -ISources/CKernels/include Sources/CKernels/streaming_conv.c -o /tmp/sc.o
//   cc -O2 -fopenmp -ISources/CKernels/include bench/streaming_layers.c /tmp/sc.o -o /tmp/streaming_layers
//   /tmp/streaming_layers ISA [CALLS [ONLY [THREADS]]]   # ISA 1 = AVX2, 2 = AVX-512; ONLY: index 0-9 of one convolution
#include "streaming_conv.h"
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct { int c, k, h, ks, s, pad; } shape;
static const shape S[] = {{128, 256, 8, 3, 2, 1}, {128, 256, 8, 1, 2, 0}, {256, 256, 4, 3, 1, 1}, {256, 256, 4, 3, 1, 1},
                          {256, 256, 4, 3, 1, 1}, {256, 512, 4, 3, 2, 1}, {256, 512, 4, 1, 2, 0}, {512, 512, 2, 3, 1, 1},
                          {512, 512, 2, 3, 1, 1}, {512, 512, 2, 3, 1, 1}};
enum { NS = sizeof S / sizeof S[0] };

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static int before(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return x < y ? -1 : x > y; }

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: %s ISA [CALLS [ONLY [THREADS]]]\n", argv[0]); return 2; }
    const int isa = atoi(argv[1]), calls = argc > 2 ? atoi(argv[2]) : 200, only = argc > 3 ? atoi(argv[3]) : -1,
              threads = argc > 4 ? atoi(argv[4]) : 2;
    if (!(pneumo_streaming_conv_isas() & isa)) { fprintf(stderr, "this CPU does not run ISA %d\n", isa); return 1; }
    pneumo_streaming_conv cv[NS];
    double *t = calloc((size_t)NS * calls, sizeof(double));
    const size_t otherBytes = 4 << 20;   // layers 1–2's weights and activations, roughly
    char *other = aligned_alloc(64, otherBytes);
    for (int i = 0; i < NS; i++) {
        const shape s = S[i];
        const int ho = (s.h + 2 * s.pad - s.ks) / s.s + 1, hp = s.h + 2 * s.pad;
        int64_t *pix = malloc(16 * sizeof(int64_t)), *taps = malloc(9 * sizeof(int64_t));
        int np = 0, nt = 0;
        for (int y = 0; y < ho; y++) for (int x = 0; x < ho; x++) pix[np++] = ((int64_t)(y * s.s) * hp + x * s.s) * s.c;
        for (int ky = 0; ky < s.ks; ky++) for (int kx = 0; kx < s.ks; kx++) taps[nt++] = ((int64_t)ky * hp + kx) * s.c;
        float *in = aligned_alloc(64, (size_t)hp * hp * s.c * 4 + 64);
        for (int j = 0; j < hp * hp * s.c; j++) in[j] = (float)(j % 7) * 0.1f;
        const size_t wn = (size_t)s.k * nt * s.c;
        float *w = aligned_alloc(64, wn * 4), *b = aligned_alloc(64, (size_t)s.k * 4), *o = aligned_alloc(64, (size_t)np * s.k * 4);
        for (size_t j = 0; j < wn; j++) w[j] = (float)(j % 5) * 0.01f;
        memset(b, 0, (size_t)s.k * 4);
        cv[i] = (pneumo_streaming_conv){isa, in, pix, taps, np, nt, s.c, w, b, NULL, o, s.k, 1, 8192};
    }
    for (int it = 0; it < calls; it++) {
        memset(other, it, otherBytes);
        for (int i = 0; i < NS; i++) {
            if (only >= 0 && i != only) continue;
            const int groups = (int)(cv[i].outChannels / (16 * pneumo_streaming_conv_group(isa, cv[i].pixelCount, cv[i].outChannels)));
            const double t0 = now();
            // As OpenMPParallel.all splits it: whole weight groups, one contiguous range per thread.
#pragma omp parallel num_threads(threads)
            {
                const int n = omp_get_num_threads(), id = omp_get_thread_num(), size = (groups + n - 1) / n;
                const int first = id * size < groups ? id * size : groups, end = (id + 1) * size < groups ? (id + 1) * size : groups;
                pneumo_streaming_conv_run(&cv[i], first, end);
            }
            t[(size_t)i * calls + it] = now() - t0;
        }
    }
    double sumMin = 0, sumMedian = 0;
    for (int i = 0; i < NS; i++) {
        if (only >= 0 && i != only) continue;
        double *v = t + (size_t)i * calls;
        qsort(v, calls, sizeof(double), before);
        const double mb = (double)cv[i].outChannels * cv[i].tapCount * cv[i].channels * 4 / 1e6;
        sumMin += v[0] * 1e6, sumMedian += v[calls / 2] * 1e6;
        printf("%3d→%3d %d×%d k%d s%d, %2ld px: min %6.1f  median %6.1f µs  (%.1f MB of weights)\n", S[i].c, S[i].k, S[i].h, S[i].h,
               S[i].ks, S[i].s, (long)cv[i].pixelCount, v[0] * 1e6, v[calls / 2] * 1e6, mb);
    }
    printf("sum: min %.1f  median %.1f µs\n", sumMin, sumMedian);
    return 0;
}
