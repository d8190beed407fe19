import Dispatch

/// A handle to a value recorded on a `Graph`.
public struct Variable: Hashable, Sendable {
    public let id: Int
}

/// Reverse-mode automatic differentiation on a tape.
///
/// Each op computes its value at once and records a backward step beside it
/// (see `Graph+Ops.swift`); the tape's order is a topological order, so
/// `backward(from:)` is one reverse walk. Backward steps accumulate into the
/// gradients of their inputs. Intermediate gradients are released as soon as
/// their op has run; the gradients of leaves made with `parameter` or
/// `input(_:differentiable: true)` are kept for the caller.
///
/// With `collectsPerExampleRecords`, every op with parameters keeps its input
/// and the gradient of its output (`PerExampleRecord`), from which the
/// per-example weight gradients and the Fisher/K-FAC statistics follow.
public final class Graph<T: TensorScalar> {
    /// Train mode: batch norm normalises with batch statistics.
    public let training: Bool
    /// Whether dropout drops (train mode unless turned off, e.g. to compare
    /// with a reference run that has its dropout layers in eval mode).
    public let dropoutEnabled: Bool
    /// An inference graph: eval mode, nothing differentiable, and the model
    /// may `release` each value as soon as the next op has read it, so a
    /// forward pass holds about one layer's activations instead of all.
    public let inference: Bool
    public var collectsPerExampleRecords = false
    /// Whether conv layers accumulate their batch weight and bias gradients.
    /// A caller that only needs the per-example records (scoring) turns it
    /// off and saves a weight-gradient GEMM per conv layer and image; the
    /// gradients of inputs still flow.
    public var computesParameterGradients = true
    /// When set, every op's forward and backward time is added to it.
    public var profile: OpProfile? {
        didSet { lastRecord = DispatchTime.now().uptimeNanoseconds }
    }
    /// Draws the dropout masks.
    public var generator: SeededGenerator
    /// In a data-parallel step, the part of the global batch this graph
    /// computes: batch norm then normalises with the global batch's
    /// statistics, and dropout draws the global batch's masks and applies
    /// this shard's, so the processes together compute what one process
    /// would on the whole batch. `nil`: the graph holds the whole batch.
    public var shard: BatchShard?
    public private(set) var perExampleRecords: [PerExampleRecord<T>] = []

    private var values: [Tensor<T>] = []
    /// Every value's shape, kept when the value itself is released.
    private var shapes: [[Int]] = []
    private var released: [Bool] = []
    private var gradients: [Tensor<T>?] = []
    private var needsGradient: [Bool] = []
    private var keepsGradient: [Bool] = []
    private var backwardSteps: [((Graph<T>, Int) -> Void)?] = []
    private var kinds: [OpKind?] = []
    private var lastRecord: UInt64 = 0
    /// How to recompute a value that ops do not keep for the backward pass.
    private var rematerialisers: [Int: () -> Tensor<T>] = [:]
    private var parameterIDs: [String: Int] = [:]
    private var parameterPaths: [Int: String] = [:]

    public convenience init(training: Bool, dropout: Bool? = nil, generator: SeededGenerator = SeededGenerator(seed: 0)) {
        self.init(training: training, dropout: dropout ?? training, generator: generator, inference: false)
    }

    /// An inference graph (`inference`): batch norm on running statistics, no dropout, no backward pass.
    public static func inference() -> Graph {
        Graph(training: false, dropout: false, generator: SeededGenerator(seed: 0), inference: true)
    }

    private init(training: Bool, dropout: Bool, generator: SeededGenerator, inference: Bool) {
        self.training = training
        dropoutEnabled = dropout
        self.generator = generator
        self.inference = inference
    }

    // MARK: Leaves

    /// A leaf: data, or (differentiable) a value whose gradient is wanted.
    public func input(_ value: Tensor<T>, differentiable: Bool = false) -> Variable {
        let differentiable = differentiable && !inference
        return append(value, needsGradient: differentiable, keepsGradient: differentiable, backward: nil)
    }

    /// A trainable leaf, addressed by its stable path (`blocks.0.layers.0.conv.weight`).
    public func parameter(_ value: Tensor<T>, path: String) -> Variable {
        let variable = input(value, differentiable: true)
        parameterIDs[path] = variable.id
        parameterPaths[variable.id] = path
        return variable
    }

    // MARK: Reading results

    public func value(_ variable: Variable) -> Tensor<T> {
        precondition(!released[variable.id], "value: variable \(variable.id) was released by releaseValues(keeping:)")
        return values[variable.id]
    }

    /// Drops the graph's own reference to every value but those of `kept`
    /// and the leaves. A backward step keeps what it needs through its own
    /// references, so what no step needs (a batch norm's output, which only
    /// the next activation read) is freed, and so is what a step can
    /// recompute (a fused batch norm + LeakyReLU's output, which the next
    /// conv's weight gradient gets from `valueForBackward`): called between
    /// the forward and the backward pass, it lowers a training step's peak
    /// memory.
    public func releaseValues(keeping kept: [Variable]) {
        let keep = Set(kept.map(\.id))
        release(values.indices.filter { !keep.contains($0) }.map(Variable.init))
    }

    /// Drops the graph's reference to the values of these op results
    /// (leaves stay), which no later op will read.
    public func release(_ variables: [Variable]) {
        for variable in variables where kinds[variable.id] != nil {
            values[variable.id] = Tensor(shape: [0], scalars: [])
            released[variable.id] = true
        }
    }

    public func gradient(_ variable: Variable) -> Tensor<T>? { gradients[variable.id] }

    /// The gradient of every parameter, by path (zeros for parameters the
    /// loss does not depend on).
    public func parameterGradients() -> [String: Tensor<T>] {
        parameterIDs.mapValues { gradients[$0] ?? Tensor(zeros: shapes[$0]) }
    }

    /// Runs every backward step from `loss`, a scalar, seeded with d loss/d loss = 1.
    public func backward(from loss: Variable) {
        precondition(!inference, "backward: an inference graph records no backward steps")
        precondition(shapes[loss.id].reduce(1, *) == 1, "backward needs a scalar loss, got shape \(shapes[loss.id])")
        backward(seeds: [(loss, Tensor(repeating: 1, shape: shapes[loss.id]))])
    }

    /// Runs the backward steps from several variables at once, each seeded
    /// with a given gradient (seeds of the same variable add up). This
    /// chains graphs: the gradients of a later graph's inputs seed the
    /// graph that computed them. Earlier gradients and per-example records
    /// are cleared first, so one recorded forward pass can be
    /// differentiated several times, once per downstream graph.
    public func backward(seeds: [(Variable, Tensor<T>)]) {
        gradients = Array(repeating: nil, count: values.count)
        perExampleRecords = []
        for (variable, seed) in seeds {
            precondition(seed.shape == shapes[variable.id],
                         "backward: seed of shape \(seed.shape) for a value of shape \(shapes[variable.id])")
            seed.withPointer { source in
                accumulateGradient(into: variable) { addInPlace(source, into: $0, count: seed.count) }
            }
        }
        guard let last = seeds.map(\.0.id).max() else { return }
        for id in stride(from: last, through: 0, by: -1) {
            guard gradients[id] != nil, let step = backwardSteps[id] else { continue }
            if let profile, let kind = kinds[id] {
                // A conv's backward starts as input-gradient time; the op moves its weight part (`convBackwardSeparately`).
                profile.measure(kind == .convForward ? .convBackwardData : kind) { step(self, id) }
            } else {
                step(self, id)
            }
            if !keepsGradient[id] { gradients[id] = nil }
        }
    }

    // MARK: For ops

    /// Records an op's result. `backward(graph, outputID)` runs during
    /// `backward(from:)` when the output has a gradient; it is dropped when no
    /// input needs one.
    ///
    /// `kind` and `flops` are for the profile: the forward time is the time
    /// since the previous record (ops compute their value just before).
    func record(_ value: Tensor<T>, inputs: [Variable], kind: OpKind, flops: Double = 0,
                backward: @escaping (Graph<T>, Int) -> Void) -> Variable {
        let needs = inputs.contains { needsGradient[$0.id] }
        if let profile {
            let now = DispatchTime.now().uptimeNanoseconds
            profile.add(kind, seconds: Double(now - lastRecord) / 1e9, flops: flops)
            lastRecord = now
        }
        let variable = append(value, needsGradient: needs, keepsGradient: false, backward: needs ? backward : nil)
        kinds[variable.id] = kind
        return variable
    }

    func needsGradient(_ variable: Variable) -> Bool { needsGradient[variable.id] }

    /// Makes `variable`'s value recomputable by `recompute` (which must give
    /// it bitwise), so that ops reading it in their backward step need not
    /// keep it.
    func setRematerialiser(of variable: Variable, _ recompute: @escaping () -> Tensor<T>) {
        rematerialisers[variable.id] = recompute
    }

    func isRematerialisable(_ variable: Variable) -> Bool { rematerialisers[variable.id] != nil }

    /// The value for a backward step: as recorded, or recomputed when
    /// `releaseValues` has dropped it (the caller holds it only as long as
    /// its step runs).
    func valueForBackward(_ variable: Variable) -> Tensor<T> {
        guard released[variable.id] else { return values[variable.id] }
        guard let recompute = rematerialisers[variable.id] else {
            preconditionFailure("valueForBackward: variable \(variable.id) was released and cannot be recomputed")
        }
        return recompute()
    }

    func gradient(ofOutput id: Int) -> Tensor<T> { gradients[id]! }

    /// Adds a contribution to `variable`'s gradient. `write` must overwrite
    /// the buffer it is given; when the variable already has a gradient (it
    /// feeds several ops), the contribution goes through a temporary.
    func addGradient(to variable: Variable, _ write: (UnsafeMutablePointer<T>) -> Void) {
        guard needsGradient[variable.id] else { return }
        let contribution = Tensor<T>(shape: shapes[variable.id], initializingWith: write)
        guard var existing = gradients[variable.id] else {
            gradients[variable.id] = contribution
            return
        }
        gradients[variable.id] = nil  // keep the buffer uniquely referenced: no copy on write
        existing.scalars.withUnsafeMutableBufferPointer { sum in
            contribution.withPointer { addInPlace($0, into: sum.baseAddress!, count: sum.count) }
        }
        gradients[variable.id] = existing
    }

    /// Lets `accumulate` add (`+=`) into `variable`'s gradient in place
    /// (zeros first if it has none): for kernels that accumulate, like the
    /// weight gradients.
    func accumulateGradient(into variable: Variable, _ accumulate: (UnsafeMutablePointer<T>) -> Void) {
        guard needsGradient[variable.id] else { return }
        var gradient = gradients[variable.id] ?? Tensor(zeros: shapes[variable.id])
        gradients[variable.id] = nil  // keep the buffer uniquely referenced: no copy on write
        gradient.scalars.withUnsafeMutableBufferPointer { accumulate($0.baseAddress!) }
        gradients[variable.id] = gradient
    }

    func appendPerExampleRecord(_ record: PerExampleRecord<T>) {
        perExampleRecords.append(record)
    }

    /// The path of a parameter leaf (nil for anything else).
    func path(of variable: Variable) -> String? { parameterPaths[variable.id] }

    private func append(
        _ value: Tensor<T>, needsGradient needs: Bool, keepsGradient keeps: Bool,
        backward: ((Graph<T>, Int) -> Void)?
    ) -> Variable {
        values.append(value)
        shapes.append(value.shape)
        released.append(false)
        kinds.append(nil)
        gradients.append(nil)
        needsGradient.append(needs)
        keepsGradient.append(keeps)
        backwardSteps.append(backward)
        return Variable(id: values.count - 1)
    }
}
