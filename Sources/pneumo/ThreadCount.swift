import CPUBackend
import GraphCore
import Foundation

/// `--threads`, capped at the processors this process may use: more threads than cores only oversubscribe
/// them, and OpenMP's barriers then wait on threads that are not running.
enum ThreadCount {
    /// The thread count to use for `requested`, and the note to print when it was capped.
    static func capped(_ requested: Int, available: Int = ProcessInfo.processInfo.activeProcessorCount) -> (threads: Int, note: String?) {
        let cores = max(available, 1)
        guard requested > cores else { return (requested, nil) }
        return (cores, "--threads \(requested) capped at \(cores), the processors available")
    }

    /// Sets the kernels' thread count (the one place the CLI does), saying so on stderr when capped.
    static func apply(_ requested: Int?) {
        guard let requested else { return }
        let (threads, note) = capped(requested)
        if let note { FileHandle.standardError.write(Data((note + "\n").utf8)) }
        CPUDevice.threadCount = threads
    }
}
