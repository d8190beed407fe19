import SECNNCore

extension Trainer {
    /// In a data-parallel run, checks that every process holds the same
    /// parameters as process 0 (bit for bit) and throws on every process
    /// if any differs: a replica that drifted would otherwise train on
    /// silently, and the run's checkpoints (process 0's) would hide it.
    /// Nothing to check in one process.
    public func checkReplicas(after event: String) throws {
        guard let processes else { return }
        let ranks = processes.processesDiffering(from: parameterChecksum())
        guard ranks.isEmpty else {
            throw ModelError.invalidConfiguration(
                "after \(event), the parameters of process\(ranks.count == 1 ? "" : "es") "
                    + "\(ranks.map(String.init).joined(separator: ", ")) differ from process 0's; the run stopped "
                    + "(process 0's checkpoints are intact)")
        }
    }

    /// FNV-1a over every parameter's bits, in path order.
    private func parameterChecksum() -> [UInt8] {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for path in network.parameterPaths {
            for value in network.state.tensor(path).scalars {
                hash = (hash ^ UInt64(value.bitPattern)) &* 0x0000_0100_0000_01b3
            }
        }
        return withUnsafeBytes(of: hash.littleEndian, Array.init)
    }
}
