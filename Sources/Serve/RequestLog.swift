import Hummingbird
import Logging

/// One log line per request (debug level; client errors at notice, server errors at error, always; `level`) and the
/// request metrics, labelled by the model the path names and the endpoint.
struct RequestLog<Context: RequestContext>: RouterMiddleware {
    let metrics: ServerMetrics
    /// Names that may become a label: a path's unknown name is counted as "unknown", so that clients cannot
    /// grow the metrics without bound.
    let models: Set<String>

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let response = try await next(request, context)
        let elapsed = start.duration(to: .now)
        var (model, endpoint) = Self.route(request.uri.path)
        if !model.isEmpty && !models.contains(model) { (model, endpoint) = ("unknown", "unknown") }
        metrics.request(model: model, endpoint: endpoint, status: response.status.code, total: elapsed)
        let status = response.status.code
        context.logger.log(level: Self.level(status: status),
                           "\(request.method) \(request.uri.path) \(status) \(String(format: "%.3f", elapsed.inMilliseconds)) ms")
        return response
    }

    /// Server errors at error and client errors at notice, always written; answers at debug. A refusal under load
    /// (503) is the server working as configured: its line is at debug, and `ErrorResponses` writes why at most
    /// once a second (`RefusalLog`).
    static func level(status: Int) -> Logger.Level {
        status == 503 ? .debug : status >= 500 ? .error : status >= 400 ? .notice : .debug
    }

    /// The model and endpoint a path names: `/v2/models/NAME[/versions/V]/infer` → (NAME, "infer").
    static func route(_ path: String) -> (model: String, endpoint: String) {
        let parts = path.split(separator: "/")
        guard parts.first == "v2" else { return ("", parts.first == "metrics" ? "metrics" : "other") }
        guard parts.count >= 3, parts[1] == "models" else { return ("", parts.count >= 2 && parts[1] == "health" ? "health" : "server") }
        var rest = parts.dropFirst(3)
        if rest.first == "versions" { rest = rest.dropFirst(2) }
        let endpoint = rest.first.map { ["infer", "classify", "ready"].contains($0) ? String($0) : "unknown" } ?? "metadata"
        return (String(parts[2]), endpoint)
    }
}
