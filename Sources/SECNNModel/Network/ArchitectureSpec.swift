/// One block of the network: `channels` feature maps, `layers` 3×3 convs.
public struct BlockSpec: Codable, Equatable, Sendable {
    public var channels: Int
    public var layers: Int
    public init(channels: Int, layers: Int) {
        self.channels = channels
        self.layers = layers
    }
}

/// The architecture of a SECNN network: its blocks and the data it sees.
///
/// The text form is the blocks alone, `C0xL0,C1xL1,...` (channels × conv
/// layers per block), as `torch_peer.py --spec` takes it; the input shape and
/// class count come from the dataset.
public struct ArchitectureSpec: Codable, Equatable, Sendable, CustomStringConvertible {
    public var blocks: [BlockSpec]
    public var inputChannels: Int
    public var inputHeight: Int
    public var inputWidth: Int
    public var classes: Int

    /// Width of the head's hidden layer (fc1 → bn1 → bn2 → fc2).
    public static let hidden = 20
    public static let slope = 0.2
    /// Channel dropout after each block's first conv; the head uses half.
    public static let dropout = 0.1

    public init(blocks: [BlockSpec], inputChannels: Int = 3, inputHeight: Int = 32, inputWidth: Int = 32,
                classes: Int = 10) throws {
        guard blocks.count >= 2 else {
            throw ModelError.invalidSpec("architecture: \(blocks.count) block(s); the skip path needs at least 2")
        }
        for (index, block) in blocks.enumerated() where block.channels < 1 || block.layers < 1 {
            throw ModelError.invalidSpec(
                "architecture: block \(index) (\(block.channels)x\(block.layers)) needs at least 1 channel and 1 layer")
        }
        guard inputHeight >> blocks.count >= 1, inputWidth >> blocks.count >= 1 else {
            throw ModelError.invalidSpec(
                "architecture: \(blocks.count) blocks halve a \(inputHeight)x\(inputWidth) image to nothing")
        }
        guard inputChannels >= 1, classes >= 2 else {
            throw ModelError.invalidSpec("architecture: needs at least 1 input channel and 2 classes")
        }
        self.blocks = blocks
        self.inputChannels = inputChannels
        self.inputHeight = inputHeight
        self.inputWidth = inputWidth
        self.classes = classes
    }

    /// Parses `16x1,16x1,16x1`, with errors that name the bad block.
    public init(parsing text: String, inputChannels: Int = 3, inputHeight: Int = 32, inputWidth: Int = 32,
                classes: Int = 10) throws {
        var blocks: [BlockSpec] = []
        for (index, item) in text.split(separator: ",", omittingEmptySubsequences: false).enumerated() {
            let parts = item.trimmingCharacters(in: .whitespaces).lowercased().split(separator: "x",
                                                                                   omittingEmptySubsequences: false)
            guard parts.count == 2, let channels = Int(parts[0]), let layers = Int(parts[1]) else {
                throw ModelError.invalidSpec(
                    "architecture '\(text)': block \(index + 1) is '\(item)'; expected CHANNELSxLAYERS such as 16x1")
            }
            blocks.append(BlockSpec(channels: channels, layers: layers))
        }
        try self.init(blocks: blocks, inputChannels: inputChannels, inputHeight: inputHeight,
                      inputWidth: inputWidth, classes: classes)
    }

    /// `16x1,16x1,16x1`.
    public var description: String { blocks.map { "\($0.channels)x\($0.layers)" }.joined(separator: ",") }

    /// Side of the feature maps entering the head (each block halves it, rounding down).
    public var headHeight: Int { inputHeight >> blocks.count }
    public var headWidth: Int { inputWidth >> blocks.count }
    /// Channels entering the head: the last block's plus the skip path's (block 0's).
    public var headChannels: Int { blocks[0].channels + blocks[blocks.count - 1].channels }
}

import Foundation
