import Metrics
import Prometheus
import Synchronization

/// The server's Prometheus metrics through swift-metrics, in a registry of its own (several servers in one
/// process, as in tests, do not share counters): requests by model, endpoint and status; queue, compute and
/// total latency; batch sizes; images waiting. Handles are made once per label set and kept: making one looks
/// it up in the registry, which a request should not pay for.
public final class ServerMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    private let factory: PrometheusMetricsFactory
    private let counters = Mutex<[String: Metrics.Counter]>([:])
    private let timers = Mutex<[String: Metrics.Timer]>([:])
    private let recorders = Mutex<[String: Metrics.Recorder]>([:])
    private let gauges = Mutex<[String: Metrics.Gauge]>([:])

    public init() {
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [.microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2),
                                                   .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
                                                   .milliseconds(100), .milliseconds(250), .seconds(1)]
        factory.defaultValueHistogramBuckets = [1, 2, 4, 8, 16, 32, 64, 128, 256]
        self.factory = factory
    }

    /// One answered request.
    public func request(model: String, endpoint: String, status: Int, total: Duration) {
        let factory = factory
        let dimensions = [("model", model), ("endpoint", endpoint)]
        counters.withLock { c in
            let key = "\(model)|\(endpoint)|\(status)"
            if c[key] == nil { c[key] = Metrics.Counter(label: "pneumo_requests_total", dimensions: dimensions + [("status", String(status))], factory: factory) }
            return c[key]!
        }.increment()
        timer("pneumo_request_duration_seconds", dimensions).record(duration: total)
    }

    /// Where one inference request's time went: waiting for its batch, and the batch's compute.
    public func inference(model: String, queue: Duration, compute: Duration) {
        timer("pneumo_queue_duration_seconds", [("model", model)]).record(duration: queue)
        timer("pneumo_compute_duration_seconds", [("model", model)]).record(duration: compute)
    }

    public func batch(model: String, size: Int) {
        let factory = factory
        recorders.withLock { r in
            if r[model] == nil { r[model] = Metrics.Recorder(label: "pneumo_batch_size", dimensions: [("model", model)], aggregate: true, factory: factory) }
            return r[model]!
        }.record(size)
    }

    public func queueDepth(model: String, images: Int) {
        let factory = factory
        gauges.withLock { g in
            if g[model] == nil { g[model] = Metrics.Gauge(label: "pneumo_queue_images", dimensions: [("model", model)], factory: factory) }
            return g[model]!
        }.record(images)
    }

    /// The Prometheus text exposition of every metric.
    public func exposition() -> String { registry.emitToString() }

    private func timer(_ label: String, _ dimensions: [(String, String)]) -> Metrics.Timer {
        let factory = factory
        return timers.withLock { t in
            let key = label + "|" + dimensions.map { "\($0.0)=\($0.1)" }.joined(separator: ",")
            if t[key] == nil { t[key] = Metrics.Timer(label: label, dimensions: dimensions, factory: factory) }
            return t[key]!
        }
    }
}
