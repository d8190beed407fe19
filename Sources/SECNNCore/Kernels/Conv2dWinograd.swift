// Winograd's minimal filtering F(2×2, 3×3) (Lavin & Gray, "Fast Algorithms
// for Convolutional Neural Networks", 2016) for the 3×3 "same" convolutions
// of these networks: the forward product, and the adjoint convolution that
// gives the input gradient. The weight gradient stays on shifted taps
// (`Conv2dImage.swift`).
//
// Each 2×2 block of output pixels (a tile) comes from the 4×4 patch of the
// zero-padded input under it:
//
//     Y = Aᵀ [ Σ_c (G g_oc Gᵀ) ⊙ (Bᵀ d_c B) ] A
//
// with the 4×3, 4×4 and 4×2 matrices below. For each of the 16 entries ξ
// of the transformed tile the sum over channels is a GEMM,
//
//     M_ξ (O, tiles) = U_ξ (O, C) · V_ξ (C, tiles),
//
// so a tile costs 16·C·O multiply-adds instead of the direct 36·C·O: 2.25×
// fewer, plus transforms that are a few additions per value. Rounding: the
// transforms only add, subtract and halve, so results differ from the
// direct product in the last bits (the kernel tests bound the difference).
//
// Small images have few tiles per image (16 at 8×8), too few for an
// efficient GEMM, so images are transformed in groups whose tiles form one
// GEMM of about `Conv2dShape.winogradGroupTiles` columns.
//
//     G = | 1    0    0  |    Bᵀ = | 1  0 -1  0 |    Aᵀ = | 1  1  1  0 |
//         | ½    ½    ½  |         | 0  1  1  0 |         | 0  1 -1 -1 |
//         | ½   -½    ½  |         | 0 -1  1  0 |
//         | 0    0    1  |         | 0  1  0 -1 |

extension Conv2dShape {
    /// Whether the convolution runs as Winograd F(2×2, 3×3): 3×3 kernels
    /// over enough channels for the 16 GEMMs to pay (the same bar as shifted
    /// taps), on images of whole tiles, four tiles across at a time.
    var usesWinograd: Bool { usesShiftedTaps && height % 2 == 0 && width % 8 == 0 }
    /// Tiles per image: (H/2)·(W/2).
    var winogradTiles: Int { (height / 2) * (width / 2) }
    /// About how many tiles one group's GEMMs cover (measured: BENCHMARKS.md).
    static let winogradGroupTiles = 256
    /// Images per group: whole images, at least one.
    var winogradGroup: Int { max(1, Self.winogradGroupTiles / winogradTiles) }
}

/// output(n) = weight ⊛ input(n) + bias for every image n through
/// F(2×2, 3×3), the batch split across threads; `transformedWeights` is
/// U (16, O, C), `winogradWeights` of the weights (O,C,3,3).
/// (Specialised for Double too: unspecialised SIMD code runs lane by lane
/// through generic calls, far too slow even for the Double gradient checks.)
@_specialize(where T == Float)
@_specialize(where T == Double)
func winogradConvolve<T: TensorScalar>(
    input: UnsafePointer<T>, transformedWeights u: UnsafePointer<T>, bias: UnsafePointer<T>?,
    output: UnsafeMutablePointer<T>, shape s: Conv2dShape, epilogue: ChannelAffine<T>? = nil
) {
    precondition(s.usesWinograd, "winogradConvolve: \(s) is not a 3×3 convolution over ≥ 16 channels, of even "
                 + "height and a width that is a multiple of 8")
    parallelChunks(s.batch) { _, images in
        WinogradScratch<T>.with(s, images: images.count) { scratch in
            for first in stride(from: images.lowerBound, to: images.upperBound, by: s.winogradGroup) {
                let group = first..<min(first + s.winogradGroup, images.upperBound)
                for (slot, n) in group.enumerated() { scratch.transformInput(input, n, slot: slot, s) }
                scratch.multiply(u, images: group.count, s)
                for (slot, n) in group.enumerated() {
                    scratch.transformOutput(slot: slot, n, bias: bias, output, s, epilogue: epilogue)
                }
            }
        }
    }
}

/// U_ξ = (G g Gᵀ)_ξ for every output and input channel: (16, O, C).
@_specialize(where T == Float)
func winogradWeights<T: TensorScalar>(_ weight: UnsafePointer<T>, _ s: Conv2dShape) -> [T] {
    let (o, c) = (s.outChannels, s.inChannels)
    return [T](unsafeUninitializedCapacity: 16 * o * c) { u, initialized in
        // G applied to three values (a column of g, or a row of Gg).
        func timesG(_ g0: T, _ g1: T, _ g2: T) -> (T, T, T, T) { (g0, (g0 + g1 + g2) / 2, (g0 - g1 + g2) / 2, g2) }
        for oc in 0..<(o * c) {
            let g = weight + oc * 9
            // Gg (4×3) column by column: column j holds G times g's column j.
            let (c0, c1, c2) = (timesG(g[0], g[3], g[6]), timesG(g[1], g[4], g[7]), timesG(g[2], g[5], g[8]))
            // (Gg)Gᵀ (4×4) row by row: row i is G times Gg's row i, entries ξ = 4i…4i+3.
            func store(row i: Int, _ values: (T, T, T, T)) {
                let first = u.baseAddress! + 4 * i * o * c + oc
                (first[0], first[o * c], first[2 * o * c], first[3 * o * c]) = values
            }
            store(row: 0, timesG(c0.0, c1.0, c2.0))
            store(row: 1, timesG(c0.1, c1.1, c2.1))
            store(row: 2, timesG(c0.2, c1.2, c2.2))
            store(row: 3, timesG(c0.3, c1.3, c2.3))
        }
        initialized = 16 * o * c
    }
}

/// One thread's buffers for a group of images: V (16, C, group tiles) and
/// M (16, O, group tiles), their 16 planes `vPlane` and `mPlane` apart.
///
/// A plane of whole tiles is often a multiple of 4 KiB (C = 32 channels of
/// 256 tiles: 32 KiB), and then the 16 values a transform writes or reads
/// per tile, one per plane, all fall in the same set of the 8-way L1 cache
/// and evict each other. `planePadding` spreads them over 16 sets.
struct WinogradScratch<T: TensorScalar> {
    let v: UnsafeMutablePointer<T>, m: UnsafeMutablePointer<T>
    let vPlane: Int, mPlane: Int
    /// Values between consecutive planes past the plane's end: one cache line.
    static var planePadding: Int { 64 / MemoryLayout<T>.stride }
    /// Bᵀ of one channel's rows of tiles: four rows of W+2 per row of tiles,
    /// whose first and last columns stay zero (the padding columns).
    let rows: UnsafeMutablePointer<T>
    /// A row of W zeros: the padding rows above and below the image.
    let zeros: UnsafeMutablePointer<T>
    /// Columns of V and M: the group's tiles (the last group may use fewer).
    let columns: Int

    /// Scratch for groups of up to `images` images.
    static func with(_ s: Conv2dShape, images: Int, _ body: (WinogradScratch<T>) -> Void) {
        let columns = min(s.winogradGroup, images) * s.winogradTiles
        let (vPlane, mPlane) = (s.inChannels * columns + planePadding, s.outChannels * columns + planePadding)
        let v = UnsafeMutablePointer<T>.allocate(capacity: 16 * vPlane)
        let m = UnsafeMutablePointer<T>.allocate(capacity: 16 * mPlane)
        let rows = UnsafeMutablePointer<T>.allocate(capacity: 4 * (s.height / 2) * s.paddedWidth)
        rows.initialize(repeating: 0, count: 4 * (s.height / 2) * s.paddedWidth)
        let zeros = UnsafeMutablePointer<T>.allocate(capacity: s.width)
        zeros.initialize(repeating: 0, count: s.width)
        defer { v.deallocate(); m.deallocate(); rows.deallocate(); zeros.deallocate() }
        body(WinogradScratch(v: v, m: m, vPlane: vPlane, mPlane: mPlane, rows: rows, zeros: zeros, columns: columns))
    }

    /// V's columns for image `n` (group slot `slot`): Bᵀ d B of every tile
    /// and channel, four values at a time. For each row of tiles, Bᵀ
    /// combines four rows of the zero-padded image, read from the image
    /// itself (`zeros` for the padding rows), into columns 1…W of `rows`,
    /// whose columns 0 and W+1 are the zero padding: no padded copy of the
    /// image is made. Then B combines columns 2tx…2tx+3 of the result: for
    /// four tiles, the even lanes of eight values from column 2tx are their
    /// first columns, the odd lanes their second, and so on from 2tx+2 (the
    /// last load ends at column W+1).
    /// A channel's rows of tiles all go through Bᵀ before any goes through
    /// B: the loads from column 2tx+2 straddle two of the stores that wrote
    /// them, which stalls the load while those stores are still in flight
    /// (a third of the transform's time, in `perf`, when they were fresh).
    @inline(__always)
    func transformInput(_ input: UnsafePointer<T>, _ n: Int, slot: Int, _ s: Conv2dShape) {
        let (width, tilesAcross, tileRows) = (s.paddedWidth, s.width / 2, s.height / 2)
        let step = vPlane
        for c in 0..<s.inChannels {
            let plane = input + (n * s.inChannels + c) * s.pixels
            // Padded row r is the image's row r − 1.
            let row = { (r: Int) in r >= 1 && r <= s.height ? plane + (r - 1) * s.width : UnsafePointer(zeros) }
            for ty in 0..<tileRows {
                let (d0, d1, d2, d3) = (row(2 * ty), row(2 * ty + 1), row(2 * ty + 2), row(2 * ty + 3))
                let t = rows + 4 * ty * width + 1
                for x in stride(from: 0, to: s.width, by: 4) {
                    let r = bTranspose(load4(d0 + x), load4(d1 + x), load4(d2 + x), load4(d3 + x))
                    store4(r.0, t + x); store4(r.1, t + width + x)
                    store4(r.2, t + 2 * width + x); store4(r.3, t + 3 * width + x)
                }
            }
            for ty in 0..<tileRows {
                let first = slot * s.winogradTiles + ty * tilesAcross
                for i in 0..<4 {
                    let row = UnsafePointer(rows + (4 * ty + i) * width)
                    let v0 = v + 4 * i * vPlane + c * columns + first
                    for tx in stride(from: 0, to: tilesAcross, by: 4) {
                        let (left, right) = (load8(row + 2 * tx), load8(row + 2 * tx + 2))
                        let b = bTranspose(left.evenHalf, left.oddHalf, right.evenHalf, right.oddHalf)
                        store4(b.0, v0 + tx); store4(b.1, v0 + step + tx)
                        store4(b.2, v0 + 2 * step + tx); store4(b.3, v0 + 3 * step + tx)
                    }
                }
            }
        }
    }

    /// M_ξ = U_ξ · V_ξ over the first `images` slots' tiles.
    @inline(__always)
    func multiply(_ u: UnsafePointer<T>, images: Int, _ s: Conv2dShape) {
        let (o, c) = (s.outChannels, s.inChannels)
        for xi in 0..<16 {
            T.gemm(transposeA: false, transposeB: false, m: o, n: images * s.winogradTiles, k: c,
                   alpha: 1, a: u + xi * o * c, lda: c, b: v + xi * vPlane, ldb: columns,
                   beta: 0, c: m + xi * mPlane, ldc: columns)
        }
    }

    /// Image `n`'s output from slot `slot` of M: Aᵀ M A per tile, plus the
    /// bias, four tiles at a time (their 2×2 outputs interleaved into rows);
    /// then each plane through `epilogue`, while it is in cache.
    @inline(__always)
    func transformOutput(slot: Int, _ n: Int, bias: UnsafePointer<T>?, _ output: UnsafeMutablePointer<T>,
                         _ s: Conv2dShape, epilogue: ChannelAffine<T>?) {
        let (o, tilesAcross, w) = (s.outChannels, s.width / 2, s.width)
        let stride = mPlane
        for channel in 0..<o {
            let plane = output + (n * o + channel) * s.pixels, b = SIMD4(repeating: bias?[channel] ?? 0)
            for ty in 0..<(s.height / 2) {
                // Entry ξ = 4i + j of this row's tiles starts at m + ξ·stride.
                let m = UnsafePointer(self.m + channel * columns + slot * s.winogradTiles + ty * tilesAcross)
                let top = plane + 2 * ty * w, bottom = top + w
                for tx in Swift.stride(from: 0, to: tilesAcross, by: 4) {
                    let y = aTranspose({ load4(m + $0 * stride + tx) }, bias: b)
                    storeInterleaved(y.0, y.1, top + 2 * tx)
                    storeInterleaved(y.2, y.3, bottom + 2 * tx)
                }
            }
            epilogue?.apply(plane, count: s.pixels, channel: channel)
        }
    }
}

/// Bᵀ applied to four rows (or B to four columns) of 4×4 patches.
@inline(__always)
private func bTranspose<V: SIMD>(_ d0: V, _ d1: V, _ d2: V, _ d3: V) -> (V, V, V, V) where V.Scalar: FloatingPoint {
    (d0 - d2, d1 + d2, d2 - d1, d1 - d3)
}

/// Aᵀ M A + bias for transformed tiles M (entry ξ = 4i + j is m(ξ)): the
/// outputs (row 0 column 0, row 0 column 1, row 1 column 0, row 1 column 1).
@inline(__always)
private func aTranspose<V: SIMD>(_ m: (Int) -> V, bias: V) -> (V, V, V, V) where V.Scalar: FloatingPoint {
    // Aᵀ over i (the tiles' rows): p0 and p1 for each column j; then A over j.
    func p0(_ j: Int) -> V { m(j) + m(4 + j) + m(8 + j) }
    func p1(_ j: Int) -> V { m(4 + j) - m(8 + j) - m(12 + j) }
    let (a0, a1, a2, a3) = (p0(0), p0(1), p0(2), p0(3))
    let (b0, b1, b2, b3) = (p1(0), p1(1), p1(2), p1(3))
    return (a0 + a1 + a2 + bias, a1 - a2 - a3 + bias, b0 + b1 + b2 + bias, b1 - b2 - b3 + bias)
}
