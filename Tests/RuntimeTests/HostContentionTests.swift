import CDNNL
import Foundation
import Testing
import TestSupport
@testable import CPUBackend
@testable import GraphCore
import Models
@testable import Runtime

/// `HostContention`: the counters are read as the kernel writes them, the share is what they say, a machine kept busy
/// shows as busy, and a race run on a busy machine serves its process without entering the tuning cache.
@Suite struct HostContentionTests {
    @Test func readsThePressureAndStealCounters() {
        let pressure = "some avg10=0.00 avg60=3.21 avg300=13.39 total=399727944\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"
        #expect(HostContention.waiting(pressure: pressure) == 399_727_944)
        #expect(HostContention.waiting(pressure: "full avg10=0.00 total=5\n") == nil)
        #expect(HostContention.waiting(pressure: "some avg10=0.00 total=x\n") == nil)
        let stat = "cpu  10132153 290696 3084719 46828483 16683 0 25195 175628 0 0\ncpu0 1 2 3 4 5 6 7 8 9 10\nintr 1 2\n"
        #expect(HostContention.steal(stat: stat) == 175_628)
        #expect(HostContention.steal(stat: "cpu  1 2 3 4 5 6 7\n") == nil)
        #expect(HostContention.steal(stat: "cpu0 1 2 3 4 5 6 7 8 9 10\n") == nil)
    }

    @Test func theShareIsTheLargerOfWaitingAndSteal() {
        let a = HostContention.Reading(nanoseconds: 1_000_000_000, waitingMicroseconds: 1_000, stealTicks: 10)
        // One second: 200 ms waited for a CPU; 50 ticks of 10 ms stolen over 2 CPUs, a quarter of their time.
        let b = HostContention.Reading(nanoseconds: 2_000_000_000, waitingMicroseconds: 201_000, stealTicks: 60)
        #expect(abs(HostContention.share(from: a, to: b, cpus: 2, ticksPerSecond: 100)! - 0.25) < 1e-12)
        let quietSteal = HostContention.Reading(nanoseconds: 2_000_000_000, waitingMicroseconds: 201_000, stealTicks: 10)
        #expect(abs(HostContention.share(from: a, to: quietSteal, cpus: 2, ticksPerSecond: 100)! - 0.2) < 1e-12)
        // More waiting than time (several tasks): at most 1.
        let over = HostContention.Reading(nanoseconds: 2_000_000_000, waitingMicroseconds: 5_000_000, stealTicks: nil)
        #expect(HostContention.share(from: a, to: over, cpus: 2, ticksPerSecond: 100) == 1)
        let unknown = HostContention.Reading(nanoseconds: 1, waitingMicroseconds: nil, stealTicks: nil)
        #expect(HostContention.share(from: unknown, to: HostContention.Reading(nanoseconds: 2, waitingMicroseconds: nil, stealTicks: nil)) == nil)
        #expect(HostContention.share(from: b, to: a) == nil, "no time passed")
    }

    /// One spinning thread more than the machine has CPUs: some task waits for a CPU nearly all the time.
    @Test(.enabled(if: HostContention.read().waitingMicroseconds != nil, "no pressure stall information on this kernel (or it was booted with psi=0)"))
    func aMachineKeptBusyShowsAsBusy() throws {
        let start = HostContention.read()
        // Threads of their own (not Dispatch's pool, which runs no more at once than there are CPUs).
        let spinners = ProcessInfo.processInfo.activeProcessorCount + 1
        let deadline = DispatchTime.now().uptimeNanoseconds + 300_000_000
        let done = DispatchGroup()
        for _ in 0..<spinners {
            done.enter()
            Thread {
                while DispatchTime.now().uptimeNanoseconds < deadline {}
                done.leave()
            }.start()
        }
        done.wait()
        let share = try #require(HostContention.share(from: start, to: HostContention.read()))
        #expect(share > 0.5, "\(share)")
    }

    /// A plan's race and a Winograd shape's race on a busy machine: the plans use what was decided and say why it was not
    /// kept; the cache holds nothing. (The Winograd shape, 48 channels on a 9×9 map at batch 2, is one no other test races.)
    @Test func aBusyMachinesRacesAreNotKept() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let m = try ModelGraph(ResNet18(inChannels: 1, width: 0.125), inputShape: [1, 1, 32, 32], seed: 3)
        let cache = TuningCache(directory: directory, machine: "test machine")
        let (plan, winograd) = try HostContention.$simulated.withValue(0.4) {
            try TuningCache.using(cache) {
                (try InferencePlan(graph: m.graph, parameters: m.parameters, inputShape: [3, 1, 32, 32], parallelism: .auto, convolutions: .auto),
                 try WinogradChoice.decide(batch: 2, channels: 48, outChannels: 48, height: 9, width: 9))
            }
        }
        let note = "not kept in the tuning cache: the machine was busy (a task waiting for a CPU) during 40% of the race"
        #expect(plan.parallelismReason.contains(note), "\(plan.parallelismReason)")
        #expect(winograd.reason.contains(note), "\(winograd.reason)")
        #expect(cache.planCount == 0 && cache.winogradShapeCount == 0)
        #expect(!FileManager.default.fileExists(atPath: cache.file.path))

        // The same plan compiled again on a quiet machine is raced again, and kept.
        let quiet = try HostContention.$simulated.withValue(0.05) {
            try TuningCache.using(cache) {
                try InferencePlan(graph: m.graph, parameters: m.parameters, inputShape: [3, 1, 32, 32], parallelism: .auto, convolutions: .auto)
            }
        }
        #expect(!quiet.parallelismReason.contains("not kept"))
        #expect(cache.planCount == 1)
    }
}
