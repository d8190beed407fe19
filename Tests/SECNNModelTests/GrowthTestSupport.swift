import SECNNCore
import SECNNModel
import XCTest

// Helpers shared by the growth tests (expansion structure, function
// preservation, optimizer migration).

/// A network whose every state tensor is random (running variances
/// positive), so no old value coincides with what an expansion fills in.
func randomNetwork(_ spec: ArchitectureSpec, _ generator: inout SeededGenerator) throws -> SECNNNetwork<Float> {
    var tensors: [String: Tensor<Float>] = [:]
    for entry in spec.stateLayout {
        let count = entry.shape.reduce(1, *)
        let scalars = (0..<count).map { _ in
            let value = Float(generator.nextNormal() * 0.5)
            return entry.kind == .runningVariance ? abs(value) + 0.5 : value
        }
        tensors[entry.path] = Tensor(shape: entry.shape, scalars: scalars)
    }
    return try SECNNNetwork(spec: spec, tensors: tensors, source: "random")
}

/// Eval-mode logits (N, classes).
func evalLogits(_ network: SECNNNetwork<Float>, _ images: Tensor<Float>) -> Tensor<Float> {
    var network = network
    let graph = Graph<Float>(training: false)
    return graph.value(network.forward(graph, images: images).logits)
}

/// Eval-mode output of block `block` before its pool (N, C, H, W).
func blockFeatures(_ network: SECNNNetwork<Float>, _ block: Int, _ images: Tensor<Float>) -> Tensor<Float> {
    var network = network
    let graph = Graph<Float>(training: false)
    var parameters: [String: Variable] = [:]
    for path in network.parameterPaths { parameters[path] = graph.parameter(network.state.tensor(path), path: path) }
    var boundary = BlockBoundary(main: graph.input(images), skip: nil)
    for earlier in 0..<block { boundary = network.forwardBlock(earlier, graph, from: boundary, parameters: parameters) }
    return graph.value(network.forwardLayers(of: block, graph, input: boundary.main, parameters: parameters))
}

/// The fraction of rows of `logits` whose largest entry is at the label.
func accuracy(_ logits: Tensor<Float>, _ labels: [Int32]) -> Double {
    let classes = logits.shape[1]
    let correct = labels.indices.filter { n in
        let row = logits.scalars[(n * classes)..<((n + 1) * classes)]
        return row.indices.max { row[$0] < row[$1] }! - n * classes == Int(labels[n])
    }.count
    return Double(correct) / Double(labels.count)
}

/// Asserts a grown network's state is what loading it would give: the
/// architecture's paths in state-dict order with their shapes, and the
/// same network back from `SECNNNetwork(spec:tensors:source:)`.
func assertValidState(_ network: SECNNNetwork<Float>, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
    let layout = network.spec.stateLayout
    XCTAssertEqual(network.state.paths, layout.map(\.path), "\(what): state-dict order", file: file, line: line)
    for entry in layout {
        XCTAssertEqual(network.state[entry.path]?.shape, entry.shape, "\(what): \(entry.path)", file: file, line: line)
    }
    let tensors = Dictionary(uniqueKeysWithValues: network.state.entries.map { ($0.path, $0.tensor) })
    XCTAssertEqual(try SECNNNetwork(spec: network.spec, tensors: tensors, source: what), network,
                   "\(what): round trip through the checking initializer", file: file, line: line)
}

/// Asserts `new` is `old`, bit for bit, in the same buffer (not copied).
func assertShared(_ old: Tensor<Float>, _ new: Tensor<Float>?, _ what: String, file: StaticString = #filePath,
                  line: UInt = #line) {
    guard let new else { return XCTFail("\(what): missing", file: file, line: line) }
    XCTAssertEqual(new.shape, old.shape, what, file: file, line: line)
    XCTAssertEqual(new.scalars.map(\.bitPattern), old.scalars.map(\.bitPattern), what, file: file, line: line)
    let sameBuffer = old.scalars.withUnsafeBufferPointer { o in new.scalars.withUnsafeBufferPointer { $0.baseAddress == o.baseAddress } }
    XCTAssertTrue(sameBuffer, "\(what): copied instead of shared", file: file, line: line)
}
