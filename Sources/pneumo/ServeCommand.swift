import ArgumentParser
import Foundation
import GraphCore
import Logging
import Serve
import Runtime
import Serving

extension DynamicBatcher.Placement: ExpressibleByArgument {}

/// `pneumo serve`: models behind the Open Inference Protocol (KServe v2) over HTTP, with dynamic batching.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve models over HTTP with the Open Inference Protocol (KServe v2) and dynamic batching.",
        discussion: """
            Endpoints: GET /v2/health/live, /v2/health/ready, /v2, /v2/models/NAME, /v2/models/NAME/ready; POST \
            /v2/models/NAME/infer (FP32 JSON tensors) and /v2/models/NAME/classify (a PNG or JPEG body, or several as \
            multipart/form-data); GET /metrics (Prometheus). Requests for one model are run together, up to --max-batch \
            images: on the event loop that read them (what it read in one turn), or on a batching thread that waits at \
            most --max-delay-us for a batch to fill (--batching; auto puts a model on the loops when a full batch takes \
            at most 10 ms on one thread). Beyond --max-queue images waiting, requests get 503 with Retry-After. SIGTERM \
            or SIGINT stops accepting, answers what is in flight, and exits 0.
            """)

    @Option(help: ArgumentHelp("An ONNX model to serve.", valueName: "file")) var onnx: String?
    @Option(help: ArgumentHelp("The name the --onnx or --checkpoint model is served under (default: the file's name without extension).",
                               valueName: "name")) var name: String?
    @Option(help: ArgumentHelp("A checkpoint (.safetensors) to serve.", valueName: "file")) var checkpoint: String?
    @Option(help: ArgumentHelp("A model repository: DIR/NAME/VERSION/model.onnx, each model at its highest version.", valueName: "dir"))
    var modelRepository: String?
    @Option(help: "The address to listen on (loopback by default).") var host = "127.0.0.1"
    @Option(help: "The port to listen on.") var port = 8000
    @Option(parsing: .unconditional, help: "Threads for the kernels on the batching thread (default: all cores but one, which the HTTP threads keep; more are capped at the cores). Batches on the loops run on one thread each.") var threads: Int?
    @Option(help: "The most images one batch holds.") var maxBatch = 64
    @Option(name: .customLong("max-delay-us"), help: "Microseconds a request may wait for its batch to fill (on the batching thread).") var maxDelayMicroseconds = 500
    @Option(help: ArgumentHelp("Where batches run: loops (the event loop that read the requests, one kernel thread each), thread (a batching thread with --threads kernel threads) or auto (loops when a full batch takes at most 10 ms on one thread).", valueName: "placement"))
    var batching: DynamicBatcher.Placement = .auto
    @Option(help: "Images that may wait; beyond them requests get 503.") var maxQueue = 1024
    @Option(help: ArgumentHelp("A file holding the bearer token requests must send (Authorization: Bearer <token>).", valueName: "file"))
    var authTokenFile: String?
    @Option(help: ArgumentHelp("Arithmetic of the models' plans: fp32, bf16 (AVX-512 BF16 CPUs), fp16 (weights rounded to IEEE half; float32 arithmetic) or int8 (a model quantized by pneumo optimize). Default: each model's own (int8 for a quantized model, else fp32).", valueName: "precision")) var precision: Precision?
    @Option(help: "The largest request body, in MiB.") var maxBodyMib = 32
    @Option(help: "Request bodies held at once, in MiB (each counts its Content-Length, or --max-body-mib without one, until answered); beyond it, requests get 503.") var maxBodiesMib = 256
    @Option(help: "Threads for the sockets and HTTP parsing (default: one per core, or one with --batching thread, which leaves the other cores to the batches).") var eventLoops: Int?
    @Option(name: .customLong("idle-timeout-s"), help: "Seconds a connection may stay idle (no request under way) before the server closes it; 0 keeps it open until the client closes it.") var idleTimeoutSeconds = 75.0
    @Option(help: "Log level: trace, debug (a line per request), info, notice, warning, error.") var logLevel = "info"

    func validate() throws {
        let sources = [onnx, checkpoint, modelRepository].compactMap { $0 }
        guard sources.count == 1 else { throw ValidationError("give exactly one of --onnx, --checkpoint, --model-repository") }
        if name != nil && modelRepository != nil { throw ValidationError("--name names an --onnx or --checkpoint model; a repository's folders name its models") }
        for (flag, path) in [("--onnx", onnx), ("--checkpoint", checkpoint), ("--auth-token-file", authTokenFile)] {
            if let path, !FileManager.default.fileExists(atPath: path) { throw ValidationError("\(flag): no such file: \(path)") }
        }
        if let threads, threads < 1 { throw ValidationError("--threads must be positive, got \(threads)") }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be in 0...65535, got \(port)") }
        guard maxBatch >= 1 else { throw ValidationError("--max-batch must be positive, got \(maxBatch)") }
        guard maxDelayMicroseconds >= 0 else { throw ValidationError("--max-delay-us must be zero or more, got \(maxDelayMicroseconds)") }
        guard maxQueue >= maxBatch else { throw ValidationError("--max-queue (\(maxQueue)) must be at least --max-batch (\(maxBatch))") }
        guard maxBodyMib >= 1 else { throw ValidationError("--max-body-mib must be positive, got \(maxBodyMib)") }
        guard maxBodiesMib >= maxBodyMib else {
            throw ValidationError("--max-bodies-mib (\(maxBodiesMib)) must be at least --max-body-mib (\(maxBodyMib))")
        }
        guard idleTimeoutSeconds >= 0, idleTimeoutSeconds.isFinite else {
            throw ValidationError("--idle-timeout-s must be zero or more seconds, got \(idleTimeoutSeconds)")
        }
        if let eventLoops, eventLoops < 1 { throw ValidationError("--event-loops must be positive, got \(eventLoops)") }
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical; got \(logLevel)")
        }
        if let name, name.isEmpty || name.contains("/") { throw ValidationError("--name must be non-empty and contain no '/', got '\(name)'") }
    }

    func run() async throws {
        // The batches run beside the sockets and handlers: left all cores, the kernels' threads and the HTTP threads
        // take turns on them, and the batches' CPU per image grows (`bench/README.md`, "Serving over HTTP").
        ThreadCount.apply(threads ?? max(1, ProcessInfo.processInfo.activeProcessorCount - 1))
        var logger = Logger(label: "pneumo.serve", factory: DeferredMetadataLogHandler.init)
        logger.logLevel = Logger.Level(rawValue: logLevel)!
        let token = try authTokenFile.map { path -> String in
            let text = try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            guard !text.isEmpty else { throw ValidationError("--auth-token-file: \(path) is empty") }
            return text
        }
        let models = try loadModels()
        let configuration = ServerConfiguration(
            host: host, port: port,
            batching: .init(maxBatch: maxBatch, maxDelay: .microseconds(maxDelayMicroseconds), maxQueue: maxQueue, placement: batching),
            authToken: token, maxBodyBytes: maxBodyMib << 20, maxBodiesBytes: maxBodiesMib << 20, eventLoops: eventLoops ?? (batching == .thread ? 1 : nil),
            idleTimeout: idleTimeoutSeconds > 0 ? .milliseconds(Int64((idleTimeoutSeconds * 1000).rounded())) : nil)
        if let (from, to) = OpenFileLimit.raiseToHard() {
            logger.info("open files: limit raised from \(from) to \(to) (a connection holds one)")
        }
        let server = try InferenceServer(models: models, configuration: configuration, logger: logger)
        for m in models {
            logger.info("serving \(m.name) version \(m.version): \(m.description), \(m.runtime.precision.rawValue), input \(m.inputName) [-1, \(m.sampleShape.map(String.init).joined(separator: ", "))], threshold \(m.threshold) (\(m.thresholdSource))")
        }
        logger.info("listening on http://\(host):\(port) (max batch \(maxBatch), max delay \(maxDelayMicroseconds) µs, batching \(batching.rawValue), max queue \(maxQueue), idle connections closed \(idleTimeoutSeconds > 0 ? "after \(idleTimeoutSeconds) s" : "never")\(token == nil ? "" : ", bearer token required"))")
        try await server.application().runService()
    }

    private func loadModels() throws -> [ServedModel] {
        func stem(_ path: String) -> String { URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent }
        do {
            if let onnx { return [try ServedModel(classifier: Classifier(onnx: onnx, precision: precision), name: name ?? stem(onnx))] }
            if let checkpoint { return [try ServedModel(classifier: Classifier(checkpoint: checkpoint, precision: precision), name: name ?? stem(checkpoint))] }
            return try ModelRepository.scan(URL(fileURLWithPath: modelRepository!)).map { entry in
                try ServedModel(classifier: Classifier(onnx: entry.file.path, precision: precision), name: entry.name, version: entry.version)
            }
        } catch let error as ClassifierError {
            throw ValidationError(error.description)
        } catch let error as ServeConfigurationError {
            throw ValidationError(error.description)
        }
    }
}
