import ArgumentParser
import Foundation
import SECNNDistributed

/// The processes of a data-parallel run (`mpirun -np N secnn train …`),
/// joined on first use; nil in a plain run, which never touches MPI.
enum DataParallel {
    static let joined: MPIProcesses? = {
        do { return try MPIProcesses.join() } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            exit(1)
        }
    }()

    /// The processes to train with: nil alone, and under `mpirun -np 1`.
    static var processes: MPIProcesses? { joined.flatMap { $0.size > 1 ? $0 : nil } }

    /// Runs `body` as one process of the run: an error on any process ends
    /// the whole job with that process's message (the others must not wait
    /// for it in a collective call), and a finished run leaves MPI. An exit
    /// code is no error: the processes agree on an interruption step by step.
    static func run(_ body: () throws -> Void) throws {
        do { try body() } catch let code as ExitCode {
            joined?.finish()
            throw code
        } catch {
            if let processes {
                FileHandle.standardError.write(Data("error: process \(processes.rank) of \(processes.size): \(error)\n".utf8))
                processes.abort(code: 1)
            }
            joined?.finish()
            throw error
        }
        joined?.finish()
    }
}
