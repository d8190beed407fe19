import CPNG
import CTurboJPEG
import Foundation

/// Writes test images with the same Debian libraries secnn decodes them
/// with: 8-bit greyscale (1 channel) or RGB (3), interleaved rows.
public enum ImageFiles {
    public static func writePNG(_ path: String, width: Int, height: Int, channels: Int, pixels: [UInt8]) throws {
        var image = png_image()
        image.version = png_uint_32(PNG_IMAGE_VERSION)
        image.width = png_uint_32(width)
        image.height = png_uint_32(height)
        // PNG_FORMAT_RGB is PNG_FORMAT_FLAG_COLOR, PNG_FORMAT_GRAY 0.
        image.format = channels == 3 ? png_uint_32(PNG_FORMAT_FLAG_COLOR) : 0
        let written = pixels.withUnsafeBytes { png_image_write_to_file(&image, path, 0, $0.baseAddress, 0, nil) }
        guard written != 0 else { throw ImageFileError("cannot write \(path) as PNG") }
    }

    public static func writeJPEG(_ path: String, width: Int, height: Int, channels: Int, pixels: [UInt8],
                                 quality: Int32 = 90) throws {
        guard let handle = tjInitCompress() else { throw ImageFileError("no JPEG encoder") }
        defer { tjDestroy(handle) }
        var buffer: UnsafeMutablePointer<UInt8>?
        var size: UInt = 0
        let format = channels == 3 ? Int32(TJPF_RGB.rawValue) : Int32(TJPF_GRAY.rawValue)
        let subsampling = channels == 3 ? Int32(TJSAMP_420.rawValue) : Int32(TJSAMP_GRAY.rawValue)
        let status = pixels.withUnsafeBufferPointer {
            tjCompress2(handle, $0.baseAddress, Int32(width), 0, Int32(height), format, &buffer, &size, subsampling,
                        quality, 0)
        }
        guard status == 0, let buffer else { throw ImageFileError("cannot encode \(path) as JPEG") }
        defer { tjFree(buffer) }
        try Data(bytes: buffer, count: Int(size)).write(to: URL(fileURLWithPath: path))
    }
}

public struct ImageFileError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
