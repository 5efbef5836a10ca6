import SwitchyardCore
import SwitchyardGitHub

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The AWS Lambda custom-runtime loop: `next`, then `response` or `error`, for ever.
/// A failed invocation is reported to `/error` and the loop goes on; each event's deadline is honoured.
///
/// Events are Function URL or API Gateway requests (verified like any webhook), or, from an EventBridge
/// schedule, a raw `{"schedule": …}` object: only an invocation authorised by IAM can deliver one, since
/// a Function URL always wraps what it receives in a request envelope.
public struct LambdaLoop {
    let base: String
    let logger: Logger
    let makeHandler: () throws(SwitchyardError) -> Handler
    let transport = NetworkTransport(connectTimeoutMilliseconds: 2_000)

    init(api: String, logger: Logger, makeHandler: @escaping () throws(SwitchyardError) -> Handler) {
        self.base = "http://\(api)/2018-06-01"
        self.logger = logger
        self.makeHandler = makeHandler
    }

    func run() -> Never {
        var failures = 0
        var handler: Handler? = nil
        while true {
            let next: HTTPResponse
            do {
                next = try transport.send(HTTPRequest(method: "GET", url: base + "/runtime/invocation/next",
                                                      headers: [("User-Agent", "switchyard")]), timeoutMilliseconds: 0)
                failures = 0
            } catch {
                failures += 1
                logger.error("runtime API unreachable", ["error": .string("\(error)"), "failures": .int(failures)])
                if failures >= 3 { exit(1) }
                Deadline.sleep(milliseconds: 100 * failures)
                continue
            }
            guard next.status == 200, let requestID = next.header("Lambda-Runtime-Aws-Request-Id"), !requestID.isEmpty else {
                logger.error("runtime API answered next without a request id", ["status": .int(next.status)])
                if next.status >= 500 { exit(1) }
                continue
            }
            if let trace = next.header("Lambda-Runtime-Trace-Id") { setenv("_X_AMZN_TRACE_ID", trace, 1) }
            logger.set("request_id", .string(requestID))
            if handler == nil {
                // Read once per execution environment; a failure is this event's error, and the next
                // event tries again (a secret not yet readable, a parameter fixed since).
                do { handler = try makeHandler() } catch {
                    logger.error(error.message, ["kind": .string(error.kind.rawValue)])
                    postError(requestID: requestID, type: "Switchyard.\(error.kind.rawValue)", message: error.message)
                    continue
                }
            }
            let deadline = Self.deadline(header: next.header("Lambda-Runtime-Deadline-Ms"))
                ?? Deadline(millisecondsFromNow: handler!.settings.deadlineMilliseconds)
            invoke(handler!, requestID: requestID, event: next.body, deadline: deadline)
        }
    }

    /// The invocation's deadline from `Lambda-Runtime-Deadline-Ms` (epoch milliseconds), with 150 ms
    /// kept for answering. Total: any header value gives a deadline or nil, never a trap.
    public static func deadline(header: String?) -> Deadline? {
        header.flatMap { Int64($0.trimmed()) }.map { Deadline(epochMillis: $0.subtractingReportingOverflow(150).partialValue) }
    }

    func invoke(_ handler: Handler, requestID: String, event: [UInt8], deadline: Deadline) {
        let response: OutgoingResponse
        do {
            let json = try JSON.parse(event)
            if let request = try IncomingRequest.envelope(json) {
                response = handler.handle(request, mode: .lambda, deadline: deadline)
            } else if json["schedule"]?.string != nil {
                // A scheduled run (EventBridge with a constant input): trusted, it came through IAM.
                response = handler.handle(IncomingRequest(headers: ["x-github-event": "schedule"], body: event, hasEnvelope: false),
                                          mode: .lambda, deadline: deadline, trusted: true)
            } else if json["source"]?.string == "aws.events" {
                throw SwitchyardError.badRequest("an EventBridge event without an input: give the rule the input {\"schedule\": \"stale\", \"repository\": \"owner/name\"}")
            } else {
                throw SwitchyardError.badRequest("the Lambda event is not an API Gateway or Function URL request, nor a schedule")
            }
        } catch {
            let e = SwitchyardError.from(error)
            logger.warning(e.message)
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
                logger.error("runtime API refused a result", ["status": .int(r.status)])
            }
        } catch {
            logger.error("runtime API unreachable while posting a result", ["error": .string("\(error)")])
        }
    }

    /// Reports a failure before the first `next` (bad configuration) to `/runtime/init/error`.
    static func reportInitError(_ e: SwitchyardError, api: String) {
        let body: JSON = ["errorType": .string("Switchyard.\(e.kind.rawValue)"), "errorMessage": .string(e.message)]
        _ = try? NetworkTransport().send(HTTPRequest(method: "POST", url: "http://\(api)/2018-06-01/runtime/init/error",
                                                     headers: [("Content-Type", "application/json"),
                                                               ("Lambda-Runtime-Function-Error-Type", "Switchyard.\(e.kind.rawValue)")],
                                                     body: Array(body.encoded().utf8)), timeoutMilliseconds: 2_000)
    }
}
