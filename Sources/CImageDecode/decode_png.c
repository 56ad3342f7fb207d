// PNG through libpng's simplified API (png_image_*), which catches libpng's longjmps itself
// (png_safe_execute) and reports failure as a zero return with image.message set.
#include "CImageDecode.h"
#include "decode_internal.h"

#include <png.h>
#include <stdlib.h>
#include <string.h>

int cimg_decode_png(const uint8_t *data, size_t size, uint32_t max_side, uint64_t max_pixels, cimg_image *out) {
    memset(out, 0, sizeof *out);
    if (data == NULL || size == 0) return cimg_fail(out, CIMG_CORRUPT, "the file is empty");

    png_image image;
    memset(&image, 0, sizeof image);
    image.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(&image, data, size)) {
        int status = cimg_fail(out, CIMG_CORRUPT, "not a valid PNG: %s", image.message);
        png_image_free(&image);
        return status;
    }
    int status = cimg_check_size(out, image.width, image.height, max_side, max_pixels);
    if (status != CIMG_OK) {
        png_image_free(&image);
        return status;
    }

    const png_uint_32 format = image.format;
    const int color = (format & PNG_FORMAT_FLAG_COLOR) != 0;   // RGB, or a palette
    const int alpha = (format & PNG_FORMAT_FLAG_ALPHA) != 0;   // an alpha channel, or tRNS
    const int sixteen = (format & PNG_FORMAT_FLAG_LINEAR) != 0;
    // The simplified API takes 16-bit samples without gAMA/sRGB chunks as linear light and would gamma-encode
    // them on the way to 8 bits. X-ray PNGs store display values, not light: read them as already encoded, so
    // that 16 → 8 bits is a plain rescale.
    if (sixteen) image.flags |= PNG_IMAGE_FLAG_16BIT_sRGB;
    // Alpha is requested, when present, so that libpng keeps the colour samples as they are instead of
    // compositing them onto a background; it is dropped below.
    image.format = (color ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY) | (alpha ? PNG_FORMAT_FLAG_ALPHA : 0);

    const size_t in_channels = PNG_IMAGE_PIXEL_CHANNELS(image.format);
    const size_t out_channels = color ? 3 : 1;
    const size_t pixels = (size_t)image.width * image.height;
    uint8_t *buffer = malloc(pixels * in_channels);
    if (buffer == NULL) {
        png_image_free(&image);
        return cimg_fail(out, CIMG_NO_MEMORY, "out of memory for %u×%u pixels", image.width, image.height);
    }
    // Frees libpng's state whether it succeeds or not.
    if (!png_image_finish_read(&image, NULL, buffer, (png_int_32)(image.width * in_channels), NULL)) {
        free(buffer);
        return cimg_fail(out, CIMG_CORRUPT, "corrupt PNG data: %s", image.message);
    }
    if (in_channels != out_channels) {   // drop alpha, in place (the write index never passes the read index)
        for (size_t p = 0; p < pixels; p++) {
            for (size_t c = 0; c < out_channels; c++) buffer[p * out_channels + c] = buffer[p * in_channels + c];
        }
        uint8_t *smaller = realloc(buffer, pixels * out_channels);
        if (smaller != NULL) buffer = smaller;
    }
    out->width = image.width;
    out->height = image.height;
    out->channels = (uint32_t)out_channels;
    out->bit_depth = sixteen ? 16 : 8;
    out->pixels = buffer;
    return CIMG_OK;
}
