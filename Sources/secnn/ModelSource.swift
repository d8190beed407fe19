import ArgumentParser
import Foundation
import SECNNGrowth

/// A model named on the command line: a checkpoint file, or a run directory
/// (its best checkpoint, or with a parameter budget the most accurate rung of
/// its ladder within it).
struct ModelSource {
    /// The checkpoint file.
    var path: String
    /// The ladder rung it is, when chosen by a budget.
    var rung: Ladder.Rung?

    init(_ source: String, maxParams: Int?) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: source, isDirectory: &isDirectory) else {
            throw RuntimeError("\(source): no such checkpoint or run directory")
        }
        guard isDirectory.boolValue else {
            if maxParams != nil {
                throw ValidationError("--max-params chooses a rung of a run's ladder; \(source) is a checkpoint file")
            }
            path = source
            return
        }
        path = (source as NSString).appendingPathComponent("best.safetensors")
        guard let maxParams else { return }
        let ladder = try Ladder(run: source)
        guard let rung = ladder.best(maxParameters: maxParams) else {
            let smallest = ladder.rungs.map(\.parameters).min().map(String.init) ?? "none"
            throw RuntimeError("\(source): no rung has at most \(maxParams) parameters (the smallest has \(smallest))")
        }
        path = (source as NSString).appendingPathComponent(rung.file)
        self.rung = rung
    }
}
