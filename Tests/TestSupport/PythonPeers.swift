import Foundation

/// Python interpreters the cross-checks run (the tests skip where none imports what they need).
public enum PythonPeers {
    /// The first interpreter that imports every one of `modules`: $PNEUMO_TORCH_PYTHON, each `python3` on the PATH,
    /// then the venv the project's machines keep PyTorch in (`/work/venv-torch`). Nil where none does. Slow (it
    /// starts each candidate): keep the answer in a `static let`.
    public static func find(importing modules: [String]) -> String? {
        find(succeeding: ["-c", "import " + modules.joined(separator: ", ")])
    }

    /// The first of the same interpreters for which `python arguments` exits 0 (a probe script of the caller's).
    public static func find(succeeding arguments: [String]) -> String? {
        let env = ProcessInfo.processInfo.environment
        let onPath = (env["PATH"] ?? "").split(separator: ":").map { "\($0)/python3" }
        let candidates = [env["PNEUMO_TORCH_PYTHON"]].compactMap { $0 } + onPath + ["/work/venv-torch/bin/python"]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) && (try? run($0, arguments).status) == 0 }
    }

    /// Runs `python` with `arguments`; its exit status, and stdout and stderr together.
    public static func run(_ python: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = arguments
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// `body` on a thread of its own, for a test that waits long on a subprocess: waiting there holds none of the few
    /// threads Swift's concurrency pool has (two on two cores), which the live HTTP tests' servers need to answer.
    public static func offThePool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try body() }) }.start()
        }
    }
}
