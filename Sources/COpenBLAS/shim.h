// OpenBLAS's CBLAS and LAPACK entry points, from Debian's libopenblas-dev.
// No Swift API of its own: SECNNCore wraps what it uses.
#include <cblas.h>
