import SECNNCore
import XCTest

/// Embedding an old tensor into its grown shape, against hand-written results.
final class TensorGrowthTests: XCTestCase {
    /// A counter for the new entries, to see the order `fill` is called in.
    private func counter(from start: Int) -> () -> Int {
        var next = start
        return {
            defer { next += 1 }
            return next
        }
    }

    func testInsertionsInTheMiddleAndAtTheStartOfTwoAxes() {
        // 2×3 → 3×5: a new row before old row 1, two new columns before old column 0.
        let growth = TensorGrowth(oldShape: [2, 3], insertions: [.init(axis: 1, at: 0, count: 2), .init(axis: 0, at: 1, count: 1)])
        XCTAssertEqual(growth.newShape, [3, 5])
        XCTAssertEqual(growth.insertions.map(\.axis), [0, 1], "kept in axis order")
        XCTAssertEqual(growth.embed([1, 2, 3, 4, 5, 6], fill: counter(from: 10)),
                       [10, 11, 1, 2, 3,
                        12, 13, 14, 15, 16,
                        17, 18, 4, 5, 6])
    }

    func testAppendingAlongTheLastAndTheInnerAxis() {
        XCTAssertEqual(TensorGrowth(oldShape: [3], insertions: [.init(axis: 0, at: 3, count: 2)]).embed([1, 2, 3]) { 0 },
                       [1, 2, 3, 0, 0])
        // A 1×2×1×2 "conv weight" with one more input channel appended: whole 1×2 kernels are new.
        let growth = TensorGrowth(oldShape: [1, 2, 1, 2], insertions: [.init(axis: 1, at: 2, count: 1)])
        XCTAssertEqual(growth.newShape, [1, 3, 1, 2])
        XCTAssertEqual(growth.embed([1, 2, 3, 4], fill: counter(from: 7)), [1, 2, 3, 4, 7, 8])
    }

    func testNoInsertionKeepsTheTensor() {
        let growth = TensorGrowth(oldShape: [2, 2], insertions: [])
        XCTAssertEqual(growth.newShape, [2, 2])
        XCTAssertEqual(growth.embed([4, 3, 2, 1]) { -1 }, [4, 3, 2, 1])
    }
}
