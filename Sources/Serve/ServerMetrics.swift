import Metrics
import Prometheus

/// The server's Prometheus metrics through swift-metrics, in a registry of its own (several servers in one
/// process, as in tests, do not share counters): requests by model, endpoint and status; queue, compute and
/// total latency; batch sizes; images waiting.
public struct ServerMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    private let factory: PrometheusMetricsFactory

    public init() {
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        let latency: [Duration] = [.microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
                                   .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
                                   .seconds(1)]
        factory.defaultDurationHistogramBuckets = latency
        factory.defaultValueHistogramBuckets = [1, 2, 4, 8, 16, 32, 64, 128, 256]
        self.factory = factory
    }

    /// One answered request.
    public func request(model: String, endpoint: String, status: Int, total: Duration) {
        Counter(label: "pneumo_requests_total", dimensions: [("model", model), ("endpoint", endpoint), ("status", String(status))],
                factory: factory).increment()
        Metrics.Timer(label: "pneumo_request_duration_seconds", dimensions: [("model", model), ("endpoint", endpoint)], factory: factory)
            .record(duration: total)
    }

    /// Where one inference request's time went: waiting for its batch, and the batch's compute.
    public func inference(model: String, queue: Duration, compute: Duration) {
        Metrics.Timer(label: "pneumo_queue_duration_seconds", dimensions: [("model", model)], factory: factory).record(duration: queue)
        Metrics.Timer(label: "pneumo_compute_duration_seconds", dimensions: [("model", model)], factory: factory).record(duration: compute)
    }

    public func batch(model: String, size: Int) {
        Recorder(label: "pneumo_batch_size", dimensions: [("model", model)], aggregate: true, factory: factory).record(size)
    }

    public func queueDepth(model: String, images: Int) {
        Gauge(label: "pneumo_queue_images", dimensions: [("model", model)], factory: factory).record(images)
    }

    /// The Prometheus text exposition of every metric.
    public func exposition() -> String { registry.emitToString() }
}
