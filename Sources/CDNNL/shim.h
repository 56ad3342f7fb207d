// oneDNN 3.x C API, from Intel's build installed under /usr/local (see README).
#include "/usr/local/include/dnnl.h"

// GNU OpenMP, which that build of oneDNN runs its threads on (declared here: clang does not see gcc's omp.h).
void omp_set_num_threads(int);
int omp_get_max_threads(void);
