import SafeTensors
import XCTest

/// One test per malformed-input rule of the reader; each checks the message and the offset.
final class MalformedInputTests: XCTestCase {
    /// A well-formed single-tensor entry for building otherwise-broken headers.
    private let goodEntry = #""a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}"#

    /// Asserts that reading `bytes` fails with a message containing `substring` at `offset`.
    private func assertRejects(_ bytes: [UInt8], _ substring: String, offset: Int?, line: UInt = #line) {
        XCTAssertThrowsError(try SafeTensorsFile(bytes: bytes, source: "bad.safetensors"), line: line) { error in
            guard let error = error as? SafeTensorsError else {
                return XCTFail("expected SafeTensorsError, got \(error)", line: line)
            }
            XCTAssertEqual(error.path, "bad.safetensors", line: line)
            XCTAssertTrue(error.message.contains(substring), "\"\(error.message)\" does not contain \"\(substring)\"", line: line)
            XCTAssertEqual(error.offset, offset, "\(error)", line: line)
        }
    }

    // MARK: - Length field

    func testFileShorterThanEightBytes() {
        assertRejects([1, 0, 0], "file is 3 bytes, shorter than the 8-byte header length field", offset: 0)
        assertRejects([], "file is 0 bytes", offset: 0)
    }

    func testHeaderLengthZero() {
        assertRejects(rawFile("", data: [1, 2, 3]), "header length is 0", offset: 0)
    }

    func testHeaderLengthAboveCap() {
        assertRejects(rawFile("{}", length: 100 * 1024 * 1024 + 1), "header length 104857601 exceeds the 104857600-byte limit", offset: 0)
        assertRejects(rawFile("{}", length: UInt64.max), "header length 18446744073709551615 exceeds", offset: 0)
    }

    func testHeaderLengthLargerThanFile() {
        assertRejects(rawFile("{}", length: 100), "header length 100 is larger than the 2 bytes after the length field", offset: 0)
    }

    // MARK: - Header text and JSON syntax

    func testHeaderNotUTF8() {
        let header: [UInt8] = Array(#"{"__metadata__":{"k":"x"#.utf8) + [0xC3, 0x28] + Array(#""}}"#.utf8)
        assertRejects(rawFile(headerBytes: header), "header is not valid UTF-8 at header byte 23", offset: 8)
        assertRejects(rawFile(headerBytes: [0x7B, 0xED, 0xA0, 0x80, 0x7D]), "not valid UTF-8 at header byte 1", offset: 8)  // encoded surrogate
    }

    func testHeaderNotAJSONObject() {
        assertRejects(rawFile("[1, 2]"), "header is not a JSON object (found an array) at header byte 0", offset: 8)
        assertRejects(rawFile(" \"text\""), "header is not a JSON object (found a string) at header byte 1", offset: 8)
    }

    func testInvalidJSONReportsBytePosition() {
        let header = #"{"a":{"dtype":"U8" "shape":[2],"data_offsets":[0,2]}}"#
        assertRejects(rawFile(header, data: [1, 2]), "header is not valid JSON: expected ',' or '}', found '\"' at header byte 19", offset: 8)
        assertRejects(rawFile("{\"a\" 1}"), "expected ':' after object key, found '1' at header byte 5", offset: 8)
        assertRejects(rawFile("{\"a\":[1,}"), "expected a value, found '}' at header byte 8", offset: 8)
        assertRejects(rawFile("{\"a\":tru}"), "expected 'true' at header byte 5", offset: 8)
        assertRejects(rawFile("{\"a\":1"), "expected ',' or '}', found end of header at header byte 6", offset: 8)
        assertRejects(rawFile("{\"a"), "unterminated string starting at header byte 1", offset: 8)
        assertRejects(rawFile("{1:2}"), "expected '\"' to start an object key, found '1' at header byte 1", offset: 8)
        assertRejects(rawFile("{\"a\":[01]}"), "leading zeros are not allowed in numbers at header byte 6", offset: 8)
        assertRejects(rawFile("{\"a\":[1.]}"), "expected a digit after '.', found ']' at header byte 8", offset: 8)
    }

    func testDataAfterJSONObject() {
        assertRejects(rawFile("{}  x"), "expected end of header after the JSON value, found 'x' at header byte 4", offset: 8)
    }

    func testNestingDepthLimit() {
        let deep = String(repeating: "[", count: 1000) + String(repeating: "]", count: 1000)
        assertRejects(rawFile("{\"__metadata__\":\(deep)}"), "header JSON nests deeper than 64 levels at header byte", offset: 8)
    }

    func testInvalidEscapes() {
        assertRejects(rawFile(#"{"a\x":1}"#), #"invalid escape sequence '\x' at header byte 3"#, offset: 8)
        assertRejects(rawFile(#"{"\u12G4":1}"#), #"expected 4 hex digits after \u, found 'G' at header byte 6"#, offset: 8)
        assertRejects(rawFile(#"{"\ud83d":1}"#), #"high surrogate \uD83D is not followed by a low surrogate escape at header byte 2"#, offset: 8)
        assertRejects(rawFile(#"{"\ud83d\u0041":1}"#), #"is followed by \u41, not a low surrogate at header byte 2"#, offset: 8)
        assertRejects(rawFile(#"{"\ude00":1}"#), #"lone low surrogate \uDE00 at header byte 2"#, offset: 8)
        assertRejects(rawFile("{\"a\tb\":1}"), "unescaped control character 0x9 in string at header byte 3", offset: 8)
    }

    func testIntegerBeyondIntRange() {
        let header = #"{"a":{"dtype":"U8","shape":[99999999999999999999],"data_offsets":[0,2]}}"#
        assertRejects(rawFile(header, data: [1, 2]), "header has integer 99999999999999999999 outside the supported range", offset: 8)
        assertRejects(rawFile(#"{"a":[-9223372036854775809]}"#), "integer -9223372036854775809 outside", offset: 8)
    }

    // MARK: - Duplicate keys

    func testDuplicateTensorNames() {
        let header = "{\(goodEntry),\(goodEntry)}"
        let secondKey = 1 + goodEntry.utf8.count + 1
        assertRejects(rawFile(header, data: [1, 2]), "header has duplicate key \"a\" at header byte \(secondKey)", offset: 8)
    }

    func testDuplicateKeyInsideTensorEntry() {
        let header = #"{"a":{"dtype":"U8","dtype":"F32","shape":[2],"data_offsets":[0,2]}}"#
        assertRejects(rawFile(header, data: [1, 2]), "header has duplicate key \"dtype\" at header byte 19", offset: 8)
    }

    func testDuplicateMetadataKeyAndDuplicateMetadataSection() {
        assertRejects(rawFile(#"{"__metadata__":{"k":"1","k":"2"}}"#), "header has duplicate key \"k\" at header byte 25", offset: 8)
        assertRejects(rawFile(#"{"__metadata__":{},"__metadata__":{}}"#), "duplicate key \"__metadata__\" at header byte 19", offset: 8)
    }

    func testDuplicateKeysDifferingOnlyInEscapingAreDetected() {
        assertRejects(rawFile(#"{"__metadata__":{"a":"1","\u0061":"2"}}"#), "duplicate key \"a\"", offset: 8)
    }

    // MARK: - Tensor entries

    func testEmptyTensorName() {
        assertRejects(rawFile(#"{"":{"dtype":"U8","shape":[0],"data_offsets":[0,0]}}"#), "tensor name is empty at header byte 1", offset: 8)
    }

    func testTensorEntryNotAnObjectOrMissingFields() {
        assertRejects(rawFile(#"{"a":[1]}"#), "tensor \"a\": entry must be an object, found an array at header byte 5", offset: 8)
        assertRejects(rawFile(#"{"a":{"dtype":"U8","shape":[0]}}"#), "tensor \"a\": missing \"data_offsets\"", offset: 8)
        assertRejects(rawFile(#"{"a":{"dtype":"U8","shape":[0],"data_offsets":[0,0],"extra":1}}"#), "tensor \"a\": unexpected field \"extra\"", offset: 8)
    }

    func testUnknownDType() {
        let header = #"{"w":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]}}"#
        assertRejects(rawFile(header, data: [1]), "tensor \"w\": unknown dtype \"F8_E4M3\" (expected one of F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL) at header byte 14", offset: 8)
        assertRejects(rawFile(#"{"w":{"dtype":4,"shape":[1],"data_offsets":[0,4]}}"#), "tensor \"w\": dtype must be a string, found an integer", offset: 8)
    }

    func testShapeNotAnArrayOfNonNegativeIntegers() {
        assertRejects(rawFile(#"{"w":{"dtype":"U8","shape":2,"data_offsets":[0,2]}}"#, data: [1, 2]),
                      "tensor \"w\": shape must be an array of non-negative integers, found an integer at header byte 27", offset: 8)
        assertRejects(rawFile(#"{"w":{"dtype":"U8","shape":[2,-1],"data_offsets":[0,2]}}"#, data: [1, 2]),
                      "tensor \"w\": shape must be an array of non-negative integers, found -1 at index 1", offset: 8)
        assertRejects(rawFile(#"{"w":{"dtype":"U8","shape":[1.5],"data_offsets":[0,2]}}"#, data: [1, 2]),
                      "found a non-integer number at index 0", offset: 8)
        assertRejects(rawFile(#"{"w":{"dtype":"U8","shape":["2"],"data_offsets":[0,2]}}"#, data: [1, 2]),
                      "found a string at index 0", offset: 8)
    }

    func testDataOffsetsNotTwoIntegers() {
        assertRejects(rawFile(#"{"w":{"dtype":"U8","shape":[2],"data_offsets":[0,1,2]}}"#, data: [1, 2]),
                      "tensor \"w\": data_offsets must have exactly 2 integers, found 3", offset: 8)
        assertRejects(rawFile(#"{"w":{"dtype":"U8","shape":[2],"data_offsets":[0,null]}}"#, data: [1, 2]),
                      "tensor \"w\": data_offsets must be an array of non-negative integers, found null at index 1", offset: 8)
        assertRejects(rawFile(#"{"w":{"dtype":"U8","shape":[2],"data_offsets":[-2,0]}}"#, data: [1, 2]),
                      "found -2 at index 0", offset: 8)
    }

    func testDataOffsetsBeginAfterEnd() {
        assertRejects(rawFile(#"{"w":{"dtype":"U8","shape":[2],"data_offsets":[4,2]}}"#, data: [1, 2, 3, 4]),
                      "tensor \"w\": data_offsets begin 4 is greater than end 2", offset: 8)
    }

    func testByteCountMismatch() {
        assertRejects(rawFile(#"{"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}}"#, data: [UInt8](repeating: 0, count: 20)),
                      "tensor \"w\": shape [2,3] with dtype F32 needs 24 bytes but data_offsets [0, 20] span 20", offset: 8)
    }

    func testByteCountOverflow() {
        let header = #"{"w":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,0]}}"#
        assertRejects(rawFile(header), "tensor \"w\": byte count of shape [4611686018427387904,4] with dtype F32 overflows", offset: 8)
        let zeroLater = #"{"w":{"dtype":"F64","shape":[9223372036854775807,2,0],"data_offsets":[0,0]}}"#
        assertRejects(rawFile(zeroLater), "overflows", offset: 8)
    }

    // MARK: - Data layout

    func testOffsetsMustStartAtZero() {
        let header = #"{"w":{"dtype":"U8","shape":[2],"data_offsets":[1,3]}}"#
        assertRejects(rawFile(header, data: [0, 1, 2]),
                      "tensor \"w\": gap of 1 bytes at the start of the data buffer (data_offsets begin at 1, expected 0)", offset: 8 + header.utf8.count)
    }

    func testGapBetweenTensors() {
        let header = #"{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[1],"data_offsets":[3,4]}}"#
        let headerLength = header.utf8.count
        assertRejects(rawFile(header, data: [1, 2, 3, 4]),
                      "tensor \"b\": gap of 1 bytes after tensor \"a\" (data_offsets begin at 3, expected 2)", offset: 8 + headerLength + 2)
    }

    func testOverlappingTensors() {
        let header = #"{"a":{"dtype":"U8","shape":[3],"data_offsets":[0,3]},"b":{"dtype":"U8","shape":[2],"data_offsets":[2,4]}}"#
        let headerLength = header.utf8.count
        assertRejects(rawFile(header, data: [1, 2, 3, 4]),
                      "tensor \"b\": data_offsets [2, 4] overlap tensor \"a\" [0, 3]", offset: 8 + headerLength + 2)
    }

    func testTrailingBytesAfterLastTensor() {
        let header = "{\(goodEntry)}"
        let headerLength = header.utf8.count
        assertRejects(rawFile(header, data: [1, 2, 3]),
                      "data buffer has 1 trailing bytes after the last tensor \"a\" (tensors end at 2, buffer is 3 bytes)", offset: 8 + headerLength + 2)
        assertRejects(rawFile("{}", data: [9]), "data buffer has 1 trailing bytes in a file with no tensors", offset: 10)
    }

    func testTensorEndsBeyondDataBuffer() {
        assertRejects(rawFile("{\(goodEntry)}", data: [1]),
                      "tensor \"a\": data_offsets [0, 2] extend beyond the 1-byte data buffer", offset: 8)
    }

    // MARK: - Metadata

    func testMetadataNotAnObject() {
        assertRejects(rawFile(#"{"__metadata__":["spec"]}"#), "__metadata__ must be an object of strings, found an array at header byte 16", offset: 8)
    }

    func testMetadataValueNotAString() {
        assertRejects(rawFile(#"{"__metadata__":{"epochs":3}}"#), "__metadata__ value for key \"epochs\" must be a string, found an integer at header byte 26", offset: 8)
        assertRejects(rawFile(#"{"__metadata__":{"nested":{}}}"#), "found an object", offset: 8)
    }

    // MARK: - Error text

    func testDescriptionFormat() {
        let header = #"{"a":{"dtype":"U8" "shape":[2],"data_offsets":[0,2]}}"#
        XCTAssertThrowsError(try SafeTensorsFile(bytes: rawFile(header, data: [1, 2]), source: "weights.safetensors")) { error in
            XCTAssertEqual("\(error)", "weights.safetensors: offset 8: header is not valid JSON: expected ',' or '}', found '\"' at header byte 19")
        }
        XCTAssertEqual(SafeTensorsError(path: "p", offset: nil, message: "m").description, "p: m")
    }
}
