import Foundation
import SECNNFuzzing
import XCTest

/// Replays the committed fuzz inputs (FUZZING.md) through the same entry
/// points libFuzzer drives: `Fuzz/Corpus/TARGET/` holds the seeds, named
/// `accept-…` or `reject-…` for what the reader must do with them, and
/// `Fuzz/Crashes/TARGET/` every input that ever crashed or hung a target,
/// which must now run to an outcome. A crash here stops the test process,
/// which is the failure.
final class FuzzReplayTests: XCTestCase {
    private static let fuzzDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz")

    private func inputs(_ folder: String, _ target: FuzzTarget) throws -> [URL] {
        let directory = Self.fuzzDirectory.appendingPathComponent(folder).appendingPathComponent(target.rawValue)
        guard FileManager.default.fileExists(atPath: directory.path) else { return [] }
        return try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    private func outcome(_ target: FuzzTarget, _ file: URL) throws -> FuzzOutcome {
        target.run(Array(try Data(contentsOf: file)))
    }

    func testSeedsAreAcceptedOrRejectedAsNamed() throws {
        for target in FuzzTarget.allCases {
            let seeds = try inputs("Corpus", target)
            let names = seeds.map(\.lastPathComponent)
            XCTAssertTrue(names.contains { $0.hasPrefix("accept-") }, "\(target.rawValue): no seed the reader accepts")
            XCTAssertTrue(names.contains { $0.hasPrefix("reject-") }, "\(target.rawValue): no seed the reader rejects")
            for seed in seeds {
                let name = "\(target.rawValue)/\(seed.lastPathComponent)"
                switch (seed.lastPathComponent.hasPrefix("accept-"), try outcome(target, seed)) {
                case (true, .rejected(let message)): XCTFail("\(name) was rejected: \(message)")
                case (false, .accepted): XCTFail("\(name) was accepted")
                default: break
                }
            }
        }
    }

    func testEveryCrashEverFoundNowRunsToAnOutcome() throws {
        for target in FuzzTarget.allCases {
            for input in try inputs("Crashes", target) {
                // An outcome at all is the check; a crash would have ended the process.
                _ = try outcome(target, input)
            }
        }
    }

    /// A corpus folder per target, and none for a target that no longer exists.
    func testTheCorpusFoldersAreTheTargets() throws {
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(
            atPath: Self.fuzzDirectory.appendingPathComponent("Corpus").path)), Set(FuzzTarget.allCases.map(\.rawValue)))
    }
}
