import Foundation

/// How much other work took this machine's CPUs while a race timed kernels: the share of the race's time in which some
/// task waited for a CPU (Linux's pressure stall information, `/proc/pressure/cpu`), or in which the hypervisor ran
/// another guest on our CPUs (steal time, `/proc/stat`), whichever is larger. A race run while the share was high
/// timed the other work as much as the kernels. Its decision still serves the process that made it, but it is not
/// kept in the tuning cache: the next process times again, instead of taking a busy moment's choice for good.
enum HostContention {
    /// Above this share, a race's decision is not kept: well above an idle machine's share, well below one busy process
    /// beside the races (`bench/README.md`, "The tuning cache").
    static let busyShare = 0.10

    /// Tests: a share to report instead of the machine's (nil: measure).
    @TaskLocal static var simulated: Double?

    /// One look at the counters.
    struct Reading: Equatable, Sendable {
        /// The monotonic clock.
        var nanoseconds: UInt64
        /// Time some task waited for a CPU, in µs since boot (`some … total=`); nil without pressure stall information.
        var waitingMicroseconds: UInt64?
        /// Time stolen from all CPUs by the hypervisor, in clock ticks since boot; nil where `/proc/stat` cannot be read.
        var stealTicks: UInt64?
    }

    static func read() -> Reading {
        Reading(nanoseconds: DispatchTime.now().uptimeNanoseconds,
                waitingMicroseconds: (try? String(contentsOfFile: "/proc/pressure/cpu", encoding: .utf8)).flatMap(waiting(pressure:)),
                stealTicks: (try? String(contentsOfFile: "/proc/stat", encoding: .utf8)).flatMap(steal(stat:)))
    }

    /// `total=` of the `some` line of `/proc/pressure/cpu`.
    static func waiting(pressure: String) -> UInt64? {
        guard let line = pressure.split(separator: "\n").first(where: { $0.hasPrefix("some ") }),
              let field = line.split(separator: " ").first(where: { $0.hasPrefix("total=") }) else { return nil }
        return UInt64(field.dropFirst("total=".count))
    }

    /// The steal column (the 8th number) of `/proc/stat`'s `cpu` line, all CPUs together.
    static func steal(stat: String) -> UInt64? {
        guard let line = stat.split(separator: "\n").first(where: { $0.hasPrefix("cpu ") }) else { return nil }
        let fields = line.split(separator: " ").dropFirst()
        guard fields.count >= 8 else { return nil }
        return UInt64(fields[fields.startIndex + 7])
    }

    /// The share of the span from `a` to `b` that other work took, from 0 (nothing waited) to 1; nil when neither
    /// counter could be read at both ends (the decision is then kept, as before this check existed).
    static func share(from a: Reading, to b: Reading, cpus: Int = ProcessInfo.processInfo.processorCount,
                             ticksPerSecond: Int = sysconf(Int32(_SC_CLK_TCK))) -> Double? {
        let span = Double(b.nanoseconds &- a.nanoseconds) / 1e9
        guard span > 0 else { return nil }
        var shares: [Double] = []
        if let w0 = a.waitingMicroseconds, let w1 = b.waitingMicroseconds, w1 >= w0 {
            shares.append(Double(w1 - w0) / 1e6 / span)
        }
        if let s0 = a.stealTicks, let s1 = b.stealTicks, s1 >= s0, ticksPerSecond > 0, cpus > 0 {
            shares.append(Double(s1 - s0) / Double(ticksPerSecond) / (span * Double(cpus)))
        }
        return shares.max().map { min(1, $0) }
    }

    /// The share since `start` (`simulated` where a test set one).
    static func share(since start: Reading) -> Double? { simulated ?? share(from: start, to: read()) }

    /// Whether a race that began at `start` ran on a machine too busy to keep its decision, and if so what the
    /// decision's reason should add.
    static func busyNote(since start: Reading) -> String? {
        guard let share = share(since: start), share > busyShare else { return nil }
        return String(format: "; not kept in the tuning cache: the machine was busy (a task waiting for a CPU) during %.0f%% of the race", share * 100)
    }
}
