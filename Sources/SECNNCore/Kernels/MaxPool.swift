// 2×2 max-pool, stride 2, over (N·C) planes of H×W; the output is
// (H/2)×(W/2), rounded down as PyTorch does. The forward records which of
// the four inputs won (0...3) so the backward routes the gradient there.

@_specialize(where T == Float)
public func maxPool2x2Forward<T: TensorScalar>(
    input: UnsafePointer<T>, output: UnsafeMutablePointer<T>, argmax: UnsafeMutablePointer<UInt8>,
    planes: Int, height: Int, width: Int
) {
    let (oh, ow) = (height / 2, width / 2)
    parallelChunks(planes) { _, range in
        for plane in range {
            let x = input + plane * height * width
            let y = output + plane * oh * ow, arg = argmax + plane * oh * ow
            for oy in 0..<oh {
                let top = x + 2 * oy * width, bottom = top + width
                for ox in 0..<ow {
                    // Ties go to the first, as PyTorch's CPU kernel does.
                    var best = top[2 * ox], which: UInt8 = 0
                    if top[2 * ox + 1] > best { best = top[2 * ox + 1]; which = 1 }
                    if bottom[2 * ox] > best { best = bottom[2 * ox]; which = 2 }
                    if bottom[2 * ox + 1] > best { best = bottom[2 * ox + 1]; which = 3 }
                    y[oy * ow + ox] = best
                    arg[oy * ow + ox] = which
                }
            }
        }
    }
}

/// Writes gradInput: each output gradient goes to the input that won, zeros elsewhere.
@_specialize(where T == Float)
public func maxPool2x2Backward<T: TensorScalar>(
    gradOutput: UnsafePointer<T>, argmax: UnsafePointer<UInt8>, gradInput: UnsafeMutablePointer<T>,
    planes: Int, height: Int, width: Int
) {
    let (oh, ow) = (height / 2, width / 2)
    parallelChunks(planes) { _, range in
        for plane in range {
            let dx = gradInput + plane * height * width
            dx.update(repeating: 0, count: height * width)
            let dy = gradOutput + plane * oh * ow, arg = argmax + plane * oh * ow
            for oy in 0..<oh {
                for ox in 0..<ow {
                    let which = Int(arg[oy * ow + ox])
                    dx[(2 * oy + which / 2) * width + 2 * ox + which % 2] = dy[oy * ow + ox]
                }
            }
        }
    }
}

/// The forward without the record of winners, for inference, where no
/// gradient follows: four outputs at a time from eight values of each row of
/// the pair (the larger of the two rows' even lanes, of their odd lanes,
/// then of those two). Four-lane compare-and-select throughout: the
/// standard library's `pointwiseMax`, and comparisons of eight lanes, run
/// lane by lane without AVX (they made pooling half the single-image time).
@_specialize(where T == Float)
public func maxPool2x2Values<T: TensorScalar>(
    input: UnsafePointer<T>, output: UnsafeMutablePointer<T>, planes: Int, height: Int, width: Int
) {
    let (oh, ow) = (height / 2, width / 2)
    parallelChunks(planes) { _, range in
        for plane in range {
            let x = input + plane * height * width, y = output + plane * oh * ow
            for oy in 0..<oh {
                let top = x + 2 * oy * width, bottom = top + width, row = y + oy * ow
                var ox = 0
                while ox + 4 <= ow {
                    let (upper, lower) = (load8(top + 2 * ox), load8(bottom + 2 * ox))
                    let left = larger(upper.evenHalf, lower.evenHalf), right = larger(upper.oddHalf, lower.oddHalf)
                    store4(larger(left, right), row + ox)
                    ox += 4
                }
                for ox in ox..<ow {
                    row[ox] = max(max(top[2 * ox], top[2 * ox + 1]), max(bottom[2 * ox], bottom[2 * ox + 1]))
                }
            }
        }
    }
}

/// Lane by lane, the larger of the two.
@inline(__always)
private func larger<V: SIMD>(_ a: V, _ b: V) -> V where V.Scalar: FloatingPoint {
    a.replacing(with: b, where: b .> a)
}
