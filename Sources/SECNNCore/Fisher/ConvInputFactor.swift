// K-FAC's input sum Σₙ Σₜ aₙₜ aₙₜᵀ for a 3×3 "same" convolution, from
// shifted products of horizontal patches instead of one product of the
// full 9-tap patches (im2col): 15·C² multiply-adds per pixel instead of
// 40.5·C².
//
// Vertical shifts. Write a patch by its three rows, aₜ = (r(h, w),
// r(h+1, w), r(h+2, w)) for output pixel t = (h, w), where r(ρ, w) ∈ ℝ³ᶜ
// holds padded row ρ's values at columns w…w+2 of every channel (padded
// rows 0 and H+1 are zero). The block of Σₜ aₜaₜᵀ that pairs kernel rows ky
// and ky' is then
//
//     Ω(ky, ky') = Σ_{h<H} Σ_w r(h+ky, w) r(h+ky', w)ᵀ,
//
// a sum over padded rows ρ = h+ky of Z_δ(ρ) = Σ_w r(ρ, w) r(ρ+δ, w)ᵀ,
// δ = ky' − ky. With F_δ = Σ_{ρ=1…H} Z_δ(ρ), the sum over every real row,
// and zero padding rows:
//
//     Ω(0,0) = F₀ − Z₀(H)   Ω(1,1) = F₀   Ω(2,2) = F₀ − Z₀(1)
//     Ω(0,1) = Ω(1,2) = F₁  Ω(0,2) = F₂   Ω(ky', ky) = Ω(ky, ky')ᵀ
//
// (row ky = 0 never reaches padded row H; ky = 2 starts at row 2; the pairs
// with δ > 0 lose only terms whose partner row is padding).
//
// Horizontal shifts. F_δ's block for kernel columns (kx, kx') sums
// x[c, ρ, u]·x[c', ρ+δ, u+e], e = kx' − kx, over the columns u that both
// taps read: every u for (1,1), all but u = W−1 for (0,0), all but u = 0
// for (2,2), and for e ≠ 0 every u whose partner u+e is in the image (the
// rest meet the zero padding). So pairs with the same e are equal but for
// one edge column: (0,1) = (1,2), (2,1) = (1,0), and (1,1) = (0,0) + E_δ(W−1)
// = (2,2) + E_δ(0), with E_δ(u) = Σ_ρ x[·, ρ, u] x[·, ρ+δ, u]ᵀ (C×C). The
// products need only the kx' ∈ {0, 2} columns: F₁ and F₂ as all 3C rows
// against those 2C, F₀ (symmetric) as all rows against kx' = 2 alone, and
// the E's from two gathered columns.
//
// F₀'s, F₁'s and F₂'s kx' columns are GEMMs over the matrix X of every
// r(ρ, w), side by side, against X shifted by δ rows. The bias
// coordinate's entries are sums of X's rows, less row H or row 1 in the same
// way. Images are taken in groups whose X spans about `groupColumns`
// columns, so one Float product sums a few images (three at 32×32); the
// groups' products are summed in Double and put in Ω's places once.
//
// Known channels. When the first K channels of the input are those of an
// input whose sum is known (the conv after a widened block's first layer
// sees the current model's channels and the new ones), only the entries
// with a channel ≥ K are computed: X's rows of channels < K come first, so
// the products split into the new rows against the old columns and every
// row against the new columns.

/// Adds the upper triangle of Σ aaᵀ over `images` of `input` (N,C,H,W) to
/// `sum` (I×I, row-major, I = 9C + 1 with a bias), for a 3×3 kernel: the
/// entries that involve a channel ≥ `knownChannels` (all of them for 0).
@_specialize(where T == Float)
func addConv3x3InputSum<T: TensorScalar>(
    _ input: UnsafePointer<T>, images: Range<Int>, hasBias: Bool, shape s: Conv2dShape, knownChannels known: Int = 0,
    into sum: UnsafeMutablePointer<Double>
) {
    precondition(s.kernel == 3, "addConv3x3InputSum: kernel \(s.kernel)")
    precondition(known >= 0 && known < s.inChannels, "addConv3x3InputSum: \(known) of \(s.inChannels) channels known")
    let parts = ShiftedProducts(channels: s.inChannels, known: known)
    let layout = HorizontalPatches(s, images: images.count, order: parts)
    let (c, rows, ld, w) = (s.inChannels, layout.rows, layout.leadingDimension, s.width)
    let x = UnsafeMutablePointer<T>.allocate(capacity: layout.count)
    // The lower triangles of the Z's stay zero: syrk writes the upper ones.
    let products = UnsafeMutablePointer<T>.allocate(capacity: parts.count)
    let totals = UnsafeMutablePointer<Double>.allocate(capacity: parts.count)
    // Rows 1 and H of the group's images, side by side: Z₀(1) and Z₀(H).
    let edgeRows = UnsafeMutablePointer<T>.allocate(capacity: 2 * rows * layout.group * w)
    // Columns 0 and W−1 of every padded row, and two more for the shift by δ rows (as in X, what a
    // shifted view reads past an image's last real row pairs with zeros or is a padding row's zero).
    let columnStride = layout.group * (s.height + 2) + 2
    let edgeColumns = UnsafeMutablePointer<T>.allocate(capacity: 2 * c * columnStride)
    x.initialize(repeating: 0, count: layout.count)  // the padding rows and the slack stay zero
    products.initialize(repeating: 0, count: parts.count)
    totals.initialize(repeating: 0, count: parts.count)
    edgeColumns.initialize(repeating: 0, count: 2 * c * columnStride)
    defer {
        x.deallocate(); products.deallocate(); totals.deallocate(); edgeRows.deallocate(); edgeColumns.deallocate()
    }

    for first in stride(from: images.lowerBound, to: images.upperBound, by: layout.group) {
        let count = min(layout.group, images.upperBound - first)
        for slot in 0..<count { layout.fill(x, slot: slot, from: input + (first + slot) * s.inputImageSize, s) }
        let k = count * layout.imageColumns
        // F₀ against the kx' = 2 rows, F₁ and F₂ against the kx' ∈ {0, 2} rows: the new rows against
        // the known channels' columns, and every row against the new channels' columns.
        let (old, new, newRows) = (known, c - known, x + 3 * known * ld)
        func product(_ a: UnsafePointer<T>, rows m: Int, _ b: UnsafePointer<T>, columns n: Int,
                     into target: Int, _ width: Int) {
            guard m > 0, n > 0 else { return }
            T.gemm(transposeA: false, transposeB: true, m: m, n: n, k: k, alpha: 1, a: a, lda: ld, b: b, ldb: ld,
                   beta: 0, c: products + target, ldc: width)
        }
        product(newRows, rows: 3 * new, x + old * ld, columns: old, into: parts.f0 + 3 * old * c, c)
        product(x, rows: rows, newRows + new * ld, columns: new, into: parts.f0 + old, c)
        for delta in 1...2 {
            product(newRows, rows: 3 * new, x + delta * w, columns: 2 * old, into: parts.shifted(delta) + 3 * old * 2 * c,
                    2 * c)
            product(x, rows: rows, newRows + delta * w, columns: 2 * new, into: parts.shifted(delta) + 2 * old, 2 * c)
        }
        // Z₀(1) and Z₀(H): rows 1 and H of every image, gathered, with their sums.
        let edgeWidth = count * w
        for (edge, row) in [(0, 1), (1, s.height)] {
            let gathered = edgeRows + edge * rows * edgeWidth
            for r in 0..<rows {
                for slot in 0..<count {
                    (gathered + r * edgeWidth + slot * w)
                        .update(from: x + r * ld + slot * layout.imageColumns + row * w, count: w)
                }
                products[parts.rowSums + (1 + edge) * rows + r] = laneSum(gathered + r * edgeWidth, edgeWidth)
            }
            T.syrkUpper(transpose: false, n: rows, k: edgeWidth, alpha: 1, a: gathered, lda: edgeWidth,
                        beta: 0, c: products + (edge == 0 ? parts.z1 : parts.zH), ldc: rows)
        }
        for r in 0..<rows { products[parts.rowSums + r] = laneSum(x + r * ld, k) }
        // E₀(0) and E_δ(W−1), δ = 0, 1, 2: columns 0 and W−1 of the kx = 1 rows (the image's own values).
        let paddedRows = count * (s.height + 2)
        for (edge, column) in [(0, 0), (1, w - 1)] {
            for channel in 0..<c {
                let source = x + parts.row(channel, 1) * ld + column
                let target = edgeColumns + (edge * c + channel) * columnStride
                for r in 0..<paddedRows { target[r] = source[r * w] }
            }
        }
        let right = edgeColumns + c * columnStride
        T.gemm(transposeA: false, transposeB: true, m: c, n: c, k: paddedRows, alpha: 1, a: edgeColumns,
               lda: columnStride, b: edgeColumns, ldb: columnStride, beta: 0, c: products + parts.leftEdge, ldc: c)
        for delta in 0...2 {
            T.gemm(transposeA: false, transposeB: true, m: c, n: c, k: paddedRows, alpha: 1, a: right,
                   lda: columnStride, b: right + delta, ldb: columnStride, beta: 0,
                   c: products + parts.rightEdge(delta), ldc: c)
        }
        for i in 0..<parts.count { totals[i] += Double(products[i]) }
    }
    parts.scatter(totals, pixels: images.count * s.pixels, hasBias: hasBias, into: sum)
}

/// The matrix X of horizontal patches for a group of images: 3C rows, one
/// per (channel c, kernel column kx) at `ShiftedProducts.row`, and per image
/// H+2 padded rows of W columns (padded rows 0 and H+1 zero: a shift by
/// δ ≤ 2 rows from a real row reaches at most the next image's row 0), plus
/// two rows of zeros at the end for the shifted views of the last image.
private struct HorizontalPatches {
    let group: Int, imageColumns: Int, leadingDimension: Int
    let order: ShiftedProducts
    var rows: Int { order.rows }
    var count: Int { rows * leadingDimension }

    /// About how many columns of X one group's products cover.
    static let groupColumns = 4096

    init(_ s: Conv2dShape, images: Int, order: ShiftedProducts) {
        self.order = order
        imageColumns = (s.height + 2) * s.width
        group = max(1, min(images, Self.groupColumns / imageColumns))
        leadingDimension = group * imageColumns + 2 * s.width
    }

    /// Image (C,H,W) `image` into slot `slot`: X[row(c, kx), slot, ρ, w] = x[c, ρ−1, w+kx−1], zero outside.
    func fill<T: TensorScalar>(_ x: UnsafeMutablePointer<T>, slot: Int, from image: UnsafePointer<T>, _ s: Conv2dShape) {
        let w = s.width
        for c in 0..<s.inChannels {
            for kx in 0..<3 {
                let row = x + order.row(c, kx) * leadingDimension + slot * imageColumns
                for y in 0..<s.height {
                    let target = row + (y + 1) * w, source = image + (c * s.height + y) * w
                    switch kx {
                    case 0: target[0] = 0; (target + 1).update(from: source, count: w - 1)
                    case 1: target.update(from: source, count: w)
                    default: target.update(from: source + 1, count: w - 1); target[w - 1] = 0
                    }
                }
            }
        }
    }
}

/// Where each product sits in one buffer (the Float products of a group and
/// their Double totals share the layout), and how Ω is read off the totals.
private struct ShiftedProducts {
    /// C, and K: the channels whose entries are known.
    let channels: Int, known: Int
    var rows: Int { 3 * channels }
    /// F₀'s kx' = 2 columns (3C×C), then F₁'s and F₂'s kx' ∈ {0, 2} columns (3C×2C each).
    let f0 = 0
    func shifted(_ delta: Int) -> Int { 3 * channels * channels + (delta - 1) * 6 * channels * channels }
    /// E₀(0), then E_δ(W−1) for δ = 0, 1, 2 (C×C each).
    var leftEdge: Int { 15 * channels * channels }
    func rightEdge(_ delta: Int) -> Int { (16 + delta) * channels * channels }
    /// Z₀(1) and Z₀(H) (3C×3C, upper triangles).
    var z1: Int { 19 * channels * channels }
    var zH: Int { z1 + rows * rows }
    /// The sums of X's rows: all rows, row 1, row H (3C each).
    var rowSums: Int { zH + rows * rows }
    var count: Int { rowSums + 3 * rows }

    /// X's row for channel c and kernel column kx: the known channels' rows,
    /// then the others', each in blocks for kx = 0, 2, 1, so that the columns
    /// the products need (kx ∈ {0, 2}) are the first two blocks of either.
    func row(_ channel: Int, _ kx: Int) -> Int {
        let block = kx == 1 ? 2 : kx / 2
        return channel < known ? block * known + channel : 3 * known + block * (channels - known) + channel - known
    }

    /// F₁'s and F₂'s column for channel c and kernel column kx ∈ {0, 2}: the
    /// known channels' columns, then the others' (F₀'s column is c itself).
    private func column(_ channel: Int, _ kx: Int) -> Int {
        channel < known ? row(channel, kx) : 2 * known + row(channel, kx) - 3 * known
    }

    /// F_δ between X rows (c, kx) and (c', kx'), from the totals `t`.
    private func f(_ t: UnsafePointer<Double>, _ delta: Int, _ c: Int, _ kx: Int, _ cPrime: Int, _ kxPrime: Int) -> Double {
        let n = channels
        guard delta == 0 else {
            // Columns kx' ∈ {0, 2} are the product's; kx' = 1 borrows a pair with the same e = kx' − kx.
            let p = t + shifted(delta), at = { (a: Int, b: Int) in p[a * 2 * n + b] }
            switch (kx, kxPrime) {
            case (_, 0), (_, 2): return at(row(c, kx), column(cPrime, kxPrime))
            case (0, _): return at(row(c, 1), column(cPrime, 2))
            case (2, _): return at(row(c, 1), column(cPrime, 0))
            default: return at(row(c, 0), column(cPrime, 0)) + t[rightEdge(delta) + c * n + cPrime]
            }
        }
        // F₀ is symmetric: its kx' = 2 columns, or its kx = 2 rows read as columns.
        let at = { (a: Int, column: Int) in t[f0 + a * n + column] }
        switch (kx, kxPrime) {
        case (_, 2): return at(row(c, kx), cPrime)
        case (2, _): return at(row(cPrime, kxPrime), c)
        case (0, 1): return at(row(c, 1), cPrime)  // (0,1) = (1,2)
        case (1, 0): return at(row(cPrime, 1), c)  // (1,0) = (0,1)ᵀ
        default:
            let centre = at(row(c, 2), cPrime) + t[leftEdge + c * n + cPrime]  // (1,1) = (2,2) + E₀(0)
            return kx == 1 ? centre : centre - t[rightEdge(0) + c * n + cPrime]  // (0,0) = (1,1) − E₀(W−1)
        }
    }

    /// Adds Ω's entries with a channel ≥ K, read off the totals, to the
    /// upper triangle of `sum` (I×I, I = 9C + 1 with a bias). Patch index
    /// i = 9c + 3ky + kx is PyTorch's weight order.
    func scatter(_ t: UnsafePointer<Double>, pixels: Int, hasBias: Bool, into sum: UnsafeMutablePointer<Double>) {
        let patch = 9 * channels, size = patch + (hasBias ? 1 : 0)
        // Ω(ky, ky') between (c, kx) and (c', kx'), for ky ≤ ky'.
        func block(_ ky: Int, _ c: Int, _ kx: Int, _ kyPrime: Int, _ cPrime: Int, _ kxPrime: Int) -> Double {
            let value = f(t, kyPrime - ky, c, kx, cPrime, kxPrime)
            guard ky == kyPrime, ky != 1 else { return value }
            let (a, b) = (row(c, kx), row(cPrime, kxPrime))
            return value - t[(ky == 0 ? zH : z1) + min(a, b) * rows + max(a, b)]
        }
        for i in 0..<patch {
            let (c, ky, kx) = (i / 9, (i % 9) / 3, i % 3)
            let target = sum + i * size
            // Pairs of known channels are the known sum's.
            for j in (c >= known ? i : 9 * known)..<patch {
                let (cPrime, kyPrime, kxPrime) = (j / 9, (j % 9) / 3, j % 3)
                target[j] += ky <= kyPrime ? block(ky, c, kx, kyPrime, cPrime, kxPrime)
                                           : block(kyPrime, cPrime, kxPrime, ky, c, kx)
            }
            // The bias coordinate: Σ over the rows ρ that kernel row ky reads.
            if hasBias, c >= known {
                let a = row(c, kx)
                let excluded = ky == 0 ? t[rowSums + 2 * rows + a] : ky == 2 ? t[rowSums + rows + a] : 0
                target[patch] += t[rowSums + a] - excluded
            }
        }
        if hasBias, known == 0 { sum[patch * size + patch] += Double(pixels) }
    }
}
