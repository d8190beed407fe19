import ArgumentParser
import Foundation
import SECNNCore
import SECNNModel

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Time training and inference steps, side by side with the PyTorch peer.",
        discussion: """
            The peer is the repository's Tests/Reference/torch_peer.py (`/usr/bin/python3 \
            Tests/Reference/torch_peer.py bench --spec SPEC --batch 512 --steps 20 --threads 2`, \
            Debian's python3-torch), with the same keys (train_images_per_s, eval_images_per_s, \
            diag_fisher_score_s, peak_rss_mib, …): run both in one sitting with the same \
            --arch/--spec, --batch, --steps and --threads and compare medians. With --gemm N it \
            times one NxN float32 GEMM through the same BLAS instead (the machine's limit). With \
            --latency CHECKPOINT it times inference of one image at a time instead, as a deployed model \
            runs (p50 and p99 over --latency-images images, through the prepared model secnn predict \
            uses, and as graph_latency_* through the inference graph evaluation uses; compare with \
            onnxruntime on the ONNX export: Tests/Reference/ort_latency.py, same --threads).
            """)

    @Option(help: ArgumentHelp("Blocks as CHANNELSxLAYERS (32x32x3 input, 10 classes, as the peer).", valueName: "SPEC"))
    var arch = "16x1,16x1,16x1"

    @Option(help: "Images per step.")
    var batch = 512

    @Option(help: "Timed steps (the figure is their median).")
    var steps = 20

    @Option(help: "Untimed steps first.")
    var warmup = 3

    @Option(help: "Seed for the weights and the random images.")
    var seed: UInt64 = 0

    @Option(help: ArgumentHelp("Only time an NxN by NxN float32 GEMM (BLAS with --threads threads).", valueName: "N"))
    var gemm: Int?

    @Option(help: "Images for the score timings: the current model alone (diag, as the peer) and all candidates (diag and kfac); 0 skips them.")
    var scoreImages = 512

    @Option(help: "Timed repetitions of each score (the figure is their median).")
    var scoreReps = 3

    @Option(help: ArgumentHelp("Only time batch-of-one inference of this checkpoint.", valueName: "CHECKPOINT"))
    var latency: String?

    @Option(help: "Images for --latency, each timed alone (after --warmup × 10 untimed).")
    var latencyImages = 1000

    @Flag(help: "Also break the training step (with --latency: one image's inference through the graph) down by op kind (time and GFLOP/s per step), against the GEMM peak of a 2048 sgemm.")
    var profile = false

    @OptionGroup var compute: ComputeOptions

    func validate() throws {
        for (name, value) in [("--batch", batch), ("--steps", steps)] where value < 1 {
            throw ValidationError("\(name) must be at least 1, not \(value)")
        }
        guard scoreImages >= 0, scoreReps >= 1 else {
            throw ValidationError("--score-images must be at least 0 and --score-reps at least 1")
        }
        guard warmup >= 0 else { throw ValidationError("--warmup must be at least 0, not \(warmup)") }
        if let gemm, gemm < 1 { throw ValidationError("--gemm must be at least 1, not \(gemm)") }
        guard latencyImages >= 1 else { throw ValidationError("--latency-images must be at least 1, not \(latencyImages)") }
    }

    func run() throws {
        compute.apply()
        var output = KeyValueOutput()
        if let gemm {
            timeGEMM(gemm, &output)
        } else if let latency {
            try timeLatency(latency, &output)
        } else {
            try timeNetwork(&output)
        }
        output.add("peak_rss_mib", peakResidentMiB())
        output.print()
        print(output.json())
    }

    private func timeNetwork(_ output: inout KeyValueOutput) throws {
        let spec = try reportingErrors { try ArchitectureSpec(parsing: arch) }
        var generator = SeededGenerator(seed: seed)
        var network = SECNNNetwork<Float>(spec: spec, generator: &generator)
        let images = Tensor<Float>(shape: [batch, 3, 32, 32], scalars: (0..<(batch * 3072)).map { _ in Float(generator.nextNormal()) })
        let labels = (0..<batch).map { _ in Int32(generator.next() % 10) }
        var adam = Adam<Float>(learningRate: 2e-3)
        let paths = network.parameterPaths

        output.add("spec", spec.description)
        output.add("params", spec.parameterCount)
        output.add("batch", batch)
        output.add("threads", compute.threads)
        output.add("steps", steps)
        output.add("warmup", warmup)

        // The same work as the peer's train step: forward, cross-entropy, backward, Adam.
        func trainStep(_ profile: OpProfile?) {
            let graph = Graph<Float>(training: true, generator: generator)
            graph.profile = profile
            let logits = network.forward(graph, images: images)
            let loss = graph.crossEntropy(logits.logits, labels: labels)
            graph.releaseValues(keeping: [loss])  // as the trainer does
            graph.backward(from: loss)
            let gradients = graph.parameterGradients()
            let optimizer = {
                for path in paths { network.update(path) { adam.step(path, parameter: &$0, gradient: gradients[path]!.scalars) } }
            }
            OpProfile.measure(profile, .optimizer, optimizer)
        }
        let train = timed { trainStep(nil) }
        summarise("train_step", train, &output)
        let eval = timed {
            let graph = Graph<Float>.inference()
            _ = network.forward(graph, images: images)
        }
        summarise("eval_step", eval, &output)
        output.add("train_images_per_s", Double(batch) / median(train))
        output.add("eval_images_per_s", Double(batch) / median(eval))
        if profile { timeProfile(trainStep, &output) }
        if scoreImages > 0 { try timeScores(network, &generator, &output) }
    }

    /// `--latency`: one normalised image at a time through the checkpoint's
    /// network in eval mode (what `secnn predict` and onnxruntime do per
    /// image, without the decoding): the percentiles of the times, through
    /// the prepared `InferenceModel` that predict uses, and (`graph_latency_*`)
    /// through an inference graph as evaluation's batches run, which
    /// prepares every layer again per call.
    private func timeLatency(_ path: String, _ output: inout KeyValueOutput) throws {
        var network = try reportingErrors { try Checkpoint(contentsOf: path) }.network
        let spec = network.spec
        var generator = SeededGenerator(seed: seed)
        let size = spec.inputChannels * spec.inputHeight * spec.inputWidth
        let images = (0..<latencyImages).map { _ in (0..<size).map { _ in Float(generator.nextNormal()) } }
        let model = InferenceModel(network)
        func inferGraph(_ image: [Float], _ profile: OpProfile? = nil) {
            let graph = Graph<Float>.inference()
            graph.profile = profile
            let input = Tensor(shape: [1, spec.inputChannels, spec.inputHeight, spec.inputWidth], scalars: image)
            _ = graph.value(network.forward(graph, images: input).logits)
        }
        func percentiles(_ infer: ([Float]) -> Void) -> (p50: Double, p99: Double, mean: Double) {
            for i in 0..<(warmup * 10) { infer(images[i % images.count]) }
            let times = images.map { image in seconds { infer(image) } }.sorted()
            func percentile(_ p: Double) -> Double { times[min(times.count - 1, Int((p * Double(times.count)).rounded(.up)) - 1)] }
            return (percentile(0.5), percentile(0.99), times.reduce(0, +) / Double(times.count))
        }
        let direct = percentiles { _ = model.logits($0) }
        let graph = percentiles { inferGraph($0) }
        output.add("spec", spec.description)
        output.add("params", spec.parameterCount)
        output.add("threads", compute.threads)
        output.add("latency_images", latencyImages)
        output.add("latency_p50_us", direct.p50 * 1e6)
        output.add("latency_p99_us", direct.p99 * 1e6)
        output.add("latency_mean_us", direct.mean * 1e6)
        output.add("graph_latency_p50_us", graph.p50 * 1e6)
        output.add("graph_latency_p99_us", graph.p99 * 1e6)
        if profile {
            // Every image again through the graph with each op timed, per image and kind.
            let profile = OpProfile()
            for image in images { inferGraph(image, profile) }
            for kind in OpKind.allCases where (profile.seconds[kind] ?? 0) > 0 {
                output.add("graph_latency_profile_\(kind.rawValue)_us", profile.seconds[kind]! / Double(images.count) * 1e6)
            }
        }
    }

    /// The natural-score timings: `diag_fisher_score_s` is the peer's figure
    /// (the current model alone, diagonal, ε 1e-8); `score_diag_s` and
    /// `score_kfac_s` score the current model and every candidate (a layer
    /// and --widen 2 channels on each block), what a growth epoch pays.
    private func timeScores(_ network: SECNNNetwork<Float>, _ generator: inout SeededGenerator,
                            _ output: inout KeyValueOutput) throws {
        let subset = LabeledImages(images: (0..<(scoreImages * 3072)).map { _ in Float(generator.nextNormal()) },
                                   labels: (0..<scoreImages).map { _ in Int32(generator.next() % 10) },
                                   channels: 3, height: 32, width: 32)
        let candidates = Candidate.all(blocks: network.spec.blocks.count, widenBy: 2)
        func scorer(_ method: NaturalScoreMethod, epsilon: Double = NaturalScoreSettings().epsilon) throws -> CandidateScorer {
            try CandidateScorer(options: ScoringOptions(fisher: NaturalScoreSettings(method: method, epsilon: epsilon),
                                                        subsetSize: scoreImages, seed: seed), subset: subset)
        }
        let current = try reportingErrors { try scorer(.diag, epsilon: 1e-8) }
        summarise("diag_fisher_score", try reportingErrors { try repeated { _ = try current.score(network) } }, &output,
                  images: false)
        for method in NaturalScoreMethod.allCases {
            let all = try reportingErrors { try scorer(method) }
            let times = try reportingErrors { try repeated { _ = try all.score(network, candidates: candidates) } }
            summarise("score_\(method.rawValue)", times, &output, images: false)
        }
        output.add("score_images", scoreImages)
        output.add("score_candidates", candidates.count)
    }

    /// `--profile`: `steps` more training steps with every op timed (the
    /// timing splits each conv's backward into two passes, so these steps run
    /// a little slower than the figures above), per step and kind.
    private func timeProfile(_ trainStep: (OpProfile?) -> Void, _ output: inout KeyValueOutput) {
        let profile = OpProfile()
        for _ in 0..<steps { trainStep(profile) }
        var gemm = KeyValueOutput()
        let peak = timeGEMM(2048, &gemm)
        compute.apply()  // the GEMM ran BLAS on every thread; the kernels want it single-threaded again
        output.add("gemm_peak_gflops", peak)
        var convSeconds = 0.0, convFlops = 0.0
        for kind in OpKind.allCases {
            let seconds = (profile.seconds[kind] ?? 0) / Double(steps)
            output.add("profile_\(kind.rawValue)_s", seconds)
            output.add("profile_\(kind.rawValue)_share", seconds / (profile.totalSeconds / Double(steps)))
            guard let flops = profile.flops[kind], flops > 0 else { continue }
            output.add("profile_\(kind.rawValue)_gflops", flops / (seconds * Double(steps)) / 1e9)
            convSeconds += seconds
            convFlops += flops / Double(steps)
        }
        output.add("profile_conv_gflops", convFlops / convSeconds / 1e9)
        output.add("profile_conv_fraction_of_peak", convFlops / convSeconds / 1e9 / peak)
    }

    /// Times an n×n sgemm; returns its GFLOP/s (also in `output`).
    @discardableResult
    private func timeGEMM(_ n: Int, _ output: inout KeyValueOutput) -> Double {
        ComputeThreads.setBLASThreads(compute.threads)
        var generator = SeededGenerator(seed: seed)
        let a = (0..<(n * n)).map { _ in Float(generator.nextNormal()) }
        let b = (0..<(n * n)).map { _ in Float(generator.nextNormal()) }
        var c = [Float](repeating: 0, count: n * n)
        let times = timed {
            Float.gemm(transposeA: false, transposeB: false, m: n, n: n, k: n, alpha: 1, a: a, lda: n, b: b, ldb: n,
                       beta: 0, c: &c, ldc: n)
        }
        output.add("gemm_n", n)
        output.add("threads", compute.threads)
        summarise("gemm", times, &output, images: false)
        let gflops = 2 * pow(Double(n), 3) / median(times) / 1e9
        output.add("gemm_gflops", gflops)
        return gflops
    }

    private func timed(_ action: () -> Void) -> [Double] {
        for _ in 0..<warmup { action() }
        return (0..<steps).map { _ in seconds(action) }
    }

    private func repeated(_ action: () throws -> Void) rethrows -> [Double] {
        try (0..<scoreReps).map { _ in try seconds(action) }
    }

    private func seconds(_ action: () throws -> Void) rethrows -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        try action()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    private func summarise(_ name: String, _ times: [Double], _ output: inout KeyValueOutput, images: Bool = true) {
        output.add("\(name)_s", median(times))
        output.add("\(name)_s_min", times.min()!)
        output.add("\(name)_s_max", times.max()!)
        if images { output.add("\(name)_images_per_s", Double(batch) / median(times)) }
    }

    private func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }
}
