import Foundation
import SECNNModel

/// What a run directory's record files say (`RunFiles`, the ladder): the
/// input of `secnn report`.
struct RunHistory {
    var name: String
    var settings: RunFiles.Configuration?
    var metrics: [RunFiles.MetricsRow]
    var rounds: [GrowthRound]
    var ladder: Ladder?

    init(directory: String) throws {
        name = (directory as NSString).lastPathComponent
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        func lines<Row: Decodable>(_ file: String, _ type: Row.Type) throws -> [Row] {
            let path = (directory as NSString).appendingPathComponent(file)
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ModelError.invalidConfiguration("\(path): missing; is \(directory) a run of `secnn train`?")
            }
            return try String(decoding: data, as: UTF8.self).split(separator: "\n").enumerated().map { index, line in
                do { return try decoder.decode(Row.self, from: Data(line.utf8)) } catch {
                    throw ModelError.invalidConfiguration("\(path):\(index + 1): not a \(file) line: \(error)")
                }
            }
        }
        metrics = try lines("metrics.jsonl", RunFiles.MetricsRow.self)
        rounds = try lines("events.jsonl", GrowthRound.self)
        settings = try? RunFiles.Configuration(run: directory)
        ladder = try? Ladder(run: directory)
    }

    /// Epochs after which the model grew.
    var expansionEpochs: [Int] { rounds.filter { $0.outcome == .expanded }.map(\.epoch) }
}
