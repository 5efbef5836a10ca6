import SwitchyardCore

/// The GitHub REST client: authentication, retries with backoff and jitter, rate limits within the
/// deadline, `Link` pagination and ETags. Capabilities see it only through narrow protocols.
public final class GitHubClient: @unchecked Sendable {
    public let baseURL: String
    public let deadline: Deadline
    public let logger: Logger
    let transport: any HTTPTransport
    let credentials: GitHubCredentials
    /// Longest a single request may take, deadline permitting.
    public var requestTimeoutMilliseconds = 8_000
    public var maxAttempts = 4
    /// Upper bound on pages read by one listing.
    public var maxPages = 10
    public var userAgent = "switchyard/0.1"

    private let lock = Mutex()
    private var etagCache: [String: (etag: String, response: HTTPResponse)] = [:]
    private var authorization: String?
    private var requests = 0
    let commentCache = CommentCache()

    /// The login Switchyard writes as, when configured (`SWITCHYARD_BOT_LOGIN`); else asked of GitHub.
    let configuredBotLogin: String?
    private var identity: String??

    public init(baseURL: String = "https://api.github.com", credentials: GitHubCredentials,
                transport: any HTTPTransport = NetworkTransport(), deadline: Deadline, logger: Logger, botLogin: String? = nil) {
        var url = baseURL
        while url.hasSuffix("/") { url.removeLast() }
        self.baseURL = url
        self.credentials = credentials
        self.transport = transport
        self.deadline = deadline
        self.logger = logger
        self.configuredBotLogin = botLogin
    }

    /// The login Switchyard's comments, reactions and statuses are written by: `SWITCHYARD_BOT_LOGIN`
    /// when set, else the App's `<slug>[bot]` (from `GET /app`) or the token's user (`GET /user`),
    /// cached beside the installation token. Nil for anonymous calls.
    public func botLogin() throws -> String? {
        if let configuredBotLogin { return configuredBotLogin }
        if let known = lock.withLock({ identity }) { return known }
        let found = try credentials.identity(using: self)
        lock.withLock { identity = .some(found) }
        return found
    }

    /// How many HTTP requests this client has sent (retries included).
    public var requestCount: Int { lock.withLock { requests } }

    // MARK: - Requests

    /// Sends one request and returns the answer, or throws `GitHubError` for a 4xx/5xx answer and
    /// `SwitchyardError` for transport failures, timeouts and rate limits.
    ///
    /// GET, PUT, PATCH and DELETE are retried on 5xx and transport errors. A POST is retried only when
    /// it surely never arrived, or when `alreadyDone` (run after an unknown outcome) says it did not happen.
    @discardableResult
    public func send(_ method: String, _ path: APIPath, query: [(String, String)] = [], json: JSON? = nil,
                     accept: String = "application/vnd.github+json",
                     alreadyDone: (() throws -> HTTPResponse?)? = nil) throws -> HTTPResponse {
        let body = json.map { Array($0.encoded().utf8) } ?? []
        return try send(method: method, url: baseURL + path.text + Self.queryString(query), logPath: path.text, body: body,
                        accept: accept, alreadyDone: alreadyDone)
    }

    /// A request to a path given as text: for tests and the emulator's tools only. The functions build
    /// every path as an `APIPath` from typed parts (a test checks that nothing else calls this).
    @discardableResult
    package func sendRaw(_ method: String, _ rawPath: String, query: [(String, String)] = [], json: JSON? = nil) throws -> HTTPResponse {
        try send(method: method, url: baseURL + rawPath + Self.queryString(query), logPath: rawPath,
                 body: json.map { Array($0.encoded().utf8) } ?? [], accept: "application/vnd.github+json", alreadyDone: nil)
    }

    /// Every page of a listing at a path given as text: for tests only.
    package func paginateRaw<T: Decodable>(_ type: T.Type, _ rawPath: String, query: [(String, String)] = [],
                                           maxPages: Int? = nil) throws -> (items: [T], complete: Bool) {
        var items: [T] = []
        var q = query
        if !q.contains(where: { $0.0 == "per_page" }) { q.append(("per_page", "100")) }
        var next: String? = baseURL + rawPath + Self.queryString(q)
        var pages = 0
        while let url = next {
            if pages >= (maxPages ?? self.maxPages) { return (items, false) }
            let r = try send(method: "GET", url: url, logPath: rawPath, body: [], accept: "application/vnd.github+json", alreadyDone: nil)
            items += try decode([T].self, r, path: rawPath)
            pages += 1
            next = r.header("Link").flatMap(Self.nextLink)
        }
        return (items, true)
    }

    /// True when `url` has exactly the scheme, host and port of `GITHUB_API_URL`, and its path lies under
    /// the API base: the only URLs that may carry Switchyard's credentials.
    public func isSameOrigin(_ url: String) -> Bool {
        guard let mine = Origin(baseURL), let theirs = Origin(url), mine == theirs else { return false }
        var base = Origin.path(of: baseURL)
        while base.hasSuffix("/") { base.removeLast() }
        let path = Origin.path(of: url)
        return base.isEmpty || path == base || path.hasPrefix(base + "/")
    }

    func send(method: String, url: String, logPath: String, body: [UInt8], accept: String,
              alreadyDone: (() throws -> HTTPResponse?)?, useCredentials: Bool = true,
              authorizationOverride: String? = nil) throws -> HTTPResponse {
        // Credentials go to GitHub's own origin and nowhere else, whatever a response pointed at.
        guard isSameOrigin(url) else {
            logger.warning("refused a URL outside GITHUB_API_URL", ["path": .string(logPath)])
            throw SwitchyardError.upstream("GitHub's answer pointed at another origin; Switchyard does not follow it (\(method) \(logPath))")
        }
        let idempotent = method != "POST"
        var headers: [(String, String)] = [
            ("Accept", accept),
            ("User-Agent", userAgent),
            ("X-GitHub-Api-Version", "2022-11-28"),
        ]
        if let a = authorizationOverride {
            headers.append(("Authorization", a))
        } else if useCredentials, let a = try authorizationHeader() {
            headers.append(("Authorization", a))
        }
        if !body.isEmpty { headers.append(("Content-Type", "application/json")) }
        let cached = method == "GET" ? lock.withLock { etagCache[url] } : nil
        // Git objects are content-addressed: one read per invocation is enough.
        if let cached, Self.isImmutable(url) { return cached.response }
        if let cached { headers.append(("If-None-Match", cached.etag)) }

        var attempt = 0
        while true {
            attempt += 1
            let remaining = deadline.remainingMilliseconds
            guard remaining > 50 else {
                throw SwitchyardError(.timeout, "the invocation deadline passed before GitHub answered \(method) \(logPath)")
            }
            let started = Deadline.nowMillis()
            let response: HTTPResponse
            do {
                lock.withLock { requests += 1 }
                response = try transport.send(HTTPRequest(method: method, url: url, headers: headers, body: body),
                                              timeoutMilliseconds: min(remaining, requestTimeoutMilliseconds))
            } catch let e as TransportError {
                logger.debug("github request failed", ["method": .string(method), "path": .string(logPath),
                    "error": .string(e.message), "attempt": .int(attempt), "ms": .int(Int(Deadline.nowMillis() - started))])
                var mayRetry = (idempotent || e.notSent) && !e.isPermanent
                if !mayRetry, !e.isPermanent, let check = alreadyDone {
                    if let done = try check() { return done }
                    mayRetry = true
                }
                if mayRetry, attempt < maxAttempts, backoff(attempt: attempt) { continue }
                logger.warning("github unreachable", ["method": .string(method), "path": .string(logPath), "attempts": .int(attempt)])
                if e.isTimeout {
                    throw SwitchyardError(.timeout, "GitHub did not answer \(method) \(logPath) in time (\(attempt) attempts)")
                }
                throw SwitchyardError(.upstream, "GitHub could not be reached for \(method) \(logPath) (\(attempt) attempts)", detail: e.message)
            }
            logger.debug("github request", ["method": .string(method), "path": .string(logPath),
                "status": .int(response.status), "ms": .int(Int(Deadline.nowMillis() - started)),
                "rate_remaining": response.header("X-RateLimit-Remaining").map(JSON.string) ?? .null,
                "attempt": .int(attempt)])

            if response.status == 304, let cached {
                return cached.response
            }
            if (response.status == 403 || response.status == 429), let wait = rateLimitWait(response) {
                // A rate-limited request was not processed, so any method may be sent again.
                if wait + 100 < deadline.remainingMilliseconds, attempt < maxAttempts {
                    logger.warning("github rate limited; waiting", ["path": .string(logPath), "wait_ms": .int(wait), "attempt": .int(attempt)])
                    Deadline.sleep(milliseconds: wait)
                    continue
                }
                throw SwitchyardError(.rateLimited, "GitHub rate limit reached; it resets \(Self.describeWait(wait)). Try again then.")
            }
            if response.status >= 500 {
                var mayRetry = idempotent
                if !mayRetry, let check = alreadyDone {
                    if let done = try check() { return done }
                    mayRetry = true
                }
                if mayRetry, attempt < maxAttempts, backoff(attempt: attempt) {
                    logger.warning("github 5xx; retrying", ["path": .string(logPath), "status": .int(response.status), "attempt": .int(attempt)])
                    continue
                }
            }
            if response.status >= 400 {
                throw GitHubError(method: method, path: logPath, status: response.status,
                                  message: Self.errorMessage(response), documentationURL: nil)
            }
            if method == "GET", let etag = response.header("ETag") ?? (Self.isImmutable(url) ? "immutable" : nil) {
                lock.withLock { etagCache[url] = (etag, response) }
            }
            return response
        }
    }

    /// `…/git/commits/<sha>` and `…/git/trees/<sha>` never change.
    static func isImmutable(_ url: String) -> Bool {
        for marker in ["/git/commits/", "/git/trees/"] {
            if let r = url.firstRange(of: marker) {
                let rest = url[r.upperBound...].prefix { $0 != "?" }
                return rest.count == 40 && rest.allSatisfy(\.isHexDigit)
            }
        }
        return false
    }

    /// Sleeps before the next attempt: exponential backoff with full jitter, bounded by the deadline.
    /// Returns false when no time is left for another attempt.
    func backoff(attempt: Int) -> Bool {
        let cap = min(2_000, 100 << min(attempt, 5))
        let wait = Int.random(in: cap / 2...cap)
        guard wait + 200 < deadline.remainingMilliseconds else { return false }
        Deadline.sleep(milliseconds: wait)
        return true
    }

    /// Milliseconds to wait for a rate limit, or nil when the 403/429 is not one.
    func rateLimitWait(_ r: HTTPResponse) -> Int? {
        if let after = r.header("Retry-After").flatMap({ Int($0.trimmingSpaces()) }) { return max(0, after) * 1000 }
        if r.header("X-RateLimit-Remaining") == "0" {
            let reset = r.header("X-RateLimit-Reset").flatMap { Int64($0.trimmingSpaces()) } ?? 60
            return Int(max(0, reset * 1000 - Deadline.epochMillis()))
        }
        if r.status == 429 { return 60_000 }
        if Self.errorMessage(r).lowercased().contains("secondary rate limit") { return 60_000 }
        return nil
    }

    static func describeWait(_ ms: Int) -> String {
        let at = (Deadline.epochMillis() + Int64(ms)) / 1000
        let s = Int(at % 86_400)
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "in \((ms + 999) / 1000) s, at \(two(s / 3600)):\(two(s / 60 % 60)):\(two(s % 60)) UTC"
    }

    static func errorMessage(_ r: HTTPResponse) -> String {
        if let json = try? JSON.parse(r.body) {
            var m = json["message"]?.string ?? ""
            if let errors = json["errors"]?.array, !errors.isEmpty {
                let parts = errors.compactMap { $0["message"]?.string ?? $0["code"]?.string ?? $0.string }
                if !parts.isEmpty { m += " (" + parts.joined(separator: "; ") + ")" }
            }
            if !m.isEmpty { return String(m.prefix(500)) }
        }
        return r.body.isEmpty ? "no message" : String(r.text.prefix(200))
    }

    public static func queryString(_ query: [(String, String)]) -> String {
        guard !query.isEmpty else { return "" }
        return "?" + query.map { "\(APIPath.encode($0.0))=\(APIPath.encode($0.1))" }.joined(separator: "&")
    }

    // MARK: - Authentication

    func authorizationHeader() throws -> String? {
        if let a = lock.withLock({ authorization }) { return a }
        let a = try credentials.authorization(using: self)
        lock.withLock { authorization = a }
        return a
    }

    // MARK: - Decoding helpers

    /// GET and decode.
    public func get<T: Decodable>(_ type: T.Type, _ path: APIPath, query: [(String, String)] = []) throws -> T {
        let r = try send("GET", path, query: query)
        return try decode(type, r, path: path.text)
    }

    func decode<T: Decodable>(_ type: T.Type, _ r: HTTPResponse, path: String) throws -> T {
        do { return try GitHubDecoder.decode(type, from: r.body) }
        catch { throw SwitchyardError.upstream("GitHub's answer to \(path) could not be read", detail: "\(error)") }
    }

    /// Reads every page of a listing by following `Link: rel="next"`, up to `maxPages`.
    /// `complete` is false when the bound stopped it.
    /// A `next` link outside `GITHUB_API_URL`'s origin is refused, never followed.
    public func paginate<T: Decodable>(_ type: T.Type, _ path: APIPath, query: [(String, String)] = [],
                                       maxPages: Int? = nil) throws -> (items: [T], complete: Bool) {
        var items: [T] = []
        var q = query
        if !q.contains(where: { $0.0 == "per_page" }) { q.append(("per_page", "100")) }
        var next: String? = baseURL + path.text + Self.queryString(q)
        var pages = 0
        while let url = next {
            if pages >= (maxPages ?? self.maxPages) { return (items, false) }
            let r = try send(method: "GET", url: url, logPath: path.text, body: [], accept: "application/vnd.github+json", alreadyDone: nil)
            items += try decode([T].self, r, path: path.text)
            pages += 1
            next = r.header("Link").flatMap(Self.nextLink)
        }
        return (items, true)
    }

    /// The `rel="next"` URL of a `Link` header.
    public static func nextLink(_ header: String) -> String? {
        for part in header.split(separator: ",") {
            let pieces = part.split(separator: ";").map { $0.trimmingSpaces() }
            guard pieces.count >= 2, pieces.dropFirst().contains(where: { $0 == "rel=\"next\"" }) else { continue }
            let url = pieces[0]
            guard url.hasPrefix("<"), url.hasSuffix(">") else { continue }
            return String(url.dropFirst().dropLast())
        }
        return nil
    }
}

extension StringProtocol {
    func trimmingSpaces() -> String {
        var s = Substring(self).drop { $0 == " " || $0 == "\t" }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return String(s)
    }
}
