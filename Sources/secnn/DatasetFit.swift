import SECNNData
import SECNNModel

/// Fails unless `dataset`'s images and classes are those the checkpoint's network takes.
func ensure(_ dataset: Dataset, fits spec: ArchitectureSpec, checkpoint: String) throws {
    guard [dataset.channels, dataset.height, dataset.width] == [spec.inputChannels, spec.inputHeight, spec.inputWidth],
          dataset.classes == spec.classes else {
        throw RuntimeError("\(checkpoint): the network takes \(spec.inputChannels)x\(spec.inputHeight)x"
            + "\(spec.inputWidth) images in \(spec.classes) classes; \(dataset.name) has \(dataset.channels)x"
            + "\(dataset.height)x\(dataset.width) in \(dataset.classes)")
    }
}
