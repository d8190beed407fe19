// OpenBLAS's CBLAS and LAPACK entry points, from Debian's libopenblas-dev.
// No Swift API of its own: SECNNCore wraps what it uses.
#include <cblas.h>

// LAPACK's Fortran symbols (column-major, arguments by pointer): Debian ships no lapacke.h.
void dpotrf_(const char *uplo, const int *n, double *a, const int *lda, int *info);
void dpotrs_(const char *uplo, const int *n, const int *nrhs, const double *a, const int *lda,
             double *b, const int *ldb, int *info);
void dtrtri_(const char *uplo, const char *diag, const int *n, double *a, const int *lda, int *info);
