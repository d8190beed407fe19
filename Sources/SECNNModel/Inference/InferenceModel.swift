import SECNNCore

/// A trained network made ready to classify images a few at a time, as a
/// deployed model runs (`secnn predict`, `secnn bench --latency`).
///
/// An inference `Graph` computes the same function, but for a single image
/// most of its time goes to preparing rather than computing: every call
/// rearranges each conv's weights for its kernel, turns each batch norm's
/// running statistics into a scale and shift, and allocates every
/// activation and scratch buffer anew. Here all of that happens once, in
/// `init`: the convs' weights in their kernels' layouts with each batch
/// norm as the per-channel epilogue of its conv, the head's two batch norms
/// folded into the linear layers around them, and one set of buffers for up
/// to `capacity` images that every call reuses.
///
/// Not thread-safe (the buffers are shared by calls): one per thread.
public final class InferenceModel {
    public let spec: ArchitectureSpec
    /// The most images one call takes.
    public let capacity: Int
    private let blocks: [[PreparedConv]]
    private let mix: PreparedConv
    private let fc1: FoldedLinear, fc2: FoldedLinear
    private let buffers: Buffers

    /// `network` prepared for batches of up to `capacity` images.
    public init(_ network: SECNNNetwork<Float>, capacity: Int = 1) {
        precondition(capacity >= 1, "InferenceModel: a capacity of \(capacity) images")
        let spec = network.spec, state = network.state
        self.spec = spec
        self.capacity = capacity
        var inputs = spec.inputChannels, (height, width) = (spec.inputHeight, spec.inputWidth)
        var blocks: [[PreparedConv]] = []
        for (b, block) in spec.blocks.enumerated() {
            blocks.append((0..<block.layers).map { l in
                let shape = Conv2dShape(batch: 1, inChannels: l == 0 ? inputs : block.channels, height: height,
                                        width: width, outChannels: block.channels, kernel: 3)
                let conv = ParameterPath.conv(b, l)
                return PreparedConv(state, weight: "\(conv).weight", bias: l == 0 ? "\(conv).bias" : nil, shape: shape,
                                    epilogue: batchNormAffine(state, ParameterPath.batchNorm(b, l),
                                                              leakyReLUSlope: Float(ArchitectureSpec.slope)))
            })
            inputs = block.channels
            (height, width) = (height / 2, width / 2)
        }
        self.blocks = blocks
        mix = PreparedConv(state, weight: "\(ParameterPath.mix).weight", bias: "\(ParameterPath.mix).bias",
                           shape: Conv2dShape(batch: 1, inChannels: spec.headChannels, height: spec.headHeight,
                                              width: spec.headWidth, outChannels: spec.classes, kernel: 1),
                           epilogue: nil)
        // fc1 → bn1 (→ LeakyReLU): the batch norm scales and shifts fc1's outputs.
        let bn1 = batchNormAffine(state, ParameterPath.bn1), bn2 = batchNormAffine(state, ParameterPath.bn2)
        fc1 = FoldedLinear(state, ParameterPath.fc1, outputScale: bn1.scale, outputShift: bn1.shift)
        // (→ LeakyReLU →) bn2 → fc2: the batch norm scales and shifts fc2's inputs.
        fc2 = FoldedLinear(state, ParameterPath.fc2, inputScale: bn2.scale, inputShift: bn2.shift)
        buffers = Buffers(spec, capacity: capacity)
    }

    /// The logits (images, classes) of `images`, normalised as in training,
    /// (images, C, H, W) one after another.
    public func logits(_ images: UnsafeBufferPointer<Float>) -> [Float] {
        let imageSize = spec.inputChannels * spec.inputHeight * spec.inputWidth
        precondition(images.count % imageSize == 0 && images.count / imageSize <= capacity,
                     "InferenceModel.logits: \(images.count) values are not at most \(capacity) images of \(imageSize)")
        let count = images.count / imageSize
        let slope = Float(ArchitectureSpec.slope)
        var main = images.baseAddress!, skip: UnsafePointer<Float>? = nil
        for (b, layers) in blocks.enumerated() {
            var features = main
            for (l, conv) in layers.enumerated() {
                let output = buffers.features[l % 2]
                conv.run(features, output, images: count)
                features = UnsafePointer(output)
            }
            let last = layers[layers.count - 1].shape
            let pooled = b == 0 ? buffers.skip[0] : buffers.pooled
            buffers.pool(features, into: pooled, planes: count * last.outChannels, last.height, last.width)
            if let previous = skip {
                let next = buffers.skip[b % 2]
                buffers.pool(previous, into: next, planes: count * spec.blocks[0].channels, last.height, last.width)
                skip = UnsafePointer(next)
            } else {
                skip = UnsafePointer(pooled)
            }
            main = UnsafePointer(pooled)
        }
        let spatial = spec.headHeight * spec.headWidth
        concatChannelsForward(first: main, second: skip!, output: buffers.concatenated, batch: count,
                              firstChannels: spec.blocks[spec.blocks.count - 1].channels,
                              secondChannels: spec.blocks[0].channels, spatial: spatial)
        mix.run(buffers.concatenated, buffers.mixed, images: count)
        leakyReLUForward(input: buffers.mixed, output: buffers.mixed, count: count * mix.shape.outputImageSize,
                         slope: slope)
        fc1.run(buffers.mixed, buffers.hidden, images: count)
        leakyReLUForward(input: buffers.hidden, output: buffers.hidden, count: count * fc1.outputs, slope: slope)
        return [Float](unsafeUninitializedCapacity: count * spec.classes) { logits, initialized in
            fc2.run(buffers.hidden, logits.baseAddress!, images: count)
            initialized = count * spec.classes
        }
    }

    public func logits(_ images: [Float]) -> [Float] {
        images.withUnsafeBufferPointer { logits($0) }
    }
}

/// A conv with its weights in its kernel's layout, its bias, and the batch
/// norm and LeakyReLU after it as the epilogue.
private struct PreparedConv {
    let weights: ConvKernelWeights<Float>
    let bias: [Float]?
    let epilogue: ChannelAffine<Float>?
    var shape: Conv2dShape { weights.shape }

    init(_ state: NamedTensors<Float>, weight: String, bias: String?, shape: Conv2dShape,
         epilogue: ChannelAffine<Float>?) {
        weights = state.tensor(weight).withPointer { ConvKernelWeights($0, shape: shape) }
        self.bias = bias.map { state.tensor($0).scalars }
        self.epilogue = epilogue
    }

    func run(_ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>, images: Int) {
        var shape = self.shape
        shape.batch = images
        let run = { (bias: UnsafePointer<Float>?) in
            conv2dForward(input: input, weights: weights, bias: bias, output: output, shape: shape, epilogue: epilogue)
        }
        if let bias { bias.withUnsafeBufferPointer { run($0.baseAddress!) } } else { run(nil) }
    }
}

/// A linear layer with the eval-mode batch norm before or after it folded
/// into its weights and bias: W·(s⊙x + t) + b = (W·diag s)·x + (W·t + b) for
/// a batch norm on its inputs, s⊙(W·x + b) + t = (diag s·W)·x + (s⊙b + t)
/// on its outputs.
private struct FoldedLinear {
    let weight: [Float], bias: [Float]
    let inputs: Int, outputs: Int

    init(_ state: NamedTensors<Float>, _ prefix: String, inputScale: [Float]? = nil, inputShift: [Float]? = nil,
         outputScale: [Float]? = nil, outputShift: [Float]? = nil) {
        let w = state.tensor("\(prefix).weight"), b = state.tensor("\(prefix).bias").scalars
        (outputs, inputs) = (w.shape[0], w.shape[1])
        var weight = w.scalars, bias = b
        for o in 0..<outputs {
            for i in 0..<inputs {
                let original = w.scalars[o * inputs + i]
                if let inputShift { bias[o] += original * inputShift[i] }
                weight[o * inputs + i] = original * (inputScale?[i] ?? 1) * (outputScale?[o] ?? 1)
            }
            if let outputScale, let outputShift { bias[o] = bias[o] * outputScale[o] + outputShift[o] }
        }
        self.weight = weight
        self.bias = bias
    }

    func run(_ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>, images: Int) {
        linearForward(input: input, weight: weight, bias: bias, output: output, batch: images, inputs: inputs,
                      outputs: outputs)
    }
}

/// A batch norm in eval mode as the scale and shift of each channel, and
/// the LeakyReLU after it if `slope` is given: a conv's epilogue.
private func batchNormAffine(_ state: NamedTensors<Float>, _ prefix: String,
                             leakyReLUSlope slope: Float? = nil) -> ChannelAffine<Float> {
    let statistics = batchNormStatistics(runningMean: state.tensor("\(prefix).running_mean").scalars,
                                         runningVariance: state.tensor("\(prefix).running_var").scalars,
                                         epsilon: Float(batchNormEpsilon))
    return ChannelAffine(statistics: statistics, gamma: state.tensor("\(prefix).weight").scalars,
                         beta: state.tensor("\(prefix).bias").scalars, leakyReLUSlope: slope)
}

/// The activations of up to `capacity` images, allocated once: two
/// buffers the layers of a block write in turn, the pooled output of the
/// latest block, two for the skip path (pooled from one into the other),
/// and the head's.
private final class Buffers {
    let features: [UnsafeMutablePointer<Float>]
    let pooled: UnsafeMutablePointer<Float>
    let skip: [UnsafeMutablePointer<Float>]
    let concatenated: UnsafeMutablePointer<Float>, mixed: UnsafeMutablePointer<Float>
    let hidden: UnsafeMutablePointer<Float>
    private let all: [UnsafeMutableRawPointer]

    init(_ spec: ArchitectureSpec, capacity: Int) {
        var largestFeatures = 0, largestPooled = 0, (height, width) = (spec.inputHeight, spec.inputWidth)
        for block in spec.blocks {
            largestFeatures = max(largestFeatures, block.channels * height * width)
            (height, width) = (height / 2, width / 2)
            largestPooled = max(largestPooled, block.channels * height * width)
        }
        func floats(_ count: Int) -> UnsafeMutablePointer<Float> { .allocate(capacity: max(1, capacity * count)) }
        features = [floats(largestFeatures), floats(largestFeatures)]
        pooled = floats(largestPooled)
        let skipSize = spec.blocks[0].channels * (spec.inputHeight / 2) * (spec.inputWidth / 2)
        skip = [floats(skipSize), floats(skipSize)]
        let headSpatial = spec.headHeight * spec.headWidth
        concatenated = floats(spec.headChannels * headSpatial)
        mixed = floats(spec.classes * headSpatial)
        hidden = floats(ArchitectureSpec.hidden)
        all = (features + [pooled] + skip + [concatenated, mixed, hidden]).map { UnsafeMutableRawPointer($0) }
    }

    deinit { for pointer in all { pointer.deallocate() } }

    func pool(_ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>, planes: Int,
              _ height: Int, _ width: Int) {
        maxPool2x2Values(input: input, output: output, planes: planes, height: height, width: width)
    }
}
