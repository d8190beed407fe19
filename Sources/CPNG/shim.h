// libpng from Debian's libpng-dev (pkg-config libpng): its simplified
// reading API (png_image_*), which reports errors in the png_image instead of
// longjmp-ing through the caller. No Swift API of its own.
#include <png.h>
