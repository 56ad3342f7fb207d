import Synchronization

/// A store that keeps decisions made by timing beyond this process (`Runtime.TuningCache`), for the choices made
/// below the runtime: the training step's Winograd races (`TrainingWinograd`).
package protocol TimedDecisionStore: AnyObject, Sendable {
    /// A training convolution's choice for `key` ("forward|C|K|H|W|threads"): a variant's name or "direct".
    func training(_ key: String) -> String?
    func record(training key: String, _ choice: String)
}

/// The store choices are read from and written to: the task's (`$current`, what tests bind), else the process's.
package enum TimedDecisions {
    @TaskLocal package static var current: (any TimedDecisionStore)?
    private static let process = Mutex<(any TimedDecisionStore)?>(nil)

    package static var active: (any TimedDecisionStore)? { current ?? process.withLock { $0 } }
    package static func enable(_ store: (any TimedDecisionStore)?) { process.withLock { $0 = store } }
}
