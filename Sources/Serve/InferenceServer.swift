import Foundation
import GraphCore
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import Synchronization

/// Where and how the server listens and batches.
public struct ServerConfiguration: Sendable {
    public var host: String
    public var port: Int
    public var batching: DynamicBatcher.Configuration
    /// Requests without `Authorization: Bearer <token>` get 401 when set.
    public var authToken: String?
    /// The largest request body accepted (413 above it).
    public var maxBodyBytes: Int
    /// The request bodies held at once, in bytes (503 with `Retry-After` beyond; `RequestBodyBudget`). A request
    /// counts its declared length, or `maxBodyBytes` when it declares none, until its answer is made. At least
    /// `maxBodyBytes`.
    public var maxBodiesBytes: Int
    /// Threads for the sockets and HTTP parsing; nil shares NIO's process-wide group (a loop per core). With batches
    /// on the batching thread, `pneumo serve` asks for one: on a machine of a few cores a second loop's thread competes
    /// with the batches' threads; with batches on the loops, a loop per core (`bench/README.md`, issue 20).
    public var eventLoops: Int?
    /// A connection that has read no part of a request for this long, with no answer owed, is closed; nil keeps
    /// connections open until the client closes them. Leaked keep-alive connections and clients that connect and
    /// send nothing (or headers a byte at a time) would otherwise hold file descriptors until new clients cannot
    /// connect. The default outlasts the 60 s idle timeout of common load balancers, so that one never sends a
    /// request on a connection this server is closing.
    public var idleTimeout: Duration?

    public init(host: String = "127.0.0.1", port: Int = 8000, batching: DynamicBatcher.Configuration = .init(),
                authToken: String? = nil, maxBodyBytes: Int = 32 << 20, maxBodiesBytes: Int = 256 << 20, eventLoops: Int? = nil,
                idleTimeout: Duration? = .seconds(75)) {
        self.host = host; self.port = port; self.batching = batching; self.authToken = authToken; self.maxBodyBytes = maxBodyBytes
        self.maxBodiesBytes = max(maxBodiesBytes, maxBodyBytes)
        self.eventLoops = eventLoops.map { max(1, $0) }
        self.idleTimeout = idleTimeout
    }
}

/// The Open Inference Protocol (KServe v2) over HTTP/REST for a set of models, each behind its own dynamic
/// batcher, plus `classify` (images in, P(pneumonia) out) and Prometheus metrics.
public final class InferenceServer: Sendable {
    public static let name = "pneumo"
    public static let version = "1.0.0"

    public let configuration: ServerConfiguration
    public let metrics = ServerMetrics()
    let batchers: [String: DynamicBatcher]
    let bodyBudget: RequestBodyBudget
    let logger: Logger

    public init(models: [ServedModel], configuration: ServerConfiguration, logger: Logger = Logger(label: "pneumo.serve")) throws {
        guard !models.isEmpty else { throw ServeConfigurationError("no model to serve") }
        var batchers: [String: DynamicBatcher] = [:]
        let metrics = self.metrics
        for m in models {
            guard batchers[m.name] == nil else { throw ServeConfigurationError("two models are named '\(m.name)'") }
            batchers[m.name] = DynamicBatcher(model: m, configuration: configuration.batching,
                                              onBatch: { metrics.batch(model: m.name, size: $0) },
                                              onQueueDepth: { metrics.queueDepth(model: m.name, images: $0) })
        }
        self.batchers = batchers
        self.bodyBudget = RequestBodyBudget(limit: configuration.maxBodiesBytes)
        self.configuration = configuration
        self.logger = logger
    }

    /// The application: compiles every model's plans before it listens, and on SIGTERM/SIGINT (with
    /// `runService()`) stops accepting, answers what is in flight, then stops the batchers.
    /// `onServerRunning` sees the listening channel (its port, when configured as 0).
    public func application(onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }) -> some ApplicationProtocol {
        let loops: EventLoopGroupProvider = configuration.eventLoops.map { .shared(Self.eventLoopGroup(threads: $0)) } ?? .singleton
        var app = Application(router: router(), server: .http1(onLoopsOf: loops.eventLoopGroup, idleTimeout: configuration.idleTimeout),
                              configuration: .init(address: .hostname(configuration.host, port: configuration.port),
                                                   serverName: "\(Self.name)/\(Self.version)"),
                              onServerRunning: onServerRunning, eventLoopGroupProvider: loops, logger: logger)
        let batchers = Array(batchers.values)
        app.beforeServerStarts { [logger] in
            for b in batchers {
                try await b.start()
                logger.info("\(b.model.name): batches \(b.placementDecision)")
            }
        }
        app.addServices(BatcherShutdown(batchers: batchers))
        return app
    }

    /// One event loop group per thread count, kept for the life of the process as NIO's own singleton group is.
    private static let eventLoopGroups = Mutex<[Int: MultiThreadedEventLoopGroup]>([:])

    static func eventLoopGroup(threads: Int) -> MultiThreadedEventLoopGroup {
        eventLoopGroups.withLock { groups in
            if let g = groups[threads] { return g }
            let g = MultiThreadedEventLoopGroup(numberOfThreads: threads)
            groups[threads] = g
            return g
        }
    }

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        // Outermost first: the log sees the response the error middleware made of a thrown error.
        router.add(middleware: RequestLog(metrics: metrics, models: Set(batchers.keys)))
        router.add(middleware: ErrorResponses(refusals: RefusalLog()))
        if let token = configuration.authToken { router.add(middleware: BearerAuthentication(token: token)) }

        router.get("/v2/health/live") { _, _ in Response(status: .ok) }
        router.get("/v2/health/ready") { [self] _, _ in
            guard batchers.values.allSatisfy(\.isRunning) else { throw ServeError(.badRequest, "not ready: the models are loading") }
            return Response(status: .ok)
        }
        router.get("/v2") { _, _ in
            try Self.json(ServerMetadataResponse(name: Self.name, version: Self.version, extensions: ["binary_tensor_data"]))
        }
        for prefix in ["/v2/models/:name", "/v2/models/:name/versions/:version"] {
            router.get(RouterPath(prefix)) { [self] _, context in try Self.json(batcher(context).model.metadata) }
            router.get(RouterPath(prefix + "/ready")) { [self] _, context in
                guard try batcher(context).isRunning else { throw ServeError(.badRequest, "not ready: the model is loading") }
                return Response(status: .ok)
            }
            router.post(RouterPath(prefix + "/infer")) { [self] request, context in
                let batcher = try batcher(context)
                return try await withBody(request) { try await infer(request, body: $0, batcher) }
            }
            router.post(RouterPath(prefix + "/classify")) { [self] request, context in
                let batcher = try batcher(context)
                try Self.checkClassifies(batcher.model)
                return try await withBody(request) { try await classify(request, body: $0, batcher) }
            }
        }
        router.get("/metrics") { [self] _, _ in
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4"
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: metrics.exposition())))
        }
        return router
    }

    /// The batcher of the model (and version) the path names.
    func batcher(_ context: BasicRequestContext) throws -> DynamicBatcher {
        let name = context.parameters.get("name") ?? ""
        guard let b = batchers[name] else { throw ServeError.unknownModel(name) }
        if let version = context.parameters.get("version"), version != b.model.version { throw ServeError.unknownModel(name, version: version) }
        return b
    }

    /// Runs `handle` on the request's whole body, held within the server's `RequestBodyBudget` until `handle`
    /// returns; a body that does not fit beside the others is not read, and the request gets 503.
    func withBody<T>(_ request: Request, _ handle: (ByteBuffer) async throws -> T) async throws -> T {
        // A declared length above the largest body accepted is refused by `collect` (413), so it holds only that much.
        let declared = request.headers[.contentLength].flatMap { Int($0) }.map { max(0, $0) }
        let bytes = min(declared ?? configuration.maxBodyBytes, configuration.maxBodyBytes)
        guard bodyBudget.reserve(bytes) else { throw ServeError.bodiesOverBudget(bytes: bytes, limit: bodyBudget.limit) }
        defer { bodyBudget.release(bytes) }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: configuration.maxBodyBytes)
        } catch HTTPParserError.invalidEOFState {
            // The client closed the connection inside its body: its mistake, not the server's (400, not 500).
            throw ServeError.badRequest("the connection closed before the end of the request body")
        }
        return try await handle(body)
    }

    static let jsonContentType: HTTPFields = [.contentType: "application/json"]

    /// `value` as a JSON body, keys sorted: without that, two answers of one endpoint listed their keys in different orders.
    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return Response(status: status, headers: jsonContentType, body: ResponseBody(byteBuffer: ByteBuffer(bytes: try encoder.encode(value))))
    }
}

/// Keeps the batchers running while the server drains, then answers what they hold and stops them.
struct BatcherShutdown: Service {
    let batchers: [DynamicBatcher]

    func run() async throws {
        try? await gracefulShutdown()
        for b in batchers { b.drain() }
    }
}
