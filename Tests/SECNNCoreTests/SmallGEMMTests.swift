import CSmallGEMM
import SECNNCore
import XCTest
import _SECNNTestSupport

/// secnn's AVX2 kernel for small products (Sources/CSmallGEMM) against a
/// Double reference, called directly so that it is checked on every CPU
/// that can run it, whether or not `Float.gemm` picks it there.
final class SmallGEMMTests: XCTestCase {
    private var generator = SeededGenerator(seed: 7)

    /// Every remainder of the kernel's 6-row blocks and 16-column panels, k
    /// from 1 to its limit of 64, rows of A, B and C padded past their
    /// width; the padding of C (past column n) must be left as it was, as
    /// must everything when n is 0.
    func testKernelMatchesReferenceOnEveryRemainder() throws {
        guard secnn_cpu_has_avx2_fma() else {
            throw unavailable("this CPU has no AVX2/FMA, so secnn's small-product kernel never runs on it")
        }
        for m in [1, 2, 3, 4, 5, 6, 7, 11, 12, 13, 24, 64] {
            for n in [0, 1, 7, 8, 9, 15, 16, 17, 40, 256] {
                for k in [1, 3, 16, 27, 64] {
                    let (lda, ldb, ldc) = (k + 3, n + 5, n + 2)
                    let a = (0..<(m * lda)).map { _ in Float.random(in: -1...1, using: &generator) }
                    let b = (0..<(k * ldb)).map { _ in Float.random(in: -1...1, using: &generator) }
                    let sentinel: Float = 12345
                    var c = [Float](repeating: sentinel, count: m * ldc)
                    secnn_small_sgemm(Int32(m), Int32(n), Int32(k), a, lda, b, ldb, &c, ldc)
                    for i in 0..<m {
                        for j in 0..<ldc {
                            let value = c[i * ldc + j]
                            guard j < n else {
                                XCTAssertEqual(value, sentinel, "\(m)×\(n)×\(k): C[\(i), \(j)] past column n written")
                                continue
                            }
                            let expected = (0..<k).reduce(0.0) { $0 + Double(a[i * lda + $1]) * Double(b[$1 * ldb + j]) }
                            XCTAssertEqual(Double(value), expected, accuracy: 1e-5 * Double(k),
                                           "\(m)×\(n)×\(k): C[\(i), \(j)]")
                        }
                    }
                }
            }
        }
    }

    /// B's rows from anywhere (offsets out of order, overlapping, as a
    /// convolution's taps over a padded image are): the same product as B
    /// gathered into a matrix first.
    func testRowsAtOffsetsMatchGatheredMatrix() throws {
        guard secnn_cpu_has_avx2_fma() else {
            throw unavailable("this CPU has no AVX2/FMA, so secnn's small-product kernel never runs on it")
        }
        let (m, n, k) = (16, 33, 27)
        let source = (0..<400).map { _ in Float.random(in: -1...1, using: &generator) }
        let offsets = (0..<k).map { _ in Int.random(in: 0...(source.count - n), using: &generator) }
        let a = (0..<(m * k)).map { _ in Float.random(in: -1...1, using: &generator) }
        let gathered = offsets.flatMap { source[$0..<($0 + n)] }
        var viaRows = [Float](repeating: 0, count: m * n), viaMatrix = viaRows
        secnn_small_sgemm_rows(Int32(m), Int32(n), Int32(k), a, k, source, offsets, &viaRows, n)
        secnn_small_sgemm(Int32(m), Int32(n), Int32(k), a, k, gathered, n, &viaMatrix, n)
        XCTAssertEqual(viaRows, viaMatrix)
    }
}
