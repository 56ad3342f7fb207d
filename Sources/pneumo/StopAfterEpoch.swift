import Dispatch
import Foundation

/// Ctrl-C during a long training job: the first stops it after the epoch under way, whose checkpoint is then
/// written (the same command continues from it); a second stops at once, as Ctrl-C otherwise does.
final class StopAfterEpoch: @unchecked Sendable {
    private let lock = NSLock()
    private var requested = false
    private var source: DispatchSourceSignal?

    /// Listens for SIGINT from now on; `what` names the command in the message.
    init(_ what: String) {
        signal(SIGINT, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler { [unowned self] in
            let first = lock.withLock { () -> Bool in defer { requested = true }; return !requested }
            guard first else { exit(130) }
            FileHandle.standardError.write(Data("\n\(what): stopping after this epoch, keeping its checkpoint (the same command continues the run); Ctrl-C again stops now\n".utf8))
        }
        source.resume()
        self.source = source
    }

    var isRequested: Bool { lock.withLock { requested } }
}
