// libpng 1.6 from Debian's libpng-dev. Swift code does not call it directly: libpng reports errors with
// longjmp, which Swift cannot survive, so the decoding lives in the C target CImageDecode.
#include <png.h>
