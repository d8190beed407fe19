import Foundation
import SECNNCore
import XCTest

/// The largest element-wise difference between `actual` and `expected`,
/// relative to the largest magnitude in `expected` (an absolute floor keeps
/// all-zero tensors meaningful). One number per tensor, so a test can report
/// what it measured.
public func relativeError<T: BinaryFloatingPoint>(_ actual: [T], _ expected: [T], floor: Double = 1e-12) -> Double {
    precondition(actual.count == expected.count, "compared arrays differ in length: \(actual.count) vs \(expected.count)")
    var worst = 0.0, scale = floor
    for (a, e) in zip(actual, expected) {
        worst = max(worst, abs(Double(a) - Double(e)))
        scale = max(scale, abs(Double(e)))
    }
    return worst / scale
}

/// Asserts `relativeError(actual, expected, floor:) <= tolerance`,
/// reporting the measured error and the place of the caller. Tensors whose
/// largest magnitude is under `floor` are compared absolutely (to
/// tolerance·floor).
public func assertClose<T: BinaryFloatingPoint>(
    _ actual: [T], _ expected: [T], tolerance: Double, floor: Double = 1e-12, _ what: @autoclosure () -> String,
    file: StaticString = #filePath, line: UInt = #line
) {
    guard actual.count == expected.count else {
        return XCTFail("\(what()): \(actual.count) values, expected \(expected.count)", file: file, line: line)
    }
    let error = relativeError(actual, expected, floor: floor)
    XCTAssertLessThanOrEqual(error, tolerance, "\(what()): relative error \(error) > \(tolerance)", file: file, line: line)
}

/// Random tensors for tests, from a seeded generator.
public func randomTensor<T: TensorScalar>(_ shape: [Int], _ generator: inout SeededGenerator, scale: Double = 1) -> Tensor<T> {
    Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in T(generator.nextNormal() * scale) })
}

/// The folder `shared/` beside the package root (CI puts it there), or nil.
public func sharedFolder(file: String = #filePath) -> URL? {
    var url = URL(fileURLWithPath: file)
    for _ in 0..<3 { url.deleteLastPathComponent() }  // Tests/<Target>/<file> -> package root
    let shared = url.deletingLastPathComponent().appendingPathComponent("shared")
    return FileManager.default.fileExists(atPath: shared.path) ? shared : nil
}

/// The path of a file under shared/, or `unavailable` naming what is missing.
public func requireShared(_ relative: String, file: String = #filePath) throws -> URL {
    guard let shared = sharedFolder(file: file) else {
        throw unavailable("needs ../shared beside the package root (\(relative)); not found")
    }
    let url = shared.appendingPathComponent(relative)
    guard FileManager.default.fileExists(atPath: url.path) else {
        throw unavailable("needs \(url.path), which is absent")
    }
    return url
}
