import Foundation
import SECNNCore
import SECNNModel
import XCTest

/// The recipe options beside the paper's: random crops, label smoothing,
/// the cosine schedule, and configurations written before they existed.
final class TrainingRecipeTests: XCTestCase {
    // MARK: - Crops and flips

    /// Two images of 2 channels × 3 × 4: image i, channel c, row y, column x
    /// holds 1000i + 100c + 4y + x + 1.
    private let images: LabeledImages = {
        var values: [Float] = []
        for image in 0..<2 {
            for channel in 0..<2 {
                for pixel in 0..<12 { values.append(Float(1000 * image + 100 * channel + pixel + 1)) }
            }
        }
        return LabeledImages(images: values, labels: [7, 3], channels: 2, height: 3, width: 4)
    }()

    func testFlipThenShiftFillsTheBorderWithZeros() {
        // Image 1 mirrored, then moved 1 right and 2 up: its last row, mirrored, becomes
        // the first row one column to the right; the rows below have no source.
        let (batch, labels) = images.batch([1][...], augmentations: [ImageAugmentation(flip: true, dx: 1, dy: -2)])
        XCTAssertEqual(labels, [3])
        XCTAssertEqual(batch.shape, [1, 2, 3, 4])
        XCTAssertEqual(batch.scalars, [0, 1012, 1011, 1010,
                                       0, 0, 0, 0,
                                       0, 0, 0, 0,
                                       0, 1112, 1111, 1110,
                                       0, 0, 0, 0,
                                       0, 0, 0, 0])
    }

    func testShiftWithoutFlip() {
        // Image 0 moved 1 left and 1 down.
        let (batch, _) = images.batch([0][...], augmentations: [ImageAugmentation(dx: -1, dy: 1)])
        XCTAssertEqual(batch.scalars, [0, 0, 0, 0,
                                       2, 3, 4, 0,
                                       6, 7, 8, 0,
                                       0, 0, 0, 0,
                                       102, 103, 104, 0,
                                       106, 107, 108, 0])
    }

    /// A flip alone mirrors every row (as the flips-only batches always did);
    /// a shift by the whole width leaves nothing.
    func testFlipAloneAndShiftOutOfView() {
        let (flipped, _) = images.batch([0][...], augmentations: [ImageAugmentation(flip: true)])
        let mirrored: [Float] = (0..<6).flatMap { (row: Int) -> [Float] in
            let (channel, y) = (row / 3, row % 3)
            return (0..<4).map { (x: Int) -> Float in Float(100 * channel + 4 * y + 4 - x) }
        }
        XCTAssertEqual(flipped.scalars, mirrored)
        let (gone, _) = images.batch([0][...], augmentations: [ImageAugmentation(dx: 4)])
        XCTAssertEqual(gone.scalars, [Float](repeating: 0, count: 24))
    }

    func testIdentityAugmentationIsThePlainCopy() {
        let plain = images.batch([1, 0][...])
        let identity = images.batch([1, 0][...],
                                    augmentations: [.identity, ImageAugmentation(flip: false, dx: 0, dy: 0)])
        XCTAssertEqual(identity.0.scalars.map(\.bitPattern), plain.0.scalars.map(\.bitPattern))
        XCTAssertEqual(identity.1, plain.1)
        XCTAssertEqual(plain.0.scalars, Array(images.images[24..<48]) + Array(images.images[0..<24]))
    }

    /// Without padding the draw is the flips' old one (one unit draw per
    /// image, flip below ½), so runs without crops keep their bits; with
    /// padding the shifts cover -padding...padding and nothing more.
    func testRandomAugmentationDraws() {
        var old = SeededGenerator(seed: 9), new = old
        for _ in 0..<100 {
            let flip = old.nextUnit() < 0.5
            XCTAssertEqual(ImageAugmentation.random(flips: true, padding: 0, using: &new),
                           ImageAugmentation(flip: flip))
        }
        XCTAssertEqual(old, new)
        var none = SeededGenerator(seed: 9)
        XCTAssertEqual(ImageAugmentation.random(flips: false, padding: 0, using: &none), .identity)
        XCTAssertEqual(none, SeededGenerator(seed: 9), "no augmentation draws nothing")

        var generator = SeededGenerator(seed: 10)
        var shifts: Set<Int> = [], flips: Set<Bool> = []
        for _ in 0..<500 {
            let augmentation = ImageAugmentation.random(flips: true, padding: 2, using: &generator)
            shifts.formUnion([augmentation.dx, augmentation.dy])
            flips.insert(augmentation.flip)
        }
        XCTAssertEqual(shifts, Set(-2...2))
        XCTAssertEqual(flips, [false, true])
    }

    // MARK: - Cosine schedule

    func testCosineScheduleFallsFromTheBaseRateToZero() {
        XCTAssertEqual(LearningRateSchedule.cosineFactor(0), 1)
        XCTAssertEqual(LearningRateSchedule.cosineFactor(0.5), 0.5, accuracy: 1e-15)
        XCTAssertEqual(LearningRateSchedule.cosineFactor(1), 0, accuracy: 1e-15)
        // 3 epochs of 4 steps: t = (epoch + step/4) / 3.
        let rates = (0..<3).flatMap { epoch in
            (0..<4).map { LearningRateSchedule.cosine.rate(base: 2e-3, current: 1, epoch: epoch, epochs: 3, step: $0,
                                                          steps: 4) }
        }
        XCTAssertEqual(rates[0], 2e-3)
        XCTAssertEqual(rates[6], 1e-3, accuracy: 1e-15, "t = ½ (epoch 1, step 2)")
        XCTAssertEqual(rates[4], 2e-3 * 0.5 * (1 + cos(Double.pi / 3)), accuracy: 1e-15, "t = ⅓ (epoch 1, step 0)")
        for (earlier, later) in zip(rates, rates.dropFirst()) { XCTAssertLessThan(later, earlier) }
        XCTAssertGreaterThan(rates.last!, 0, "the last step is before t = 1")
        XCTAssertEqual(LearningRateSchedule.plateau.rate(base: 2e-3, current: 5e-4, epoch: 2, epochs: 3, step: 1,
                                                         steps: 4), 5e-4, "plateau keeps the state's rate")
    }

    // MARK: - Configuration

    /// A configuration as checkpoints and config.json held it before crops,
    /// label smoothing and schedules: it decodes with their defaults.
    func testConfigurationWithoutTheNewKeysDecodesWithDefaults() throws {
        let old = """
            {"epochs":12,"batchSize":64,"learningRate":0.001,"patience":4,"l1":1e-05,"seed":3,
             "validation":{"split":{"fraction":0.2}},"flips":false}
            """
        let decoded = try JSONDecoder().decode(TrainingConfiguration.self, from: Data(old.utf8))
        var expected = TrainingConfiguration()
        (expected.epochs, expected.batchSize, expected.learningRate, expected.patience) = (12, 64, 0.001, 4)
        (expected.seed, expected.validation, expected.flips) = (3, .split(fraction: 0.2), false)
        XCTAssertEqual(decoded, expected)
        XCTAssertEqual(decoded.cropPadding, 0)
        XCTAssertEqual(decoded.labelSmoothing, 0)
        XCTAssertEqual(decoded.schedule, .plateau)

        // The old keys are still required.
        XCTAssertThrowsError(try JSONDecoder().decode(TrainingConfiguration.self, from: Data(#"{"epochs":3}"#.utf8)))
    }

    func testConfigurationRoundTripKeepsTheNewOptions() throws {
        var configuration = TrainingConfiguration()
        configuration.cropPadding = 4
        configuration.labelSmoothing = 0.1
        configuration.schedule = .cosine
        let json = try JSONEncoder().encode(configuration)
        XCTAssertTrue(String(decoding: json, as: UTF8.self).contains(#""schedule":"cosine""#))
        XCTAssertEqual(try JSONDecoder().decode(TrainingConfiguration.self, from: json), configuration)
    }

    func testValidateRefusesBadCropsAndSmoothing() {
        func message(_ change: (inout TrainingConfiguration) -> Void) -> String {
            var configuration = TrainingConfiguration()
            change(&configuration)
            do { try configuration.validate() } catch { return String(describing: error) }
            return "accepted"
        }
        XCTAssertEqual(message { $0.cropPadding = 16 }, "accepted")
        XCTAssertEqual(message { $0.labelSmoothing = 0.9 }, "accepted")
        for padding in [-1, 17] {
            XCTAssertTrue(message { $0.cropPadding = padding }.contains("cropPadding"), "crop padding \(padding)")
        }
        for epsilon in [-0.1, 1, .nan] {
            XCTAssertTrue(message { $0.labelSmoothing = epsilon }.contains("labelSmoothing"),
                          "label smoothing \(epsilon)")
        }
    }
}
