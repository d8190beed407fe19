extension Adam {
    /// Carries the optimizer state through a network expansion, by path:
    /// for every grown tensor the first and second moments follow its old
    /// entries to their new positions, the new entries start at 0, and the
    /// step count is kept. Paths without a slot (running statistics, new
    /// parameters, parameters never stepped) are left alone: a new parameter
    /// starts from zero moments when it is first stepped.
    ///
    /// The step count is per tensor (as in PyTorch), so a grown tensor's new
    /// entries are bias-corrected for the tensor's age, not their own: in a
    /// long-trained tensor (corrections ≈ 1), under a steady gradient, their
    /// first step is ≈3.2× the learning rate and later ones up to ≈6.6×
    /// (the twelfth), where a fresh slot's are 1×.
    public mutating func migrate(_ growth: [String: TensorGrowth]) {
        for (path, growth) in growth {
            guard var slot = slots[path] else { continue }
            let oldCount = growth.oldShape.reduce(1, *)
            precondition(slot.firstMoment.count == oldCount,
                         "Adam.migrate: state of \(path) has \(slot.firstMoment.count) values, the growth expects \(oldCount)")
            slot.firstMoment = growth.embed(slot.firstMoment) { 0 }
            slot.secondMoment = growth.embed(slot.secondMoment) { 0 }
            slots[path] = slot
        }
    }
}
