import CMPI
import Foundation
import SECNNCore

/// The processes an MPI launcher (`mpirun`, `srun`) started, joined through
/// Open MPI: a data-parallel run's `Collective`.
///
/// MPI is initialised only when a launcher started this process, so a
/// plain `secnn train` never touches it (and needs no launcher installed).
public final class MPIProcesses: Collective, @unchecked Sendable {
    public let rank: Int
    public let size: Int
    /// This process's time in (waiting included) and bytes through the sums
    /// so far: the cost of the communication, for the run's summary.
    public private(set) var sumSeconds = 0.0
    public private(set) var sumBytes = 0
    public private(set) var sumCalls = 0

    /// Environment variables a launcher sets for the processes it starts:
    /// Open MPI's mpirun, PMIx (Open MPI under srun), PMI (MPICH, Slurm's PMI-2).
    public static let launcherVariables = ["OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK"]

    /// Whether a launcher started this process.
    public static var launched: Bool {
        let environment = ProcessInfo.processInfo.environment
        return launcherVariables.contains { environment[$0] != nil }
    }

    /// Joins the launcher's processes (MPI_Init), or returns nil when no
    /// launcher started this one.
    public static func join() throws -> MPIProcesses? {
        guard launched else { return nil }
        var provided: Int32 = 0
        // Only the main thread calls MPI; the kernels' worker threads never do.
        let code = MPI_Init_thread(nil, nil, Int32(MPI_THREAD_FUNNELED), &provided)
        guard code == MPI_SUCCESS else { throw DistributedError.mpi("MPI_Init_thread", code) }
        var rank: Int32 = 0, size: Int32 = 0
        MPI_Comm_rank(secnn_mpi_comm_world(), &rank)
        MPI_Comm_size(secnn_mpi_comm_world(), &size)
        return MPIProcesses(rank: Int(rank), size: Int(size))
    }

    private init(rank: Int, size: Int) {
        self.rank = rank
        self.size = size
    }

    public func sum(_ values: UnsafeMutableBufferPointer<Float>) {
        allreduce(values.baseAddress, values.count, MemoryLayout<Float>.size, secnn_mpi_float())
    }

    public func sum(_ values: UnsafeMutableBufferPointer<Double>) {
        allreduce(values.baseAddress, values.count, MemoryLayout<Double>.size, secnn_mpi_double())
    }

    public func broadcast(_ bytes: [UInt8], from root: Int) -> [UInt8] {
        var count = Int64(bytes.count)
        check("MPI_Bcast", MPI_Bcast(&count, 1, secnn_mpi_int64(), Int32(root), secnn_mpi_comm_world()))
        var received = rank == root ? bytes : [UInt8](repeating: 0, count: Int(count))
        received.withUnsafeMutableBytes {
            check("MPI_Bcast", MPI_Bcast($0.baseAddress, Int32(count), secnn_mpi_byte(), Int32(root), secnn_mpi_comm_world()))
        }
        return received
    }

    /// Leaves MPI at the end of a run; every process must call it.
    public func finish() {
        MPI_Finalize()
    }

    /// Ends every process of the job (MPI_Abort) after this one's error:
    /// a process that cannot go on must not leave the others waiting in a
    /// collective call forever.
    public func abort(code: Int32) -> Never {
        MPI_Abort(secnn_mpi_comm_world(), code)
        exit(code)
    }

    private func allreduce(_ buffer: UnsafeMutableRawPointer?, _ count: Int, _ stride: Int, _ type: MPI_Datatype) {
        guard count > 0 else { return }
        let start = MPI_Wtime()
        check("MPI_Allreduce", MPI_Allreduce(secnn_mpi_in_place(), buffer, Int32(count), type, secnn_mpi_sum(),
                                              secnn_mpi_comm_world()))
        sumSeconds += MPI_Wtime() - start
        sumBytes += count * stride
        sumCalls += 1
    }

    /// MPI's default error handler aborts the job on any failure itself;
    /// this is the backstop should a call still return an error.
    private func check(_ function: String, _ code: Int32) {
        guard code != MPI_SUCCESS else { return }
        FileHandle.standardError.write(Data("rank \(rank): \(DistributedError.mpi(function, code))\n".utf8))
        abort(code: 1)
    }
}

public enum DistributedError: Error, CustomStringConvertible {
    case mpi(String, Int32)

    public var description: String {
        switch self {
        case let .mpi(function, code):
            var length: Int32 = 0
            var text = [CChar](repeating: 0, count: Int(MPI_MAX_ERROR_STRING) + 1)
            MPI_Error_string(code, &text, &length)
            return "\(function) failed: \(String(cString: text))"
        }
    }
}
