import SwitchyardCore
import SwitchyardGitHub

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The AWS Lambda custom-runtime loop: `next`, then `response` or `error`, for ever.
/// A failed invocation is reported to `/error` and the loop goes on; each event's deadline is honoured.
public struct LambdaLoop {
    let handler: Handler
    let base: String
    let transport = CurlTransport(connectTimeoutMilliseconds: 2_000)

    init(handler: Handler, api: String) {
        self.handler = handler
        self.base = "http://\(api)/2018-06-01"
    }

    func run() -> Never {
        var failures = 0
        while true {
            let next: HTTPResponse
            do {
                next = try transport.send(HTTPRequest(method: "GET", url: base + "/runtime/invocation/next",
                                                      headers: [("User-Agent", "switchyard")]), timeoutMilliseconds: 0)
                failures = 0
            } catch {
                failures += 1
                handler.logger.error("runtime API unreachable", ["error": .string("\(error)"), "failures": .int(failures)])
                if failures >= 3 { exit(1) }
                Deadline.sleep(milliseconds: 100 * failures)
                continue
            }
            guard next.status == 200, let requestID = next.header("Lambda-Runtime-Aws-Request-Id"), !requestID.isEmpty else {
                handler.logger.error("runtime API answered next without a request id", ["status": .int(next.status)])
                if next.status >= 500 { exit(1) }
                continue
            }
            if let trace = next.header("Lambda-Runtime-Trace-Id") { setenv("_X_AMZN_TRACE_ID", trace, 1) }
            let deadline = Self.deadline(header: next.header("Lambda-Runtime-Deadline-Ms"))
                ?? Deadline(millisecondsFromNow: handler.settings.deadlineMilliseconds)
            handler.logger.set("request_id", .string(requestID))
            invoke(requestID: requestID, event: next.body, deadline: deadline)
        }
    }

    /// The invocation's deadline from `Lambda-Runtime-Deadline-Ms` (epoch milliseconds), with 150 ms
    /// kept for answering. Total: any header value gives a deadline or nil, never a trap.
    public static func deadline(header: String?) -> Deadline? {
        header.flatMap { Int64($0.trimmed()) }.map { Deadline(epochMillis: $0.subtractingReportingOverflow(150).partialValue) }
    }

    func invoke(requestID: String, event: [UInt8], deadline: Deadline) {
        let response: OutgoingResponse
        do {
            let json = try JSON.parse(event)
            guard let request = try IncomingRequest.envelope(json) else {
                throw SwitchyardError.badRequest("the Lambda event is not an API Gateway or Function URL request")
            }
            response = handler.handle(request, mode: .lambda, deadline: deadline)
        } catch {
            let e = SwitchyardError.from(error)
            handler.logger.warning(e.message)
            postError(requestID: requestID, type: "Switchyard.\(e.kind.rawValue)", message: e.message)
            return
        }
        if response.status >= 500 {
            let message = (try? JSON.parse(response.body))?["message"]?.string ?? "internal error"
            postError(requestID: requestID, type: "Switchyard.\(response.status)", message: message)
            return
        }
        let result: JSON = [
            "statusCode": .int(response.status),
            "headers": ["content-type": .string(response.contentType)],
            "body": .string(String(decoding: response.body, as: UTF8.self)),
            "isBase64Encoded": false,
        ]
        post(Self.invocation(requestID, "response"), body: Array(result.encoded().utf8), headers: [])
    }

    func postError(requestID: String, type: String, message: String) {
        let body: JSON = ["errorType": .string(type), "errorMessage": .string(message)]
        post(Self.invocation(requestID, "error"), body: Array(body.encoded().utf8),
             headers: [("Lambda-Runtime-Function-Error-Type", type)])
    }

    /// `/runtime/invocation/{id}/response|error`, the id encoded as one segment whatever the header held.
    static func invocation(_ requestID: String, _ kind: StaticString) -> APIPath {
        (APIPath("/runtime/invocation") / (Segment(requestID) ?? Segment("invalid-request-id")!)) / kind
    }

    func post(_ path: APIPath, body: [UInt8], headers: [(String, String)]) {
        let url = base + path.text
        do {
            let r = try transport.send(HTTPRequest(method: "POST", url: url,
                                                   headers: [("Content-Type", "application/json"), ("User-Agent", "switchyard")] + headers,
                                                   body: body), timeoutMilliseconds: 5_000)
            if r.status != 202 {
                handler.logger.error("runtime API refused a result", ["status": .int(r.status)])
            }
        } catch {
            handler.logger.error("runtime API unreachable while posting a result", ["error": .string("\(error)")])
        }
    }

    /// Reports a failure before the first `next` (bad configuration) to `/runtime/init/error`.
    static func reportInitError(_ e: SwitchyardError, env: Environment) {
        guard let api = env["AWS_LAMBDA_RUNTIME_API"] else { return }
        let body: JSON = ["errorType": .string("Switchyard.\(e.kind.rawValue)"), "errorMessage": .string(e.message)]
        _ = try? CurlTransport().send(HTTPRequest(method: "POST", url: "http://\(api)/2018-06-01/runtime/init/error",
                                                  headers: [("Content-Type", "application/json"),
                                                            ("Lambda-Runtime-Function-Error-Type", "Switchyard.\(e.kind.rawValue)")],
                                                  body: Array(body.encoded().utf8)), timeoutMilliseconds: 2_000)
    }
}
