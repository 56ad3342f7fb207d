// zlib from Debian's zlib1g-dev. `inflateInit2` and `deflateInit2` are function-like macros, which Swift
// cannot call, so they are wrapped here as static inline functions.
#include <zlib.h>

/// Starts a raw-deflate (no zlib header) inflater, the format of zip members (method 8).
static inline int czlib_inflate_init_raw(z_stream *stream) {
    return inflateInit2(stream, -MAX_WBITS);
}
