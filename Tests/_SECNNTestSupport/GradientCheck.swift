import SECNNCore

/// Checks reverse-mode gradients against central finite differences, in
/// Double.
///
/// `build(graph, inputs)` records a computation on a fresh graph from the
/// given input tensors and returns its (not necessarily scalar) output; the
/// check reduces it to the scalar Σ output·R with a fixed random R, so every
/// output element's gradient path is exercised. Returns the largest relative
/// error over the inputs (see `relativeError`).
public func gradientCheckError(
    inputs: [Tensor<Double>], training: Bool = true, step: Double = 1e-6, seed: UInt64 = 7,
    build: (Graph<Double>, [Variable]) -> Variable
) -> Double {
    var weights: [Double] = []
    func loss(_ values: [Tensor<Double>], analytic: Bool) -> (Double, [Tensor<Double>]) {
        // A fresh graph with the same seed each time: identical dropout masks.
        let graph = Graph<Double>(training: training, generator: SeededGenerator(seed: seed))
        let variables = values.map { graph.input($0, differentiable: true) }
        let output = build(graph, variables)
        let y = graph.value(output)
        if weights.isEmpty {
            var generator = SeededGenerator(seed: seed &+ 1)
            weights = (0..<y.count).map { _ in generator.nextNormal() }
        }
        let r = graph.input(Tensor(shape: y.shape, scalars: weights))
        let total = graph.linear(graph.reshape(output, to: [1, y.count]), weight: graph.reshape(r, to: [1, y.count]),
                                 bias: nil)
        let value = graph.value(total).scalars[0]
        guard analytic else { return (value, []) }
        graph.backward(from: total)
        return (value, variables.map { graph.gradient($0) ?? Tensor(zeros: graph.value($0).shape) })
    }
    let (_, analytic) = loss(inputs, analytic: true)
    var worst = 0.0
    for (index, input) in inputs.enumerated() {
        var numeric = [Double](repeating: 0, count: input.count)
        for i in 0..<input.count {
            var plus = inputs, minus = inputs
            plus[index].scalars[i] += step
            minus[index].scalars[i] -= step
            numeric[i] = (loss(plus, analytic: false).0 - loss(minus, analytic: false).0) / (2 * step)
        }
        worst = max(worst, relativeError(analytic[index].scalars, numeric))
    }
    return worst
}
