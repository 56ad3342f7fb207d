import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
import TestSupport
@testable import Serve

/// The bytes of request bodies held at once are bounded: a body that does not fit beside the others gets 503 with
/// `Retry-After` and is not read, and what a request held is given back when it ends, however it ends.
@Suite("Serving: request body budget", .ownThread) struct RequestBodyBudgetTests {
    @Test func reservationsNeverExceedTheLimit() async {
        let budget = RequestBodyBudget(limit: 100)
        #expect(budget.reserve(60) && !budget.reserve(50) && budget.reserve(40) && !budget.reserve(1))
        budget.release(60)
        #expect(budget.reserve(50) && budget.bytesHeld == 90)
        budget.release(50); budget.release(40)
        // Many reserving at once: each that got its bytes counts them, and no moment holds more than the limit.
        let most = await withTaskGroup(of: Int.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    var most = 0
                    for _ in 0..<2_000 where budget.reserve(7) {
                        most = max(most, budget.bytesHeld)
                        budget.release(7)
                    }
                    return most
                }
            }
            return await group.reduce(0, max)
        }
        #expect(most > 0 && most <= 100 && budget.bytesHeld == 0)
    }

    @Test func aBodyBeyondTheBudgetGets503UntilTheOtherEnds() async throws {
        let server = try InferenceServer(models: [servedPneumoNet()],
                                         configuration: ServerConfiguration(host: "127.0.0.1", port: 0, batching: .init(maxBatch: 8),
                                                                            maxBodyBytes: 1 << 20, maxBodiesBytes: 1 << 20))
        let big = ByteBuffer(repeating: UInt8(ascii: " "), count: 700_000)
        try await server.application().test(.live) { client in
            let port = try #require(client.port)
            // A client that declares 700,000 bytes and sends a few: its reservation stands while it is being read.
            let slow = try RawConnection(port: port)
            try slow.send("POST /v2/models/pneumonet/infer HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 700000\r\n\r\n{")
            var held = 0
            for _ in 0..<200 where held == 0 {
                held = server.bodyBudget.bytesHeld
                if held == 0 { try await Task.sleep(for: .milliseconds(10)) }
            }
            #expect(held == 700_000)
            let refused = try await client.execute(uri: "/v2/models/pneumonet/infer", method: .post, headers: jsonHeaders, body: big)
            #expect(refused.status == .serviceUnavailable && refused.headers[.retryAfter] == "1")
            #expect(errorMessage(refused).contains("request bodies"), "\(errorMessage(refused))")
            // Small requests still fit beside it.
            let small = try await client.execute(uri: "/v2/models/pneumonet/infer", method: .post, headers: jsonHeaders,
                                                 body: inferBody(testImages(1, seed: 1)))
            #expect(small.status == .ok)
            // The slow client goes away: its bytes come back, and the large body is read (and found not to be JSON).
            slow.close()
            for _ in 0..<200 where server.bodyBudget.bytesHeld != 0 { try await Task.sleep(for: .milliseconds(10)) }
            #expect(server.bodyBudget.bytesHeld == 0)
            // A client that goes away inside its body made the mistake: counted as 400, not as a server error.
            let counted = server.metrics.exposition()
            #expect(counted.contains("status=\"400\"") && !counted.contains("status=\"500\""), "\(counted)")
            let read = try await client.execute(uri: "/v2/models/pneumonet/infer", method: .post, headers: jsonHeaders, body: big)
            #expect(read.status == .badRequest)
            #expect(server.bodyBudget.bytesHeld == 0)
        }
    }
}
