import CPUBackend
import Crypto
import FileSafety
import Foundation
import GraphCore
import Synchronization

/// What `auto` decided by timing, kept on disk so that the next process on the same machine and build takes it
/// without timing again. Compiling the spec baseline at batch 1 races for about 8 s, and `pneumo serve` compiles a
/// dozen batch sizes at start-up (about 200 s for the baseline); with the cache a restart compiles only what it runs
/// (`bench/README.md`, "The tuning cache").
///
/// One JSON file per machine and build (`machine`: the CPU, the ISAs oneDNN and our kernels run, oneDNN's version, and
/// this executable's size and time), so another CPU, another `ONEDNN_MAX_CPU_ISA` or a rebuilt `pneumo` starts a file
/// of its own. It holds three kinds of decisions: Winograd's per shape (`WinogradChoice`) and each plan's arrangement
/// (`PlanTuner`: threads and kernel families), each with the times it rests on, and the training step's Winograd choices
/// (`TrainingWinograd`, through `TimedDecisions`), so that a training run resumed in a new process computes as it
/// started. All choose among kernels that compute the same result to float32 rounding, so a lost or stale entry costs a
/// race, never a wrong answer. A plan's or a shape's race run while other work kept the machine busy is not kept
/// (`HostContention`); the training step's choices are kept regardless, since a resumed run must compute as it started.
///
/// Plans read `active`: the task's cache (`using`, what tests bind), else the process's (`enable`, what the
/// command-line tool sets from `PNEUMO_TUNING_CACHE`), else none: a library user times in every process unless they
/// enable one.
public final class TuningCache: TimedDecisionStore {
    /// The file this cache reads and writes.
    public let file: URL
    /// Why the file on disk was not used when the cache was opened (unreadable, not this format), if it was not.
    public let problem: String?
    private let state: Mutex<Entries>

    struct Entries: Codable {
        var format = TuningCache.format
        var machine: String
        var winograd: [String: WinogradChoice.Decision] = [:]
        var plans: [String: PlanEntry] = [:]
        /// The training step's Winograd choices (`TrainingWinograd`): a variant's name or "direct".
        var training: [String: String] = [:]
    }

    struct PlanEntry: Codable, Equatable {
        let arrangement: PlanArrangement
        /// What the plan reports (`.direct` where every family lost).
        let convolutions: ConvolutionAlgorithm
        let reason: String
    }

    /// Bumped when an entry's meaning changes; a file of another format is ignored and rewritten. 2: entries come only
    /// from races run while the machine was quiet (`HostContention`); a format-1 file may hold a busy moment's choices.
    static let format = 2

    /// What a plan taken from the cache adds to its reason.
    static let takenNote = "decided by an earlier run on this machine, from the tuning cache"

    /// The cache plans compiled now (and training steps) read and write: the task's (`using`), else the process's.
    public static var active: TuningCache? { TimedDecisions.active as? TuningCache }

    /// Makes `cache` the process's (nil: none).
    public static func enable(_ cache: TuningCache?) { TimedDecisions.enable(cache) }

    /// Runs `body` with `cache` as this task's (tests: the other tests running beside it keep theirs).
    public static func using<R>(_ cache: TuningCache, _ body: () throws -> R) rethrows -> R {
        try TimedDecisions.$current.withValue(cache, operation: body)
    }

    /// Opens the cache of `machine` in `directory` (created when first written); a file that cannot be read as this
    /// format is set aside (`problem` says why) and replaced at the first write.
    public init(directory: URL, machine: String = TuningCache.machine) {
        let name = String(Self.hex(SHA256.hash(data: Data(machine.utf8))).prefix(16))
        file = directory.appendingPathComponent("tuning-\(name).json")
        var entries = Entries(machine: machine)
        var problem: String?
        if let data = try? Data(contentsOf: file) {
            do {
                let read = try JSONDecoder().decode(Entries.self, from: data)
                if read.format != Self.format || read.machine != machine {
                    problem = "\(file.path) is of another format or machine; timing again"
                } else {
                    entries = read
                }
            } catch {
                problem = "\(file.path) is not a tuning cache (\(error)); timing again"
            }
        }
        self.problem = problem
        state = Mutex(entries)
    }

    /// The machine and build this process's decisions hold for.
    public static let machine: String = {
        let cpu = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?
            .split(separator: "\n").first { $0.hasPrefix("model name") }
            .map { $0.split(separator: ":", maxSplits: 1).last!.trimmingCharacters(in: .whitespaces) } ?? "unknown CPU"
        // `/proc/self/exe` is a link made when the process starts: the file it names is the build.
        let path = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let exe = (try? FileManager.default.attributesOfItem(atPath: path)) ?? [:]
        let size = (exe[.size] as? NSNumber)?.int64Value ?? 0
        let time = (exe[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
        return "\(cpu); \(ProcessInfo.processInfo.activeProcessorCount) CPUs; oneDNN \(OneDNNLibrary.version) \(CPUDevice.isaName); "
            + "kernels \(KernelISA.best?.rawValue ?? "none"); build \(size) bytes, \(Int64(time))"
    }()

    /// Decisions in the cache: plans' arrangements, and Winograd's choices per shape.
    public var planCount: Int { state.withLock { $0.plans.count } }
    public var winogradShapeCount: Int { state.withLock { $0.winograd.count } }

    func winograd(_ key: String) -> WinogradChoice.Decision? { state.withLock { $0.winograd[key] } }
    func plan(_ key: String) -> PlanEntry? { state.withLock { $0.plans[key] } }

    func record(winograd key: String, _ entry: WinogradChoice.Decision) { save { $0.winograd[key] = entry } }
    package func training(_ key: String) -> String? { state.withLock { $0.training[key] } }
    package func record(training key: String, _ choice: String) { save { $0.training[key] = choice } }
    func record(plan key: String, _ entry: PlanEntry) { save { $0.plans[key] = entry } }

    /// Changes the entries and writes the file whole (temporary file, then rename), with what other processes wrote to
    /// it since (ours win a tie). Writes in this process take turns (they share one temporary file); two processes
    /// writing at once can lose one's new entry, which is then timed again next time.
    private func save(_ change: (inout Entries) -> Void) {
        state.withLock { entries in
            change(&entries)
            if let disk = try? Data(contentsOf: file), let other = try? JSONDecoder().decode(Entries.self, from: disk),
               other.format == entries.format, other.machine == entries.machine {
                entries.winograd.merge(other.winograd) { ours, _ in ours }
                entries.plans.merge(other.plans) { ours, _ in ours }
                entries.training.merge(other.training) { ours, _ in ours }
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
            do {
                try AtomicFile.write(try encoder.encode(entries), to: file)
            } catch {
                Self.reportWriteFailure(error)
            }
        }
        pruneOnce()
    }

    /// How many machines' and builds' files a directory keeps: every rebuild of `pneumo` starts a file, so without a
    /// bound a developer's cache would grow by one per build.
    static let filesKept = 16
    private let pruned = Mutex(false)

    /// After this cache's first write: all but the `filesKept` most recently written files removed.
    private func pruneOnce() {
        guard pruned.withLock({ done in defer { done = true }; return !done }) else { return }
        let directory = file.deletingLastPathComponent()
        let fm = FileManager.default
        guard let names = try? fm.contentsOfDirectory(atPath: directory.path) else { return }
        let files = names.filter { $0.hasPrefix("tuning-") && $0.hasSuffix(".json") }.map { directory.appendingPathComponent($0) }
        let written = files.map { ($0, (try? fm.attributesOfItem(atPath: $0.path)[.modificationDate] as? Date) ?? .distantPast) }
        for (old, _) in written.sorted(by: { $0.1 > $1.1 }).dropFirst(Self.filesKept) where old.path != file.path {
            try? fm.removeItem(at: old)
        }
    }

    private static let writeFailureReported = Mutex(false)

    /// Once per process: a cache that cannot be written still works for this process, but the next one times again.
    private static func reportWriteFailure(_ error: any Error) {
        guard writeFailureReported.withLock({ reported in defer { reported = true }; return !reported }) else { return }
        FileHandle.standardError.write(Data("pneumo: the tuning cache cannot be written (\(error)); decisions are kept for this process only\n".utf8))
    }
}

extension TuningCache {
    static func hex(_ digest: SHA256.Digest) -> String { digest.map { String(format: "%02x", $0) }.joined() }

    /// The key of a plan's arrangement: the prepared graph's ops, inputs and shapes (not its names or weights: neither
    /// changes what is fast), and everything else of the request that changes what is timed.
    static func planKey(graph: Graph, inputShape: [Int], layout: PlanLayout, precision: Precision, int8Weights: Int8WeightRange,
                        fuse: Bool, parallelism: PlanParallelism, convolutions: ConvolutionAlgorithm, stepsAlone: Set<Int>) throws -> String {
        struct Structure: Encodable {
            let ops: [Op], inputs: [[Int]], shapes: [[Int]], outputs: [Int]
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let structure = Structure(ops: graph.nodes.map(\.op), inputs: graph.nodes.map { $0.inputs.map(\.index) },
                                  shapes: graph.nodes.map(\.shape), outputs: graph.outputs.map(\.index))
        return [hex(SHA256.hash(data: try encoder.encode(structure))), inputShape.map(String.init).joined(separator: "x"), layout.rawValue, precision.rawValue,
                precision == .int8 ? int8Weights.rawValue : "-", fuse ? "fused" : "unfused", parallelism.rawValue, convolutions.rawValue,
                stepsAlone.sorted().map(String.init).joined(separator: ","), "\(CPUDevice.threadCount) threads"].joined(separator: "|")
    }
}
