import Foundation
import Crypto
import _CryptoExtras
import SwitchyardCore

/// A local GitHub: the REST routes Switchyard uses, with GitHub's status codes and shapes, real git
/// behind the git data, `Link` pagination, a request log, a contract check against the public route
/// list, and fault injection. See README.md in this folder for what it covers and how it differs.
public final class GitHubEmulator: @unchecked Sendable {
    struct App { var id: Int; var slug: String; var publicKeyPEM: String; var installations: Set<Int> }

    let lock = NSLock()
    let root: String
    var users: [String: User] = [:]
    var emails: [String: String] = [:]
    var orgMembers: [String: Set<String>] = [:]
    var teams: [String: Set<String>] = [:]
    /// Releases by repository (lower-cased full name), oldest first: tag and whether a pre-release.
    var releases: [String: [(tag: String, prerelease: Bool)]] = [:]
    var repos: [String: Repo] = [:]
    var pulls: [String: [Int: Pull]] = [:]
    var issues: [String: [Int: Issue]] = [:]
    var comments: [Comment] = []
    var statuses: [Status] = []
    var reactions: [Reaction] = []
    var issueEvents: [IssueEvent] = []
    var pendingJobs = 0
    var fired = 0
    var backgroundDelay = 100
    var tokens: [String: String] = [:]
    var installationTokens: [String: (installation: Int, app: Int, expires: Date)] = [:]
    var apps: [Int: App] = [:]
    var log: [LoggedRequest] = []
    var violations: [String] = []
    var faults: [Fault] = []
    var faultCounts: [Int: Int] = [:]
    var idCounter = 1000
    var numbers: [String: Int] = [:]
    var minted = 0
    var notModified = 0
    var runs: [WorkflowRun] = []
    var supportsRunDetails = true
    var deployments: [Deployment] = []
    var checkRuns: [CheckRun] = []
    let contract: Contract?
    private var server: HTTPServer?

    /// Creates an emulator whose git repositories live under a new temporary folder.
    /// `corpus` is the folder holding `github-rest-endpoints.txt` (and `github-rest-bodies.json`).
    public init(corpus: String? = GitHubEmulator.findCorpus()) throws {
        root = NSTemporaryDirectory() + "gh-emulator-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        guard let corpus else { contract = nil; return }
        contract = try Contract(folder: corpus)
    }

    /// True when requests are checked against GitHub's route list.
    public var checksContract: Bool { contract != nil }

    deinit {
        server?.stop()
        try? FileManager.default.removeItem(atPath: root)
    }

    /// Starts serving on 127.0.0.1 (port 0: any free port). Returns the API base URL.
    @discardableResult
    public func start(port: Int = 0) throws -> String {
        let s = try HTTPServer(port: port) { [weak self] request in
            guard let self else { return .respond(status: 503, headers: [], body: Array("server owner is gone".utf8)) }
            return self.serve(request)
        }
        server = s
        return s.baseURL
    }

    public func stop() { server?.stop(); server = nil }
    public var baseURL: String { server?.baseURL ?? "" }

    /// `../shared/corpus` from the working directory or its parents.
    public static func findCorpus() -> String? {
        var dir = FileManager.default.currentDirectoryPath
        for _ in 0..<5 {
            let candidate = dir + "/../shared/corpus"
            if FileManager.default.fileExists(atPath: candidate + "/github-rest-endpoints.txt") { return candidate }
            dir = (dir as NSString).deletingLastPathComponent
        }
        return nil
    }

    // MARK: Serving

    func serve(_ request: ServerRequest) -> ServerReply {
        let identity = authenticate(request)
        var afterwards: ServerReply? = nil
        if let fault = takeFault(request) {
            switch fault {
            case .after(let reply): afterwards = reply
            case .before(let reply):
                record(request, identity: identity, status: 0)
                return reply
            }
        }
        if let contract, !contract.allows(method: request.method, path: request.path) {
            lock.withLock { violations.append("\(request.method) \(request.path) is not a GitHub REST route") }
            record(request, identity: identity, status: 404)
            return .json(404, ["message": "Not Found", "documentation_url": "https://docs.github.com/rest"])
        }
        if let contract, let missing = contract.missingFields(method: request.method, path: request.path, body: request.json) {
            lock.withLock { violations.append("\(request.method) \(request.path) lacks required body fields: \(missing)") }
            record(request, identity: identity, status: 422)
            return .json(422, ["message": "Invalid request.\n\n\(missing) wasn't supplied.", "documentation_url": "https://docs.github.com/rest"])
        }
        let reply: ServerReply
        if identity == .invalid {
            reply = .json(401, ["message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"])
        } else {
            reply = route(request, identity: identity.login)
        }
        if case .respond(let status, _, _) = reply { record(request, identity: identity.login, status: status) }
        if let afterwards { return afterwards }
        return withETag(reply, request: request)
    }

    enum Identity: Equatable {
        case anonymous, invalid, user(String), app(Int)
        var login: String? {
            switch self {
            case .user(let l): l
            case .app(let id): "app:\(id)"
            default: nil
            }
        }
    }

    func authenticate(_ r: ServerRequest) -> Identity {
        guard let auth = r.header("authorization") else { return .anonymous }
        let parts = auth.split(separator: " ", maxSplits: 1).map(String.init)
        guard parts.count == 2, ["bearer", "token"].contains(parts[0].lowercased()) else { return .invalid }
        let token = parts[1]
        return lock.withLock {
            if let login = tokens[token] { return .user(login) }
            if let t = installationTokens[token] {
                guard t.expires > Date() else { return .invalid }
                return .user("\(apps[t.app]?.slug ?? "app")[bot]")
            }
            if token.split(separator: ".").count == 3, let app = verifyJWT(token) { return .app(app) }
            return .invalid
        }
    }

    /// Checks an RS256 App JWT against the registered public keys (lock held).
    func verifyJWT(_ jwt: String) -> Int? {
        let parts = jwt.split(separator: ".").map(String.init)
        guard parts.count == 3, let payloadBytes = base64url(parts[1]), let sig = base64url(parts[2]),
              let payload = try? JSON.parse(payloadBytes), let iss = payload["iss"]?.int ?? payload["iss"]?.string.flatMap({ Int($0) }),
              let app = apps[iss], let iat = payload["iat"]?.int, let exp = payload["exp"]?.int else { return nil }
        let nowS = Int(Date().timeIntervalSince1970)
        guard iat <= nowS + 60, exp > nowS, exp - iat <= 660 else { return nil }
        guard let key = try? _RSA.Signing.PublicKey(pemRepresentation: app.publicKeyPEM) else { return nil }
        let signed = Data((parts[0] + "." + parts[1]).utf8)
        guard key.isValidSignature(_RSA.Signing.RSASignature(rawRepresentation: sig), for: signed, padding: .insecurePKCS1v1_5) else { return nil }
        return iss
    }

    func base64url(_ s: String) -> [UInt8]? {
        var t = s.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while t.count % 4 != 0 { t += "=" }
        return Data(base64Encoded: t).map(Array.init)
    }

    /// A fault answers instead of the request (`before`), or after carrying it out (`after`).
    enum Injected { case before(ServerReply), after(ServerReply) }

    func takeFault(_ r: ServerRequest) -> Injected? {
        lock.withLock {
            for (i, f) in faults.enumerated() where (f.method == nil || f.method == r.method) && r.path.contains(f.pathContains) {
                let seen = faultCounts[i, default: 0]
                faultCounts[i] = seen + 1
                guard seen >= f.skip, seen - f.skip < f.times else { continue }
                fired += 1
                switch f.kind {
                case .status(let s, let m): return .before(.json(s, ["message": .string(m)]))
                case .reset: return .before(.reset)
                case .slow(let ms): return .before(.delayed(milliseconds: ms, .json(500, ["message": "slow answer"])))
                case .secondaryRateLimit(let after):
                    return .before(.json(403, ["message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."],
                                         headers: [("Retry-After", "\(after)")]))
                case .tooManyRequests(let after):
                    return .before(.json(429, ["message": "Too many requests"], headers: [("Retry-After", "\(after)")]))
                case .lostResponse: return .after(.reset)
                case .appliedThenStatus(let s): return .after(.json(s, ["message": "Server Error"]))
                case .appliedThenDrop: return .after(.drop)
                case .primaryRateLimit(let resetIn):
                    let reset = Int(Date().timeIntervalSince1970) + resetIn
                    return .before(.json(403, ["message": "API rate limit exceeded for installation."],
                                         headers: [("X-RateLimit-Remaining", "0"), ("X-RateLimit-Limit", "5000"), ("X-RateLimit-Reset", "\(reset)")]))
                }
            }
            return nil
        }
    }

    /// GitHub sends an ETag with GET answers and 304 Not Modified when `If-None-Match` matches.
    func withETag(_ reply: ServerReply, request: ServerRequest) -> ServerReply {
        guard request.method == "GET", case .respond(200, let headers, let body) = reply else { return reply }
        let etag = "W/\"" + SHA256.hash(data: body).prefix(16).map { String(format: "%02x", $0) }.joined() + "\""
        if request.header("if-none-match") == etag {
            lock.withLock { notModified += 1 }
            return .respond(status: 304, headers: [("ETag", etag)], body: [])
        }
        return .respond(status: 200, headers: headers + [("ETag", etag)], body: body)
    }

    func record(_ r: ServerRequest, identity: String?, status: Int) {
        lock.withLock {
            log.append(LoggedRequest(method: r.method, path: r.path, query: r.rawQuery, body: r.json,
                                     rawBody: String(decoding: r.body, as: UTF8.self), identity: identity, status: status))
        }
    }
    func record(_ r: ServerRequest, identity: Identity, status: Int) { record(r, identity: identity.login, status: status) }
}

/// The public route list (`github-rest-endpoints.txt`) and required body fields (`github-rest-bodies.json`).
struct Contract {
    var routes: [String: [[String]]] = [:]
    var required: [String: [String]] = [:]

    init(folder: String) throws {
        let text = try String(contentsOfFile: folder + "/github-rest-endpoints.txt", encoding: .utf8)
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { continue }
            routes[parts[0], default: []].append(parts[1].split(separator: "/").map(String.init))
        }
        if let data = FileManager.default.contents(atPath: folder + "/github-rest-bodies.json"),
           let json = try? JSON.parse(Array(data)), let endpoints = json["endpoints"]?.array {
            for e in endpoints {
                guard let m = e["method"]?.string, let p = e["path"]?.string else { continue }
                required["\(m) \(p)"] = e["required_fields"]?.array?.compactMap(\.string) ?? []
            }
        }
    }

    func template(method: String, path: String) -> String? {
        let segments = path.split(separator: "/").map(String.init)
        for t in routes[method] ?? [] where Self.matches(t, segments) {
            return "/" + t.joined(separator: "/")
        }
        return nil
    }

    func allows(method: String, path: String) -> Bool { template(method: method, path: path) != nil }

    /// Names the required fields a body lacks, or nil when it has them all.
    func missingFields(method: String, path: String, body: JSON?) -> String? {
        guard let t = template(method: method, path: path), let fields = required["\(method) \(t)"], !fields.isEmpty else { return nil }
        let missing = fields.filter { body?[$0] == nil }
        return missing.isEmpty ? nil : missing.joined(separator: ", ")
    }

    static func matches(_ template: [String], _ path: [String]) -> Bool {
        var i = 0
        for (n, t) in template.enumerated() {
            let isParam = t.hasPrefix("{") && t.hasSuffix("}")
            if isParam && n == template.count - 1 && ["{ref}", "{path}", "{basehead}"].contains(t) {
                // A trailing {ref}, {path} or {basehead} may hold slashes (heads/main, docs/a.md).
                return i < path.count
            }
            guard i < path.count else { return false }
            if !isParam && t != path[i] { return false }
            i += 1
        }
        return i == path.count
    }
}
