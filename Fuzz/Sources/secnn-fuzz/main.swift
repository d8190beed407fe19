// secnn-fuzz --target=NAME [libFuzzer flags] [CORPUS_DIR...]
// secnn-fuzz --list
//
// Runs libFuzzer on one of secnn's readers (FUZZING.md). libFuzzer ignores
// arguments that start with `--`, so `--target=` passes through.
import CLibFuzzer
import Foundation
import SECNNFuzzing

let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
if CommandLine.arguments.contains("--list") {
    print(FuzzTarget.allCases.map(\.rawValue).joined(separator: "\n"))
    exit(0)
}
guard let name = CommandLine.arguments.last(where: { $0.hasPrefix("--target=") })?.dropFirst("--target=".count) else {
    FileHandle.standardError.write(Data("usage: secnn-fuzz --target=NAME [libFuzzer flags] [CORPUS_DIR...]; targets: \(names)\n".utf8))
    exit(64)
}
guard let target = FuzzTarget(rawValue: String(name)) else {
    FileHandle.standardError.write(Data("secnn-fuzz: unknown target \(name); the targets are \(names)\n".utf8))
    exit(64)
}
// The callback is a C function pointer and cannot capture: the target goes through a global.
nonisolated(unsafe) var chosen = target
var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in
    _ = chosen.run(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
})
