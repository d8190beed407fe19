// Small helpers shared by the loaders: whole-file reads and byte -> Float scaling.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

enum FileIO {
    /// Reads a whole regular file into memory, or throws a `DatasetError` naming `path`.
    static func read(_ path: String) throws -> [UInt8] {
        var info = stat()
        guard stat(path, &info) == 0 else {
            let reason = errno == ENOENT ? "file not found" : "cannot open: \(String(cString: strerror(errno)))"
            throw DatasetError(file: path, message: reason)
        }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            throw DatasetError(file: path, message: "is a directory, expected a file")
        }
        guard let file = fopen(path, "rb") else {
            throw DatasetError(file: path, message: "cannot open: \(String(cString: strerror(errno)))")
        }
        defer { fclose(file) }
        let size = Int(info.st_size)
        guard size > 0 else { return [] }
        let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            initialized = fread(buffer.baseAddress!, 1, size, file)
        }
        guard bytes.count == size else {
            throw DatasetError(file: path, location: "offset \(bytes.count)",
                               message: "read error: got \(bytes.count) of \(size) bytes")
        }
        return bytes
    }

    /// Whether `path` exists and is a directory.
    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// Whether anything exists at `path`.
    static func exists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }

    /// The names in a directory (without `.` and `..`), or a `DatasetError` naming it.
    static func contents(_ directory: String) throws -> [String] {
        guard let stream = opendir(directory) else {
            throw DatasetError(file: directory, message: "cannot list: \(String(cString: strerror(errno)))")
        }
        defer { closedir(stream) }
        var names: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != ".", name != ".." { names.append(name) }
        }
        return names
    }

    /// Joins a directory and a file name with one `/`.
    static func join(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }
}

/// Converts `count` bytes at `source` to `[0, 1]` floats at `destination`.
@inline(__always)
func convertBytes(_ source: UnsafePointer<UInt8>, _ destination: UnsafeMutablePointer<Float>, count: Int) {
    // A plain loop over an exact division vectorizes (cvt + divps).
    for i in 0 ..< count {
        destination[i] = Float(source[i]) / 255
    }
}
