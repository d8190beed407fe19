import SECNNCore

/// A network as an ONNX model (opset 13) for inference: the eval-mode graph,
/// with batch norms as BatchNormalization nodes on their running statistics
/// and no dropout. Input `images` (N, C, H, W), normalised as the
/// checkpoint's normalisation says; output `logits` (N, classes). Tensor
/// names are the checkpoint's parameter paths.
///
/// Written with a small protobuf encoder (`ProtobufWriter`): the field
/// numbers below are those of onnx.proto (ModelProto, GraphProto,
/// NodeProto, AttributeProto, TensorProto, ValueInfoProto).
public enum ONNXExport {
    /// `metadata` becomes the model's metadata_props (e.g. the input normalisation).
    public static func model(of network: SECNNNetwork<Float>, producerVersion: String,
                             metadata: [(key: String, value: String)] = []) -> [UInt8] {
        var model = ProtobufWriter()
        model.int(1, 8)  // ir_version 8 (ONNX 1.10+)
        model.string(2, "secnn")
        model.string(3, producerVersion)
        model.message(7) { graph in Graph(network).write(into: &graph) }
        model.message(8) { opset in
            opset.string(1, "")
            opset.int(2, 13)
        }
        for (key, value) in metadata {
            model.message(14) { entry in
                entry.string(1, key)
                entry.string(2, value)
            }
        }
        return model.bytes
    }

    /// The nodes of the network, built in forward order.
    private struct Graph {
        let network: SECNNNetwork<Float>
        var nodes: [(op: String, inputs: [String], output: String, attributes: [Attribute])] = []
        private var counter = 0

        enum Attribute {
            case int(String, Int), float(String, Float), ints(String, [Int])
        }

        init(_ network: SECNNNetwork<Float>) {
            self.network = network
            build()
        }

        private mutating func node(_ op: String, _ inputs: [String], _ attributes: [Attribute] = []) -> String {
            counter += 1
            let output = "\(op.lowercased())_\(counter)"
            nodes.append((op, inputs, output, attributes))
            return output
        }

        private mutating func conv(_ x: String, _ prefix: String, kernel: Int, bias: Bool) -> String {
            let pad = kernel / 2
            return node("Conv", [x, "\(prefix).weight"] + (bias ? ["\(prefix).bias"] : []),
                        [.ints("kernel_shape", [kernel, kernel]), .ints("pads", [pad, pad, pad, pad])])
        }

        private mutating func batchNorm(_ x: String, _ prefix: String) -> String {
            node("BatchNormalization", [x] + ["weight", "bias", "running_mean", "running_var"].map { "\(prefix).\($0)" },
                 [.float("epsilon", Float(batchNormEpsilon))])
        }

        private mutating func leaky(_ x: String) -> String {
            node("LeakyRelu", [x], [.float("alpha", Float(ArchitectureSpec.slope))])
        }

        private mutating func pool(_ x: String) -> String {
            node("MaxPool", [x], [.ints("kernel_shape", [2, 2]), .ints("strides", [2, 2])])
        }

        private mutating func build() {
            var x = "images"
            var skip: String?
            for (b, block) in network.spec.blocks.enumerated() {
                for l in 0..<block.layers {
                    x = leaky(batchNorm(conv(x, ParameterPath.conv(b, l), kernel: 3, bias: l == 0),
                                        ParameterPath.batchNorm(b, l)))
                }
                x = pool(x)
                skip = skip.map { pool($0) } ?? x
            }
            x = node("Concat", [x, skip!], [.int("axis", 1)])
            x = leaky(conv(x, ParameterPath.mix, kernel: 1, bias: true))
            x = node("Flatten", [x], [.int("axis", 1)])
            x = node("Gemm", [x, "\(ParameterPath.fc1).weight", "\(ParameterPath.fc1).bias"], [.int("transB", 1)])
            x = leaky(batchNorm(x, ParameterPath.bn1))
            x = batchNorm(x, ParameterPath.bn2)
            x = node("Gemm", [x, "\(ParameterPath.fc2).weight", "\(ParameterPath.fc2).bias"], [.int("transB", 1)])
            nodes[nodes.count - 1].output = "logits"
        }

        func write(into graph: inout ProtobufWriter) {
            for node in nodes {
                graph.message(1) { n in
                    for input in node.inputs { n.string(1, input) }
                    n.string(2, node.output)
                    n.string(3, node.output)
                    n.string(4, node.op)
                    for attribute in node.attributes { n.message(5) { Self.write(attribute, into: &$0) } }
                }
            }
            graph.string(2, "secnn \(network.spec)")
            for (path, tensor) in network.state.entries {
                graph.message(5) { t in
                    for dim in tensor.shape { t.int(1, dim) }
                    t.int(2, 1)  // FLOAT
                    t.string(8, path)
                    t.data(9, tensor.scalars.withUnsafeBytes { Array($0) })  // little-endian on every platform secnn runs on
                }
            }
            let spec = network.spec
            graph.message(11) { Self.write(value: "images", dims: [nil, spec.inputChannels, spec.inputHeight, spec.inputWidth], into: &$0) }
            graph.message(12) { Self.write(value: "logits", dims: [nil, spec.classes], into: &$0) }
        }

        private static func write(_ attribute: Attribute, into a: inout ProtobufWriter) {
            switch attribute {
            case .int(let name, let value):
                a.string(1, name)
                a.int(3, value)
                a.int(20, 2)  // INT
            case .float(let name, let value):
                a.string(1, name)
                a.float(2, value)
                a.int(20, 1)  // FLOAT
            case .ints(let name, let values):
                a.string(1, name)
                for value in values { a.int(8, value) }
                a.int(20, 7)  // INTS
            }
        }

        /// A float tensor's name and shape; nil dimensions are the batch, named N.
        private static func write(value name: String, dims: [Int?], into v: inout ProtobufWriter) {
            v.string(1, name)
            v.message(2) { type in
                type.message(1) { tensor in
                    tensor.int(1, 1)  // FLOAT
                    tensor.message(2) { shape in
                        for dim in dims {
                            shape.message(1) { d in
                                if let dim { d.int(1, dim) } else { d.string(2, "N") }
                            }
                        }
                    }
                }
            }
        }
    }
}
