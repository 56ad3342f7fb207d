import Foundation

/// A one-line progress bar redrawn in place on a terminal; on a pipe or file it prints nothing until
/// `finish`, which writes one plain line (so logs stay readable).
public struct ProgressBar {
    let total: Int
    let label: String
    let interactive: Bool
    let start = DispatchTime.now().uptimeNanoseconds
    var lastDraw: UInt64 = 0

    public init(total: Int, label: String, interactive: Bool = isatty(STDERR_FILENO) != 0) {
        self.total = max(total, 1); self.label = label; self.interactive = interactive
    }

    var elapsed: Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }

    /// Redraws at most 10 times a second.
    public mutating func update(done: Int, samples: Int, loss: Double) {
        guard interactive else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        guard done == total || now - lastDraw > 100_000_000 else { return }
        lastDraw = now
        let fraction = Double(done) / Double(total)
        let width = 24, filled = Int(fraction * Double(width))
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
        let rate = Double(samples) / max(elapsed, 1e-9)
        let eta = fraction > 0 ? elapsed * (1 - fraction) / fraction : 0
        let line = String(format: "\r%@ %@ %d/%d  loss %.4f  %.0f samples/s  ETA %.0fs ", label, bar, done, total, loss, rate, eta)
        FileHandle.standardError.write(Data(line.utf8))
    }

    /// Ends the bar with a summary line.
    public func finish(_ summary: String) {
        let prefix = interactive ? "\r\u{1B}[2K" : ""
        FileHandle.standardError.write(Data((prefix + label + " " + summary + "\n").utf8))
    }
}
