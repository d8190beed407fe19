import CSmallGEMM
import Foundation

/// Which products bypass OpenBLAS for secnn's own AVX2/FMA kernel
/// (Sources/CSmallGEMM): plain row-major C = A·B whose A has both sides at
/// most 64, which is every Winograd product and the image layer's patch
/// product of these networks.
///
/// Why: on CPUs without AVX-512, OpenBLAS (0.3.21) sends even the smallest
/// product through its packed, blocked path, whose packing and dispatch
/// cost as much as the arithmetic when A is 16×16 to 32×32 (14–22 G
/// multiply-adds/s on an AVX2 AMD EPYC). With this kernel, the same binary
/// on that CPU ran single images 20–32% faster and trained 13–18% faster
/// (BENCHMARKS.md, sitting 15, against `SECNN_GEMM=openblas`). Where
/// AVX-512 is present, OpenBLAS's small-matrix kernels skip packing and
/// reached 36–56 G multiply-adds/s (`SmallGEMMBlocks.swift`), so they keep
/// the work there.
///
/// `SECNN_GEMM=openblas` or `SECNN_GEMM=secnn` in the environment overrides
/// the choice (for measuring one against the other; `secnn` still needs AVX2).
enum SmallGEMM {
    static let maxSide = Int(SECNN_SMALL_GEMM_MAX_SIDE)

    static let enabled: Bool = {
        let automatic = secnn_cpu_has_avx2_fma() && !secnn_cpu_has_avx512f()
        switch ProcessInfo.processInfo.environment["SECNN_GEMM"] {
        case nil, "": return automatic
        case "openblas": return false
        case "secnn": return secnn_cpu_has_avx2_fma()
        case let other?:
            FileHandle.standardError.write(Data(
                "secnn: ignoring SECNN_GEMM=\(other): expected `openblas` or `secnn`\n".utf8))
            return automatic
        }
    }()

    /// Whether the product C (m×n) = A (m×k)·B goes to the kernel.
    @inline(__always)
    static func handles(m: Int, k: Int) -> Bool { enabled && m <= maxSide && k <= maxSide }

    /// C = A·B, all row-major; the caller has checked `handles(m:k:)`.
    @inline(__always)
    static func multiply(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>,
                         ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int) {
        secnn_small_sgemm(Int32(m), Int32(n), Int32(k), a, lda, b, ldb, c, ldc)
    }
}

// MARK: - The image layer in place

extension SmallGEMM {
    /// Whether the image layer of shape `s` (`writesPlanes`) reads its taps in
    /// place from the padded image (`convolveTaps`) rather than from an
    /// im2col matrix: unfolding 3 channels of 32×32 writes 27 rows of 1,024
    /// values, 110 KB, about as long as the product that reads them.
    static func convolvesTaps<T: TensorScalar>(_: T.Type, _ s: Conv2dShape) -> Bool {
        T.self == Float.self && s.writesPlanes && handles(m: s.outChannels, k: s.patchSize)
    }

    /// output (O, H·W) = weights (O, C·3·3) ⊛ the image, from `padded`, the
    /// image inside its zero border (C, H+2, W+2): one product per output
    /// row, whose B row for tap (c, ky, kx) is the padded row y + ky of
    /// channel c from column kx.
    static func convolveTaps<T: TensorScalar>(padded: UnsafePointer<T>, weights: UnsafePointer<T>,
                                              output: UnsafeMutablePointer<T>, _ s: Conv2dShape) {
        precondition(convolvesTaps(T.self, s), "convolveTaps: not an image layer the kernel takes: \(s)")
        let offsets = (0..<s.inChannels).flatMap { c in
            (0..<9).map { tap in c * s.paddedPlane + s.tapOffset(tap) }
        }
        let (o, k) = (Int32(s.outChannels), Int32(s.patchSize))
        padded.withMemoryRebound(to: Float.self, capacity: s.inChannels * s.paddedPlane) { padded in
            weights.withMemoryRebound(to: Float.self, capacity: s.outChannels * s.patchSize) { weights in
                output.withMemoryRebound(to: Float.self, capacity: s.outChannels * s.pixels) { output in
                    for y in 0..<s.height {
                        secnn_small_sgemm_rows(o, Int32(s.width), k, weights, s.patchSize, padded + y * s.paddedWidth,
                                               offsets, output + y * s.width, s.pixels)
                    }
                }
            }
        }
    }
}
