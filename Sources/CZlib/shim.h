// zlib from Debian's zlib1g-dev, for gzip-compressed datasets (IDX, digits CSV).
#include <zlib.h>
