import ArgumentParser
import CLua
import COpenBLAS

struct Version: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the versions of secnn and of the libraries it runs on (for bug reports).")

    func run() {
        var output = KeyValueOutput()
        output.add("secnn", SECNN.version)
        output.add("lua", String(cString: secnn_lua_release()))
        output.add("openblas", String(cString: openblas_get_config()))
        output.print()
    }
}
