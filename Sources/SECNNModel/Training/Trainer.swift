import Foundation
import SECNNCore
import SafeTensors

/// Receives a run's progress; the CLI prints it, tests may record it.
public protocol TrainingObserver: AnyObject {
    /// After each optimisation step of an epoch.
    func trainingStep(epoch: Int, step: Int, steps: Int, imagesPerSecond: Double)
    /// After each epoch's validation.
    func epochFinished(_ metrics: EpochMetrics, totalEpochs: Int, elapsed: Double, isBest: Bool)
}

/// What a finished run reports.
public struct TrainingSummary: Sendable {
    /// The final model's architecture and size.
    public var architecture: ArchitectureSpec
    public var parameters: Int
    public var epochs: Int
    public var bestEpoch: Int
    public var bestValidationAccuracy: Double
    /// Test figures of the best checkpoint (chosen on validation accuracy).
    public var test: EvaluationResult
    public var bestCheckpoint: String
    public var lastCheckpoint: String
    public var seconds: Double
}

/// Trains a SECNN network with the paper's recipe and keeps two checkpoints
/// in `directory`: `best.safetensors` (best validation accuracy so far) and
/// `last.safetensors` (end of the latest epoch).
///
/// With `processes` (a data-parallel run, `mpirun -np N`), each process
/// computes its shard of every global batch and the gradients are summed
/// across the processes before every process takes the same Adam step; batch
/// norm uses the global batch's statistics (`Graph.shard`). The processes
/// then hold the same model at every step, as one process training alone
/// would. Process 0 alone writes the directory.
public final class Trainer {
    public private(set) var network: SECNNNetwork<Float>
    public private(set) var optimizer: Adam<Float>
    public private(set) var state: TrainingState
    public let configuration: TrainingConfiguration
    public let data: TrainingData
    public let directory: String
    /// The processes of a data-parallel run (nil: this process alone).
    public let processes: (any Collective)?
    /// Whether this process writes the run's files: the only one, or process 0.
    public var writesFiles: Bool { (processes?.rank ?? 0) == 0 }
    /// In a data-parallel run, whether batch norm uses the global batch's
    /// statistics (the default: the result does not depend on the number of
    /// processes) or each process's own shard's (27 fewer small sums per
    /// step for 9 batch norms; the running statistics are then averaged over
    /// the processes after every epoch, so that the replicas stay equal).
    public var synchronisedBatchNorm = true

    public var bestCheckpointPath: String { (directory as NSString).appendingPathComponent("best.safetensors") }
    public var lastCheckpointPath: String { (directory as NSString).appendingPathComponent("last.safetensors") }

    /// Asked after every optimisation step but an epoch's last; when it says
    /// yes, the epoch stops there, `run` writes `last.safetensors` with the
    /// epoch's progress and throws `TrainingInterrupted`.
    public var stopRequested: () -> Bool = { false }

    /// Fails before any training if the configuration is invalid or the
    /// output directory cannot be created or written.
    public init(data: TrainingData, spec: ArchitectureSpec, configuration: TrainingConfiguration, directory: String,
                processes: (any Collective)? = nil) throws {
        try configuration.validate()
        self.processes = processes
        if (processes?.rank ?? 0) == 0 { try Self.prepareDirectory(directory) }
        var generator = SeededGenerator(seed: configuration.seed).derived(1)
        network = SECNNNetwork(spec: spec, generator: &generator)
        optimizer = Adam(learningRate: configuration.learningRate)
        state = TrainingState(learningRate: configuration.learningRate, seed: configuration.seed)
        self.configuration = configuration
        self.data = data
        self.directory = directory
    }

    /// Continues the run a checkpoint (normally `last.safetensors`) holds:
    /// its weights, optimizer, schedule, random streams and, when it was
    /// interrupted, the place in its epoch. The same data must come with it.
    public init(resuming checkpoint: Checkpoint, data: TrainingData, directory: String,
                processes: (any Collective)? = nil) throws {
        guard let configuration = checkpoint.configuration, let state = checkpoint.training,
              let optimizer = checkpoint.optimizer else {
            throw ModelError.invalidConfiguration(
                "\(directory): the checkpoint holds no training state to resume (is it a plain weights file?)")
        }
        try configuration.validate()
        self.processes = processes
        if (processes?.rank ?? 0) == 0 { try Self.prepareDirectory(directory) }
        network = checkpoint.network
        self.optimizer = optimizer
        self.state = state
        self.configuration = configuration
        self.data = data
        self.directory = directory
    }

    /// Runs the remaining epochs, then evaluates the best checkpoint on the
    /// test set (in a data-parallel run, on process 0; the others report
    /// their final model's test figures). `betweenEpochs` runs after each epoch's checkpoints are
    /// written, except after the last: where a growth run expands the model.
    /// An error it throws ends the run (the checkpoints stay as written).
    public func run(observer: TrainingObserver? = nil,
                    betweenEpochs: ((EpochMetrics) throws -> Void)? = nil) throws -> TrainingSummary {
        let start = Date()
        while state.epoch < configuration.epochs {
            let metrics: EpochMetrics
            do { metrics = try trainEpoch(observer: observer) } catch let interrupted as TrainingInterrupted {
                if writesFiles { try checkpoint().write(toPath: lastCheckpointPath) }
                throw interrupted
            }
            let isBest = state.bestEpoch == metrics.epoch
            if writesFiles {
                if isBest { try checkpoint().write(toPath: bestCheckpointPath) }
                try checkpoint().write(toPath: lastCheckpointPath)
            }
            observer?.epochFinished(metrics, totalEpochs: configuration.epochs, elapsed: Date().timeIntervalSince(start),
                                    isBest: isBest)
            if state.epoch < configuration.epochs { try betweenEpochs?(metrics) }
        }
        let tested = writesFiles ? try Checkpoint(contentsOf: bestCheckpointPath).network : network
        return TrainingSummary(
            architecture: network.spec, parameters: network.parameterCount, epochs: state.epoch,
            bestEpoch: state.bestEpoch,
            bestValidationAccuracy: state.bestValidationAccuracy, test: tested.evaluate(data.test),
            bestCheckpoint: bestCheckpointPath, lastCheckpoint: lastCheckpointPath,
            seconds: Date().timeIntervalSince(start))
    }

    /// The current weights, optimizer and training state.
    public func checkpoint() -> Checkpoint {
        Checkpoint(network: network, normalization: data.normalization, dataset: data.name, classNames: data.classNames,
                   configuration: configuration, training: state, optimizer: optimizer)
    }

    /// Continues with `network`, which `expansion` grew from the current
    /// network: Adam's moments and step counts follow every parameter by
    /// path (`Adam.migrate`), or with `restartingOptimizer` all start again
    /// from zero (as when a new optimizer is built after growth). Throws if
    /// the expansion does not lead from the current architecture to the
    /// network's.
    public func apply(_ network: SECNNNetwork<Float>, _ expansion: Expansion, restartingOptimizer: Bool = false) throws {
        guard expansion.before == self.network.spec, expansion.after == network.spec else {
            throw ModelError.invalidExpansion(
                "cannot apply '\(expansion)': it grows \(expansion.before) into \(expansion.after), "
                    + "but the trainer's network is \(self.network.spec) and the new one \(network.spec)")
        }
        self.network = network
        if restartingOptimizer { optimizer.slots = [:] } else { optimizer.migrate(expansion.growth) }
    }

    /// One epoch: a pass over the training data in a seeded random order,
    /// validation, and the run's bookkeeping (history, best epoch, the
    /// learning-rate schedule). `run` is a loop of these with checkpoints;
    /// a growth loop calls it between expansions.
    ///
    /// Throws `TrainingInterrupted` when `stopRequested` says so; the state
    /// then holds the epoch's progress, and the next call finishes the epoch.
    ///
    /// The metrics' (and the state's) learning rate is the one the epoch
    /// started with; under the cosine schedule each step's rate falls from it.
    public func trainEpoch(observer: TrainingObserver? = nil) throws -> EpochMetrics {
        let epochStart = Date()
        var progress = state.progress ?? EpochProgress(orderGenerator: state.shuffleGenerator)
        var orderGenerator = progress.orderGenerator
        var order = Array(0..<data.train.count)
        order.shuffle(using: &orderGenerator)
        state.shuffleGenerator = orderGenerator
        // A last batch of one cannot be batch-normalised (nor one that leaves a process without an image);
        // it waits for the next epoch's order.
        let remainder = data.train.count % configuration.batchSize
        let usable = remainder > 0 && remainder < max(2, processes?.size ?? 1) ? data.train.count - remainder
            : data.train.count
        let steps = (usable + configuration.batchSize - 1) / configuration.batchSize
        state.learningRate = learningRate(step: 0, of: steps)
        let flips = configuration.flips && data.flipAugmentation, padding = configuration.cropPadding
        for step in progress.step..<steps {
            optimizer.learningRate = learningRate(step: step, of: steps)
            let indices = order[(step * configuration.batchSize)..<min((step + 1) * configuration.batchSize, usable)]
            let augmentations = flips || padding > 0
                ? indices.map { _ in
                    ImageAugmentation.random(flips: flips, padding: padding, using: &state.augmentGenerator)
                } : nil
            // Every process draws the whole batch's augmentations (the same stream) and takes its shard's.
            let shard = processes.map {
                BatchShard(collective: $0, total: indices.count, synchronisesBatchNorm: synchronisedBatchNorm)
            }
            let local = shard?.range ?? 0..<indices.count
            let (images, labels) = data.train.batch(indices.dropFirst(local.lowerBound).prefix(local.count),
                                                    augmentations: augmentations.map { Array($0[local]) })
            let outcome = trainStep(images, labels, shard: shard, stopping: step + 1 < steps && stopRequested())
            progress.lossSum += outcome.loss * Double(indices.count)
            progress.correct += outcome.correct
            progress.seen += indices.count
            progress.step = step + 1
            observer?.trainingStep(epoch: state.epoch + 1, step: step + 1, steps: steps,
                                   imagesPerSecond: Double(progress.seen) / Date().timeIntervalSince(epochStart))
            if step + 1 < steps, outcome.stopping {
                state.progress = progress
                throw TrainingInterrupted(directory: directory, epoch: state.epoch + 1, step: step + 1, steps: steps)
            }
        }
        state.progress = nil
        if let processes, !synchronisedBatchNorm { averageRunningStatistics(over: processes) }
        let (lossSum, correct, seen) = (progress.lossSum, progress.correct, progress.seen)
        let trainSeconds = Date().timeIntervalSince(epochStart)
        let validation = network.evaluate(data.validation, processes: processes)
        state.epoch += 1
        let metrics = EpochMetrics(
            epoch: state.epoch, trainLoss: lossSum / Double(max(1, seen)),
            trainAccuracy: Double(correct) / Double(max(1, seen)), validationLoss: validation.loss,
            validationAccuracy: validation.accuracy, learningRate: state.learningRate,
            parameters: network.parameterCount, multiplyAdds: network.spec.multiplyAdds,
            seconds: Date().timeIntervalSince(epochStart),
            imagesPerSecond: Double(seen) / trainSeconds)
        state.history.append(metrics)
        // Under the cosine schedule plateaus never halve the rate.
        _ = state.observe(validationAccuracy: metrics.validationAccuracy,
                          patience: configuration.schedule.halvesOnPlateau ? configuration.patience : .max)
        return metrics
    }

    /// The rate of step `step` of `steps` in the current epoch, from the
    /// schedule and the state alone (so a resumed epoch gets the same rates).
    private func learningRate(step: Int, of steps: Int) -> Double {
        configuration.schedule.rate(base: configuration.learningRate, current: state.learningRate,
                                    epoch: state.epoch, epochs: configuration.epochs, step: step, steps: steps)
    }

    /// What one optimisation step reports: the global batch's mean
    /// cross-entropy (smoothed as trained), how many of its predictions were
    /// right, and whether any process was asked to stop after it.
    private struct StepResult {
        var loss: Double
        var correct: Int
        var stopping: Bool
    }

    /// Forward, cross-entropy (label-smoothed by the configuration) + L1,
    /// backward, Adam, on this process's `shard` of the batch (nil: all of
    /// it); in a data-parallel run the gradients and the figures are summed
    /// over the processes first, so every process takes the same step and
    /// they agree on whether to stop after it.
    private func trainStep(_ images: Tensor<Float>, _ labels: [Int32], shard: BatchShard?, stopping: Bool) -> StepResult {
        let graph = Graph<Float>(training: true, generator: state.dropoutGenerator)
        graph.shard = shard
        let (logits, parameters) = network.forward(graph, images: images)
        let crossEntropy = graph.crossEntropy(logits, labels: labels, smoothing: Float(configuration.labelSmoothing))
        let paths = network.parameterPaths
        let penalty = graph.l1Penalty(paths.map { parameters[$0]! }, strength: Float(configuration.l1))
        let loss = graph.add(crossEntropy, penalty)
        graph.releaseValues(keeping: [logits, crossEntropy, loss])
        graph.backward(from: loss)
        state.dropoutGenerator = graph.generator
        var gradients = graph.parameterGradients().mapValues(\.scalars)
        var result = StepResult(loss: Double(graph.value(crossEntropy).scalars[0]),
                                correct: countCorrect(graph.value(logits), labels), stopping: stopping)
        if let collective = shard?.collective {
            gradients = Self.summed(gradients, in: paths, over: collective)
            var figures = [result.loss, Double(result.correct), stopping ? 1 : 0]
            collective.sum(&figures)
            result = StepResult(loss: figures[0], correct: Int(figures[1]), stopping: figures[2] > 0)
        }
        for path in paths {
            network.update(path) { optimizer.step(path, parameter: &$0, gradient: gradients[path]!) }
        }
        return result
    }

    /// Every batch norm's running mean and variance replaced by their
    /// average over the processes (per-shard batch norm lets them drift apart).
    private func averageRunningStatistics(over processes: any Collective) {
        let paths = network.spec.stateLayout.filter { !$0.isParameter }.map(\.path)
        let averaged = processes.sum(paths.map { path in network.state.tensor(path).scalars.map { Double($0) } })
        for (path, values) in zip(paths, averaged) {
            network.update(path) { $0 = values.map { Float($0 / Double(processes.size)) } }
        }
    }

    /// Every process's `gradients` summed, through one flat buffer in `paths`
    /// order (one collective call per step, not one per tensor).
    private static func summed(_ gradients: [String: [Float]], in paths: [String],
                               over collective: any Collective) -> [String: [Float]] {
        Dictionary(uniqueKeysWithValues: zip(paths, collective.sum(paths.map { gradients[$0]! })))
    }

    /// Creates the output directory (and missing parents) and proves it
    /// writable with a probe file, so that a bad `--out` fails before the
    /// first epoch rather than at the first checkpoint, hours later.
    private static func prepareDirectory(_ directory: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw ModelError.invalidConfiguration(
                "output directory \(directory) cannot be created: \(creationFailure(directory, error))")
        }
        let probe = "\(directory)/.secnn-write-probe-\(getpid())"
        let descriptor = open(probe, O_CREAT | O_EXCL | O_WRONLY, 0o600)
        guard descriptor >= 0 else {
            throw ModelError.invalidConfiguration(
                "output directory \(directory) is not writable: \(String(cString: strerror(errno)))")
        }
        close(descriptor)
        unlink(probe)
        // A run killed while writing leaves a temporary file beside the checkpoint it was replacing.
        AtomicWrite.removeStaleTemporaries(in: directory)
    }

    /// Why `directory` could not be created: a file in the way, or the system's reason.
    private static func creationFailure(_ directory: String, _ error: Error) -> String {
        var ancestor = URL(fileURLWithPath: directory)
        while !FileManager.default.fileExists(atPath: ancestor.path), ancestor.path != "/" {
            ancestor.deleteLastPathComponent()
        }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: ancestor.path, isDirectory: &isDirectory), !isDirectory.boolValue {
            return "\(ancestor.path) is a file, not a directory"
        }
        if let underlying = (error as NSError).userInfo[NSUnderlyingErrorKey] as? NSError,
           underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code)))
        }
        return error.localizedDescription
    }
}

/// A run stopped on request (Ctrl-C, SIGTERM) in the middle of an epoch;
/// `last.safetensors` holds everything to continue it exactly.
public struct TrainingInterrupted: Error, CustomStringConvertible {
    public var directory: String
    public var epoch: Int
    public var step: Int
    public var steps: Int

    public var description: String {
        "interrupted in epoch \(epoch) after step \(step) of \(steps); \(directory)/last.safetensors holds the run. "
            + "Continue it with: secnn train --resume \(directory)"
    }
}
