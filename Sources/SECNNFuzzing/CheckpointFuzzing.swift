import SECNNModel
import SafeTensors

/// The checkpoint reader on arbitrary bytes. What the safetensors layer
/// accepts must also write back to a file that reads as the same tensors
/// and metadata; a checkpoint it accepts must have every tensor of its
/// architecture.
enum CheckpointFuzzing {
    static func run(_ input: [UInt8]) -> FuzzOutcome {
        let layout = FuzzOutcome.of {
            let file = try SafeTensorsFile(bytes: input, source: "fuzz.safetensors")
            let rewritten: [UInt8]
            do { rewritten = try file.serialized() } catch {
                preconditionFailure("a file the reader accepts does not serialise: \(error)")
            }
            precondition((try? SafeTensorsFile(bytes: rewritten, source: "rewritten")) == file,
                         "a file the reader accepts does not read back the same after writing")
        }
        guard layout == .accepted else { return layout }
        return FuzzOutcome.of {
            let checkpoint = try Checkpoint(bytes: input, source: "fuzz.safetensors")
            let network = checkpoint.network
            precondition(network.state.paths.count == network.spec.stateLayout.count,
                         "an accepted checkpoint lacks tensors of its architecture")
            for entry in network.spec.stateLayout {
                precondition(network.state[entry.path]?.shape == entry.shape, "\(entry.path) has the wrong shape")
            }
        }
    }
}
