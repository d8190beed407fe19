import COpenBLAS
import Dispatch

/// How many threads secnn's kernels split work across. Kernels parallelise
/// at the batch level themselves and call BLAS single-threaded: the GEMMs of
/// these small convnets are too small for OpenBLAS's own threading to pay.
public enum ComputeThreads {
    nonisolated(unsafe) private static var configured = 2

    public static var count: Int { configured }

    /// Sets the kernel thread count (at least 1) and pins OpenBLAS to one
    /// thread, so the two levels of parallelism never oversubscribe the cores.
    public static func set(_ threads: Int) {
        configured = max(1, threads)
        openblas_set_num_threads(1)
    }

    /// Lets OpenBLAS use `threads` threads itself (for one large GEMM, as in
    /// `secnn bench --gemm`).
    public static func setBLASThreads(_ threads: Int) {
        openblas_set_num_threads(Int32(max(1, threads)))
    }
}

/// Splits `0..<count` into at most `ComputeThreads.count` contiguous ranges
/// and runs `body(chunkIndex, range)` on each, in parallel. The split depends
/// only on `count` and the thread count, so reductions that combine chunk
/// results in chunk order are reproducible bit for bit.
public func parallelChunks(_ count: Int, _ body: (Int, Range<Int>) -> Void) {
    let chunks = min(ComputeThreads.count, count)
    guard chunks > 1 else {
        if count > 0 { body(0, 0..<count) }
        return
    }
    DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
        body(chunk, chunkRange(chunk, of: chunks, count: count))
    }
}

/// The `chunk`-th of `chunks` near-equal contiguous ranges of `0..<count`.
@inline(__always)
public func chunkRange(_ chunk: Int, of chunks: Int, count: Int) -> Range<Int> {
    (count * chunk / chunks)..<(count * (chunk + 1) / chunks)
}
