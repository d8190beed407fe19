// glibc's malloc tuning (mallopt and its M_* constants), which Swift's Glibc
// module does not export. No Swift API of its own.
#include <malloc.h>
