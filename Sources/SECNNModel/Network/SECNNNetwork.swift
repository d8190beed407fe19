import SECNNCore

/// The SECNN network: blocks of 3×3 convs with a skip path from block 0 to
/// the head (DEVELOPERS.md, "The method").
///
///     block b:  conv3x3 (+bias) → Dropout2d(0.1) → BN → LeakyReLU(0.2),
///               then (layers − 1) × [conv3x3 → BN → LeakyReLU], then 2×2 max-pool
///     skip:     block 0's output, max-pooled once per later block,
///               concatenated with the last block's output
///     head:     1×1 conv (+bias) → LeakyReLU → flatten → fc1 → BN1d →
///               LeakyReLU → Dropout(0.05) → BN1d → fc2
public struct SECNNNetwork<T: TensorScalar>: Sendable, Equatable {
    public private(set) var spec: ArchitectureSpec
    /// Parameters and running statistics by path, in state-dict order.
    public private(set) var state: NamedTensors<T>

    /// A new network with PyTorch's default initialisation: weights and
    /// biases uniform in ±1/√fan_in, BN scale 1 and shift 0, running mean 0
    /// and variance 1.
    public init(spec: ArchitectureSpec, generator: inout SeededGenerator) {
        self.spec = spec
        state = NamedTensors()
        for entry in spec.stateLayout {
            let count = entry.shape.reduce(1, *)
            let scalars: [T]
            switch entry.kind {
            case .weight, .bias:
                let bound = 1 / Double(entry.fanIn).squareRoot()
                scalars = (0..<count).map { _ in T((generator.nextUnit() * 2 - 1) * bound) }
            case .scale, .runningVariance: scalars = Array(repeating: 1, count: count)
            case .shift, .runningMean: scalars = Array(repeating: 0, count: count)
            }
            state[entry.path] = Tensor(shape: entry.shape, scalars: scalars)
        }
    }

    /// A network from stored tensors, checked against the architecture:
    /// every tensor present with its shape, nothing extra.
    public init(spec: ArchitectureSpec, tensors: [String: Tensor<T>], source: String) throws {
        self.spec = spec
        state = NamedTensors()
        for entry in spec.stateLayout {
            guard let tensor = tensors[entry.path] else {
                throw ModelError.tensorMismatch(file: source, path: entry.path,
                                                expected: "shape \(entry.shape) for architecture \(spec)", found: "nothing")
            }
            guard tensor.shape == entry.shape else {
                throw ModelError.tensorMismatch(file: source, path: entry.path, expected: "shape \(entry.shape)",
                                                found: "shape \(tensor.shape)")
            }
            state[entry.path] = tensor
        }
        let expected = Set(state.paths)
        if let extra = tensors.keys.sorted().first(where: { !expected.contains($0) }) {
            throw ModelError.tensorMismatch(file: source, path: extra, expected: "no such tensor in architecture \(spec)",
                                            found: "shape \(tensors[extra]!.shape)")
        }
    }

    public var parameterPaths: [String] { spec.stateLayout.filter(\.isParameter).map(\.path) }
    public var parameterCount: Int { spec.parameterCount }

    /// Replaces a parameter's values (same shape), as the optimizer does.
    public mutating func update(_ path: String, _ body: (inout [T]) -> Void) {
        state.modify(path) { body(&$0.scalars) }
    }

    /// Records the forward pass of `images` (N,C,H,W) on `graph` and returns
    /// the logits (N, classes) and the graph variable of every parameter.
    /// In train mode the batch-norm running statistics are updated.
    public mutating func forward(_ graph: Graph<T>, images: Tensor<T>) -> (logits: Variable, parameters: [String: Variable]) {
        var parameters: [String: Variable] = [:]
        for path in parameterPaths { parameters[path] = graph.parameter(state.tensor(path), path: path) }
        return (forward(graph, input: graph.input(images), parameters: parameters), parameters)
    }

    /// The forward pass on variables already on the graph: the input images
    /// and every parameter by path (e.g. to differentiate with respect to
    /// the images, or to substitute a candidate's parameters).
    public mutating func forward(_ graph: Graph<T>, input: Variable, parameters: [String: Variable]) -> Variable {
        func parameter(_ path: String) -> Variable {
            guard let variable = parameters[path] else { preconditionFailure("forward: no variable for parameter \(path)") }
            return variable
        }
        func batchNorm(_ x: Variable, _ prefix: String) -> Variable {
            let running = (mean: state.tensor("\(prefix).running_mean").scalars,
                           variance: state.tensor("\(prefix).running_var").scalars)
            let (y, statistics) = graph.batchNorm(x, gamma: parameter("\(prefix).weight"),
                                                  beta: parameter("\(prefix).bias"), running: running)
            if let statistics { updateRunningStatistics(prefix, statistics, count: graph.value(x).count / statistics.mean.count) }
            return y
        }
        let slope = T(ArchitectureSpec.slope)
        var x = input
        var skip = x
        for (b, block) in spec.blocks.enumerated() {
            for l in 0..<block.layers {
                let conv = ParameterPath.conv(b, l)
                x = graph.conv2d(x, weight: parameter("\(conv).weight"), bias: l == 0 ? parameter("\(conv).bias") : nil)
                if l == 0 { x = graph.dropout(x, probability: ArchitectureSpec.dropout, channels: true) }
                x = graph.leakyReLU(batchNorm(x, ParameterPath.batchNorm(b, l)), slope: slope)
            }
            x = graph.maxPool2x2(x)
            skip = b == 0 ? x : graph.maxPool2x2(skip)
        }
        x = graph.concatChannels(x, skip)
        x = graph.conv2d(x, weight: parameter("\(ParameterPath.mix).weight"), bias: parameter("\(ParameterPath.mix).bias"))
        x = graph.flatten(graph.leakyReLU(x, slope: slope))
        x = graph.linear(x, weight: parameter("\(ParameterPath.fc1).weight"), bias: parameter("\(ParameterPath.fc1).bias"))
        x = graph.leakyReLU(batchNorm(x, ParameterPath.bn1), slope: slope)
        x = graph.dropout(x, probability: ArchitectureSpec.dropout / 2)
        x = batchNorm(x, ParameterPath.bn2)
        return graph.linear(x, weight: parameter("\(ParameterPath.fc2).weight"), bias: parameter("\(ParameterPath.fc2).bias"))
    }

    /// PyTorch's convention: running = 0.9·running + 0.1·batch, the variance
    /// unbiased (×M/(M−1), M values per channel).
    private mutating func updateRunningStatistics(_ prefix: String, _ batch: BatchNormStatistics<T>, count: Int) {
        let momentum = T(0.1)
        let unbias = count > 1 ? T(count) / T(count - 1) : 1
        update("\(prefix).running_mean") { mean in
            for c in mean.indices { mean[c] = (1 - momentum) * mean[c] + momentum * batch.mean[c] }
        }
        update("\(prefix).running_var") { variance in
            for c in variance.indices { variance[c] = (1 - momentum) * variance[c] + momentum * batch.variance[c] * unbias }
        }
    }
}
