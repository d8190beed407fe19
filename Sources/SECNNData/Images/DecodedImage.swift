import CPNG
import CTurboJPEG

/// An image file's pixels: greyscale (1 channel) or RGB (3), 8 bits,
/// interleaved row by row.
public struct DecodedImage: Sendable, Equatable {
    public var width: Int, height: Int, channels: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) {
        precondition(pixels.count == width * height * channels, "DecodedImage: \(pixels.count) bytes for \(width)×\(height)×\(channels)")
        (self.width, self.height, self.channels, self.pixels) = (width, height, channels, pixels)
    }

    /// Images smaller than this on a side are refused: nothing to learn from, and a sign of a broken file.
    public static let minimumSide = 4
    /// Images larger than this many pixels are refused before their pixels are decoded (a 20000×20000
    /// image would need 1.2 GB).
    public static let maximumPixels = 50_000_000

    /// Decodes a PNG or JPEG file held in memory (told apart by their
    /// signatures); `source` names it in errors. Greyscale stays one
    /// channel, anything in colour (palette, alpha dropped) becomes RGB.
    public static func decode(_ bytes: [UInt8], source: String) throws -> DecodedImage {
        guard !bytes.isEmpty else { throw DatasetError(file: source, message: "file is empty, expected a PNG or JPEG image") }
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return try decodePNG(bytes, source: source) }
        if bytes.starts(with: [0xFF, 0xD8, 0xFF]) { return try decodeJPEG(bytes, source: source) }
        throw DatasetError(file: source, location: "offset 0",
                           message: "not a PNG or JPEG image (its first bytes are neither signature)")
    }

    /// Checks the size a header declares, before any pixel is decoded.
    private static func checkSize(width: Int, height: Int, source: String) throws {
        guard width >= minimumSide, height >= minimumSide else {
            throw DatasetError(file: source, message: "image is \(width)×\(height), smaller than \(minimumSide)×\(minimumSide)")
        }
        guard width * height <= maximumPixels else {
            throw DatasetError(file: source, message: "image is \(width)×\(height), more than \(maximumPixels / 1_000_000) "
                                   + "million pixels; refused before decoding")
        }
    }

    private static func decodePNG(_ bytes: [UInt8], source: String) throws -> DecodedImage {
        var image = png_image()
        image.version = png_uint_32(PNG_IMAGE_VERSION)
        defer { png_image_free(&image) }
        func failure(_ stage: String) -> DatasetError {
            let message = withUnsafeBytes(of: image.message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            return DatasetError(file: source, message: "PNG \(stage) failed: \(message.isEmpty ? "unknown error" : message)")
        }
        guard bytes.withUnsafeBytes({ png_image_begin_read_from_memory(&image, $0.baseAddress, $0.count) }) != 0 else {
            throw failure("header")
        }
        let (width, height) = (Int(image.width), Int(image.height))
        try checkSize(width: width, height: height, source: source)
        let colour = image.format & png_uint_32(PNG_FORMAT_FLAG_COLOR) != 0
        // PNG_FORMAT_RGB is PNG_FORMAT_FLAG_COLOR and PNG_FORMAT_GRAY 0 (macros of macros, which Swift does not import).
        image.format = colour ? png_uint_32(PNG_FORMAT_FLAG_COLOR) : 0
        let channels = colour ? 3 : 1
        var pixels = [UInt8](repeating: 0, count: width * height * channels)
        let finished = pixels.withUnsafeMutableBytes { png_image_finish_read(&image, nil, $0.baseAddress, 0, nil) }
        // A warning (an ancillary chunk it ignored) leaves the pixels good; an error does not.
        guard finished != 0, image.warning_or_error & 3 <= 1 else { throw failure("decoding") }
        return DecodedImage(width: width, height: height, channels: channels, pixels: pixels)
    }

    private static func decodeJPEG(_ bytes: [UInt8], source: String) throws -> DecodedImage {
        guard let handle = tjInitDecompress() else {
            throw DatasetError(file: source, message: "JPEG decoder could not start")
        }
        defer { tjDestroy(handle) }
        func failure(_ stage: String) -> DatasetError {
            DatasetError(file: source, message: "JPEG \(stage) failed: \(String(cString: tjGetErrorStr2(handle)))")
        }
        var width: Int32 = 0, height: Int32 = 0, subsampling: Int32 = 0, colourspace: Int32 = 0
        let header = bytes.withUnsafeBufferPointer {
            tjDecompressHeader3(handle, $0.baseAddress, UInt($0.count), &width, &height, &subsampling, &colourspace)
        }
        guard header == 0 else { throw failure("header") }
        try checkSize(width: Int(width), height: Int(height), source: source)
        let grey = colourspace == Int32(TJCS_GRAY.rawValue)
        let channels = grey ? 1 : 3
        var pixels = [UInt8](repeating: 0, count: Int(width) * Int(height) * channels)
        // Warnings (a truncated file's "premature end of data") fail too: the pixels past them are filler.
        let decoded = bytes.withUnsafeBufferPointer { input in
            pixels.withUnsafeMutableBufferPointer { output in
                tjDecompress2(handle, input.baseAddress, UInt(input.count), output.baseAddress, width, 0, height,
                              grey ? Int32(TJPF_GRAY.rawValue) : Int32(TJPF_RGB.rawValue), TJFLAG_STOPONWARNING)
            }
        }
        guard decoded == 0 else { throw failure("decoding") }
        return DecodedImage(width: Int(width), height: Int(height), channels: channels, pixels: pixels)
    }
}
