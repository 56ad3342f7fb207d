// oneDNN 3.x C API, from Intel's build installed under /usr/local (see README).
#include "/usr/local/include/dnnl.h"
