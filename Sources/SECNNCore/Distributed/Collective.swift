/// The processes of a data-parallel run, as a training step needs them.
/// Every process holds the same model and a shard of each batch; what the
/// batch needs whole (batch-norm statistics, gradients, metrics) they sum
/// together. One process alone needs none of this: wherever a
/// `BatchShard?` is taken, `nil` is the single-process run.
public protocol Collective: AnyObject, Sendable {
    /// This process's index, 0..<size. Process 0 writes the run's files.
    var rank: Int { get }
    /// How many processes share the run.
    var size: Int { get }
    /// Replaces `values`, on every process, by their element-wise sum over all processes.
    func sum(_ values: UnsafeMutableBufferPointer<Float>)
    func sum(_ values: UnsafeMutableBufferPointer<Double>)
    /// Process `root`'s `bytes`, on every process (the others' arguments are ignored).
    func broadcast(_ bytes: [UInt8], from root: Int) -> [UInt8]
}

extension Collective {
    public func sum(_ values: inout [Double]) { values.withUnsafeMutableBufferPointer { sum($0) } }
    public func sum(_ values: inout [Float]) { values.withUnsafeMutableBufferPointer { sum($0) } }

    /// The processes whose `bytes` differ from process 0's (the same list on every process).
    public func processesDiffering(from bytes: [UInt8]) -> [Int] {
        let reference = broadcast(bytes, from: 0)
        var differing = [Double](repeating: 0, count: size)
        differing[rank] = bytes == reference ? 0 : 1
        sum(&differing)
        return differing.indices.filter { differing[$0] > 0 }
    }

    /// Each array summed over the processes, all in one call (every process
    /// passes arrays of the same sizes, in the same order).
    public func sum(_ arrays: [[Double]]) -> [[Double]] { summedFlat(arrays) { sum(&$0) } }
    public func sum(_ arrays: [[Float]]) -> [[Float]] { summedFlat(arrays) { sum(&$0) } }

    private func summedFlat<Scalar>(_ arrays: [[Scalar]], _ sumInPlace: (inout [Scalar]) -> Void) -> [[Scalar]] {
        var flat = arrays.flatMap { $0 }
        sumInPlace(&flat)
        var offset = 0
        return arrays.map { array in
            defer { offset += array.count }
            return Array(flat[offset..<(offset + array.count)])
        }
    }
}

/// This process's part of a global batch in a data-parallel step: the
/// examples `range` of the `total`, with the processes to sum over.
public struct BatchShard {
    public let collective: any Collective
    public let total: Int
    public let range: Range<Int>
    /// Whether batch norm normalises with the global batch's statistics
    /// (synchronised, the default) or with this shard's own.
    public var synchronisesBatchNorm: Bool

    public init(collective: any Collective, total: Int, synchronisesBatchNorm: Bool = true) {
        self.collective = collective
        self.total = total
        self.synchronisesBatchNorm = synchronisesBatchNorm
        range = Self.range(rank: collective.rank, size: collective.size, total: total)
    }

    /// Process `rank`'s contiguous share of `total` examples; shares differ
    /// in size by at most one, and together they are `0..<total` in order.
    public static func range(rank: Int, size: Int, total: Int) -> Range<Int> {
        (total * rank / size)..<(total * (rank + 1) / size)
    }
}
