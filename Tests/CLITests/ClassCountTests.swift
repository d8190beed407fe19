import Foundation
import XCTest

/// The head follows the dataset's class count: trained on a CIFAR-100
/// fixture in the official layout, written here (a few records).
final class ClassCountTests: XCTestCase {
    /// `train.bin` and `test.bin` with `count` records each: coarse label, fine label, a 3×32×32 image.
    private func cifar100Fixture(records count: Int) throws -> URL {
        let directory = try temporaryDirectory(self)
        for file in ["train.bin", "test.bin"] {
            var bytes: [UInt8] = []
            for i in 0 ..< count {
                bytes += [UInt8(i % 20), UInt8((i * 37) % 100)] + (0 ..< 3072).map { UInt8(($0 * 7 + i * 13) % 256) }
            }
            try Data(bytes).write(to: directory.appendingPathComponent(file))
        }
        return directory
    }

    /// Parameters of the start model 16x1,16x1,16x1 on 3×32×32 images with K classes, counted by hand:
    /// blocks 3·16·9+16 + 2·16 (block 0), twice 16·16·9+16 + 2·16 = 5,184; head: the 1×1 conv over the last
    /// block's 16 channels and the skip's 16, 32K+K; flatten (K·4·4) → Linear to 20, 16K·20+20; two BN1d(20), 80;
    /// Linear 20 → K, 20K+K.
    private func startModelParameters(classes k: Int) -> Int {
        5184 + (32 * k + k) + (16 * k * 20 + 20) + 80 + (20 * k + k)
    }

    func testCIFAR100TrainsAHundredClassHead() throws {
        XCTAssertEqual(startModelParameters(classes: 10), 9024, "the paper's count for CIFAR-10")
        let data = try cifar100Fixture(records: 24)
        for (form, classes) in [("cifar100", 100), ("cifar100-coarse", 20)] {
            let out = try temporaryDirectory(self).appendingPathComponent("run")
            let result = try CLI.run("secnn", ["train", "--data", "\(form):\(data.path)", "--epochs", "1",
                                               "--batch-size", "8", "--val-split", "0.25", "--out", out.path])
            XCTAssertEqual(result.status, 0, result.transcript)
            XCTAssertEqual(result.values["params"], String(startModelParameters(classes: classes)), result.transcript)
            XCTAssertEqual(startModelParameters(classes: 100), 42684)
            let eval = try CLI.run("secnn", ["eval", out.appendingPathComponent("best.safetensors").path,
                                             "--data", "\(form):\(data.path)"])
            XCTAssertEqual(eval.status, 0, eval.transcript)
            XCTAssertEqual(eval.values["images"], "24")
        }
    }
}
