import ArgumentParser
import GraphCore
import Serving

extension ClassifierError {
    /// The error the CLI throws for this refusal, in the words it used before the library had them: a problem with
    /// an option's file is a `ValidationError` naming the flag (printed with the usage); a file the reader refused is
    /// the reader's own message (printed without it).
    var cliError: any Error {
        switch self {
        case let .noSuchFile(format, path): ValidationError("\(Self.flag(format)): no such file: \(path)")
        case let .unreadableModel(_, _, reason): CommandFailure(description: reason)
        case let .notTwoClasses(path, classes):
            ValidationError("--checkpoint: \(path) is a \(classes)-class model; predict needs normal/pneumonia (2 classes)")
        case let .unsupportedInput(path, shape): ValidationError("--onnx: \(path) takes input \(describe(shape)); predict needs [N, 1 or 3, S, S]")
        case let .fixedBatch(path, batch): ValidationError("--onnx: \(path) has a fixed batch of \(batch); export it with batch 1 or a symbolic batch")
        default: ValidationError(description)
        }
    }

    private static func flag(_ format: ModelFormat) -> String {
        switch format {
        case .checkpoint: "--checkpoint"
        case .onnx: "--onnx"
        }
    }
}

/// A run-time failure printed as its message alone (no usage text, unlike a ValidationError); exit status 1.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
}
