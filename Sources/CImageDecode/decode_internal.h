// Helpers shared by the decoders (not part of the public header).
#ifndef CIMAGEDECODE_INTERNAL_H
#define CIMAGEDECODE_INTERNAL_H

#include "CImageDecode.h"

/// Writes the message, frees any pixels, returns `status`.
int cimg_fail(cimg_image *out, int status, const char *format, ...) __attribute__((format(printf, 3, 4)));

/// CIMG_OK, or the failure for a zero or over-limit size.
int cimg_check_size(cimg_image *out, uint32_t width, uint32_t height, uint32_t max_side, uint64_t max_pixels);

#endif
