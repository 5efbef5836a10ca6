import Foundation
import SwitchyardCore

/// A local AWS Lambda Runtime API (`/2018-06-01/runtime/...`) for exercising a custom runtime:
/// queue events, let the function poll `next`, and collect what it posts to `response` or `error`.
public final class LambdaRuntimeAPI: @unchecked Sendable {
    public struct Result: Sendable {
        public var kind: String          // "response" or "error"
        public var body: JSON?
        public var headers: [String: String]
    }

    private let condition = NSCondition()
    private var queue: [(id: String, body: [UInt8], deadline: Int64)] = []
    private var results: [String: Result] = [:]
    public private(set) var initErrors: [JSON] = []
    public private(set) var nextCalls = 0
    private var server: HTTPServer?

    public init() {}

    /// Starts the server; returns `host:port` for `AWS_LAMBDA_RUNTIME_API`.
    public func start() throws -> String {
        let s = try HTTPServer { [weak self] r in
            guard let self else { return .respond(status: 503, headers: [], body: Array("server owner is gone".utf8)) }
            return self.serve(r)
        }
        server = s
        return "127.0.0.1:\(s.port)"
    }

    public func stop() {
        server?.stop()
        condition.lock(); queue.removeAll(); condition.broadcast(); condition.unlock()
    }

    /// Queues an event; returns its request id. `deadlineMs` is milliseconds from now.
    @discardableResult
    public func enqueue(_ event: [UInt8], deadlineMs: Int = 9_000) -> String {
        let id = UUID().uuidString.lowercased()
        condition.lock()
        queue.append((id, event, Int64(Date().timeIntervalSince1970 * 1000) + Int64(deadlineMs)))
        condition.broadcast()
        condition.unlock()
        return id
    }

    /// Waits for the function's answer to `id`.
    public func result(_ id: String, timeout: TimeInterval = 20) -> Result? {
        let until = Date().addingTimeInterval(timeout)
        condition.lock()
        defer { condition.unlock() }
        while results[id] == nil {
            if !condition.wait(until: until) { return results[id] }
        }
        return results[id]
    }

    func serve(_ r: ServerRequest) -> ServerReply {
        let parts = r.path.split(separator: "/").map(String.init)
        guard parts.count >= 3, parts[0] == "2018-06-01", parts[1] == "runtime" else { return .json(404, ["message": "not found"]) }
        if r.method == "GET", parts.count == 4, parts[2] == "invocation", parts[3] == "next" {
            condition.lock()
            nextCalls += 1
            while queue.isEmpty {
                if !condition.wait(until: Date().addingTimeInterval(60)) { condition.unlock(); return .json(500, ["message": "no event"]) }
            }
            let event = queue.removeFirst()
            condition.unlock()
            return .respond(status: 200, headers: [
                ("Content-Type", "application/json"),
                ("Lambda-Runtime-Aws-Request-Id", event.id),
                ("Lambda-Runtime-Deadline-Ms", "\(event.deadline)"),
                ("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:switchyard"),
                ("Lambda-Runtime-Trace-Id", "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1"),
            ], body: event.body)
        }
        if r.method == "POST", parts.count == 4, parts[2] == "init", parts[3] == "error" {
            condition.lock(); initErrors.append(r.json ?? .null); condition.unlock()
            return .json(202, ["status": "OK"])
        }
        if r.method == "POST", parts.count == 5, parts[2] == "invocation", parts[4] == "response" || parts[4] == "error" {
            condition.lock()
            results[parts[3]] = Result(kind: parts[4], body: r.json, headers: r.headers)
            condition.broadcast()
            condition.unlock()
            return .json(202, ["status": "OK"])
        }
        return .json(404, ["message": "not found"])
    }
}
