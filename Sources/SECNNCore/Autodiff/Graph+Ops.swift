// The ops of the SECNN network on the tape. Each op runs its forward kernel
// now and records the matching backward kernel (Kernels/), with whatever
// the backward needs captured beside it.

import Dispatch

extension Graph {
    // MARK: Convolution and linear

    /// 2-D convolution, stride 1, "same" padding. x (N,C,H,W), weight (O,C,K,K), bias (O).
    public func conv2d(_ x: Variable, weight: Variable, bias: Variable?) -> Variable {
        let (output, shape) = convolution(x, weight: weight, bias: bias)
        let input = value(x), w = value(weight), flops = shape.forwardFlops
        // The weight gradient needs the input: kept, unless the graph can recompute it.
        let keptInput = isRematerialisable(x) ? nil : input
        return record(output, inputs: [x, weight] + (bias.map { [$0] } ?? []), kind: .convForward, flops: flops) { g, id in
            let dy = g.gradient(ofOutput: id)
            let input = keptInput ?? g.valueForBackward(x)
            g.keepPerExampleRecord(.conv2d(shape), weight: weight, bias: bias, input: input, gradOutput: dy)
            input.withPointer { xp in
                w.withPointer { wp in
                    dy.withPointer { dyp in
                        guard g.computesParameterGradients, g.profile == nil else {
                            g.convBackwardSeparately(x: x, weight: weight, bias: bias, input: xp, weightValue: wp,
                                                     gradOutput: dyp, shape: shape, flops: flops)
                            return
                        }
                        g.accumulateGradient(into: weight) { dw in
                            let backward = { (dx: UnsafeMutablePointer<T>?, db: UnsafeMutablePointer<T>?) in
                                conv2dBackward(input: xp, weight: wp, gradOutput: dyp, gradInput: dx,
                                               gradWeight: dw, gradBias: db, shape: shape)
                            }
                            // The bias and input gradients come out of the same pass over the batch.
                            let withInput = { (db: UnsafeMutablePointer<T>?) in
                                if g.needsGradient(x) { g.addGradient(to: x) { backward($0, db) } }
                                else { backward(nil, db) }
                            }
                            if let bias { g.accumulateGradient(into: bias) { withInput($0) } }
                            else { withInput(nil) }
                        }
                    }
                }
            }
        }
    }

    /// LeakyReLU(BatchNorm(conv2d(x))) in an inference graph, the batch norm
    /// on running statistics: each output plane goes through the batch norm
    /// as the conv writes it (`ChannelAffine`), instead of in a second pass
    /// over the whole output. The same values as `conv2d` then `batchNorm`.
    public func conv2dBatchNorm(
        _ x: Variable, weight: Variable, bias: Variable?, gamma: Variable, beta: Variable,
        running: (mean: [T], variance: [T]), epsilon: T = T(batchNormEpsilon), leakyReLUSlope slope: T? = nil
    ) -> Variable {
        precondition(inference, "conv2dBatchNorm: only an inference graph (no backward pass) folds the batch norm in")
        let statistics = batchNormStatistics(runningMean: running.mean, runningVariance: running.variance,
                                             epsilon: epsilon)
        let epilogue = ChannelAffine(statistics: statistics, gamma: value(gamma).scalars, beta: value(beta).scalars,
                                     leakyReLUSlope: slope)
        let (output, shape) = convolution(x, weight: weight, bias: bias, epilogue: epilogue)
        let inputs = [x, weight, gamma, beta] + (bias.map { [$0] } ?? [])
        return record(output, inputs: inputs, kind: .convForward, flops: shape.forwardFlops) { _, _ in
            preconditionFailure("conv2dBatchNorm: an inference graph has no backward pass")
        }
    }

    /// conv2d's output and geometry, each output plane mapped by `epilogue` if given.
    private func convolution(_ x: Variable, weight: Variable, bias: Variable?,
                             epilogue: ChannelAffine<T>? = nil) -> (Tensor<T>, Conv2dShape) {
        let input = value(x), w = value(weight)
        precondition(input.shape.count == 4 && w.shape.count == 4 && input.shape[1] == w.shape[1],
                     "conv2d: input \(input.shape) does not fit weight \(w.shape)")
        let shape = Conv2dShape(batch: input.shape[0], inChannels: input.shape[1], height: input.shape[2],
                                width: input.shape[3], outChannels: w.shape[0], kernel: w.shape[2])
        let b = bias.map(value)
        let output = Tensor<T>(shape: [shape.batch, shape.outChannels, shape.height, shape.width]) { out in
            input.withPointer { xp in
                w.withPointer { wp in
                    let run = { (bp: UnsafePointer<T>?) in
                        conv2dForward(input: xp, weight: wp, bias: bp, output: out, shape: shape, epilogue: epilogue)
                    }
                    if let b { b.withPointer(run) } else { run(nil) }
                }
            }
        }
        return (output, shape)
    }

    /// Fully connected layer. x (N,I), weight (O,I), bias (O).
    public func linear(_ x: Variable, weight: Variable, bias: Variable?) -> Variable {
        let input = value(x), w = value(weight)
        precondition(input.shape.count == 2 && w.shape.count == 2 && input.shape[1] == w.shape[1],
                     "linear: input \(input.shape) does not fit weight \(w.shape)")
        let (batch, inputs, outputs) = (input.shape[0], input.shape[1], w.shape[0])
        let b = bias.map(value)
        let output = Tensor<T>(shape: [batch, outputs]) { out in
            input.withPointer { xp in
                w.withPointer { wp in
                    if let b {
                        b.withPointer { linearForward(input: xp, weight: wp, bias: $0, output: out,
                                                      batch: batch, inputs: inputs, outputs: outputs) }
                    } else {
                        linearForward(input: xp, weight: wp, bias: nil, output: out,
                                      batch: batch, inputs: inputs, outputs: outputs)
                    }
                }
            }
        }
        return record(output, inputs: [x, weight] + (bias.map { [$0] } ?? []), kind: .head) { g, id in
            let dy = g.gradient(ofOutput: id)
            g.keepPerExampleRecord(.linear(batch: batch, inputs: inputs, outputs: outputs),
                                   weight: weight, bias: bias, input: input, gradOutput: dy)
            input.withPointer { xp in
                w.withPointer { wp in
                    dy.withPointer { dyp in
                        g.accumulateGradient(into: weight) { dw in
                            if let bias {
                                g.accumulateGradient(into: bias) { db in
                                    linearBackward(input: xp, weight: wp, gradOutput: dyp, gradInput: nil,
                                                   gradWeight: dw, gradBias: db,
                                                   batch: batch, inputs: inputs, outputs: outputs)
                                }
                            } else {
                                linearBackward(input: xp, weight: wp, gradOutput: dyp, gradInput: nil, gradWeight: dw,
                                               gradBias: nil, batch: batch, inputs: inputs, outputs: outputs)
                            }
                        }
                        g.addGradient(to: x) { dx in
                            T.gemm(transposeA: false, transposeB: false, m: batch, n: inputs, k: outputs,
                                   alpha: 1, a: dyp, lda: outputs, b: wp, ldb: inputs, beta: 0, c: dx, ldc: inputs)
                        }
                    }
                }
            }
        }
    }

    // MARK: Normalisation and activation

    /// Batch norm over channel axis 1 of (N,C) or (N,C,H,W). In train mode it
    /// normalises with the batch statistics and returns them (the caller
    /// updates its running averages); in eval mode it uses `running`.
    ///
    /// With `leakyReLUSlope` the op is batch norm then LeakyReLU, fused so
    /// that a training step keeps one tensor per layer instead of two: the
    /// backward pass recomputes the normalised values (for the activation's
    /// sign) from the batch norm's input, which it keeps anyway, and the
    /// output is rematerialisable (`valueForBackward`), so a following conv
    /// need not keep it either once `releaseValues` has run. The results
    /// are bitwise those of `batchNorm` then `leakyReLU`.
    public func batchNorm(
        _ x: Variable, gamma: Variable, beta: Variable,
        running: (mean: [T], variance: [T]), epsilon: T = T(batchNormEpsilon), leakyReLUSlope slope: T? = nil
    ) -> (output: Variable, batchStatistics: BatchNormStatistics<T>?) {
        let input = value(x)
        let (batch, channels) = (input.shape[0], input.shape[1])
        let spatial = input.shape.dropFirst(2).reduce(1, *)
        // Per-shard batch norm (not synchronised) is batch norm over this process's images alone.
        let trainingMode = training, shard = shard?.synchronisesBatchNorm == true ? shard : nil
        let statistics = trainingMode
            ? input.withPointer {
                batchNormStatistics(input: $0, batch: batch, channels: channels, spatial: spatial, epsilon: epsilon,
                                    shard: shard)
            }
            : batchNormStatistics(runningMean: running.mean, runningVariance: running.variance, epsilon: epsilon)
        let gammaValue = value(gamma), betaValue = value(beta)
        // The pointers both passes read: x, γ and β.
        let withOperands = { (body: (UnsafePointer<T>, UnsafePointer<T>, UnsafePointer<T>) -> Void) in
            input.withPointer { xp in gammaValue.withPointer { gp in betaValue.withPointer { bp in body(xp, gp, bp) } } }
        }
        let forward = {
            Tensor<T>(shape: input.shape) { out in
                withOperands { xp, gp, bp in
                    batchNormForward(input: xp, gamma: gp, beta: bp, statistics: statistics, output: out,
                                     batch: batch, channels: channels, spatial: spatial, leakyReLUSlope: slope)
                }
            }
        }
        let variable = record(forward(), inputs: [x, gamma, beta], kind: .batchNorm) { g, id in
            let gradActivated = g.gradient(ofOutput: id)
            // Each example's γ and β gradients, for the graph's per-example record.
            func keepRecord(_ exampleGradients: (gamma: [T], beta: [T])) {
                g.keepPerExampleRecord(.batchNorm(exampleGradients: exampleGradients, batch: batch, channels: channels),
                                       weight: gamma, bias: beta, input: input, gradOutput: gradActivated)
            }
            if !trainingMode, !g.computesParameterGradients, g.needsGradient(x) {
                // Scoring: without γ's and β's gradients, eval mode's backward is one pass, the records' sums included.
                var exampleGradients: (gamma: [T], beta: [T]) = ([], [])
                g.addGradient(to: x) { dx in
                    withOperands { xp, gp, bp in
                        gradActivated.withPointer { dyp in
                            exampleGradients = batchNormEvalBackward(
                                input: xp, gamma: gp, beta: bp, statistics: statistics, slope: slope, gradOutput: dyp,
                                gradInput: dx, batch: batch, channels: channels, spatial: spatial)
                        }
                    }
                }
                if g.collectsPerExampleRecords { keepRecord(exampleGradients) }
                return
            }
            var dy = gradActivated
            if let slope {
                // Through the activation first: its sign is z = BN(x)'s, recomputed in the same pass.
                dy = Tensor<T>(shape: input.shape) { dz in
                    withOperands { xp, gp, bp in
                        gradActivated.withPointer {
                            batchNormLeakyReLUGradient(
                                input: xp, gamma: gp, beta: bp, statistics: statistics, slope: slope,
                                gradOutput: $0, gradNormalised: dz, batch: batch, channels: channels, spatial: spatial)
                        }
                    }
                }
            }
            if g.collectsPerExampleRecords {
                keepRecord(input.withPointer { xp in
                    dy.withPointer {
                        batchNormPerExampleGradients(input: xp, statistics: statistics, gradOutput: $0,
                                                     batch: batch, channels: channels, spatial: spatial)
                    }
                })
            }
            input.withPointer { xp in
                gammaValue.withPointer { gp in
                    dy.withPointer { dyp in
                        g.accumulateGradient(into: gamma) { dgamma in
                            g.accumulateGradient(into: beta) { dbeta in
                                let run = { (dx: UnsafeMutablePointer<T>?) in
                                    batchNormBackward(input: xp, gamma: gp, statistics: statistics, gradOutput: dyp,
                                                      gradInput: dx, gradGamma: dgamma, gradBeta: dbeta,
                                                      batch: batch, channels: channels, spatial: spatial,
                                                      training: trainingMode, shard: shard)
                                }
                                if g.needsGradient(x) { g.addGradient(to: x) { run($0) } } else { run(nil) }
                            }
                        }
                    }
                }
            }
        }
        if slope != nil { setRematerialiser(of: variable, forward) }
        return (variable, trainingMode ? statistics : nil)
    }

    /// LeakyReLU with the given negative slope.
    public func leakyReLU(_ x: Variable, slope: T) -> Variable {
        let input = value(x)
        let output = Tensor<T>(shape: input.shape) { out in
            input.withPointer { leakyReLUForward(input: $0, output: out, count: input.count, slope: slope) }
        }
        return record(output, inputs: [x], kind: .activation) { g, id in
            let dy = g.gradient(ofOutput: id)
            output.withPointer { yp in
                dy.withPointer { dyp in
                    g.addGradient(to: x) { leakyReLUBackward(output: yp, gradOutput: dyp, gradInput: $0,
                                                             count: output.count, slope: slope) }
                }
            }
        }
    }

    // MARK: Regularisation

    /// Dropout (the identity unless `dropoutEnabled`). `channels` drops
    /// whole feature maps (Dropout2d) instead of single values.
    public func dropout(_ x: Variable, probability: Double, channels: Bool = false) -> Variable {
        guard dropoutEnabled, probability > 0 else { return x }
        let input = value(x)
        let spatial = channels ? input.shape.dropFirst(2).reduce(1, *) : 1
        let planes = input.count / spatial
        let mask: [T]
        if let shard {
            // The global batch's masks, in order, so the generator moves as in one process; this shard's rows.
            let perExample = planes / input.shape[0]
            let global: [T] = dropoutMask(planes: shard.total * perExample, probability: probability, generator: &generator)
            mask = Array(global[(shard.range.lowerBound * perExample)..<(shard.range.upperBound * perExample)])
        } else {
            mask = dropoutMask(planes: planes, probability: probability, generator: &generator)
        }
        let apply = { (source: UnsafePointer<T>, destination: UnsafeMutablePointer<T>) in
            mask.withUnsafeBufferPointer {
                applyDropoutMask(input: source, mask: $0.baseAddress!, output: destination, planes: planes, spatial: spatial)
            }
        }
        let output = Tensor<T>(shape: input.shape) { out in input.withPointer { apply($0, out) } }
        return record(output, inputs: [x], kind: .activation) { g, id in
            let dy = g.gradient(ofOutput: id)
            dy.withPointer { dyp in g.addGradient(to: x) { apply(dyp, $0) } }
        }
    }

    // MARK: Shape ops

    /// 2×2 max-pool, stride 2, of (N,C,H,W).
    public func maxPool2x2(_ x: Variable) -> Variable {
        let input = value(x)
        let (planes, height, width) = (input.shape[0] * input.shape[1], input.shape[2], input.shape[3])
        var argmax = [UInt8](repeating: 0, count: planes * (height / 2) * (width / 2))
        let output = Tensor<T>(shape: [input.shape[0], input.shape[1], height / 2, width / 2]) { out in
            input.withPointer { xp in
                argmax.withUnsafeMutableBufferPointer {
                    maxPool2x2Forward(input: xp, output: out, argmax: $0.baseAddress!,
                                      planes: planes, height: height, width: width)
                }
            }
        }
        return record(output, inputs: [x], kind: .pool) { g, id in
            let dy = g.gradient(ofOutput: id)
            dy.withPointer { dyp in
                argmax.withUnsafeBufferPointer { arg in
                    g.addGradient(to: x) {
                        maxPool2x2Backward(gradOutput: dyp, argmax: arg.baseAddress!, gradInput: $0,
                                           planes: planes, height: height, width: width)
                    }
                }
            }
        }
    }

    /// Concatenates (N,A,H,W) and (N,B,H,W) along the channels.
    public func concatChannels(_ a: Variable, _ b: Variable) -> Variable {
        let first = value(a), second = value(b)
        precondition(first.shape[0] == second.shape[0] && first.shape.dropFirst(2) == second.shape.dropFirst(2),
                     "concatChannels: \(first.shape) and \(second.shape) differ outside the channels")
        let (batch, channelsA, channelsB) = (first.shape[0], first.shape[1], second.shape[1])
        let spatial = first.shape.dropFirst(2).reduce(1, *)
        var shape = first.shape
        shape[1] = channelsA + channelsB
        let output = Tensor<T>(shape: shape) { out in
            first.withPointer { ap in
                second.withPointer { bp in
                    concatChannelsForward(first: ap, second: bp, output: out, batch: batch,
                                          firstChannels: channelsA, secondChannels: channelsB, spatial: spatial)
                }
            }
        }
        return record(output, inputs: [a, b], kind: .head) { g, id in
            let dy = g.gradient(ofOutput: id)
            dy.withPointer { dyp in
                g.addGradient(to: a) {
                    concatChannelsBackward(gradOutput: dyp, gradFirst: $0, gradSecond: nil, batch: batch,
                                           firstChannels: channelsA, secondChannels: channelsB, spatial: spatial)
                }
                g.addGradient(to: b) {
                    concatChannelsBackward(gradOutput: dyp, gradFirst: nil, gradSecond: $0, batch: batch,
                                           firstChannels: channelsA, secondChannels: channelsB, spatial: spatial)
                }
            }
        }
    }

    /// (N, ...) to (N, product of the rest), as torch.flatten(x, 1).
    public func flatten(_ x: Variable) -> Variable {
        let shape = value(x).shape
        return reshape(x, to: [shape[0], shape.dropFirst().reduce(1, *)])
    }

    /// The same scalars under another shape with the same element count.
    public func reshape(_ x: Variable, to shape: [Int]) -> Variable {
        let input = value(x)
        return record(input.reshaped(shape), inputs: [x], kind: .head) { g, id in
            let dy = g.gradient(ofOutput: id)
            dy.withPointer { dyp in g.addGradient(to: x) { $0.update(from: dyp, count: dy.count) } }
        }
    }

    // MARK: Losses

    /// Mean softmax cross-entropy of logits (N,K) against labels; a scalar.
    /// With `smoothing` ε the targets are (1−ε)·onehot + ε/K (label smoothing).
    /// Under a `shard` the mean is over the global batch: this process's
    /// share of it, its examples' sum divided by the global count, so the
    /// processes' gradients sum to the global loss's.
    public func crossEntropy(_ logits: Variable, labels: [Int32], smoothing: T = 0) -> Variable {
        let z = value(logits)
        let (batch, classes) = (z.shape[0], z.shape[1])
        precondition(labels.count == batch, "crossEntropy: \(labels.count) labels for \(batch) rows")
        precondition(smoothing >= 0 && smoothing < 1, "crossEntropy: smoothing \(smoothing) outside [0, 1)")
        var probabilities = [T](repeating: 0, count: z.count)
        let loss = z.withPointer { zp in
            labels.withUnsafeBufferPointer { lp in
                probabilities.withUnsafeMutableBufferPointer {
                    crossEntropyForward(logits: zp, labels: lp.baseAddress!, smoothing: smoothing,
                                        probabilities: $0.baseAddress!, batch: batch, classes: classes)
                }
            }
        }
        let share = shard.map { T(batch) / T($0.total) } ?? 1
        return record(Tensor(shape: [1], scalars: [loss * share]), inputs: [logits], kind: .head) { g, id in
            let scale = g.gradient(ofOutput: id).scalars[0] * share
            probabilities.withUnsafeBufferPointer { pp in
                labels.withUnsafeBufferPointer { lp in
                    g.addGradient(to: logits) {
                        crossEntropyBackward(probabilities: pp.baseAddress!, labels: lp.baseAddress!,
                                             smoothing: smoothing, scale: scale, gradLogits: $0, batch: batch,
                                             classes: classes)
                    }
                }
            }
        }
    }

    /// strength · Σ |w| over the given tensors; a scalar. Its gradient is
    /// strength · sign(w) (0 at 0, the subgradient PyTorch's abs uses).
    /// Under a `shard` the penalty enters the global loss once: process 0's
    /// graph has it, the others' are 0.
    public func l1Penalty(_ tensors: [Variable], strength: T) -> Variable {
        let strength = (shard?.collective.rank ?? 0) == 0 ? strength : 0
        let total = tensors.reduce(T(0)) { sum, t in sum + value(t).withPointer { l1Norm($0, count: value(t).count) } }
        return record(Tensor(shape: [1], scalars: [strength * total]), inputs: tensors, kind: .optimizer) { g, id in
            let scale = strength * g.gradient(ofOutput: id).scalars[0]
            for t in tensors {
                let w = g.value(t)
                w.withPointer { wp in g.addGradient(to: t) { l1Backward(wp, scale: scale, gradient: $0, count: w.count) } }
            }
        }
    }

    /// The sum of two scalars.
    public func add(_ a: Variable, _ b: Variable) -> Variable {
        let sum = value(a).scalars[0] + value(b).scalars[0]
        return record(Tensor(shape: [1], scalars: [sum]), inputs: [a, b], kind: .head) { g, id in
            let dy = g.gradient(ofOutput: id).scalars[0]
            g.addGradient(to: a) { $0[0] = dy }
            g.addGradient(to: b) { $0[0] = dy }
        }
    }

    // MARK: Helpers

    /// A conv's backward as two passes, the input gradient and (unless
    /// scoring turned it off) the weight and bias gradients: for scoring,
    /// which needs no weight gradients, and for the profile, which times the
    /// two products apart. Training runs them in one pass over the batch.
    fileprivate func convBackwardSeparately(
        x: Variable, weight: Variable, bias: Variable?, input: UnsafePointer<T>, weightValue: UnsafePointer<T>,
        gradOutput: UnsafePointer<T>, shape: Conv2dShape, flops: Double
    ) {
        addGradient(to: x) {
            conv2dBackward(input: input, weight: weightValue, gradOutput: gradOutput, gradInput: $0, gradWeight: nil,
                           gradBias: nil, shape: shape)
        }
        if needsGradient(x) { profile?.add(.convBackwardData, seconds: 0, flops: flops) }
        guard computesParameterGradients else { return }
        let start = DispatchTime.now().uptimeNanoseconds
        accumulateGradient(into: weight) { dw in
            let withBias = { (db: UnsafeMutablePointer<T>?) in
                conv2dBackward(input: input, weight: weightValue, gradOutput: gradOutput, gradInput: nil, gradWeight: dw,
                               gradBias: db, shape: shape)
            }
            if let bias { accumulateGradient(into: bias) { withBias($0) } } else { withBias(nil) }
        }
        guard let profile else { return }
        // Moved out of the input-gradient time the backward loop measures around the whole step.
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        profile.add(.convBackwardWeight, seconds: seconds, flops: flops)
        profile.add(.convBackwardData, seconds: -seconds)
    }

    fileprivate func keepPerExampleRecord(
        _ layer: PerExampleRecord<T>.Layer, weight: Variable, bias: Variable?,
        input: Tensor<T>, gradOutput: Tensor<T>
    ) {
        guard collectsPerExampleRecords, let weightPath = path(of: weight) else { return }
        appendPerExampleRecord(PerExampleRecord(layer: layer, weightPath: weightPath, biasPath: bias.flatMap(path(of:)),
                                                input: input, gradOutput: gradOutput))
    }
}
