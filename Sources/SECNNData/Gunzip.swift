// gzip decompression through zlib, with a hard cap on the output size.
import CZlib

/// gzip decompression (via zlib) that never produces more than a caller-given
/// number of bytes, so a small malicious file (a "gzip bomb") cannot exhaust memory.
///
/// Errors are `DatasetError`s naming `source`. Problems with the compressed
/// stream itself (not gzip, corrupt, truncated) are located at
/// `"compressed offset N"`, a byte offset in the gzip file; exceeding the cap is
/// located at `"offset N"`, the offset in the decompressed data where the excess begins.
/// Concatenated gzip members are decompressed one after another; bytes after the
/// last member that do not start a new member are ignored.
public enum Gunzip {
    /// Decompresses all of `input`.
    ///
    /// - Parameters:
    ///   - input: the gzip file's bytes.
    ///   - maxOutput: the most decompressed bytes allowed. Inflating stops as soon
    ///     as the output would exceed it, and a `DatasetError` is thrown.
    ///   - source: file name used in errors.
    ///   - limitDescription: how to describe the cap in the error message, e.g.
    ///     `"the 60008 bytes the IDX header declares"`; defaults to `"the limit of N bytes"`.
    /// - Returns: the decompressed bytes (at most `maxOutput`).
    public static func decompress(_ input: [UInt8], maxOutput: Int, source: String,
                                  limitDescription: String? = nil) throws -> [UInt8] {
        precondition(maxOutput >= 0, "Gunzip.decompress: negative maxOutput")
        let result = try inflate(input, limit: maxOutput, source: source, stopAtLimit: false)
        if result.overflowed {
            let cap = limitDescription ?? "the limit of \(maxOutput) bytes"
            throw DatasetError(
                file: source, location: "offset \(maxOutput)",
                message: "decompressed data is larger than \(cap); stopped inflating (corrupt file or gzip bomb)")
        }
        return result.bytes
    }

    /// Decompresses only the first `count` bytes of `input` (fewer if the data is
    /// shorter), e.g. to read a header before deciding how much output to allow.
    public static func decompressPrefix(_ input: [UInt8], count: Int, source: String) throws -> [UInt8] {
        precondition(count >= 0, "Gunzip.decompressPrefix: negative count")
        return try inflate(input, limit: count, source: source, stopAtLimit: true).bytes
    }

    /// Inflates into a buffer that grows up to `limit + 1` bytes. With `stopAtLimit`,
    /// returns the first `limit` bytes once they exist; otherwise reports
    /// `overflowed` as soon as byte `limit + 1` is produced.
    private static func inflate(_ input: [UInt8], limit: Int, source: String,
                                stopAtLimit: Bool) throws -> (bytes: [UInt8], overflowed: Bool) {
        guard !input.isEmpty else {
            throw DatasetError(file: source, location: "compressed offset 0", message: "file is empty, expected gzip data")
        }
        guard input.count >= 2, input[0] == 0x1f, input[1] == 0x8b else {
            let found = input.prefix(2).map { "0x" + hex($0) }.joined(separator: " ")
            throw DatasetError(file: source, location: "compressed offset 0",
                               message: "not a gzip file: starts with \(found), expected 0x1f 0x8b")
        }
        var stream = z_stream()
        let initStatus = inflateInit2_(&stream, 15 + 32, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard initStatus == Z_OK else {
            throw DatasetError(file: source, message: "zlib inflateInit2 failed with status \(initStatus)")
        }
        defer { inflateEnd(&stream) }

        let capacity = stopAtLimit ? limit : limit + 1   // one spare byte detects overflow
        var output = [UInt8](repeating: 0, count: min(capacity, max(1 << 16, input.count * 4)))
        var produced = 0
        var consumed = 0
        while true {
            if produced == capacity {
                if stopAtLimit { return (output, false) }
                return (Array(output[..<limit]), true)
            }
            if produced == output.count {
                output.append(contentsOf: repeatElement(0, count: min(capacity, output.count * 2) - output.count))
            }
            let inChunk = min(input.count - consumed, Int(UInt32.max))
            let outChunk = min(output.count - produced, Int(UInt32.max))
            let status: Int32 = input.withUnsafeBufferPointer { inBuffer in
                output.withUnsafeMutableBufferPointer { outBuffer in
                    stream.next_in = UnsafeMutablePointer(mutating: inBuffer.baseAddress! + consumed)
                    stream.avail_in = UInt32(inChunk)
                    stream.next_out = outBuffer.baseAddress! + produced
                    stream.avail_out = UInt32(outChunk)
                    let status = CZlib.inflate(&stream, Z_NO_FLUSH)
                    consumed += inChunk - Int(stream.avail_in)
                    produced += outChunk - Int(stream.avail_out)
                    stream.next_in = nil
                    stream.next_out = nil
                    return status
                }
            }
            switch status {
            case Z_STREAM_END:
                // Another gzip member may follow (as `gzip -c a b` writes); anything else is ignored.
                if input.count - consumed >= 2, input[consumed] == 0x1f, input[consumed + 1] == 0x8b {
                    inflateReset(&stream)
                    continue
                }
                if !stopAtLimit, produced > limit { return (Array(output[..<limit]), true) }
                output.removeSubrange(produced...)
                return (output, false)
            case Z_OK:
                continue
            case Z_BUF_ERROR:
                if produced == output.count { continue }          // output full: grow or stop above
                if consumed == input.count {
                    throw DatasetError(
                        file: source, location: "compressed offset \(input.count)",
                        message: "gzip data is truncated: the file ends before the end of the compressed stream (\(produced) bytes decompressed so far)")
                }
                throw DatasetError(file: source, location: "compressed offset \(consumed)",
                                   message: "zlib made no progress (status Z_BUF_ERROR)")
            case Z_DATA_ERROR:
                let detail = stream.msg.map { String(cString: $0) } ?? "invalid data"
                throw DatasetError(file: source, location: "compressed offset \(consumed)",
                                   message: "corrupt gzip data: \(detail)")
            case Z_MEM_ERROR:
                throw DatasetError(file: source, location: "compressed offset \(consumed)",
                                   message: "zlib ran out of memory")
            default:
                let detail = stream.msg.map { ": " + String(cString: $0) } ?? ""
                throw DatasetError(file: source, location: "compressed offset \(consumed)",
                                   message: "zlib inflate failed with status \(status)\(detail)")
            }
        }
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 15)]])
    }
}
