import Foundation

/// Adam (Kingma & Ba), as PyTorch computes it, with its state kept per
/// parameter *path*, never per position: when a network grows, every
/// existing parameter keeps its moments and step count, and a new one starts
/// from zero.
public struct Adam<T: TensorScalar>: Sendable, Equatable {
    /// The moments and step count of one parameter tensor.
    public struct Slot: Sendable, Equatable, Codable {
        public var firstMoment: [T]
        public var secondMoment: [T]
        public var step: Int

        public init(firstMoment: [T], secondMoment: [T], step: Int) {
            self.firstMoment = firstMoment
            self.secondMoment = secondMoment
            self.step = step
        }
    }

    public var learningRate: Double
    public var beta1: Double
    public var beta2: Double
    public var epsilon: Double
    public var slots: [String: Slot] = [:]

    public init(learningRate: Double = 2e-3, beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
    }

    /// One Adam step of the parameter at `path` with its gradient:
    /// m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², p ← p − lr/(1−β₁ᵗ) · m / (√v/√(1−β₂ᵗ) + ε).
    @_specialize(where T == Float)
    public mutating func step(_ path: String, parameter: inout [T], gradient: [T]) {
        precondition(parameter.count == gradient.count, "Adam: \(path) has \(parameter.count) values, gradient \(gradient.count)")
        var slot = slots.removeValue(forKey: path)
            ?? Slot(firstMoment: Array(repeating: 0, count: parameter.count),
                    secondMoment: Array(repeating: 0, count: parameter.count), step: 0)
        precondition(slot.firstMoment.count == parameter.count,
                     "Adam: state of \(path) has \(slot.firstMoment.count) values, the parameter \(parameter.count)")
        slot.step += 1
        let stepSize = T(learningRate / (1 - Foundation.pow(beta1, Double(slot.step))))
        let correction2 = T((1 - Foundation.pow(beta2, Double(slot.step))).squareRoot())
        let (b1, b2, eps) = (T(beta1), T(beta2), T(epsilon))
        slot.firstMoment.withUnsafeMutableBufferPointer { m in
            slot.secondMoment.withUnsafeMutableBufferPointer { v in
                gradient.withUnsafeBufferPointer { g in
                    parameter.withUnsafeMutableBufferPointer { p in
                        for i in p.indices {
                            m[i] = b1 * m[i] + (1 - b1) * g[i]
                            v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i]
                            p[i] -= stepSize * m[i] / (T.sqrt(v[i]) / correction2 + eps)
                        }
                    }
                }
            }
        }
        slots[path] = slot
    }
}
