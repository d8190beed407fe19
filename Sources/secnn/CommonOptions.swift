import ArgumentParser
import SECNNCore
import SECNNData

/// Options every compute command shares.
struct ComputeOptions: ParsableArguments {
    @Option(help: "Threads for the kernels (the batch is split across them).")
    var threads: Int = 2

    func validate() throws {
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1, not \(threads)") }
    }

    func apply() {
        ComputeThreads.set(threads)
        keepFreedMemoryForReuse()
    }
}

/// The `--data` option.
struct DataOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Dataset: digits (embedded, the default), cifar10:DIR (official binary batches), cifar100:DIR or "
            + "cifar100-coarse:DIR (official binary files; 100 fine or 20 coarse classes), fashion-mnist[:DIR] (IDX .gz "
            + "files), folder:DIR (PNG/JPEG images, one sub-folder per class; DIR/train and DIR/test if present).",
        valueName: "SOURCE"))
    var data: String = "digits"

    @Option(help: ArgumentHelp(
        "Image folders (--data folder:DIR): the size every image is resized to, H or HxW (default: the most "
            + "common size in the folder).",
        valueName: "HxW"))
    var imageSize: String?

    @Flag(help: "Image folders: stop at the first file that cannot be used, instead of reporting and skipping it.")
    var strictImages = false

    func source() throws -> DatasetSource {
        var source: DatasetSource
        do { source = try DatasetSource(argument: data) } catch { throw ValidationError("--data: \(error)") }
        guard case .folder(var folder) = source else {
            if imageSize != nil || strictImages {
                throw ValidationError("--image-size and --strict-images apply to --data folder:DIR only")
            }
            return source
        }
        if let imageSize {
            guard let size = ImageSize(imageSize) else {
                throw ValidationError("--image-size must be H or HxW, each side 4 to 4096, not '\(imageSize)'")
            }
            folder.imageSize = size
        }
        folder.strict = strictImages
        source = .folder(folder)
        return source
    }

    /// The source as a run records it (config.json), to load the same data again on --resume: an image
    /// folder with the size its images were resized to.
    func recorded(_ pair: DatasetPair) throws -> String {
        guard case .folder(var folder) = try source() else { return try source().description }
        folder.imageSize = ImageSize(height: pair.train.height, width: pair.train.width)
        return DatasetSource.folder(folder).description
    }
}

/// A failure at run time (not a usage error): printed as `error: …`, exit 1.
struct RuntimeError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Runs `body`, turning library errors into `RuntimeError`s with their message.
func reportingErrors<R>(_ body: () throws -> R) throws -> R {
    do { return try body() } catch let error as ValidationError {
        throw error
    } catch let error as ExitCode {
        throw error
    } catch let error as RuntimeError {
        throw error
    } catch {
        throw RuntimeError(String(describing: error))
    }
}

/// `--rule-arg KEY=VALUE` (repeatable): the rule's `ctx.args`.
struct RuleArgOptions: ParsableArguments {
    @Option(name: .customLong("rule-arg"), parsing: .singleValue,
            help: ArgumentHelp("A value for the rule's ctx.args (repeatable), e.g. tau=1.5.", valueName: "KEY=VALUE"))
    var pairs: [String] = []

    var isEmpty: Bool { pairs.isEmpty }

    func parsed() throws -> [String: String] {
        var args: [String: String] = [:]
        for pair in pairs {
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty else {
                throw ValidationError("--rule-arg '\(pair)': expected KEY=VALUE, e.g. tau=1.5")
            }
            args[parts[0]] = parts[1]
        }
        return args
    }
}
