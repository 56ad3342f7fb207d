#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import TestSupport
@testable import Serve

/// Connections that hold a descriptor without a request under way are closed after the idle timeout: one that sends
/// nothing, one that sends its headers and never finishes them, one that stays open after its answer. Without the
/// timeout, enough of them leave the server unable to accept anyone else.
@Suite("Serving: idle connections", .ownThread) struct IdleConnectionTests {
    static func server(idleTimeout: Duration?) throws -> InferenceServer {
        try InferenceServer(models: [servedPneumoNet()],
                            configuration: ServerConfiguration(host: "127.0.0.1", port: 0, batching: .init(maxBatch: 8),
                                                               idleTimeout: idleTimeout))
    }

    @Test(arguments: [
        "",                                                               // connects and sends nothing
        "GET /v2/health/live HTTP/1.1\r\nHost: a\r\n",                    // headers that never end
        "GET /v2/health/live HTTP/1.1\r\nHost: a\r\n\r\n",                // a request answered, then nothing more
    ])
    func idleConnectionsAreClosed(sending: String) async throws {
        try await Self.server(idleTimeout: .milliseconds(300)).application().test(.live) { client in
            let port = try #require(client.port)
            let (closed, received) = try await RawConnection.onItsOwnThread { try RawConnection.closedByServer(port: port, sending: sending, within: 5) }
            #expect(closed)
            if sending.hasSuffix("\r\n\r\n") { #expect(received.hasPrefix("HTTP/1.1 200")) }
        }
    }

    @Test func withoutATimeoutAnIdleConnectionStaysOpen() async throws {
        try await Self.server(idleTimeout: nil).application().test(.live) { client in
            let port = try #require(client.port)
            let (closed, _) = try await RawConnection.onItsOwnThread { try RawConnection.closedByServer(port: port, sending: "", within: 1) }
            #expect(!closed)
        }
    }

    /// The hard limit, where it leaves room to lower the soft one below it and raise it again.
    static var roomyHardLimit: Bool {
        var limit = rlimit()
        return getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 && limit.rlim_max > 2048 && limit.rlim_max != rlim_t.max
    }

    @Test(.enabled(if: roomyHardLimit, "the hard limit on open files leaves no room below it to test"))
    func openFileLimitIsRaisedToTheHardLimit() throws {
        var original = rlimit()
        try #require(getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &original) == 0)
        defer { _ = setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &original) }
        var lowered = original
        lowered.rlim_cur = 2048
        try #require(setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &lowered) == 0)
        let change = try #require(OpenFileLimit.raiseToHard())
        #expect(change.from == 2048 && change.to == UInt64(original.rlim_max))
        #expect(OpenFileLimit.current == UInt64(original.rlim_max))
        #expect(OpenFileLimit.raiseToHard() == nil)
    }
}

/// A plain TCP client: what a client that misbehaves at the socket level does, which an HTTP client library will not.
final class RawConnection: @unchecked Sendable {
    struct Failure: Error, CustomStringConvertible { let description: String }
    private var fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { close(); throw Failure(description: "connect to port \(port): errno \(errno)") }
    }

    deinit { close() }

    func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        guard bytes.isEmpty || write(fd, bytes, bytes.count) == bytes.count else { throw Failure(description: "write: errno \(errno)") }
    }

    /// Reads until the server closes the connection (true) or `seconds` pass without it (false); also what was read.
    func readUntilClosed(within seconds: Int) -> (closed: Bool, received: String) {
        var timeout = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = read(fd, &buffer, buffer.count)
            if n > 0 { received += buffer[0..<n]; continue }
            // 0: the server closed it; a reset is a close too; a timeout (EAGAIN) means it stayed open.
            return (n == 0 || errno == ECONNRESET, String(decoding: received, as: UTF8.self))
        }
    }

    func close() {
        if fd >= 0 { _ = Glibc.close(fd) }
        fd = -1
    }

    /// Connects to the loopback `port`, writes `sending`, then reads until the server closes the connection or
    /// `seconds` pass (`readUntilClosed`).
    static func closedByServer(port: Int, sending: String, within seconds: Int) throws -> (closed: Bool, received: String) {
        let connection = try RawConnection(port: port)
        try connection.send(sending)
        return connection.readUntilClosed(within: seconds)
    }

    /// Runs `body`, which blocks in the kernel, on a thread of its own rather than one of Swift's pool.
    static func onItsOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in Thread { continuation.resume(with: Result { try body() }) }.start() }
    }
}
