import Foundation

/// OpenMP's workers spin after each parallel region, waiting for the next: right for a loop of kernels, wrong for a
/// server, whose HTTP threads need those cycles between batches (`bench/README.md` has the profile and the
/// throughput with and without). libgomp reads its wait policy once, when it
/// loads, so `pneumo serve` runs itself again with `OMP_WAIT_POLICY=PASSIVE` unless the caller chose a policy.
enum PassiveOpenMP {
    static func reexecIfNeeded() {
        let env = ProcessInfo.processInfo.environment
        guard env["OMP_WAIT_POLICY"] == nil, env["GOMP_SPINCOUNT"] == nil else { return }
        setenv("OMP_WAIT_POLICY", "PASSIVE", 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        // Only reached when exec failed (no /proc): serve with the active policy.
        unsetenv("OMP_WAIT_POLICY")
    }
}
