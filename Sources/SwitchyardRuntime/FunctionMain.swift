import SwitchyardCore
import SwitchyardGitHub

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The entry point of every function binary. It decides the platform once, at the edge:
/// Lambda when `AWS_LAMBDA_RUNTIME_API` is set, CGI when `GATEWAY_INTERFACE` is, the OpenFaaS classic
/// watchdog when `Http_Method` is, and a local pipe otherwise.
public enum FunctionMain {
    /// `arguments` defaults to the process's. Options belong to pipe mode only: a CGI server may pass a
    /// query string without `=` as arguments (RFC 3875 §4.4, Apache does), which is the sender's text,
    /// not the operator's. They are read only when there are any, since the standard library builds
    /// `CommandLine.arguments` as Strings on first use.
    public static func run(_ capability: some Capability, arguments given: [String]? = nil) -> Never {
        // A reader that goes away (a web server timing out) must not kill the process mid-write.
        signal(SIGPIPE, SIG_IGN)
        let env = Environment.process()
        let mode = detectMode(env)
        let arguments = mode != .pipe ? [] : given ?? (CommandLine.argc > 1 ? CommandLine.arguments : [])
        var options: PipeOptions
        do { options = try PipeOptions(arguments.dropFirst()) } catch {
            FileDescriptor.standardError.write(Array("\(capability.name): \(error.message)\n\n\(PipeOptions.usage(capability.name))".utf8))
            exit(2)
        }
        if options.help {
            FileDescriptor.standardOutput.write(Array(PipeOptions.usage(capability.name).utf8))
            exit(0)
        }
        let logger = Logger(function: capability.name,
                            minimum: Logger.minimum { env[$0] })
        if mode == .lambda {
            // Secrets named by `_FROM` come from the Parameters and Secrets extension, which answers only
            // during invocations: then settings are read when the first event arrives. Otherwise they are
            // read now, and a bad setting is an init error, which Lambda reports and retries.
            let api = env["AWS_LAMBDA_RUNTIME_API"]!
            var atInit: Settings? = nil
            if !env.values.keys.contains(where: { $0.hasSuffix("_FROM") }) {
                do { atInit = try Settings(function: capability.name, environment: env) } catch {
                    logger.error(error.message)
                    LambdaLoop.reportInitError(error, api: api)
                    exit(1)
                }
            }
            LambdaLoop(api: api, logger: logger) { [atInit] () throws(SwitchyardError) in
                if let atInit { return Handler(capability: capability, settings: atInit, logger: logger) }
                return Handler(capability: capability, settings: try Settings(function: capability.name, environment: env), logger: logger)
            }.run()
        }
        let settings: Settings
        do {
            settings = try Settings(function: capability.name, environment: env)
        } catch {
            logger.error(error.message)
            emit(Rendering.error(error, function: capability.name, delivery: "-", chat: false), mode: mode)
        }
        var handler = Handler(capability: capability, settings: settings, logger: logger)
        handler.respondEarly = { response in
            early.withLock {
                guard !early.responded else { return }
                write(response, mode: mode)
                close(1)
                if mode == .cgi {
                    // The web server waits for stderr to close too; later logs go nowhere.
                    let null = open("/dev/null", O_WRONLY)
                    if null >= 0 { dup2(null, 2); close(null) }
                }
                early.responded = true
            }
        }
        let deadline = Deadline(millisecondsFromNow: settings.deadlineMilliseconds)
        switch mode {
        case .lambda:
            preconditionFailure("LambdaLoop.run never returns")
        // Typed throws rather than `Result`: a cold process then instantiates no `Result<_, SwitchyardError>`
        // (nor looks up its `Error` conformance) to read one request.
        case .cgi:
            do { emit(handler.handle(try readCGI(env, settings: settings, deadline: deadline), mode: .cgi, deadline: deadline), mode: .cgi) }
            catch { refuse(error, mode: .cgi, handler: handler) }
        case .openfaas:
            do { emit(handler.handle(try readOpenFaaS(env, settings: settings, deadline: deadline), mode: .openfaas, deadline: deadline), mode: .openfaas) }
            catch { refuse(error, mode: .openfaas, handler: handler) }
        case .pipe:
            do {
                let request = try readPipe(settings: settings, deadline: deadline)
                emit(handler.handle(request, mode: .pipe, deadline: deadline, eventName: options.event, dryRun: options.dryRun), mode: .pipe)
            } catch { refuse(error, mode: .pipe, handler: handler) }
        }
    }

    public static func detectMode(_ env: Environment) -> InvocationMode {
        if env["AWS_LAMBDA_RUNTIME_API"] != nil { return .lambda }
        if env["GATEWAY_INTERFACE"] != nil { return .cgi }
        if env["Http_Method"] != nil { return .openfaas }
        return .pipe
    }

    // MARK: Reading requests

    /// CGI (RFC 3875): headers from `HTTP_*`, `CONTENT_TYPE`, exactly `CONTENT_LENGTH` body bytes.
    /// Request headers from a CGI environment: `HTTP_X_GITHUB_EVENT` → `x-github-event`, plus `CONTENT_TYPE`.
    public static func requestHeaders(cgi env: Environment) -> [String: String] {
        var headers: [String: String] = [:]
        for (k, v) in env.values where k.hasPrefix("HTTP_") {
            headers[headerName(k.utf8.dropFirst(5))] = v
        }
        if let ct = env["CONTENT_TYPE"] { headers["content-type"] = ct }
        return headers
    }

    /// Request headers from the OpenFaaS watchdog's `Http_*` variables.
    public static func requestHeaders(openFaaS env: Environment) -> [String: String] {
        var headers: [String: String] = [:]
        let skip: Set<String> = ["Http_Method", "Http_Path", "Http_Query", "Http_Host", "Http_ContentLength",
                                 "Http_Content_Length", "Http_Transfer_Encoding"]
        for (k, v) in env.values where k.hasPrefix("Http_") && !skip.contains(k) {
            headers[headerName(k.utf8.dropFirst(5))] = v
        }
        return headers
    }

    /// `X_HUB_SIGNATURE_256` → `x-hub-signature-256`: ASCII lower-cased, `_` → `-`, byte by byte.
    static func headerName(_ variable: Substring.UTF8View) -> String {
        String(decoding: variable.map { b in
            b == UInt8(ascii: "_") ? UInt8(ascii: "-") : (b >= 0x41 && b <= 0x5A ? b | 0x20 : b)
        }, as: UTF8.self)
    }

    static func readCGI(_ env: Environment, settings: Settings, deadline: Deadline) throws(SwitchyardError) -> IncomingRequest {
        let headers = requestHeaders(cgi: env)
        let method = env["REQUEST_METHOD"] ?? "GET"
        let lengthText = env["CONTENT_LENGTH"] ?? "0"
        guard let length = contentLength(lengthText) else {
            throw .badRequest("CONTENT_LENGTH \(lengthText.prefix(20)) is not a length")
        }
        guard length <= settings.maxBodyBytes else {
            // The server is still writing the body: read and drop it (bounded), or it sees a broken pipe
            // and answers 502 instead of our 413.
            StandardInput.discard(upTo: min(length, 64 << 20), deadline: Deadline(millisecondsFromNow: 2_000))
            throw SwitchyardError(.payloadTooLarge, "the body is \(length) bytes; the limit is \(settings.maxBodyBytes) (SWITCHYARD_MAX_BODY_BYTES)")
        }
        var body: [UInt8] = []
        if length > 0 {
            switch StandardInput.read(exactly: length, deadline: Deadline(millisecondsFromNow: min(5_000, deadline.remainingMilliseconds))) {
            case .complete(let b): body = b
            case .truncated(let b), .timedOut(let b):
                throw .badRequest("the body is shorter than CONTENT_LENGTH (\(b.count) of \(length) bytes)")
            case .tooLarge: throw SwitchyardError(.payloadTooLarge, "the body is too large")
            }
        }
        return IncomingRequest(method: method, headers: headers, body: body)
    }

    /// A `CONTENT_LENGTH` value as a byte count, nil when it is not one (negative, not a number).
    public static func contentLength(_ text: String?) -> Int? {
        guard let text, let n = Int(text.trimmed()), n >= 0 else { return nil }
        return n
    }

    /// OpenFaaS classic watchdog: headers as `Http_<Canonical_Name>`, the raw body on stdin.
    static func readOpenFaaS(_ env: Environment, settings: Settings, deadline: Deadline) throws(SwitchyardError) -> IncomingRequest {
        let headers = requestHeaders(openFaaS: env)
        if let declared = env.int("Http_Content_Length"), declared > settings.maxBodyBytes {
            throw SwitchyardError(.payloadTooLarge, "the body is \(declared) bytes; the limit is \(settings.maxBodyBytes) (SWITCHYARD_MAX_BODY_BYTES)")
        }
        return IncomingRequest(method: env["Http_Method"] ?? "POST", headers: headers, body: try readBody(limit: settings.maxBodyBytes, deadline: deadline))
    }

    /// Pipe: a raw payload, or an HTTP envelope `{"headers": …, "body": …, "isBase64Encoded": …}`.
    static func readPipe(settings: Settings, deadline: Deadline) throws(SwitchyardError) -> IncomingRequest {
        let bytes = try readBody(limit: settings.maxBodyBytes, deadline: deadline)
        let first = bytes.first { !($0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09) }
        if first == UInt8(ascii: "{"), bytes.count < settings.maxBodyBytes, let json = try? JSON.parse(bytes),
           let envelope = try IncomingRequest.envelope(json) {
            return envelope
        }
        return IncomingRequest(method: "POST", headers: ["content-type": "application/json"], body: bytes, hasEnvelope: false)
    }

    static func readBody(limit: Int, deadline: Deadline) throws(SwitchyardError) -> [UInt8] {
        switch StandardInput.readAll(limit: limit, deadline: deadline) {
        case .complete(let b): return b
        case .tooLarge:
            throw SwitchyardError(.payloadTooLarge, "the body is larger than \(limit) bytes (SWITCHYARD_MAX_BODY_BYTES)")
        case .truncated(let b), .timedOut(let b):
            throw .badRequest("the body did not arrive in time (\(b.count) bytes read)")
        }
    }

    // MARK: Writing responses

    /// A request that could not be read: logged, and answered with its error.
    static func refuse(_ e: SwitchyardError, mode: InvocationMode, handler: Handler) -> Never {
        handler.logger.warning(e.message, ["status": .int(e.httpStatus)])
        emit(Rendering.error(e, function: handler.capability.name, delivery: "-", chat: false), mode: mode)
    }

    static func emit(_ response: OutgoingResponse, mode: InvocationMode) -> Never {
        let answered = early.withLock { early.responded }
        if !answered { write(response, mode: mode) }
        exit(mode == .cgi ? 0 : response.exitCode)
    }

    static func write(_ response: OutgoingResponse, mode: InvocationMode) {
        switch mode {
        case .cgi:
            let head = "Status: \(response.status) \(response.reason)\r\nContent-Type: \(response.contentType)\r\nContent-Length: \(response.body.count + 1)\r\n\r\n"
            FileDescriptor.standardOutput.write(Array(head.utf8) + response.body + [0x0A])
        case .pipe, .openfaas, .lambda:
            FileDescriptor.standardOutput.write(response.body + [0x0A])
        }
    }

    /// Whether the response was already written by `respondEarly`.
    final class EarlyState: @unchecked Sendable {
        var responded = false
        let lock = Mutex()
        func withLock<R>(_ body: () -> R) -> R { lock.withLock(body) }
    }
    static let early = EarlyState()
}

/// Command-line options of pipe mode.
struct PipeOptions {
    var event: String?
    var dryRun = false
    var help = false

    init(_ args: ArraySlice<String>) throws(SwitchyardError) {
        var it = args.makeIterator()
        while let a = it.next() {
            switch a {
            case "--event", "-e":
                guard let v = it.next() else { throw .badRequest("--event needs a name, e.g. --event issue_comment") }
                event = v
            case "--dry-run", "-n": dryRun = true
            case "--help", "-h": help = true
            default:
                if a.hasPrefix("--event=") { event = String(a.dropFirst(8)) }
                else { throw .badRequest("unknown option \(a)") }
            }
        }
    }

    static func usage(_ name: String) -> String {
        """
        Usage: \(name) [--event NAME] [--dry-run] < event.json

        Reads one event and writes one JSON response. The platform is detected from the environment:
        AWS_LAMBDA_RUNTIME_API (Lambda), GATEWAY_INTERFACE (CGI), Http_Method (OpenFaaS), else a pipe.
        In a pipe, stdin holds a raw GitHub payload or an HTTP envelope {"headers", "body", "isBase64Encoded"}.

          --event NAME   the GitHub event of a raw payload (inferred from its shape when unambiguous)
          --dry-run      plan and print, perform nothing (also SWITCHYARD_DRY_RUN=1)

        Exit status: 0 handled or ignored, 1 failed, 2 bad input, 3 not authenticated or not authorized.

        """
    }
}
