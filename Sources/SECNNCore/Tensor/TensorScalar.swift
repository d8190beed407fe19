import COpenBLAS
import Foundation

/// The element types secnn computes in: `Float` for training and inference,
/// `Double` for gradient checks against finite differences. Every kernel is
/// generic over it and pre-specialised for `Float` (`@_specialize`), so
/// generic callers in other modules still run the specialised loops.
public protocol TensorScalar: BinaryFloatingPoint, SIMDScalar, Sendable, Codable
where Self.RawSignificand: FixedWidthInteger {
    /// Row-major `C = alpha * op(A) * op(B) + beta * C` through BLAS
    /// (`op(A)` is m×k, `op(B)` is k×n, `C` is m×n), or for Float's small
    /// plain products secnn's own kernel (`SmallGEMM`).
    static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Self, a: UnsafePointer<Self>, lda: Int,
        b: UnsafePointer<Self>, ldb: Int,
        beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int)
    /// Row-major `C = alpha * op(A) * op(A)ᵀ + beta * C` through BLAS for
    /// symmetric C (n×n): half a GEMM's work. Only the upper triangle of C
    /// is written. `op(A)` is A (n×k) or, with `transpose`, Aᵀ (A k×n).
    static func syrkUpper(
        transpose: Bool, n: Int, k: Int, alpha: Self, a: UnsafePointer<Self>, lda: Int,
        beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int)
    static func exp(_ x: Self) -> Self
    static func log(_ x: Self) -> Self
    static func sqrt(_ x: Self) -> Self
}

@inline(__always)
private func cblasTranspose(_ flag: Bool) -> CBLAS_TRANSPOSE {
    flag ? CblasTrans : CblasNoTrans
}

extension Float: TensorScalar {
    public static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        if !transposeA && !transposeB && alpha == 1 && beta == 0 && m > 0 && k > 0 && SmallGEMM.handles(m: m, k: k) {
            SmallGEMM.multiply(m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc)
            return
        }
        cblas_sgemm(
            CblasRowMajor, cblasTranspose(transposeA), cblasTranspose(transposeB),
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
    public static func syrkUpper(
        transpose: Bool, n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        cblas_ssyrk(CblasRowMajor, CblasUpper, cblasTranspose(transpose), Int32(n), Int32(k), alpha, a, Int32(lda),
                    beta, c, Int32(ldc))
    }
    @inline(__always) public static func exp(_ x: Float) -> Float { Foundation.expf(x) }
    @inline(__always) public static func log(_ x: Float) -> Float { Foundation.logf(x) }
    @inline(__always) public static func sqrt(_ x: Float) -> Float { x.squareRoot() }
}

extension Double: TensorScalar {
    public static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Double, a: UnsafePointer<Double>, lda: Int,
        b: UnsafePointer<Double>, ldb: Int,
        beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int
    ) {
        cblas_dgemm(
            CblasRowMajor, cblasTranspose(transposeA), cblasTranspose(transposeB),
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
    public static func syrkUpper(
        transpose: Bool, n: Int, k: Int, alpha: Double, a: UnsafePointer<Double>, lda: Int,
        beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int
    ) {
        cblas_dsyrk(CblasRowMajor, CblasUpper, cblasTranspose(transpose), Int32(n), Int32(k), alpha, a, Int32(lda),
                    beta, c, Int32(ldc))
    }
    @inline(__always) public static func exp(_ x: Double) -> Double { Foundation.exp(x) }
    @inline(__always) public static func log(_ x: Double) -> Double { Foundation.log(x) }
    @inline(__always) public static func sqrt(_ x: Double) -> Double { x.squareRoot() }
}
