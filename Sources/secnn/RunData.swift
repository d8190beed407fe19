import Foundation
import SECNNData
import SECNNGrowth
import SECNNModel

/// The data of a run directory, as its `config.json` names it, checked to
/// be the very data the run started with (for `--resume` and `ladder --finetune`).
enum RunData {
    static func load(_ settings: RunFiles.Configuration, run directory: String) throws -> DatasetPair {
        let pair: DatasetPair
        do { pair = try DatasetSource(argument: settings.data).load() } catch {
            throw RuntimeError("\(directory): the run's data (\(settings.data)) cannot be loaded: \(error)")
        }
        guard checksum(pair) == settings.datasetChecksum else {
            throw RuntimeError("\(directory): the data at \(settings.data) is not the data the run started with "
                               + "(checksum \(checksum(pair)), config.json says \(settings.datasetChecksum))")
        }
        return pair
    }

    /// The run's identity of its data: training and test images and labels.
    static func checksum(_ pair: DatasetPair) -> String {
        pair.train.images.withUnsafeBytes { trainImages in
            pair.train.labels.withUnsafeBytes { trainLabels in
                pair.test.images.withUnsafeBytes { testImages in
                    pair.test.labels.withUnsafeBytes { RunFiles.checksum([trainImages, trainLabels, testImages, $0]) }
                }
            }
        }
    }
}
