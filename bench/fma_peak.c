// The machine's float32 FMA peak: `threads` threads each run ten independent AVX-512 FMA chains (inline asm, so
// the compiler cannot merge or drop them). A whole model's MACs per second divided by this is how close the runtime
// runs to the arithmetic limit (PneumoNet at batch 64 in #7's closing note).
//
//   cc -O2 -fopenmp bench/fma_peak.c -o /tmp/fma_peak && /tmp/fma_peak 2
#include <immintrin.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

__attribute__((target("avx512f"))) static void chains(long n) {
    __m512 b = _mm512_set1_ps(0.9999f), c = _mm512_set1_ps(0.0001f);
    __m512 a0 = _mm512_set1_ps((float)omp_get_thread_num()), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0,
           a8 = a0, a9 = a0;
    for (long i = 0; i < n; i++) {
#define FMA(a) __asm__ volatile("vfmadd231ps %1, %2, %0" : "+v"(a) : "v"(b), "v"(c))
        FMA(a0); FMA(a1); FMA(a2); FMA(a3); FMA(a4); FMA(a5); FMA(a6); FMA(a7); FMA(a8); FMA(a9);
    }
}

int main(int argc, char **argv) {
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx512f")) { fprintf(stderr, "fma_peak: needs AVX-512F\n"); return 1; }
    const int threads = argc > 1 ? atoi(argv[1]) : 1;
    const long n = 100000000;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
#pragma omp parallel num_threads(threads)
    chains(n);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    const double s = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    printf("%d threads: %.1f GMAC/s (float32, AVX-512 FMA)\n", threads, threads * (double)n * 10 * 16 / s / 1e9);
    return 0;
}
