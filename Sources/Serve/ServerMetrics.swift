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
    /// Per request label set: its counter and its latency histogram.
    private struct RequestKey: Hashable { let model: String, endpoint: String, status: Int }
    private struct RequestHandles {
        let count: Metrics.Counter, total: Metrics.Timer
        func record(_ duration: Duration) {
            count.increment()
            total.record(duration: duration)
        }
    }
    /// Per model: its queue and compute latency, batch sizes and queue depth.
    private struct ModelHandles { let queue: Metrics.Timer, compute: Metrics.Timer, batch: Metrics.Recorder, depth: Metrics.Gauge }
    private let requests = Mutex<[RequestKey: RequestHandles]>([:])
    private let models = Mutex<[String: ModelHandles]>([:])

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
        requests.withLock { r in
            let key = RequestKey(model: model, endpoint: endpoint, status: status)
            if let h = r[key] { return h }
            let dimensions = [("model", model), ("endpoint", endpoint)]
            let h = RequestHandles(count: Metrics.Counter(label: "pneumo_requests_total", dimensions: dimensions + [("status", String(status))], factory: factory),
                                   total: Metrics.Timer(label: "pneumo_request_duration_seconds", dimensions: dimensions, factory: factory))
            r[key] = h
            return h
        }.record(total)
    }

    /// Where one inference request's time went: waiting for its batch, and the batch's compute.
    public func inference(model: String, queue: Duration, compute: Duration) {
        let h = handles(model)
        h.queue.record(duration: queue)
        h.compute.record(duration: compute)
    }

    public func batch(model: String, size: Int) { handles(model).batch.record(size) }

    public func queueDepth(model: String, images: Int) { handles(model).depth.record(images) }

    /// The Prometheus text exposition of every metric.
    public func exposition() -> String { registry.emitToString() }

    private func handles(_ model: String) -> ModelHandles {
        let factory = factory
        return models.withLock { m in
            if let h = m[model] { return h }
            let dimensions = [("model", model)]
            let h = ModelHandles(queue: Metrics.Timer(label: "pneumo_queue_duration_seconds", dimensions: dimensions, factory: factory),
                                 compute: Metrics.Timer(label: "pneumo_compute_duration_seconds", dimensions: dimensions, factory: factory),
                                 batch: Metrics.Recorder(label: "pneumo_batch_size", dimensions: dimensions, aggregate: true, factory: factory),
                                 depth: Metrics.Gauge(label: "pneumo_queue_images", dimensions: dimensions, factory: factory))
            m[model] = h
            return h
        }
    }
}

