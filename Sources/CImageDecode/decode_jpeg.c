// JPEG through libjpeg-turbo's libjpeg 6.2 API. libjpeg's error manager must not return from error_exit;
// ours longjmps back to cimg_decode_jpeg, which destroys the decompressor and returns a status. The
// jmp_buf and everything that jumps to it live in this file.
#include "CImageDecode.h"
#include "decode_internal.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>
#include <jerror.h>

/// Progressive files can hold any number of scans, each re-reading the whole coefficient buffer; a tiny file
/// with thousands of scans is a known way to burn CPU (libjpeg-turbo's djpeg offers -maxscan for it).
enum { CIMG_MAX_SCANS = 1000 };
/// libjpeg's own working memory (coefficient buffers of progressive files, mostly).
enum { CIMG_MAX_JPEG_MEMORY = 1 << 30 };

typedef struct {
    struct jpeg_error_mgr pub;   // first, so that a j_common_ptr's err casts to this
    jmp_buf jump;
    int status;
    char message[JMSG_LENGTH_MAX];
} cimg_jpeg_error;

typedef struct {
    struct jpeg_progress_mgr pub;
    cimg_jpeg_error *error;
} cimg_jpeg_progress;

static int status_for(int code) {
    switch (code) {
    case JERR_OUT_OF_MEMORY: return CIMG_NO_MEMORY;
    case JERR_BAD_PRECISION:
    case JERR_CONVERSION_NOTIMPL:
    case JERR_NOT_COMPILED: return CIMG_UNSUPPORTED;
    default: return CIMG_CORRUPT;
    }
}

static void on_error_exit(j_common_ptr cinfo) {
    cimg_jpeg_error *error = (cimg_jpeg_error *)cinfo->err;
    error->status = status_for(cinfo->err->msg_code);
    (*cinfo->err->format_message)(cinfo, error->message);
    longjmp(error->jump, 1);
}

/// Level −1 is a warning that the data is corrupt; libjpeg would carry on with made-up data (gray rows after
/// a truncation), so it becomes an error, except for junk bytes between markers, which lose nothing.
/// Levels 0 and up are trace messages, ignored.
static void on_emit_message(j_common_ptr cinfo, int level) {
    if (level >= 0 || cinfo->err->msg_code == JWRN_EXTRANEOUS_DATA) return;
    cimg_jpeg_error *error = (cimg_jpeg_error *)cinfo->err;
    error->status = CIMG_CORRUPT;
    (*cinfo->err->format_message)(cinfo, error->message);
    longjmp(error->jump, 1);
}

static void on_progress(j_common_ptr cinfo) {
    if (!cinfo->is_decompressor) return;
    j_decompress_ptr d = (j_decompress_ptr)cinfo;
    if (d->input_scan_number > CIMG_MAX_SCANS) {
        cimg_jpeg_error *error = ((cimg_jpeg_progress *)cinfo->progress)->error;
        error->status = CIMG_CORRUPT;
        snprintf(error->message, sizeof error->message, "more than %d progressive scans", CIMG_MAX_SCANS);
        longjmp(error->jump, 1);
    }
}

int cimg_decode_jpeg(const uint8_t *data, size_t size, uint32_t max_side, uint64_t max_pixels, cimg_image *out) {
    memset(out, 0, sizeof *out);
    if (data == NULL || size == 0) return cimg_fail(out, CIMG_CORRUPT, "the file is empty");

    struct jpeg_decompress_struct cinfo;
    cimg_jpeg_error error;
    cimg_jpeg_progress progress;
    memset(&error, 0, sizeof error);
    // Written after setjmp and read after a longjmp: must not live in a register.
    uint8_t *volatile pixels = NULL;

    cinfo.err = jpeg_std_error(&error.pub);
    error.pub.error_exit = on_error_exit;
    error.pub.emit_message = on_emit_message;
    if (setjmp(error.jump)) {
        jpeg_destroy_decompress(&cinfo);
        free(pixels);
        return cimg_fail(out, error.status, "%s JPEG: %s",
                         error.status == CIMG_UNSUPPORTED ? "unsupported" : "corrupt", error.message);
    }
    jpeg_create_decompress(&cinfo);
    cinfo.mem->max_memory_to_use = CIMG_MAX_JPEG_MEMORY;
    progress.pub.progress_monitor = on_progress;
    progress.error = &error;
    cinfo.progress = &progress.pub;
    jpeg_mem_src(&cinfo, data, (unsigned long)size);
    jpeg_read_header(&cinfo, TRUE);

    int status = cimg_check_size(out, cinfo.image_width, cinfo.image_height, max_side, max_pixels);
    if (status != CIMG_OK) {
        jpeg_destroy_decompress(&cinfo);
        return status;
    }
    switch (cinfo.jpeg_color_space) {
    case JCS_GRAYSCALE:
        cinfo.out_color_space = JCS_GRAYSCALE;
        break;
    case JCS_YCbCr:
    case JCS_RGB:
        cinfo.out_color_space = JCS_RGB;
        break;
    default: {
        const int space = cinfo.jpeg_color_space;
        jpeg_destroy_decompress(&cinfo);
        return cimg_fail(out, CIMG_UNSUPPORTED, "unsupported JPEG: colour space %s",
                         space == JCS_CMYK ? "CMYK" : space == JCS_YCCK ? "YCCK" : "unknown");
    }
    }
    // libjpeg's defaults (JDCT_ISLOW, fancy upsampling) are what PIL decodes with.
    jpeg_start_decompress(&cinfo);
    const size_t channels = (size_t)cinfo.output_components;
    const size_t stride = (size_t)cinfo.output_width * channels;
    if (channels != 1 && channels != 3) {
        jpeg_destroy_decompress(&cinfo);
        return cimg_fail(out, CIMG_UNSUPPORTED, "unsupported JPEG: %zu output components", channels);
    }
    pixels = malloc(stride * cinfo.output_height);
    if (pixels == NULL) {
        jpeg_destroy_decompress(&cinfo);
        return cimg_fail(out, CIMG_NO_MEMORY, "out of memory for %u×%u pixels", cinfo.output_width, cinfo.output_height);
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = pixels + stride * cinfo.output_scanline;
        jpeg_read_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_decompress(&cinfo);
    out->width = cinfo.output_width;
    out->height = cinfo.output_height;
    out->channels = (uint32_t)channels;
    out->bit_depth = 8;
    out->pixels = pixels;
    jpeg_destroy_decompress(&cinfo);
    return CIMG_OK;
}
