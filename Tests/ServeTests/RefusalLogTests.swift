import Hummingbird
import Logging
import Testing
@testable import Serve

/// Refusals under load are written at most once an interval per route, saying how many were not; the request line of
/// a refusal is at debug, while other server errors stay at error.
@Suite struct RefusalLogTests {
    @Test func oneLineAnIntervalPerRouteWithTheCountLeftOut() throws {
        let log = RefusalLog(interval: .seconds(1))
        let t0 = ContinuousClock.now
        let route = "POST /v2/models/m/infer"
        #expect(log.line(route: route, message: "the queue is full", now: t0) == "\(route): the queue is full")
        for k in 1...3 { #expect(log.line(route: route, message: "the queue is full", now: t0 + .milliseconds(100 * k)) == nil) }
        #expect(log.line(route: "POST /v2/models/n/infer", message: "the queue is full", now: t0 + .milliseconds(500)) != nil)
        let next = try #require(log.line(route: route, message: "the queue is full", now: t0 + .seconds(1)))
        #expect(next.hasSuffix("(and 3 more refused since the last line)"), "\(next)")
        #expect(log.line(route: route, message: "again", now: t0 + .milliseconds(1_500)) == nil)
        #expect(log.line(route: route, message: "again", now: t0 + .seconds(3)) == "\(route): again (and 1 more refused since the last line)")
    }

    @Test func requestLineLevels() {
        #expect(RequestLog<BasicRequestContext>.level(status: 200) == .debug)
        #expect(RequestLog<BasicRequestContext>.level(status: 404) == .notice)
        #expect(RequestLog<BasicRequestContext>.level(status: 500) == .error)
        #expect(RequestLog<BasicRequestContext>.level(status: 503) == .debug)
    }
}
