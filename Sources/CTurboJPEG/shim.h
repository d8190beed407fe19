// libjpeg-turbo's TurboJPEG API from Debian's libturbojpeg0-dev (pkg-config
// libturbojpeg): whole-image decoding with error codes, no setjmp/longjmp
// for the caller to manage. No Swift API of its own.
#include <turbojpeg.h>
