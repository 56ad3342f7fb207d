import HTTPTypes
import Hummingbird

/// With a token configured, a request without `Authorization: Bearer <token>` is answered 401 before any route
/// sees it (health probes included: an orchestrator's probe sends the header too).
struct BearerAuthentication<Context: RequestContext>: RouterMiddleware {
    let token: String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let given = request.headers[.authorization] ?? ""
        guard given.hasPrefix("Bearer "), Self.constantTimeEqual(Array(given.utf8.dropFirst(7)), Array(token.utf8)) else {
            throw ServeError(.unauthorized, given.isEmpty ? "this server needs an Authorization: Bearer <token> header"
                                                          : "the bearer token is not the server's")
        }
        return try await next(request, context)
    }

    /// Compares without an early exit, so that timing does not reveal how much of a guess was right.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(truncatingIfNeeded: a.count ^ b.count)
        for i in 0..<max(a.count, b.count) { difference |= (i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0) }
        return difference == 0
    }
}
