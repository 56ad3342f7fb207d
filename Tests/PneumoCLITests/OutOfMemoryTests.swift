import Testing
import Foundation

/// A size the system cannot allocate ends `pneumo` with a message and status 1, not an abort and a backtrace
/// (`bench conv` and `bench train` at sizes beyond memory aborted). Runs the built executable, which SwiftPM puts
/// beside this test bundle.
@Suite struct OutOfMemoryTests {
    static let executable = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("pneumo")

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: executable.path)))
    func aTensorBeyondMemoryIsAMessage() throws {
        let p = Process()
        p.executableURL = Self.executable
        p.environment = ProcessInfo.processInfo.environment.merging(["PNEUMO_TUNING_CACHE": "off"]) { _, off in off }   // no files under ~/.cache
        // 10⁷ × 512 channels × 64 × 64 floats: 84 TB for the input alone.
        p.arguments = ["bench", "conv", "--batch", "10000000", "--channels", "512", "--size", "64", "--runs", "1"]
        let err = Pipe()
        p.standardError = err
        p.standardOutput = Pipe()
        try p.run()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationReason == .exit && p.terminationStatus == 1, "\(p.terminationReason) \(p.terminationStatus)")
        #expect(text.hasPrefix("pneumo: out of memory: ") && text.contains("GB requested for one tensor") && !text.contains("Backtrac"), "\(text)")
    }
}
