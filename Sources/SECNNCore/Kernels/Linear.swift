// Fully connected layer. Shapes: N batch, I inputs, O outputs.
// input (N,I); weight (O,I) as PyTorch stores it; bias (O); output (N,O).
// The head's layers are small (160→20→10), so one BLAS call each is enough.

/// output = input · weightᵀ + bias.
@_specialize(where T == Float)
public func linearForward<T: TensorScalar>(
    input: UnsafePointer<T>, weight: UnsafePointer<T>, bias: UnsafePointer<T>?,
    output: UnsafeMutablePointer<T>, batch: Int, inputs: Int, outputs: Int
) {
    T.gemm(transposeA: false, transposeB: true, m: batch, n: outputs, k: inputs,
           alpha: 1, a: input, lda: inputs, b: weight, ldb: inputs, beta: 0, c: output, ldc: outputs)
    if let bias {
        for n in 0..<batch {
            let row = output + n * outputs
            for o in 0..<outputs { row[o] += bias[o] }
        }
    }
}

/// Accumulates gradWeight += gradOutputᵀ · input and gradBias += Σ_n gradOutput;
/// writes gradInput = gradOutput · weight when given.
@_specialize(where T == Float)
public func linearBackward<T: TensorScalar>(
    input: UnsafePointer<T>, weight: UnsafePointer<T>, gradOutput: UnsafePointer<T>,
    gradInput: UnsafeMutablePointer<T>?, gradWeight: UnsafeMutablePointer<T>,
    gradBias: UnsafeMutablePointer<T>?, batch: Int, inputs: Int, outputs: Int
) {
    T.gemm(transposeA: true, transposeB: false, m: outputs, n: inputs, k: batch,
           alpha: 1, a: gradOutput, lda: outputs, b: input, ldb: inputs, beta: 1, c: gradWeight, ldc: inputs)
    if let gradBias {
        for n in 0..<batch {
            let row = gradOutput + n * outputs
            for o in 0..<outputs { gradBias[o] += row[o] }
        }
    }
    if let gradInput {
        T.gemm(transposeA: false, transposeB: false, m: batch, n: inputs, k: outputs,
               alpha: 1, a: gradOutput, lda: outputs, b: weight, ldb: inputs, beta: 0, c: gradInput, ldc: inputs)
    }
}

/// Hands each example's weight gradient (O,I) = gradOutput(n) ⊗ input(n) and
/// bias gradient (O) = gradOutput(n) to `body`. Buffers are reused.
public func linearPerExampleGradients<T: TensorScalar>(
    input: UnsafePointer<T>, gradOutput: UnsafePointer<T>, hasBias: Bool,
    batch: Int, inputs: Int, outputs: Int,
    _ body: (Int, UnsafeBufferPointer<T>, UnsafeBufferPointer<T>?) -> Void
) {
    let weightGrad = UnsafeMutablePointer<T>.allocate(capacity: outputs * inputs)
    defer { weightGrad.deallocate() }
    for n in 0..<batch {
        let x = input + n * inputs, dy = gradOutput + n * outputs
        for o in 0..<outputs {
            let row = weightGrad + o * inputs, g = dy[o]
            for i in 0..<inputs { row[i] = g * x[i] }
        }
        body(n, UnsafeBufferPointer(start: weightGrad, count: outputs * inputs),
             hasBias ? UnsafeBufferPointer(start: dy, count: outputs) : nil)
    }
}
