// Open MPI from Debian's libopenmpi-dev (pkg-config ompi-c). MPI's handles
// (MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM, …) are C macros over Open MPI's
// globals, which Swift cannot import; each static inline function below
// returns one. No Swift API of its own.
#include <mpi.h>

static inline MPI_Comm secnn_mpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Datatype secnn_mpi_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype secnn_mpi_double(void) { return MPI_DOUBLE; }
static inline MPI_Datatype secnn_mpi_byte(void) { return MPI_BYTE; }
static inline MPI_Datatype secnn_mpi_int64(void) { return MPI_INT64_T; }
static inline MPI_Op secnn_mpi_sum(void) { return MPI_SUM; }
static inline MPI_Op secnn_mpi_max(void) { return MPI_MAX; }
static inline MPI_Errhandler secnn_mpi_errors_return(void) { return MPI_ERRORS_RETURN; }
/// MPI_IN_PLACE: a sentinel pointer (a macro).
static inline void *secnn_mpi_in_place(void) { return MPI_IN_PLACE; }
