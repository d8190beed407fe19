/// How one tensor grew when a network expanded: its old shape and, along
/// some axes, a run of new entries inserted at one position.
///
/// The single description of a growth that everything keyed by the tensor's
/// path follows: the network's values (old values kept, new ones drawn),
/// and the optimizer's moments (old ones kept, new ones zero). Along an axis
/// with an insertion `(at: i, count: k)`, old index `j` moves to `j` if
/// `j < i` and to `j + k` otherwise; an entry is new when any of its
/// coordinates falls in an inserted run.
public struct TensorGrowth: Codable, Equatable, Sendable {
    /// `count` new entries inserted along `axis` before old index `at`
    /// (`at` = the old extent appends them).
    public struct Insertion: Codable, Equatable, Sendable {
        public var axis: Int
        public var at: Int
        public var count: Int

        public init(axis: Int, at: Int, count: Int) {
            self.axis = axis
            self.at = at
            self.count = count
        }
    }

    public let oldShape: [Int]
    /// At most one per axis, in increasing axis order.
    public let insertions: [Insertion]

    public init(oldShape: [Int], insertions: [Insertion]) {
        let sorted = insertions.sorted { $0.axis < $1.axis }
        for (index, insertion) in sorted.enumerated() {
            precondition(oldShape.indices.contains(insertion.axis),
                         "TensorGrowth: axis \(insertion.axis) of a rank-\(oldShape.count) tensor")
            precondition((0...oldShape[insertion.axis]).contains(insertion.at) && insertion.count > 0,
                         "TensorGrowth: insertion of \(insertion.count) at \(insertion.at) along an axis of \(oldShape[insertion.axis])")
            precondition(index == 0 || sorted[index - 1].axis != insertion.axis,
                         "TensorGrowth: two insertions along axis \(insertion.axis)")
        }
        self.oldShape = oldShape
        self.insertions = sorted
    }

    public var newShape: [Int] {
        var shape = oldShape
        for insertion in insertions { shape[insertion.axis] += insertion.count }
        return shape
    }

    /// The old tensor's scalars (row-major, `oldShape`) placed at their new
    /// positions in a row-major tensor of `newShape`; every new entry is
    /// `fill()`, called in row-major order of the new tensor (so a seeded
    /// generator behind `fill` gives the same tensor every time).
    public func embed<T>(_ old: [T], fill: () -> T) -> [T] {
        precondition(old.count == oldShape.reduce(1, *),
                     "TensorGrowth.embed: \(old.count) values for shape \(oldShape)")
        guard !oldShape.isEmpty else { return old }
        let newShape = newShape, rank = oldShape.count
        var oldStrides = [Int](repeating: 1, count: rank)
        for axis in stride(from: rank - 2, through: 0, by: -1) { oldStrides[axis] = oldStrides[axis + 1] * oldShape[axis + 1] }
        let insertionOf: [Insertion?] = (0..<rank).map { axis in insertions.first { $0.axis == axis } }

        var result: [T] = []
        result.reserveCapacity(newShape.reduce(1, *))
        // `offset` is the old flat offset of the coordinates fixed so far,
        // nil once one of them is in an inserted run.
        func walk(_ axis: Int, _ offset: Int?) {
            for index in 0..<newShape[axis] {
                var next: Int? = nil
                if let offset, let old = Self.oldIndex(of: index, insertionOf[axis]) { next = offset + old * oldStrides[axis] }
                if axis == rank - 1 { result.append(next.map { old[$0] } ?? fill()) } else { walk(axis + 1, next) }
            }
        }
        walk(0, 0)
        return result
    }

    /// The old index along an axis of the new index `index`, or nil if it is new.
    private static func oldIndex(of index: Int, _ insertion: Insertion?) -> Int? {
        guard let insertion, index >= insertion.at else { return index }
        return index < insertion.at + insertion.count ? nil : index - insertion.count
    }
}
