import FileSafety
import Foundation

/// What a run folder's pipeline has finished, with which settings, and how long each stage took
/// (`pipeline_state.json`). `pneumo pipeline --out DIR` again reads it and continues where the run stopped: finished
/// stages are read back from their files, and a training stage continues from its last finished epoch.
final class PipelineProgress {
    static let fileName = "pipeline_state.json"

    struct State: Codable, Equatable {
        /// Everything that changes a result; a folder is only continued with the same.
        var settings: [String: String]
        /// Stages in the order they finished, by the file each wrote.
        var finished: [String] = []
        /// How long each stage took in the run that finished it (a continued stage: its last part only).
        var seconds: [String: Double] = [:]
    }

    let url: URL
    private(set) var state: State
    /// Whether this run continues an earlier one in the same folder.
    let resuming: Bool
    let log: @Sendable (String) -> Void
    /// Asked before each stage that is not finished yet: true stops the run there (`PipelineStopped`).
    var stopRequested: @Sendable () -> Bool = { false }

    /// Opens `directory`'s state: a run with the same settings is continued, one with other settings refused
    /// (unless `restart`, which starts over), and a folder without state starts fresh.
    init(directory: URL, settings: [String: String], restart: Bool, log: @escaping @Sendable (String) -> Void) throws {
        url = directory.appendingPathComponent(Self.fileName)
        self.log = log
        let earlier = restart ? nil : try Self.read(url)
        if let earlier {
            guard earlier.settings == settings else {
                let keys = Set(earlier.settings.keys).union(settings.keys).sorted().filter { earlier.settings[$0] != settings[$0] }
                let changes = keys.map { "\($0): \(earlier.settings[$0] ?? "unset") there, \(settings[$0] ?? "unset") now" }
                throw PipelineError("\(directory.path) holds a pipeline run with other settings (\(changes.joined(separator: "; "))): give the same settings to continue it, --restart to start it over, or another --out")
            }
            state = earlier
            resuming = true
            log(earlier.finished.isEmpty ? "continuing the run in \(directory.path) from its first stage"
                : "continuing the run in \(directory.path): finished \(earlier.finished.joined(separator: ", "))")
        } else {
            state = State(settings: settings)
            resuming = false
            try save()
        }
    }

    static func read(_ url: URL) throws -> State? {
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        do {
            return try JSONDecoder().decode(State.self, from: Data(contentsOf: url))
        } catch {
            throw PipelineError("\(url.path) is not a pipeline state (\(error)); delete it or use --restart to start the run over")
        }
    }

    func isFinished(_ stage: String) -> Bool { state.finished.contains(stage) }

    /// Runs `body` and writes its result to `file` (in `directory`), unless an earlier run finished that stage:
    /// then its file is read back instead.
    func stage<T: Codable>(_ file: String, in directory: URL, _ body: () throws -> T) throws -> T {
        let target = directory.appendingPathComponent(file)
        if isFinished(file), let data = try? Data(contentsOf: target), let value = try? JSONDecoder().decode(T.self, from: data) {
            log("\(file): finished earlier, read back")
            return value
        }
        try checkStop(before: file)
        let started = DispatchTime.now().uptimeNanoseconds
        let value = try body()
        try AtomicFile.write(try value.prettyJSON(), to: target)
        try finish(file, since: started)
        return value
    }

    /// Throws `PipelineStopped` where a stop was requested and `stage` is still to run.
    func checkStop(before stage: String) throws {
        if !isFinished(stage), stopRequested() { throw PipelineStopped(before: stage, finished: state.finished) }
    }

    /// Records `stage` as finished, `since` (uptime nanoseconds) its start; a stage finished earlier keeps its time.
    func finish(_ stage: String, since started: UInt64) throws {
        guard !isFinished(stage) else { return }
        state.finished.append(stage)
        state.seconds[stage] = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        try save()
    }

    private func save() throws {
        try AtomicFile.write(try state.prettyJSON(), to: url)
    }
}

/// The pipeline stopped on request between two stages; running it again continues with `before`.
public struct PipelineStopped: Error, CustomStringConvertible {
    public let before: String
    public let finished: [String]
    public var description: String {
        "pipeline stopped on request before \(before)" + (finished.isEmpty ? "" : " (finished: \(finished.joined(separator: ", ")))")
    }
}

public struct PipelineError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
