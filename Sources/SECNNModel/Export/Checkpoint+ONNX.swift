import Foundation
import SafeTensors

extension Checkpoint {
    /// Writes the network as an ONNX model (atomically). Its metadata says
    /// how to normalise the input, which the graph expects already done:
    /// `normalization_mean` and `normalization_std`, one value per channel.
    public func writeONNX(toPath path: String, producerVersion: String) throws {
        let list = { (values: [Float]) in values.map { "\($0)" }.joined(separator: ",") }
        let bytes = ONNXExport.model(of: network, producerVersion: producerVersion, metadata: [
            ("normalization_mean", list(normalization.mean)), ("normalization_std", list(normalization.std)),
            ("dataset", dataset), ("architecture", network.spec.description),
        ])
        try AtomicWrite.write(bytes, toPath: path)
    }
}
