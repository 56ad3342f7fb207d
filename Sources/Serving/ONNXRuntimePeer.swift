import Foundation
import Runtime

/// ONNX Runtime on the same file, in the same run: `bench/ort_infer.py` through `python3`, when both are
/// there and `onnxruntime` imports. The runtime itself never needs Python; only this comparison does.
public struct ONNXRuntimePeer: Sendable {
    public struct Row: Codable, Sendable {
        public let batch: Int
        public let latency_ms: LatencyStats
        public let samples_per_s: Double
    }

    public struct Output: Codable, Sendable {
        public let engine: String
        public let batches: [Row]
    }

    public let script: URL

    public init(script: URL) { self.script = script }

    /// Finds the peer script beside the working directory or the executable (`.build/<config>/pneumo`).
    public static func locate() -> ONNXRuntimePeer? {
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        let candidates = [URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("bench/ort_infer.py"),
                          executable.deletingLastPathComponent().appendingPathComponent("../../bench/ort_infer.py").standardized,
                          executable.deletingLastPathComponent().appendingPathComponent("../../../bench/ort_infer.py").standardized]
        return candidates.first { FileManager.default.fileExists(atPath: $0.path) }.map(ONNXRuntimePeer.init)
    }

    /// Runs one batch size; `nil` with the reason when the peer cannot run here.
    public func run(onnx: String, batch: Int, threads: Int, runs: Int, warmup: Int) -> (output: Output?, skipped: String?) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path, "--onnx", onnx, "--batch", "\(batch)", "--threads", "\(threads)",
                             "--runs", "\(runs)", "--warmup", "\(warmup)"]
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        do { try process.run() } catch { return (nil, "python3 is not available (\(error.localizedDescription))") }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return (nil, "onnxruntime failed: \(message.suffix(300))") }
        guard let output = try? JSONDecoder().decode(Output.self, from: data) else {
            return (nil, message.isEmpty ? "onnxruntime printed no result" : message.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        return (output, nil)
    }
}
