import HummingbirdCore
import Logging
import NIOCore

/// A server child channel (HTTP/1.1 here) whose connection tasks prefer their channel's event loop as task executor
/// (`EventLoopTaskExecutor`), so that reading a request, the handler and writing the response stay on one thread.
/// Handlers must not block: the kernels run on the batchers' threads, and image decoding leaves the loop (`classify`).
struct EventLoopChildChannel<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value
    let base: Base
    /// One executor per loop of the server's group, made up front: the answers of one batch to connections on one
    /// loop share its queue.
    let executors: [ObjectIdentifier: EventLoopTaskExecutor]

    init(_ base: Base, group: any EventLoopGroup) {
        self.base = base
        var executors: [ObjectIdentifier: EventLoopTaskExecutor] = [:]
        for loop in group.makeIterator() { executors[ObjectIdentifier(loop)] = EventLoopTaskExecutor(loop: loop) }
        self.executors = executors
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> { base.setup(channel: channel, logger: logger) }

    func handle(value: Value, logger: Logger) async {
        guard let executor = executors[ObjectIdentifier(value.channel.eventLoop)] else {
            return await base.handle(value: value, logger: logger)
        }
        await withTaskExecutorPreference(executor) { await base.handle(value: value, logger: logger) }
    }
}

extension HTTPServerBuilder {
    /// HTTP/1.1 with each connection's handling on its event loop (`EventLoopChildChannel`), closing connections
    /// idle for `idleTimeout` (`ServerConfiguration.idleTimeout`).
    static func http1(onLoopsOf group: any EventLoopGroup, idleTimeout: Duration? = nil) -> HTTPServerBuilder {
        let configuration = HTTP1Channel.Configuration(idleTimeout: idleTimeout.map { TimeAmount($0) })
        return .init { responder in EventLoopChildChannel(HTTP1Channel(responder: responder, configuration: configuration), group: group) }
    }
}
