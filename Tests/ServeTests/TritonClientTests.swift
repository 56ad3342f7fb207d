import Data
import Foundation
import GraphCore
import Logging
import ServiceLifecycle
import Synchronization
import Testing
import TestSupport
@testable import Serve

/// Triton's Python client (`tritonclient[http]`, `.ci/run` installs it) against a live server: metadata, readiness and
/// inference (JSON tensors, and the client's default binary ones), whose outputs must equal the executor's on the same images (what `pneumo infer` computes). Skipped where
/// the client is not installed.
@Suite("Serving: Triton's client", .ownThread) struct TritonClientTests {
    static let available: Bool = {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", "import tritonclient.http, numpy"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return false }
        p.waitUntilExit()
        return p.terminationStatus == 0
    }()

    @Test(.enabled(if: available, "tritonclient[http] is not installed")) func tritonClientTalksToTheServer() async throws {
        let model = try servedPneumoNet()
        let server = try testServer(models: [model])
        let images = testImages(3, seed: 11)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pneumo-triton-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let input = folder.appendingPathComponent("x.npy")
        try NPYWriter.write(images, to: input)
        let expected = try executorLogits(model, images)

        let port = Mutex<Int?>(nil)
        let group = ServiceGroup(configuration: .init(services: [server.application(onServerRunning: { channel in
            port.withLock { $0 = channel.localAddress?.port } })], logger: Logger(label: "test")))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var p: Int?
            while p == nil { await sleepOffThePool(for: .milliseconds(10)); p = port.withLock { $0 } }
            let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("triton_client_check.py")
            let url = "127.0.0.1:\(p!)"
            let output = try await PythonPeers.offThePool {
                try runPython([script.path, "--url", url, "--model", "pneumonet", "--input", input.path])
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()

            let answer = try JSONSerialization.jsonObject(with: Data(output.utf8)) as! [String: Any]
            #expect(answer["live"] as? Bool == true && answer["ready"] as? Bool == true && answer["model_ready"] as? Bool == true)
            #expect((answer["server"] as? [String: Any])?["name"] as? String == "pneumo")
            let meta = answer["metadata"] as! [String: Any]
            #expect(meta["name"] as? String == "pneumonet" && meta["platform"] as? String == "pneumo_runtime")
            #expect(answer["id"] as? String == "triton-1")
            #expect(answer["shape"] as? [Int] == [3, 2])
            let outputs = (answer["outputs"] as! [Double]).map(Float.init)
            #expect(maxRelativeDifference(outputs, expected) <= 1e-4)
            let binary = (answer["binary_outputs"] as! [Double]).map(Float.init)
            #expect(maxRelativeDifference(binary, expected) <= 1e-4)
        }
    }
}

/// The executor's logits (inference mode, oneDNN kernels) for `images`: what `pneumo infer` computes.
func executorLogits(_ model: ServedModel, _ images: Tensor) throws -> [Float] {
    var g = model.runtime.graph
    if let id = g.inputID(model.inputName) { g.nodes[id.index].shape = images.shape }
    var p = model.runtime.parameters, rng = SeededRandom(seed: 0)
    let pass = try Executor(graph: g, backend: ReferenceBackend()).forward(feeds: [model.inputName: images], parameters: &p,
                                                                          mode: .inference, rng: &rng)
    return pass[g.outputs[0]]!.contiguous().scalars
}

/// Runs `python3 arguments…` and returns its standard output; throws with its standard error when it fails.
func runPython(_ arguments: [String]) throws -> String {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["python3"] + arguments
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    let errors = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    guard p.terminationStatus == 0 else {
        throw ServeConfigurationError("python3 \(arguments.joined(separator: " ")) failed: \(String(decoding: errors, as: UTF8.self))")
    }
    return String(decoding: data, as: UTF8.self)
}
