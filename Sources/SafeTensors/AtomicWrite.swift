import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

#if canImport(Glibc)
/// The C `write`, named so it cannot be confused with `AtomicWrite.write`.
private let systemWrite = Glibc.write
#else
/// The C `write`, named so it cannot be confused with `AtomicWrite.write`.
private let systemWrite = Darwin.write
#endif

/// Replacing a file atomically: write a temporary file beside it, fsync, rename, fsync the directory.
public enum AtomicWrite {
    /// Writes `bytes` to `path` so that readers see either the old file or the complete new one.
    ///
    /// On failure the temporary file is removed, any previous file at `path` is left intact, and a
    /// `SafeTensorsError` is thrown whose message is `not written: <strerror text> (<step>)`.
    public static func write(_ bytes: [UInt8], toPath path: String) throws {
        let (directory, name) = split(path)
        guard !name.isEmpty else { throw failure(path, EISDIR, "the path names a directory") }
        let tempPath = "\(directory)/.\(name).tmp-\(getpid())-\(String(UInt64.random(in: 0...UInt64.max), radix: 16))"

        let fd = open(tempPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw failure(path, errno, "creating temporary file \(tempPath)") }
        var descriptorOpen = true
        var renamed = false
        defer {
            if descriptorOpen { close(fd) }
            if !renamed { unlink(tempPath) }
        }

        try bytes.withUnsafeBytes { buffer in
            var done = 0
            while done < buffer.count {
                let result = systemWrite(fd, buffer.baseAddress! + done, buffer.count - done)
                if result < 0 {
                    if errno == EINTR { continue }
                    throw failure(path, errno, "writing temporary file \(tempPath) after \(done) of \(buffer.count) bytes")
                }
                if result == 0 { throw failure(path, ENOSPC, "writing temporary file \(tempPath): write returned 0 after \(done) of \(buffer.count) bytes") }
                done += result
            }
        }
        guard fsync(fd) == 0 else { throw failure(path, errno, "syncing temporary file \(tempPath)") }
        descriptorOpen = false
        guard close(fd) == 0 else { throw failure(path, errno, "closing temporary file \(tempPath)") }
        guard rename(tempPath, path) == 0 else { throw failure(path, errno, "renaming \(tempPath) over the target") }
        renamed = true

        let directoryFD = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard directoryFD >= 0 else { throw failure(path, errno, "opening directory \(directory) to sync the rename; the new file is in place but may not survive a crash") }
        defer { close(directoryFD) }
        // Some file systems cannot fsync a directory (EINVAL); the rename itself has succeeded.
        if fsync(directoryFD) != 0 && errno != EINVAL {
            throw failure(path, errno, "syncing directory \(directory); the new file is in place but may not survive a crash")
        }
    }

    /// Removes the temporary files that writes in `directory` left behind
    /// when their process was killed (`.NAME.tmp-PID-RANDOM`, PID no longer
    /// running); returns their names. A live process's files stay.
    @discardableResult
    public static func removeStaleTemporaries(in directory: String) -> [String] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        return names.filter { name in
            guard name.hasPrefix("."), let marker = name.range(of: ".tmp-", options: .backwards) else { return false }
            let fields = name[marker.upperBound...].split(separator: "-")
            guard fields.count == 2, let pid = Int32(fields[0]), pid != getpid() else { return false }
            guard kill(pid, 0) != 0, errno == ESRCH else { return false }
            return unlink("\(directory)/\(name)") == 0
        }
    }

    /// The directory (`.` when there is no slash) and last component of `path`.
    private static func split(_ path: String) -> (directory: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let directory = String(path[..<slash])
        return (directory.isEmpty ? "/" : directory, String(path[path.index(after: slash)...]))
    }

    private static func failure(_ path: String, _ code: Int32, _ step: String) -> SafeTensorsError {
        SafeTensorsError(path: path, message: "not written: \(SystemError.text(code)) (\(step))")
    }
}
