import SwitchyardCore
import SwitchyardGitHub
import SwitchyardRuntime

/// How a routed function is reached, per the `functions:` section of the config.
public enum Transport: Sendable, Equatable {
    /// The sibling binary (or `path`), fed the original request as a pipe child; `arguments` select the
    /// function when the binary is the multi-call `switchyard`.
    case exec(path: String, arguments: [String] = [])
    /// POST the original request to a URL (Lambda Function URL, OpenFaaS, any HTTP function).
    case http(url: String)

    public static func forFunction(_ name: String, config: Config, siblings: Siblings) -> Transport {
        let f = config.global(["functions", name])
        if f?["transport"]?.string == "http", let url = f?["url"]?.string { return .http(url: url) }
        if let path = f?["path"]?.string { return .exec(path: path) }
        switch siblings {
        case .directory(let dir): return .exec(path: "\(dir)/\(name)")
        case .multiCall(let path): return .exec(path: path, arguments: [name])
        }
    }
}

/// Where sibling functions are found when the config names no transport.
public enum Siblings: Sendable, Equatable {
    /// One binary per function, side by side (CGI folders, images).
    case directory(String)
    /// This process is the multi-call `switchyard` binary (the Lambda package): siblings are the same
    /// binary, run with the function's name as their first argument.
    case multiCall(String)
}

/// One routed function's answer.
public struct RoutedResult: Sendable {
    public var function: String
    public var status: Int
    public var body: JSON?
    public var error: String?
    public var timedOut: Bool

    public var json: JSON {
        var o: [String: JSON] = ["status": .int(status)]
        if let body {
            for k in ["outcome", "message", "actions", "error", "text", "response_type"] { if let v = body[k] { o[k] = v } }
        }
        if let error { o["error"] = .string(error); o["outcome"] = o["outcome"] ?? "failed" }
        if timedOut { o["timed_out"] = true }
        return .object(o)
    }
}

/// Forwards the original request, untouched, so the receiving function verifies it again.
public struct Forwarder: Sendable {
    public var environment: [String: String]

    public init(environment: [String: String]) {
        var env = environment
        // The child always runs as a pipe; it must not think it is under CGI, OpenFaaS or Lambda.
        for k in env.keys where k == "GATEWAY_INTERFACE" || k == "AWS_LAMBDA_RUNTIME_API" || k == "_HANDLER" || k.hasPrefix("Http_")
            || k == "REQUEST_METHOD" || k == "CONTENT_LENGTH" || k == "CONTENT_TYPE" || k.hasPrefix("HTTP_") {
            env.removeValue(forKey: k)
        }
        self.environment = env
    }

    /// Forwards to every function at once: exec children run side by side while HTTP calls are made,
    /// so one slow function does not use up the others' time.
    public func forwardAll(_ request: IncomingRequest, to targets: [(function: String, transport: Transport)], deadline: Deadline,
                           slowAfter: Deadline? = nil, onSlow: (() -> Void)? = nil) -> [RoutedResult] {
        var results: [String: RoutedResult] = [:]
        var children: [(String, Subprocess.Child)] = []
        for (function, transport) in targets {
            guard case .exec(let path, let arguments) = transport else { continue }
            do {
                children.append((function, try Subprocess.start(Subprocess.Spec(path: path, arguments: arguments,
                                                                                 environment: childEnvironment(deadline),
                                                                                 stdin: envelope(request)))))
            } catch {
                results[function] = RoutedResult(function: function, status: 500, body: nil, error: error.message, timedOut: false)
            }
        }
        for (function, transport) in targets {
            guard case .http(let url) = transport else { continue }
            results[function] = post(request, to: function, url: url, deadline: deadline)
        }
        let finished = Subprocess.wait(children.map(\.1), deadline: deadline, slowAfter: slowAfter, onSlow: onSlow)
        for ((function, _), r) in zip(children, finished) {
            if r.timedOut {
                results[function] = RoutedResult(function: function, status: 504, body: nil, error: "\(function) did not answer in time", timedOut: true)
                continue
            }
            let body = try? JSON.parse(r.stdout)
            let status = body?["status"]?.int ?? (r.status == 0 || r.status == 3 ? 200 : 500)
            results[function] = RoutedResult(function: function, status: status, body: body,
                                             error: body == nil ? "\(function) answered no JSON (exit \(r.status))" : nil, timedOut: false)
        }
        return targets.compactMap { results[$0.function] }
    }

    func envelope(_ request: IncomingRequest) -> [UInt8] {
        var headers: [String: JSON] = [:]
        for (k, v) in request.headers { headers[k] = .string(v) }
        let envelope: JSON = ["headers": .object(headers), "body": .string(Data(request.body).base64EncodedString()),
                              "isBase64Encoded": true, "requestContext": ["http": ["method": .string(request.method)]]]
        return Array(envelope.encoded().utf8)
    }

    func childEnvironment(_ deadline: Deadline) -> [String: String] {
        var env = environment
        env["SWITCHYARD_DEADLINE_MS"] = "\(max(100, deadline.remainingMilliseconds - 100))"
        return env
    }

    func post(_ request: IncomingRequest, to function: String, url: String, deadline: Deadline) -> RoutedResult {
        let headers = request.headers.filter { !["host", "content-length", "connection", "transfer-encoding"].contains($0.key) }
            .map { ($0.key, $0.value) }
        do {
            let r = try NetworkTransport().send(HTTPRequest(method: "POST", url: url, headers: headers, body: request.body),
                                             timeoutMilliseconds: max(100, deadline.remainingMilliseconds - 50))
            let body = try? JSON.parse(r.body)
            return RoutedResult(function: function, status: r.status, body: body,
                                error: body == nil ? "\(function) answered \(r.status) without JSON" : nil, timedOut: false)
        } catch let e as TransportError {
            return RoutedResult(function: function, status: e.isTimeout ? 504 : 502, body: nil,
                                error: e.isTimeout ? "\(function) did not answer in time" : "\(function) could not be reached",
                                timedOut: e.isTimeout)
        } catch {
            return RoutedResult(function: function, status: 502, body: nil, error: "\(function) could not be reached", timedOut: false)
        }
    }
}
