import COpenBLAS

/// A symmetric positive-definite matrix factored once (A = LLᵀ, LAPACK
/// `dpotrf`), so that systems A x = b with many right-hand sides cost one
/// triangular solve pair each (`dpotrs`) instead of a factorisation each.
/// The Kronecker factors of K-FAC are solved this way: a dense inverse
/// would be slower and less accurate, and Cholesky's failure is the test
/// for positive definiteness.
///
/// Layout. LAPACK is column-major and the matrices here are row-major, but
/// a symmetric matrix reads the same either way, so it is passed as is
/// (only one triangle of it is read). The right-hand sides are contiguous
/// vectors, which is LAPACK's column layout as well; read as the rows of a
/// row-major k×n matrix B, the solutions are the rows of B·A⁻¹.
public struct CholeskyFactor: Sendable {
    public let dimension: Int
    /// `dpotrf`'s output: L in the column-major lower triangle, the rest untouched.
    fileprivate let factor: [Double]

    /// Factors the row-major `dimension`×`dimension` symmetric `matrix`.
    /// `name` says what the matrix is, for the error message.
    public init(_ matrix: [Double], dimension: Int, name: String = "matrix") throws {
        precondition(dimension > 0 && matrix.count == dimension * dimension,
                     "CholeskyFactor: \(matrix.count) values for a \(dimension)×\(dimension) matrix")
        var factor = matrix
        // Separate copies of n for the leading dimension: one inout access per variable.
        var n = Int32(dimension), lda = n, info: Int32 = 0
        dpotrf_("L", &n, &factor, &lda, &info)
        precondition(info >= 0, "dpotrf_: argument \(-info) is invalid")
        guard info == 0 else {
            throw NotPositiveDefiniteError(name: name, dimension: dimension, minor: Int(info))
        }
        self.dimension = dimension
        self.factor = factor
    }

    /// Solves A x = b for each b in `vectors`: k vectors of length
    /// `dimension`, one after another. Returns the k solutions in the same
    /// layout (for a row-major k×n matrix B: B·A⁻¹).
    public func solve(_ vectors: [Double]) -> [Double] {
        precondition(vectors.count % dimension == 0,
                     "CholeskyFactor.solve: \(vectors.count) values are not vectors of length \(dimension)")
        guard !vectors.isEmpty else { return [] }
        var solutions = vectors
        var n = Int32(dimension), lda = n, ldb = n, count = Int32(vectors.count / dimension), info: Int32 = 0
        factor.withUnsafeBufferPointer { l in
            dpotrs_("L", &n, &count, l.baseAddress!, &lda, &solutions, &ldb, &info)
        }
        precondition(info == 0, "dpotrs_: argument \(-info) is invalid")
        return solutions
    }
}

extension CholeskyFactor {
    /// tr(A⁻¹) = ‖L⁻¹‖²_F (A⁻¹ = L⁻ᵀL⁻¹): one triangular inversion (LAPACK
    /// `dtrtri`, n³/3 multiply-adds), a sixth of solving for the n columns
    /// of the identity.
    public func traceOfInverse() -> Double {
        var inverse = factor
        var n = Int32(dimension), lda = n, info: Int32 = 0
        dtrtri_("L", "N", &n, &inverse, &lda, &info)
        precondition(info == 0, "dtrtri_: \(info < 0 ? "argument \(-info) is invalid" : "L is singular at \(info)")")
        var sum = 0.0
        for column in 0..<dimension {  // column-major: the lower triangle of column j is rows j..<n
            let base = column * dimension
            for row in column..<dimension { sum += inverse[base + row] * inverse[base + row] }
        }
        return sum
    }
}

/// A matrix handed to `CholeskyFactor` that is not (numerically) positive
/// definite: the leading minor of order `minor` is not positive.
public struct NotPositiveDefiniteError: Error, CustomStringConvertible, Equatable {
    public let name: String
    public let dimension: Int
    public let minor: Int

    public var description: String {
        "\(name) (\(dimension)×\(dimension)) is not positive definite: "
            + "its leading minor of order \(minor) is not positive"
    }
}
