// Can batch-1 ResNet-18 read its layer4 weights faster than DRAM allows? Two probes (bench/README.md, "Batch 1
// against the memory of this machine"):
//
//   read MB            read an MB buffer again and again on all threads: GB/s from the caches while it fits, from DRAM after
//   ahead P X HINT K   a compute phase (FMAs, K per 64 bytes of a P MB "layers 1-3" buffer) that also touches the first X MB of
//                      a 34 MB "layer4" buffer spread through it (HINT: -1 none, 0 T0, 1 T1, 2 T2, 3 NTA prefetches, 4 loads),
//                      then a pass reading the 34 MB: does what was touched ahead come back from L3?
//
//   cc -O2 -mavx2 -mfma -fopenmp bench/weight_residency.c -o /tmp/weight_residency
//   OMP_NUM_THREADS=2 /tmp/weight_residency read 20; OMP_NUM_THREADS=2 /tmp/weight_residency ahead 12 12 1 8
#include <immintrin.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }

static float *buffer(size_t mb) {
    float *p = aligned_alloc(2 << 20, mb << 20);
    memset(p, 1, mb << 20);
    return p;
}

// Sums `n` floats of `a`, split over the threads; the sum keeps the loads.
static float sweep(const float *a, size_t n) {
    float total = 0;
    #pragma omp parallel reduction(+:total)
    {
        size_t chunk = n / omp_get_num_threads(), begin = omp_get_thread_num() * chunk;
        __m256 s0 = _mm256_setzero_ps(), s1 = s0;
        for (size_t i = begin; i < begin + chunk; i += 16) {
            s0 = _mm256_add_ps(s0, _mm256_load_ps(a + i));
            s1 = _mm256_add_ps(s1, _mm256_load_ps(a + i + 8));
        }
        float r[8]; _mm256_storeu_ps(r, _mm256_add_ps(s0, s1)); total += r[0];
    }
    return total;
}

static void touch(const float *q, int hint, __m256 *sink) {
    switch (hint) {
    case 0: _mm_prefetch((const char *)q, _MM_HINT_T0); break;
    case 1: _mm_prefetch((const char *)q, _MM_HINT_T1); break;
    case 2: _mm_prefetch((const char *)q, _MM_HINT_T2); break;
    case 3: _mm_prefetch((const char *)q, _MM_HINT_NTA); break;
    default: *sink = _mm256_add_ps(*sink, _mm256_mul_ps(_mm256_load_ps(q), _mm256_setzero_ps()));
    }
}

int main(int argc, char **argv) {
    if (argc == 3 && !strcmp(argv[1], "read")) {
        size_t mb = atoi(argv[2]);
        float *a = buffer(mb), sink = 0;
        double best = 1e9, total = 0;
        for (int rep = 0; rep < 24; rep++) {
            double t = now(); sink += sweep(a, (mb << 20) / 4); t = now() - t;
            if (rep >= 4) { total += t; best = t < best ? t : best; }
        }
        printf("%zu MB: %.1f GB/s on average, %.1f at best%s\n", mb, (mb << 20) / (total / 20) / 1e9, (mb << 20) / best / 1e9, sink == 12345 ? " " : "");
        return 0;
    }
    if (argc != 6 || strcmp(argv[1], "ahead")) { fprintf(stderr, "usage: read MB | ahead P X HINT K\n"); return 2; }
    size_t pmb = atoi(argv[2]), xmb = atoi(argv[3]);
    int hint = atoi(argv[4]), k = atoi(argv[5]);
    size_t np = (pmb << 20) / 4, nb = (34u << 20) / 4, nx = (xmb << 20) / 4;
    float *p = buffer(pmb), *b = buffer(34), sink = 0;
    double phase1 = 0, phase2 = 0;
    const int rounds = 30;
    for (int rep = 0; rep < rounds + 5; rep++) {
        double t0 = now();
        #pragma omp parallel reduction(+:sink)
        {
            int threads = omp_get_num_threads(), id = omp_get_thread_num();
            size_t pc = np / threads, pb = id * pc, xc = nx / threads, xb = id * xc;
            size_t chunks = pc / 16, lines = xc / 16;
            __m256 m = _mm256_set1_ps(0.9999f), extra = _mm256_setzero_ps();
            __m256 a0 = _mm256_set1_ps(1.0001f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
            for (size_t c = 0; c < chunks; c++) {
                __m256 w0 = _mm256_load_ps(p + pb + c * 16), w1 = _mm256_load_ps(p + pb + c * 16 + 8);
                for (int r = 0; r < k; r++) {   // eight independent FMA chains
                    a0 = _mm256_fmadd_ps(a0, w0, m); a1 = _mm256_fmadd_ps(a1, w1, m); a2 = _mm256_fmadd_ps(a2, w0, m);
                    a3 = _mm256_fmadd_ps(a3, w1, m); a4 = _mm256_fmadd_ps(a4, w0, m); a5 = _mm256_fmadd_ps(a5, w1, m);
                    a6 = _mm256_fmadd_ps(a6, w0, m); a7 = _mm256_fmadd_ps(a7, w1, m);
                }
                if (hint >= 0)   // this thread's slice of the first X MB, spread evenly through its compute
                    for (size_t l = c * lines / chunks; l < (c + 1) * lines / chunks; l++) touch(b + xb + l * 16, hint, &extra);
            }
            a0 = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)), _mm256_add_ps(_mm256_add_ps(a4, a5), _mm256_add_ps(a6, a7)));
            float r[8]; _mm256_storeu_ps(r, _mm256_add_ps(a0, extra)); sink += r[0];
        }
        double t1 = now();
        sink += sweep(b, nb);   // each thread reads the slice of the first X MB it touched, then a slice of the rest
        double t2 = now();
        if (rep >= 5) { phase1 += t1 - t0; phase2 += t2 - t1; }
    }
    printf("P %zu MB, ahead %zu MB, hint %d: compute %.3f ms, 34 MB pass %.3f ms, total %.3f ms%s\n", pmb, xmb, hint,
           phase1 / rounds * 1e3, phase2 / rounds * 1e3, (phase1 + phase2) / rounds * 1e3, sink == 12345 ? " " : "");
    return 0;
}
