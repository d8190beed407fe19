#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Random-access reading of a file's bytes, either from memory or from an open file.
///
/// The reader asks for small pieces first (length field, header) and only reads tensor data
/// once the header has been validated against `size`.
protocol ByteSource {
    /// Total size in bytes.
    var size: Int { get }
    /// Exactly `count` bytes starting at `offset`; the range lies within `0..<size`.
    func read(offset: Int, count: Int) throws -> [UInt8]
}

/// Bytes already in memory.
struct MemoryByteSource: ByteSource {
    /// The whole file.
    let bytes: [UInt8]
    var size: Int { bytes.count }
    func read(offset: Int, count: Int) throws -> [UInt8] { Array(bytes[offset..<(offset + count)]) }
}

/// An open file read with `pread`; closes its descriptor when released.
final class FileByteSource: ByteSource {
    /// Path used in error messages.
    let path: String
    let size: Int
    private let descriptor: Int32

    /// Opens `path` read-only and records its size; throws naming the failing call's error.
    init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SafeTensorsError(path: path, message: "cannot open: \(SystemError.text(errno))") }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let code = errno
            close(fd)
            throw SafeTensorsError(path: path, message: "cannot stat: \(SystemError.text(code))")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw SafeTensorsError(path: path, message: "not a regular file")
        }
        descriptor = fd
        size = Int(info.st_size)
    }

    deinit { close(descriptor) }

    func read(offset: Int, count: Int) throws -> [UInt8] {
        try [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            var done = 0
            while done < count {
                let result = pread(descriptor, buffer.baseAddress! + done, count - done, off_t(offset + done))
                if result < 0 {
                    if errno == EINTR { continue }
                    throw SafeTensorsError(path: path, offset: offset + done, message: "read failed: \(SystemError.text(errno))")
                }
                if result == 0 {
                    throw SafeTensorsError(path: path, offset: offset + done, message: "file ended early: it shrank while being read (expected \(size) bytes)")
                }
                done += result
            }
            initialized = count
        }
    }
}

/// Text for `errno` values.
enum SystemError {
    /// The `strerror` text for `code`.
    static func text(_ code: Int32) -> String {
        guard let cString = strerror(code) else { return "error \(code)" }
        return String(cString: cString)
    }
}
