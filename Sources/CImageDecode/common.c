#include "CImageDecode.h"
#include "decode_internal.h"

#include <png.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <jpeglib.h>

void cimg_image_free(cimg_image *image) {
    if (image == NULL) return;
    free(image->pixels);
    image->pixels = NULL;
}

int cimg_fail(cimg_image *out, int status, const char *format, ...) {
    va_list args;
    va_start(args, format);
    vsnprintf(out->message, sizeof out->message, format, args);
    va_end(args);
    free(out->pixels);
    out->pixels = NULL;
    return status;
}

int cimg_check_size(cimg_image *out, uint32_t width, uint32_t height, uint32_t max_side, uint64_t max_pixels) {
    if (width == 0 || height == 0) {
        return cimg_fail(out, CIMG_CORRUPT, "the header gives a zero dimension (%u×%u)", width, height);
    }
    if (width > max_side || height > max_side) {
        return cimg_fail(out, CIMG_TOO_LARGE, "the image is %u×%u pixels; the limit is %u on a side", width, height, max_side);
    }
    if ((uint64_t)width * height > max_pixels) {
        return cimg_fail(out, CIMG_TOO_LARGE, "the image is %u×%u = %llu pixels; the limit is %llu", width, height,
                         (unsigned long long)width * height, (unsigned long long)max_pixels);
    }
    return CIMG_OK;
}

const char *cimg_library_versions(void) {
#define CIMG_STRING2(x) #x
#define CIMG_STRING(x) CIMG_STRING2(x)
    static char text[96];
#ifdef LIBJPEG_TURBO_VERSION
    snprintf(text, sizeof text, "libpng %s, libjpeg-turbo %s", png_get_libpng_ver(NULL), CIMG_STRING(LIBJPEG_TURBO_VERSION));
#else
    snprintf(text, sizeof text, "libpng %s, libjpeg %d", png_get_libpng_ver(NULL), JPEG_LIB_VERSION);
#endif
    return text;
}
