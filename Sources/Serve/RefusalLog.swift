import Synchronization

/// Refusals under load (503: a full queue, the body budget, a shutdown) are written at most once an interval per
/// route, with how many were not: a line for each of thousands of refusals a second would take the CPU the server is
/// short of, and bury the log. Every refusal is still counted in the metrics, by status.
final class RefusalLog: Sendable {
    let interval: Duration
    private struct Route { var written: ContinuousClock.Instant; var unwritten: Int }
    private let routes = Mutex<[String: Route]>([:])

    init(interval: Duration = .seconds(1)) { self.interval = interval }

    /// The line to write for a refusal on `route` now, or nil when one for that route was written within the interval.
    func line(route: String, message: String, now: ContinuousClock.Instant = .now) -> String? {
        routes.withLock { routes in
            if let r = routes[route], now - r.written < interval {
                routes[route]!.unwritten += 1
                return nil
            }
            let unwritten = routes[route]?.unwritten ?? 0
            routes[route] = Route(written: now, unwritten: 0)
            return "\(route): \(message)" + (unwritten > 0 ? " (and \(unwritten) more refused since the last line)" : "")
        }
    }
}
