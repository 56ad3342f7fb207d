import Logging
import Serve
import Synchronization
import Testing

/// The server's log handler writes what swift-log's stream handler writes, metadata included, though it formats the
/// metadata only for the lines it writes.
@Suite("Serving: log handler") struct DeferredMetadataLogHandlerTests {
    @Test func writesTheMetadataItWasGivenOnTheLinesItWrites() {
        let lines = Lines()
        var logger = Logger(label: "pneumo.test") { DeferredMetadataLogHandler(label: $0, stream: lines) }
        logger.logLevel = .info
        logger[metadataKey: "hb.request.id"] = "7"
        logger[metadataKey: "model"] = "pneumonet"
        logger.debug("not at this level")
        logger.info("answered", metadata: ["model": "other"])
        logger[metadataKey: "model"] = nil
        logger.warning("overloaded")

        let written = lines.all
        #expect(written.count == 2, "\(written)")
        // The stream handler's layout: label, metadata sorted by key, the source, the message; a line's own
        // metadata wins over the logger's.
        #expect(written.first?.hasSuffix(" info pneumo.test: hb.request.id=7 model=other [ServeTests] answered\n") == true, "\(written)")
        #expect(written.last?.hasSuffix(" warning pneumo.test: hb.request.id=7 [ServeTests] overloaded\n") == true, "\(written)")
        #expect(logger[metadataKey: "hb.request.id"] == "7")
    }
}

private final class Lines: TextOutputStream, Sendable {
    private let written = Mutex<[String]>([])
    var all: [String] { written.withLock { $0 } }
    func write(_ string: String) { written.withLock { $0.append(string) } }
}
