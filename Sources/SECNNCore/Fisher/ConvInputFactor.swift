// K-FAC's input sum Σₙ Σₜ aₙₜ aₙₜᵀ for a 3×3 "same" convolution, from
// shifted products of horizontal patches instead of one product of the
// full 9-tap patches (im2col): 22.5·C² multiply-adds per pixel instead of
// 40.5·C².
//
// Write a patch by its three rows, aₜ = (r(h, w), r(h+1, w), r(h+2, w)) for
// output pixel t = (h, w), where r(ρ, w) ∈ ℝ³ᶜ holds padded row ρ's values
// at columns w…w+2 of every channel (padded rows 0 and H+1 are zero). The
// block of Σₜ aₜaₜᵀ that pairs kernel rows ky and ky' is then
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
// with δ > 0 lose only terms whose partner row is padding). F₀ is one syrk
// and F₁, F₂ one GEMM each over the matrix X of every r(ρ, w), side by side,
// shifted by δ rows. The bias coordinate's entries are sums of X's rows,
// less row H or row 1 in the same way.
//
// Images are taken in groups whose X spans about `groupColumns` columns, so
// one Float product sums a few images (three at 32×32), then goes to Double.

/// Adds the upper triangle of Σ aaᵀ over `images` of `input` (N,C,H,W) to
/// `sum` (I×I, row-major, I = 9C + 1 with a bias), for a 3×3 kernel.
@_specialize(where T == Float)
func addConv3x3InputSum<T: TensorScalar>(
    _ input: UnsafePointer<T>, images: Range<Int>, hasBias: Bool, shape s: Conv2dShape,
    into sum: UnsafeMutablePointer<Double>
) {
    precondition(s.kernel == 3, "addConv3x3InputSum: kernel \(s.kernel)")
    let layout = HorizontalPatches(s, images: images.count)
    let rows = layout.rows
    let x = UnsafeMutablePointer<T>.allocate(capacity: layout.count)
    // F₀ (upper), F₁, F₂, Z₀(1) and Z₀(H) (upper): five (3C)² products.
    let products = UnsafeMutablePointer<T>.allocate(capacity: 5 * rows * rows)
    let (f0, f1, f2, z1, zH) = (products, products + rows * rows, products + 2 * rows * rows,
                                products + 3 * rows * rows, products + 4 * rows * rows)
    // Row sums of X (all rows ρ), of row 1 and of row H, per r component.
    let rowSums = UnsafeMutablePointer<T>.allocate(capacity: 3 * rows)
    // Rows 1 and H of the group's images, side by side: the corrections.
    let edges = UnsafeMutablePointer<T>.allocate(capacity: 2 * rows * layout.group * s.width)
    x.initialize(repeating: 0, count: layout.count)  // the padding rows and the slack stay zero
    defer { x.deallocate(); products.deallocate(); rowSums.deallocate(); edges.deallocate() }

    for first in stride(from: images.lowerBound, to: images.upperBound, by: layout.group) {
        let count = min(layout.group, images.upperBound - first)
        for slot in 0..<count { layout.fill(x, slot: slot, from: input + (first + slot) * s.inputImageSize, s) }
        let k = count * layout.imageColumns, ld = layout.leadingDimension
        T.syrkUpper(transpose: false, n: rows, k: k, alpha: 1, a: x, lda: ld, beta: 0, c: f0, ldc: rows)
        for (delta, f) in [(1, f1), (2, f2)] {
            T.gemm(transposeA: false, transposeB: true, m: rows, n: rows, k: k, alpha: 1, a: x, lda: ld,
                   b: x + delta * s.width, ldb: ld, beta: 0, c: f, ldc: rows)
        }
        // Z₀(1) and Z₀(H): rows 1 and H of every image, gathered.
        let edgeColumns = count * s.width
        for (edge, row) in [(0, 1), (1, s.height)] {
            let gathered = edges + edge * rows * edgeColumns
            for r in 0..<rows {
                for slot in 0..<count {
                    (gathered + r * edgeColumns + slot * s.width)
                        .update(from: x + r * ld + slot * layout.imageColumns + row * s.width, count: s.width)
                }
                rowSums[(1 + edge) * rows + r] = laneSum(gathered + r * edgeColumns, edgeColumns)
            }
            T.syrkUpper(transpose: false, n: rows, k: edgeColumns, alpha: 1, a: gathered, lda: edgeColumns,
                        beta: 0, c: edge == 0 ? z1 : zH, ldc: rows)
        }
        for r in 0..<rows { rowSums[r] = laneSum(x + r * ld, k) }
        layout.scatter(f0: f0, f1: f1, f2: f2, z1: z1, zH: zH, rowSums: rowSums, pixels: count * s.pixels,
                       hasBias: hasBias, into: sum)
    }
}

/// The matrix X of horizontal patches for a group of images: 3C rows, one
/// per (channel c, kernel column kx) at index 3c + kx, and per image H+2
/// padded rows of W columns (padded rows 0 and H+1 zero: a shift by δ ≤ 2
/// rows from a real row reaches at most the next image's row 0), plus two
/// rows of zeros at the end for the shifted views of the last image.
private struct HorizontalPatches {
    let rows: Int, group: Int, imageColumns: Int, leadingDimension: Int
    var count: Int { rows * leadingDimension }

    /// About how many columns of X one group's products cover.
    static let groupColumns = 4096

    init(_ s: Conv2dShape, images: Int) {
        rows = 3 * s.inChannels
        imageColumns = (s.height + 2) * s.width
        group = max(1, min(images, Self.groupColumns / imageColumns))
        leadingDimension = group * imageColumns + 2 * s.width
    }

    /// Image (C,H,W) `image` into slot `slot`: X[3c + kx, slot, ρ, w] = x[c, ρ−1, w+kx−1], zero outside.
    func fill<T: TensorScalar>(_ x: UnsafeMutablePointer<T>, slot: Int, from image: UnsafePointer<T>, _ s: Conv2dShape) {
        let w = s.width
        for c in 0..<s.inChannels {
            for kx in 0..<3 {
                let row = x + (3 * c + kx) * leadingDimension + slot * imageColumns
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

    /// Adds the group's Ω, read off the products, to the upper triangle of
    /// `sum` (I×I, I = 9C + 1 with a bias). Patch index i = 9c + 3ky + kx
    /// (PyTorch's weight order) has X row a = 3c + kx and kernel row ky.
    func scatter<T: TensorScalar>(
        f0: UnsafePointer<T>, f1: UnsafePointer<T>, f2: UnsafePointer<T>, z1: UnsafePointer<T>, zH: UnsafePointer<T>,
        rowSums: UnsafePointer<T>, pixels: Int, hasBias: Bool, into sum: UnsafeMutablePointer<Double>
    ) {
        let patch = 3 * rows, size = patch + (hasBias ? 1 : 0)
        // Ω(ky, ky') at X rows (a, b), for ky ≤ ky'; symmetric products keep their upper triangle.
        func block(_ ky: Int, _ kyPrime: Int, _ a: Int, _ b: Int) -> T {
            switch kyPrime - ky {
            case 0:
                let (low, high) = (min(a, b), max(a, b))
                let entry = low * rows + high
                return f0[entry] - (ky == 0 ? zH[entry] : 0) - (ky == 2 ? z1[entry] : 0)
            case 1: return f1[a * rows + b]
            default: return f2[a * rows + b]
            }
        }
        for i in 0..<patch {
            let (a, ky) = ((i / 9) * 3 + i % 3, (i % 9) / 3)
            let target = sum + i * size
            for j in i..<patch {
                let (b, kyPrime) = ((j / 9) * 3 + j % 3, (j % 9) / 3)
                target[j] += Double(ky <= kyPrime ? block(ky, kyPrime, a, b) : block(kyPrime, ky, b, a))
            }
            // The bias coordinate: Σ over the rows ρ that kernel row ky reads.
            if hasBias {
                let excluded = ky == 0 ? rowSums[2 * rows + a] : ky == 2 ? rowSums[rows + a] : 0
                target[patch] += Double(rowSums[a] - excluded)
            }
        }
        if hasBias { sum[patch * size + patch] += Double(pixels) }
    }
}
