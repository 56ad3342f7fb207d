// PNG and JPEG decoding for Swift, on Debian's libpng 1.6 and libjpeg-turbo.
//
// Both libraries report errors by longjmp (libjpeg through the error manager's error_exit, libpng through
// png_error); a longjmp across Swift frames skips Swift's cleanup and is undefined behaviour. Every setjmp and
// longjmp therefore stays inside this target: each call returns a status and a message, never jumps.
//
// Output: 8-bit samples, rows packed (stride = width * channels), 1 channel (gray) or 3 (RGB). Alpha is
// dropped, not composited (what PIL's convert("L") does); 16-bit PNG samples are scaled to 8 bits.
#ifndef CIMAGEDECODE_H
#define CIMAGEDECODE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    CIMG_OK = 0,
    CIMG_CORRUPT = 1,      // malformed or truncated data
    CIMG_TOO_LARGE = 2,    // dimensions beyond the caller's limits
    CIMG_UNSUPPORTED = 3,  // a valid file in a variant not decoded here (CMYK or 12-bit JPEG)
    CIMG_NO_MEMORY = 4,
} cimg_status;

typedef struct {
    uint32_t width;
    uint32_t height;
    uint32_t channels;     // 1 or 3
    uint32_t bit_depth;    // of the file's samples: 16 for a 16-bit PNG, else 8 (the output is always 8-bit)
    uint8_t *pixels;       // malloc'd, width * height * channels bytes; release with cimg_image_free
    char message[256];     // on failure: why, without the file name
} cimg_image;

/// Decodes a PNG held in memory. Returns a cimg_status; on failure `out->pixels` is NULL and
/// `out->message` says why. Images wider or taller than `max_side` or with more than `max_pixels` pixels
/// are refused from the header, before any pixel memory is allocated.
int cimg_decode_png(const uint8_t *data, size_t size, uint32_t max_side, uint64_t max_pixels, cimg_image *out);

/// Decodes a baseline, progressive or arithmetic-coded 8-bit JPEG (grayscale, YCbCr or RGB) held in memory.
/// A corrupt-data warning from libjpeg (such as "Premature end of JPEG file") is an error here, where libjpeg
/// alone would pad the image with gray; the one tolerated warning is junk bytes between markers.
int cimg_decode_jpeg(const uint8_t *data, size_t size, uint32_t max_side, uint64_t max_pixels, cimg_image *out);

/// Frees `image->pixels` (safe to call twice or on a failed result).
void cimg_image_free(cimg_image *image);

/// The libraries' versions, for diagnostics: "libpng 1.6.39, libjpeg-turbo 2.1.5" style.
const char *cimg_library_versions(void);

#ifdef __cplusplus
}
#endif

#endif
