import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// Turns every error a route throws into the protocol's `{"error": "..."}` body with its status: a `ServeError` as
/// it is, a body over the size limit as 413, Hummingbird's own errors (unknown route, wrong method) with their
/// status, anything else as 500 (logged, never shown in detail).
/// Refusals under load (503) are logged through `refusals`, at most once a second per route.
struct ErrorResponses<Context: RequestContext>: RouterMiddleware {
    let refusals: RefusalLog

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as ServeError {
            if error.status == .serviceUnavailable {
                if let line = refusals.line(route: "\(request.method) \(request.uri.path)", message: error.message) { context.logger.warning("\(line)") }
            } else if error.status.code >= 500 {
                context.logger.warning("\(request.method) \(request.uri.path): \(error.message)")
            }
            return Self.response(error)
        } catch is NIOTooManyBytesError {
            return Self.response(ServeError(.contentTooLarge, "the request body is over the server's limit"))
        } catch let error as HTTPError {
            return Self.response(ServeError(error.status, error.body ?? error.status.reasonPhrase))
        } catch let error as any HTTPResponseError {
            return Self.response(ServeError(error.status, error.status.reasonPhrase))
        } catch {
            context.logger.error("\(request.method) \(request.uri.path) failed: \(error)")
            return Self.response(ServeError(.internalServerError, "internal error (the server log has the details)"))
        }
    }

    static func response(_ error: ServeError) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        if let seconds = error.retryAfter { headers[.retryAfter] = String(seconds) }
        if error.status == .unauthorized { headers[.wwwAuthenticate] = "Bearer" }
        let body = (try? JSONEncoder().encode(ErrorResponse(error: error.message))) ?? Data("{\"error\":\"\"}".utf8)
        return Response(status: error.status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }
}
