// libjpeg-turbo (libjpeg 6.2 API) from Debian's libjpeg62-turbo-dev. jpeglib.h needs size_t and FILE declared
// first. As with CPNG, Swift does not call it directly (error_exit must longjmp); see CImageDecode.
#include <stddef.h>
#include <stdio.h>
#include <jpeglib.h>
