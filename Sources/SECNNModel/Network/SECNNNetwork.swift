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
        var boundary = BlockBoundary(main: input, skip: nil)
        for b in spec.blocks.indices { boundary = forwardBlock(b, graph, from: boundary, parameters: parameters) }
        return forwardHead(graph, from: boundary, parameters: parameters)
    }

    /// Block `b` from its input boundary to the next: its layers, the
    /// 2×2 max-pool, and the skip path (started by block 0, pooled again by
    /// every later block). The stages let a caller start the forward pass
    /// part-way, from a boundary it has already computed (candidate scoring
    /// shares the unchanged blocks in front of the one it grows), or from
    /// layer `first` with the features of the layers before it as
    /// `boundary.main` (`forwardLayers(from:)`).
    public mutating func forwardBlock(
        _ b: Int, _ graph: Graph<T>, from boundary: BlockBoundary, parameters: [String: Variable], firstLayer first: Int = 0
    ) -> BlockBoundary {
        pool(forwardLayers(of: b, graph, input: boundary.main, parameters: parameters, from: first), graph, from: boundary)
    }

    /// The end of a block: its `features` (before the pool) pooled, and the
    /// skip path from `boundary` carried along.
    func pool(_ features: Variable, _ graph: Graph<T>, from boundary: BlockBoundary) -> BlockBoundary {
        let pooled = graph.maxPool2x2(features)
        if !graph.collectsPerExampleRecords { graph.release([features]) }
        guard let skip = boundary.skip else { return BlockBoundary(main: pooled, skip: pooled) }
        let next = BlockBoundary(main: pooled, skip: graph.maxPool2x2(skip))
        // The boundary is the caller's: only an inference graph lets it go.
        if graph.inference { graph.release([boundary.main, skip]) }
        return next
    }

    /// Block `b`'s conv layers, before the pool: the features a layer
    /// added to the block would see. From layer `first` on, `input` is the
    /// features of the layers before it (candidate scoring starts a new
    /// layer's model there).
    ///
    /// Each layer's values are released from the graph once the next layer
    /// has read them: what a backward step needs, it keeps or recomputes
    /// (`Graph.valueForBackward`), so a forward pass never holds more than
    /// that plus the layer being computed. Graphs that collect per-example
    /// records keep them: scoring runs their backward pass several times,
    /// and would recompute each time.
    public mutating func forwardLayers(
        of b: Int, _ graph: Graph<T>, input: Variable, parameters: [String: Variable], from first: Int = 0
    ) -> Variable {
        let slope = T(ArchitectureSpec.slope)
        var x = input
        for l in first..<spec.blocks[b].layers {
            let conv = ParameterPath.conv(b, l)
            let weight = Self.variable("\(conv).weight", parameters)
            let bias = l == 0 ? Self.variable("\(conv).bias", parameters) : nil
            if graph.inference {
                // No dropout, no backward pass: the batch norm joins the conv's output pass.
                let activated = inferenceConvBatchNorm(x, weight: weight, bias: bias, ParameterPath.batchNorm(b, l),
                                                       graph, parameters, leakyReLUSlope: slope)
                if l > first { graph.release([x]) }
                x = activated
                continue
            }
            let convolved = graph.conv2d(x, weight: weight, bias: bias)
            let dropped = l == 0 ? graph.dropout(convolved, probability: ArchitectureSpec.dropout, channels: true) : convolved
            let activated = batchNorm(dropped, ParameterPath.batchNorm(b, l), graph, parameters, leakyReLUSlope: slope)
            // The input is the caller's (a block's may be the skip path too).
            if !graph.collectsPerExampleRecords { graph.release([convolved, dropped] + (l > first ? [x] : [])) }
            x = activated
        }
        return x
    }

    /// The head, from the last block's boundary to the logits.
    public mutating func forwardHead(_ graph: Graph<T>, from boundary: BlockBoundary,
                                     parameters: [String: Variable]) -> Variable {
        let slope = T(ArchitectureSpec.slope)
        guard let skip = boundary.skip else { preconditionFailure("forwardHead: the boundary has no skip path") }
        var x = graph.concatChannels(boundary.main, skip)
        x = graph.conv2d(x, weight: Self.variable("\(ParameterPath.mix).weight", parameters),
                         bias: Self.variable("\(ParameterPath.mix).bias", parameters))
        x = graph.flatten(graph.leakyReLU(x, slope: slope))
        x = graph.linear(x, weight: Self.variable("\(ParameterPath.fc1).weight", parameters),
                         bias: Self.variable("\(ParameterPath.fc1).bias", parameters))
        x = batchNorm(x, ParameterPath.bn1, graph, parameters, leakyReLUSlope: slope)
        x = graph.dropout(x, probability: ArchitectureSpec.dropout / 2)
        x = batchNorm(x, ParameterPath.bn2, graph, parameters)
        return graph.linear(x, weight: Self.variable("\(ParameterPath.fc2).weight", parameters),
                            bias: Self.variable("\(ParameterPath.fc2).bias", parameters))
    }

    private static func variable(_ path: String, _ parameters: [String: Variable]) -> Variable {
        guard let variable = parameters[path] else { preconditionFailure("forward: no variable for parameter \(path)") }
        return variable
    }

    /// Batch norm with this network's running statistics, updating them in
    /// train mode; with a slope, fused with the LeakyReLU that follows it.
    private mutating func batchNorm(_ x: Variable, _ prefix: String, _ graph: Graph<T>,
                                    _ parameters: [String: Variable], leakyReLUSlope slope: T? = nil) -> Variable {
        let (y, statistics) = graph.batchNorm(x, gamma: Self.variable("\(prefix).weight", parameters),
                                              beta: Self.variable("\(prefix).bias", parameters),
                                              running: runningStatistics(prefix), leakyReLUSlope: slope)
        if let statistics { updateRunningStatistics(prefix, statistics) }
        return y
    }

    /// A conv and the batch norm after it, in an inference graph (`Graph.conv2dBatchNorm`).
    private func inferenceConvBatchNorm(_ x: Variable, weight: Variable, bias: Variable?, _ prefix: String,
                                        _ graph: Graph<T>, _ parameters: [String: Variable],
                                        leakyReLUSlope slope: T) -> Variable {
        graph.conv2dBatchNorm(x, weight: weight, bias: bias, gamma: Self.variable("\(prefix).weight", parameters),
                              beta: Self.variable("\(prefix).bias", parameters), running: runningStatistics(prefix),
                              leakyReLUSlope: slope)
    }

    private func runningStatistics(_ prefix: String) -> (mean: [T], variance: [T]) {
        (state.tensor("\(prefix).running_mean").scalars, state.tensor("\(prefix).running_var").scalars)
    }

    /// PyTorch's convention: running = 0.9·running + 0.1·batch, the variance
    /// unbiased (×M/(M−1), M values per channel).
    private mutating func updateRunningStatistics(_ prefix: String, _ batch: BatchNormStatistics<T>) {
        let momentum = T(0.1)
        let unbias = batch.count > 1 ? T(batch.count) / T(batch.count - 1) : 1
        update("\(prefix).running_mean") { mean in
            for c in mean.indices { mean[c] = (1 - momentum) * mean[c] + momentum * batch.mean[c] }
        }
        update("\(prefix).running_var") { variance in
            for c in variance.indices { variance[c] = (1 - momentum) * variance[c] + momentum * batch.variance[c] * unbias }
        }
    }
}

/// The state between two blocks: the main path and the skip path (nil
/// before block 0, which starts it).
public struct BlockBoundary: Sendable {
    public var main: Variable
    public var skip: Variable?

    public init(main: Variable, skip: Variable?) {
        self.main = main
        self.skip = skip
    }
}
