import Foundation
import XCTest

/// What a test throws when the data or tool it needs is absent: a skip that
/// says what is missing, so that a user's clone without `../shared` still
/// passes; but under `SECNN_REQUIRE_ALL=1` (CI sets it) a failure, so that
/// nothing passes CI by not running.
public func unavailable(_ reason: String, file: StaticString = #filePath, line: UInt = #line) -> Error {
    guard ProcessInfo.processInfo.environment["SECNN_REQUIRE_ALL"] == "1" else { return XCTSkip(reason) }
    XCTFail("SECNN_REQUIRE_ALL=1, and this test cannot run: \(reason)", file: file, line: line)
    return Unavailable(reason: reason)
}

/// The error `unavailable` ends a test with when skipping is not allowed.
public struct Unavailable: Error, CustomStringConvertible {
    public var reason: String
    public var description: String { "unavailable: \(reason)" }
}
