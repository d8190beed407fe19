// A convolution's weights in the layout its forward kernel multiplies by.
// Every call of `conv2dForward` with raw (O,C,K,K) weights rearranges them
// first — for a batch of 512 a pass too small to see, for one image a
// sizeable share of its time (Winograd's transform of a 32×32 layer's
// weights costs about as much as the layer's 8×8 convolution). A model that
// classifies images one at a time (`InferenceModel`) prepares its weights
// once and reuses them.

/// The weights (O,C,K,K) of a convolution of geometry `shape` as its forward
/// kernel reads them: Winograd's U (16, O, C) for the shapes that run as
/// F(2×2, 3×3), tap-major (K·K, O, C) for shifted taps, as given for im2col.
/// The layout depends on the image's geometry, not on the batch: the same
/// weights serve any batch of images of that size.
public struct ConvKernelWeights<T: TensorScalar>: Sendable {
    public let shape: Conv2dShape
    let values: [T]

    @_specialize(where T == Float)
    public init(_ weight: UnsafePointer<T>, shape s: Conv2dShape) {
        shape = s
        if s.usesWinograd {
            values = winogradWeights(weight, s)
        } else if s.usesShiftedTaps {
            let taps = s.kernel * s.kernel
            values = [T](unsafeUninitializedCapacity: s.weightCount) { buffer, initialized in
                for o in 0..<s.outChannels {
                    for c in 0..<s.inChannels {
                        for t in 0..<taps {
                            buffer[(t * s.outChannels + o) * s.inChannels + c] = weight[(o * s.inChannels + c) * taps + t]
                        }
                    }
                }
                initialized = s.weightCount
            }
        } else {
            values = Array(UnsafeBufferPointer(start: weight, count: s.weightCount))
        }
    }

    /// Whether these weights fit images of `other`'s geometry (any batch).
    func fits(_ other: Conv2dShape) -> Bool {
        var batchless = other
        batchless.batch = shape.batch
        return batchless == shape
    }
}
