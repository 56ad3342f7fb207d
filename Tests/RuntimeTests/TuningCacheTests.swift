import CDNNL
import Foundation
import Testing
import TestSupport
@testable import CPUBackend
@testable import GraphCore
import Models
@testable import Runtime

/// `TuningCache`: what `auto` timed in one process is what the next one takes, without timing; a file that is not a
/// cache, or another machine's, is set aside, never trusted. Each test binds its own cache to its task
/// (`TuningCache.using`), so the other tests running beside it keep timing as before.
@Suite struct TuningCacheTests {
    /// A second "process" (a cache opened again from the same directory) compiles the arrangement the first decided:
    /// its reason is the first's, marked as taken from the cache, and its steps and outputs are the same.
    @Test func aPlanTakesTheArrangementAnEarlierRunDecided() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let m = try ModelGraph(ResNet18(inChannels: 1, width: 0.125), inputShape: [1, 1, 32, 32], seed: 3)
        // As on a quiet machine: the tests running beside this one keep the CPUs busy (`HostContentionTests`).
        func compile(_ cache: TuningCache) throws -> InferencePlan {
            try HostContention.$simulated.withValue(0) {
                try TuningCache.using(cache) {
                    try InferencePlan(graph: m.graph, parameters: m.parameters, inputShape: [2, 1, 32, 32], parallelism: .auto, convolutions: .auto)
                }
            }
        }
        let first = TuningCache(directory: directory, machine: "test machine")
        let timed = try compile(first)
        #expect(first.planCount == 1)
        #expect(!timed.parallelismReason.contains(TuningCache.takenNote))

        let second = TuningCache(directory: directory, machine: "test machine")
        #expect(second.problem == nil)
        #expect(second.planCount == 1)
        let taken = try compile(second)
        #expect(taken.parallelismReason == "\(timed.parallelismReason) (\(TuningCache.takenNote))")
        #expect(taken.arrangement == timed.arrangement)
        #expect(taken.implementations.map(\.implementation) == timed.implementations.map(\.implementation))
        var rng = SeededRandom(seed: 4)
        let x = Tensor.randomNormal([2, 1, 32, 32], using: &rng)
        expectClose(try taken.run(x).scalars, try timed.run(x).scalars, "cached arrangement vs timed")
    }

    /// A plan that times nothing (`.intraOp`, `.direct`) leaves nothing in the cache.
    @Test func aPlanThatTimesNothingRecordsNothing() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let m = try ModelGraph(ResNet18(inChannels: 1, width: 0.125), inputShape: [1, 1, 32, 32], seed: 3)
        let cache = TuningCache(directory: directory, machine: "test machine")
        _ = try TuningCache.using(cache) {
            try InferencePlan(graph: m.graph, parameters: m.parameters, inputShape: [1, 1, 32, 32])
        }
        #expect(cache.planCount == 0 && cache.winogradShapeCount == 0)
        #expect(!FileManager.default.fileExists(atPath: cache.file.path))
    }

    /// A Winograd decision in the file is what a shape no race in this process has decided gets. (The shape, 48
    /// channels on an 11×11 map at batch 3, is one no other test compiles: decisions are also kept per process.)
    @Test func aShapeTakesTheWinogradDecisionInTheCache() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let key = WinogradChoice.key(batch: 3, channels: 48, outChannels: 48, height: 11, width: 11, threads: Int(omp_get_max_threads()))
        let planted = WinogradChoice.Decision(winograd: .init(.f2x2, .whole, products: .onednn), reason: "planted by the test")
        TuningCache(directory: directory, machine: "test machine").record(winograd: key, planted)

        let cache = TuningCache(directory: directory, machine: "test machine")
        let d = try TuningCache.using(cache) {
            try WinogradChoice.decide(batch: 3, channels: 48, outChannels: 48, height: 11, width: 11)
        }
        #expect(d.winograd == planted.winograd)
        #expect(d.reason == planted.reason)
    }

    /// The training step's Winograd choice for a shape is the one in the cache, raced on no call; a shape not in it
    /// is raced, and its choice kept. (The shapes, 48 channels on 48×48 and 56×56 maps, are ones no other test trains.)
    @Test(.enabled(if: TrainingWinograd.forced == nil, "PNEUMO_TRAINING_WINOGRAD forces the choice"))
    func trainingTakesAndKeepsItsWinogradChoices() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let cache = TuningCache(directory: directory, machine: "test machine")
        cache.record(training: TrainingWinograd.key("forward", c: 48, k: 48, h: 48, w: 48), "f2x2")
        var calls = 0
        let kept = try TuningCache.using(cache) {
            try TrainingWinograd.choice(for: "forward", n: 1, c: 48, k: 48, h: 48, w: 48, direct: { calls += 1 }, winograd: { _ in calls += 1 })
        }
        #expect(kept == .f2x2 && calls == 0)

        let raced = try TuningCache.using(cache) {
            try TrainingWinograd.choice(for: "forward", n: 1, c: 48, k: 48, h: 56, w: 56, direct: { calls += 1 }, winograd: { _ in calls += 1 })
        }
        #expect(calls > 0)
        let reopened = TuningCache(directory: directory, machine: "test machine")
        #expect(reopened.training(TrainingWinograd.key("forward", c: 48, k: 48, h: 56, w: 56)) == raced?.rawValue ?? "direct")
    }

    /// Garbage where the file should be: the cache says so, starts empty, and its first write leaves a valid file.
    @Test func aFileThatIsNotACacheIsSetAsideAndRewritten() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = TuningCache(directory: directory, machine: "test machine").file
        try Data("{\"format\": 1, \"machine\": \"test mach".utf8).write(to: file)

        let cache = TuningCache(directory: directory, machine: "test machine")
        let problem = try #require(cache.problem)
        #expect(problem.contains(file.path) && problem.contains("is not a tuning cache"))
        #expect(cache.planCount == 0 && cache.winogradShapeCount == 0)
        cache.record(winograd: "1|16|16|8|8|1", .init(winograd: nil, reason: "direct"))

        let reopened = TuningCache(directory: directory, machine: "test machine")
        #expect(reopened.problem == nil)
        #expect(reopened.winograd("1|16|16|8|8|1") == .init(winograd: nil, reason: "direct"))
    }

    /// Plans compiled at once on several threads (a server's batch sizes, several models) each keep their decision.
    @Test func decisionsRecordedAtOnceAreAllKept() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let cache = TuningCache(directory: directory, machine: "test machine")
        DispatchQueue.concurrentPerform(iterations: 16) { i in
            cache.record(winograd: "\(i)|16|16|8|8|1", .init(winograd: nil, reason: "direct \(i)"))
        }
        let reopened = TuningCache(directory: directory, machine: "test machine")
        #expect(reopened.problem == nil)
        #expect(reopened.winogradShapeCount == 16)
    }

    /// A directory keeps the `filesKept` most recently written files (one per build: a developer's rebuilds would
    /// otherwise pile up), and never the one just written.
    @Test func aDirectoryKeepsTheNewestFiles() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let old = (0..<(TuningCache.filesKept + 4)).map { TuningCache(directory: directory, machine: "build \($0)") }
        for (i, cache) in old.enumerated() {
            cache.record(winograd: "1|16|16|8|8|1", .init(winograd: nil, reason: "direct"))
            // Written i hours ago, the first the oldest.
            let time = Date(timeIntervalSinceNow: -3600 * Double(old.count - i))
            try FileManager.default.setAttributes([.modificationDate: time], ofItemAtPath: cache.file.path)
        }
        let newest = TuningCache(directory: directory, machine: "build now")
        newest.record(winograd: "1|16|16|8|8|1", .init(winograd: nil, reason: "direct"))
        let left = Set(try FileManager.default.contentsOfDirectory(atPath: directory.path))
        #expect(left.count == TuningCache.filesKept)
        #expect(left.contains(newest.file.lastPathComponent))
        #expect(!left.contains(old[0].file.lastPathComponent) && left.contains(old.last!.file.lastPathComponent))
    }

    /// Another machine or build writes a file of its own, and a file that says it is another machine's is not read.
    @Test func eachMachineKeepsItsOwnFile() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (a, b) = (TuningCache(directory: directory, machine: "machine A"), TuningCache(directory: directory, machine: "machine B"))
        #expect(a.file != b.file)
        a.record(winograd: "1|16|16|8|8|1", .init(winograd: nil, reason: "direct"))
        try FileManager.default.copyItem(at: a.file, to: b.file)

        let reopened = TuningCache(directory: directory, machine: "machine B")
        #expect(reopened.problem?.contains("another format or machine") == true)
        #expect(reopened.winogradShapeCount == 0)
    }
}
