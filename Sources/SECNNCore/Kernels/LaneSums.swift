// Reductions over a contiguous run of values, eight lanes at a time. A
// single accumulator chains every add to the previous one, which caps a
// reduction at one add per floating-point latency (about four cycles), and
// the compiler may not reorder floating-point sums to vectorise it. Eight
// independent lane sums, added at the end, run at the speed of the loads and
// are also more accurate over long runs (each lane holds 1/8 of the terms).

/// Σ x[i], i < count.
@inline(__always)
func laneSum<T: TensorScalar>(_ x: UnsafePointer<T>, _ count: Int) -> T {
    var lanes = SIMD8<T>(repeating: 0)
    var i = 0
    while i + 8 <= count {
        lanes += load8(x + i)
        i += 8
    }
    var sum = lanes.sum()
    while i < count { sum += x[i]; i += 1 }
    return sum
}

/// Σ (x[i] − centre)², i < count.
@inline(__always)
func laneSumOfSquares<T: TensorScalar>(_ x: UnsafePointer<T>, _ count: Int, centre: T) -> T {
    var lanes = SIMD8<T>(repeating: 0)
    let centres = SIMD8<T>(repeating: centre)
    var i = 0
    while i + 8 <= count {
        let d = load8(x + i) - centres
        lanes += d * d
        i += 8
    }
    var sum = lanes.sum()
    while i < count { let d = x[i] - centre; sum += d * d; i += 1 }
    return sum
}

/// (Σ dy[i], Σ dy[i]·(x[i] − centre)), i < count: what batch norm's backward pass sums.
@inline(__always)
func laneSums<T: TensorScalar>(_ dy: UnsafePointer<T>, _ x: UnsafePointer<T>, _ count: Int,
                               centre: T) -> (plain: T, weighted: T) {
    var plain = SIMD8<T>(repeating: 0), weighted = SIMD8<T>(repeating: 0)
    let centres = SIMD8<T>(repeating: centre)
    var i = 0
    while i + 8 <= count {
        let g = load8(dy + i)
        plain += g
        weighted += g * (load8(x + i) - centres)
        i += 8
    }
    var sums = (plain: plain.sum(), weighted: weighted.sum())
    while i < count {
        sums.plain += dy[i]
        sums.weighted += dy[i] * (x[i] - centre)
        i += 1
    }
    return sums
}
