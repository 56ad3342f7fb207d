// oneDNN 3.x C API, from Intel's build installed under /usr/local (see README).
#include "/usr/local/include/dnnl.h"

// GNU OpenMP, which that build of oneDNN runs its threads on (declared here: clang does not see gcc's omp.h).
void omp_set_num_threads(int);
int omp_get_max_threads(void);

// libgomp's entry point for a parallel region: runs fn(data) on the OpenMP team that oneDNN's kernels
// already use, so element-wise work between primitives does not compete with spinning OpenMP threads.
void GOMP_parallel(void (*fn)(void *), void *data, unsigned num_threads, unsigned int flags);
int omp_get_thread_num(void);
int omp_get_num_threads(void);
int omp_in_parallel(void);

/// libgomp gives every thread that starts parallel regions a team of its own. This records, per calling
/// thread, the largest team whose workers were told to flush denormals: true when a team of `size` has not been.
static __thread int pneumo_flushed_team_size = 0;
static inline int pneumo_team_needs_flush(int size) {
    if (pneumo_flushed_team_size >= size) return 0;
    pneumo_flushed_team_size = size;
    return 1;
}

#if defined(__x86_64__)
#include <xmmintrin.h>
#include <pmmintrin.h>
/// Flushes denormal results to zero and reads denormal inputs as zero on the calling thread (MXCSR);
/// returns the previous control word, for `pneumo_restore_float_mode`.
static inline unsigned int pneumo_flush_denormals(void) {
    unsigned int previous = _mm_getcsr();
    _MM_SET_FLUSH_ZERO_MODE(_MM_FLUSH_ZERO_ON);
    _MM_SET_DENORMALS_ZERO_MODE(_MM_DENORMALS_ZERO_ON);
    return previous;
}
static inline void pneumo_restore_float_mode(unsigned int previous) { _mm_setcsr(previous); }
#else
static inline unsigned int pneumo_flush_denormals(void) { return 0; }
static inline void pneumo_restore_float_mode(unsigned int previous) { (void)previous; }
#endif
