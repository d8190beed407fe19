/// One tensor of a network's state: a trainable parameter or a batch-norm
/// running statistic.
public struct StateEntry: Equatable, Sendable {
    public enum Kind: Sendable { case weight, bias, scale, shift, runningMean, runningVariance }
    public var path: String
    public var shape: [Int]
    public var kind: Kind
    /// Inputs feeding one output unit, for PyTorch's default initialisation.
    public var fanIn: Int

    public var isParameter: Bool { kind != .runningMean && kind != .runningVariance }
}

/// The parameter paths of the network, in one place. They are PyTorch's
/// state-dict names for the same network (`torch_peer.py`), so weights move
/// between secnn and PyTorch unchanged.
public enum ParameterPath {
    public static func layer(_ block: Int, _ layer: Int) -> String { "blocks.\(block).layers.\(layer)" }
    public static func conv(_ block: Int, _ layer: Int) -> String { "\(Self.layer(block, layer)).conv" }
    public static func batchNorm(_ block: Int, _ layer: Int) -> String { "\(Self.layer(block, layer)).bn" }
    public static let mix = "head.mix", fc1 = "head.fc1", bn1 = "head.bn1", bn2 = "head.bn2", fc2 = "head.fc2"
}

extension ArchitectureSpec {
    /// Every tensor of the network's state, in state-dict order.
    public var stateLayout: [StateEntry] {
        var entries: [StateEntry] = []
        func conv(_ prefix: String, out: Int, in inputs: Int, kernel: Int, bias: Bool) {
            let fanIn = inputs * kernel * kernel
            entries.append(StateEntry(path: "\(prefix).weight", shape: [out, inputs, kernel, kernel], kind: .weight, fanIn: fanIn))
            if bias { entries.append(StateEntry(path: "\(prefix).bias", shape: [out], kind: .bias, fanIn: fanIn)) }
        }
        func linear(_ prefix: String, out: Int, in inputs: Int) {
            entries.append(StateEntry(path: "\(prefix).weight", shape: [out, inputs], kind: .weight, fanIn: inputs))
            entries.append(StateEntry(path: "\(prefix).bias", shape: [out], kind: .bias, fanIn: inputs))
        }
        func batchNorm(_ prefix: String, channels: Int) {
            entries.append(StateEntry(path: "\(prefix).weight", shape: [channels], kind: .scale, fanIn: 1))
            entries.append(StateEntry(path: "\(prefix).bias", shape: [channels], kind: .shift, fanIn: 1))
            entries.append(StateEntry(path: "\(prefix).running_mean", shape: [channels], kind: .runningMean, fanIn: 1))
            entries.append(StateEntry(path: "\(prefix).running_var", shape: [channels], kind: .runningVariance, fanIn: 1))
        }
        var inputs = inputChannels
        for (b, block) in blocks.enumerated() {
            for l in 0..<block.layers {
                conv(ParameterPath.conv(b, l), out: block.channels, in: l == 0 ? inputs : block.channels,
                     kernel: 3, bias: l == 0)
                batchNorm(ParameterPath.batchNorm(b, l), channels: block.channels)
            }
            inputs = block.channels
        }
        conv(ParameterPath.mix, out: classes, in: headChannels, kernel: 1, bias: true)
        linear(ParameterPath.fc1, out: Self.hidden, in: classes * headHeight * headWidth)
        batchNorm(ParameterPath.bn1, channels: Self.hidden)
        batchNorm(ParameterPath.bn2, channels: Self.hidden)
        linear(ParameterPath.fc2, out: classes, in: Self.hidden)
        return entries
    }

    /// Trainable parameters: 9,024 for `16x1,16x1,16x1` on 32×32×3.
    public var parameterCount: Int {
        stateLayout.filter(\.isParameter).reduce(0) { $0 + $1.shape.reduce(1, *) }
    }
}
