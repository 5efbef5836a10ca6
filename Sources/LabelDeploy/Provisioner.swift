import SwitchyardCore
import SwitchyardGitHub
import SwitchyardRuntime

/// A test server as the deploy logic sees it, whatever backend runs it.
public struct TestServer: Sendable, Equatable {
    public var id: String
    public var owner: String
    public var name: String
    public var state: String
    public var version: String
    public var image: String
    public var size: String
    /// The first DNS name (the server is at `https://<dns>`).
    public var dns: String?
    public var env: [String: String] = [:]
    public var annotations: [String] = []
    /// `DeletionLocked`: the provisioner refuses to delete it (403) until it is unlocked.
    public var deletionLocked = false
    /// When it was deleted (ms; 0 while it exists).
    public var deleteAt: Int64 = 0
    /// When it was asked for (ms).
    public var createAt: Int64 = 0
    public var filestore: String = ""
    /// When the provisioner will delete it (ms; 0: never).
    public var scheduledDeletion: Int64 = 0

    public var url: String? { dns.map { "https://\($0)" } }
    /// Deleted, or on its way there: the name is still reserved but the server is gone for the user.
    public var isGone: Bool { state.hasPrefix("deletion") || state == "deleted" }
    public var isFailed: Bool { state == "creation-failed" || state == "creation-no-compatible-clusters" }
}

/// What to create.
public struct ServerSpec: Sendable, Equatable {
    public var owner: String
    public var name: String
    public var dns: String
    public var version: String
    public var image: String?
    public var size: String?
    public var affinity: String?
    public var database: String?
    public var filestore: String?
    public var license: String?
    public var env: [String: String] = [:]
    public var priorityEnv: [String: String] = [:]
    public var annotations: [String] = []
    public var group: String?
    /// Milliseconds since the epoch after which the provisioner deletes it (0: never).
    public var scheduledDeletion: Int64 = 0

    /// With `placement`'s image, affinity, database, filestore, annotations and group where not set.
    mutating func place(_ p: LabelDeploy.Placement) {
        if image == nil { image = p.image }
        if affinity == nil { affinity = p.affinity }
        if database == nil { database = p.database }
        if filestore == nil { filestore = p.filestore }
        if annotations.isEmpty { annotations = p.annotations }
        if group == nil { group = p.group }
    }
}

/// What to change. Only the fields that are set are sent; `env` values of "" remove a variable.
public struct ServerPatch: Sendable, Equatable {
    public var version: String?
    public var image: String?
    public var size: String?
    /// Licence text ("" removes the licence).
    public var license: String?
    /// A new owner (the Cloud plugin's `import` hands an installation to the caller).
    public var owner: String?
    public var env: [String: String] = [:]
    public var isEmpty: Bool { version == nil && image == nil && size == nil && license == nil && owner == nil && env.isEmpty }
    public init(version: String? = nil, image: String? = nil, size: String? = nil, env: [String: String] = [:]) {
        self.version = version; self.image = image; self.size = size; self.env = env
    }
}

/// The narrow protocol the deploy logic talks to. The Mattermost Cloud provisioner is the first
/// backend; a GitHub Actions deploy/destroy workflow pair is the second.
public protocol EnvironmentBackend: Sendable {
    var name: String { get }
    /// Servers of an owner, deleted ones excluded.
    func servers(owner: String) throws -> [TestServer]
    func server(id: String) throws -> TestServer?
    /// Creates a server. Throws `nameTaken` when the name is reserved.
    func create(_ spec: ServerSpec) throws -> TestServer
    /// Retries a failed creation.
    func retry(_ id: String) throws
    func update(_ id: String, _ patch: ServerPatch) throws
    func delete(_ id: String) throws
    func hibernate(_ id: String) throws
    func wakeUp(_ id: String) throws
}

public enum BackendError: Error, Sendable {
    /// The provisioner answered 409: the name (or DNS name) is in use or still reserved after a deletion.
    case nameTaken(String)
    case unsupported(String)
}

/// How the provisioner wants to be authenticated.
public enum ProvisionerAuth: Sendable {
    case none
    case apiKey(String)
    case bearer(String)
    case oauth2(tokenURL: String, clientID: String, clientSecret: String)

    /// From `PROVISIONER_API_KEY`, `PROVISIONER_TOKEN`, or `PROVISIONER_CLIENT_ID` + `PROVISIONER_CLIENT_SECRET`
    /// (+ `PROVISIONER_TOKEN_URL`, default `<PROVISIONER_URL>/oauth/token`).
    public static func from(_ s: Settings, baseURL: String) throws -> ProvisionerAuth {
        if let id = s.provisionerClientID {
            guard let secret = s.provisionerClientSecret else {
                throw SwitchyardError.misconfigured("PROVISIONER_CLIENT_ID is set but PROVISIONER_CLIENT_SECRET (or _FILE) is not")
            }
            return .oauth2(tokenURL: s.provisionerTokenURL ?? baseURL + "/oauth/token", clientID: id, clientSecret: secret)
        }
        if let key = s.provisionerAPIKey { return .apiKey(key) }
        if let token = s.provisionerToken { return .bearer(token) }
        return .none
    }
}

/// The Mattermost Cloud provisioner's installation API, in its own wire format (Go-style keys).
public final class CloudProvisioner: EnvironmentBackend, @unchecked Sendable {
    public let name = "mattermost-cloud"
    let baseURL: String
    let auth: ProvisionerAuth
    let deadline: Deadline
    let logger: Logger
    let cacheDirectory: String?
    let transport: any HTTPTransport
    private var accessToken: String?

    public init(baseURL: String, auth: ProvisionerAuth, deadline: Deadline, logger: Logger, cacheDirectory: String?,
                transport: any HTTPTransport = NetworkTransport()) {
        var b = baseURL
        while b.hasSuffix("/") { b.removeLast() }
        self.baseURL = b; self.auth = auth; self.deadline = deadline; self.logger = logger
        self.cacheDirectory = cacheDirectory; self.transport = transport
    }

    // MARK: Transport

    func timeout() throws -> Int {
        let left = deadline.remainingMilliseconds - 100
        guard left > 50 else { throw SwitchyardError(.timeout, "no time left to call the provisioner") }
        return min(8_000, left)
    }

    func authorization(refresh: Bool = false) throws -> (String, String)? {
        switch auth {
        case .none: return nil
        case .apiKey(let k): return ("x-api-key", k)
        case .bearer(let t): return ("Authorization", "Bearer \(t)")
        case .oauth2(let url, let id, let secret):
            if let accessToken, !refresh { return ("Authorization", "Bearer \(accessToken)") }
            let t = try OAuth2Token(tokenURL: url, clientID: id, clientSecret: secret, cacheDirectory: cacheDirectory)
                .token(transport: transport, timeout: try timeout(), deadline: deadline, logger: logger, refresh: refresh)
            accessToken = t
            return ("Authorization", "Bearer \(t)")
        }
    }

    /// One call. 5xx and transport failures are retried once for GET; 401 with OAuth2 refreshes the token once.
    @discardableResult
    func call(_ method: String, _ path: APIPath, query: [(String, String)] = [], json: JSON? = nil,
              accept: Set<Int> = [200, 202], rawText: Bool = false) throws -> (status: Int, body: JSON, text: String) {
        let url = baseURL + path.text + GitHubClient.queryString(query)
        var refreshed = false
        var attempt = 0
        while true {
            attempt += 1
            var headers: [(String, String)] = [("Accept", "application/json"), ("User-Agent", "switchyard")]
            if json != nil { headers.append(("Content-Type", "application/json")) }
            if let a = try authorization(refresh: refreshed) { headers.append(a) }
            let r: HTTPResponse
            do {
                r = try transport.send(HTTPRequest(method: method, url: url, headers: headers, body: json.map { Array($0.encoded().utf8) } ?? []),
                                       timeoutMilliseconds: try timeout())
            } catch let e as TransportError {
                if attempt < 3 && (method == "GET" || e.notSent) && deadline.remainingMilliseconds > 1_000 { continue }
                throw SwitchyardError.upstream("the provisioner could not be reached (\(method) \(path.text))")
            }
            logger.debug("provisioner request", ["method": .string(method), "path": .string(path.text), "status": .int(r.status)])
            if r.status == 401, case .oauth2 = auth, !refreshed { refreshed = true; continue }
            if r.status >= 500 && attempt < 3 && method == "GET" && deadline.remainingMilliseconds > 1_000 {
                Deadline.sleep(milliseconds: 100 * attempt)
                continue
            }
            let body = rawText ? JSON.null : (try? JSON.parse(r.body)) ?? .null
            if accept.contains(r.status) { return (r.status, body, rawText ? String(decoding: r.body.prefix(65_536), as: UTF8.self) : "") }
            if r.status == 409 { throw BackendError.nameTaken(Self.message(body, r)) }
            if r.status == 401 || r.status == 403 {
                throw SwitchyardError.misconfigured("the provisioner refused the credentials (\(r.status)); check PROVISIONER_API_KEY, PROVISIONER_TOKEN or the OAuth2 client")
            }
            // The provisioner's own text goes to the log only.
            throw SwitchyardError(.upstream, "the provisioner answered \(r.status) to \(method) \(path.text)", detail: Self.message(body, r))
        }
    }

    static func message(_ body: JSON, _ r: HTTPResponse) -> String {
        body["Error"]?.string ?? body["error"]?.string ?? body["message"]?.string ?? String(r.text.prefix(200))
    }

    // MARK: The installation API

    public func servers(owner: String) throws -> [TestServer] {
        let r = try call("GET", APIPath("/api/installations"), query: [("owner", owner), ("include_deleted", "false"), ("page", "0"), ("per_page", "100")])
        return (r.body.array ?? []).compactMap(Self.server).filter { $0.state != "deleted" }
    }

    /// Every installation, page by page (at most `pages` of 100), deleted ones included when asked.
    public func allServers(includeDeleted: Bool = false, pages: Int = 10) throws -> [TestServer] {
        var out: [TestServer] = []
        for page in 0..<pages {
            let r = try call("GET", APIPath("/api/installations"), query: [("include_deleted", includeDeleted ? "true" : "false"),
                                                                          ("page", "\(page)"), ("per_page", "100")])
            let list = (r.body.array ?? []).compactMap(Self.server)
            out += list
            if list.count < 100 { break }
        }
        return out
    }

    /// The installations of one owner, the deleted ones included.
    public func servers(owner: String, includeDeleted: Bool) throws -> [TestServer] {
        let r = try call("GET", APIPath("/api/installations"), query: [("owner", owner), ("include_deleted", includeDeleted ? "true" : "false"),
                                                                      ("page", "0"), ("per_page", "100")])
        return (r.body.array ?? []).compactMap(Self.server)
    }

    /// The installation answering at `dns`, if any.
    public func server(dns: String) throws -> TestServer? {
        let r = try call("GET", APIPath("/api/installations"), query: [("dns_name", dns), ("page", "0"), ("per_page", "10")])
        return (r.body.array ?? []).compactMap(Self.server).first { !$0.isGone }
    }

    public func server(id: String) throws -> TestServer? {
        let r = try call("GET", try Self.installation(id), accept: [200, 404])
        return r.status == 404 ? nil : Self.server(r.body)
    }

    public func create(_ spec: ServerSpec) throws -> TestServer {
        var o: [String: JSON] = ["OwnerID": .string(spec.owner), "Name": .string(spec.name), "DNSNames": [.string(spec.dns)],
                                 "Version": .string(spec.version)]
        if let x = spec.image { o["Image"] = .string(x) }
        if let x = spec.size { o["Size"] = .string(x) }
        if let x = spec.affinity { o["Affinity"] = .string(x) }
        if let x = spec.database { o["Database"] = .string(x) }
        if let x = spec.filestore { o["Filestore"] = .string(x) }
        if let x = spec.license { o["License"] = .string(x) }
        if let x = spec.group { o["GroupID"] = .string(x) }
        if spec.scheduledDeletion > 0 { o["ScheduledDeletionTime"] = .int(Int(spec.scheduledDeletion)) }
        // Never an empty map (to the provisioner it means "clear every variable"), never an empty value
        // (a creation with one is refused).
        let env = spec.env.filter { !$0.value.isEmpty }, priority = spec.priorityEnv.filter { !$0.value.isEmpty }
        if !env.isEmpty { o["MattermostEnv"] = Self.envMap(env) }
        if !priority.isEmpty { o["PriorityEnv"] = Self.envMap(priority) }
        if !spec.annotations.isEmpty { o["Annotations"] = .array(spec.annotations.map(JSON.string)) }
        let r = try call("POST", APIPath("/api/installations"), json: .object(o))
        guard let s = Self.server(r.body) else { throw SwitchyardError.upstream("the provisioner's answer to the creation had no installation") }
        return s
    }

    public func retry(_ id: String) throws {
        try call("POST", try Self.installation(id))
    }

    public func update(_ id: String, _ patch: ServerPatch) throws {
        guard !patch.isEmpty else { return }
        var o: [String: JSON] = [:]
        if let x = patch.version { o["Version"] = .string(x) }
        if let x = patch.image { o["Image"] = .string(x) }
        if let x = patch.size { o["Size"] = .string(x) }
        if let x = patch.license { o["License"] = .string(x) }
        if let x = patch.owner { o["OwnerID"] = .string(x) }
        if !patch.env.isEmpty { o["MattermostEnv"] = Self.envMap(patch.env) }
        try call("PUT", try Self.installation(id) / "mattermost", json: .object(o))
    }

    public func delete(_ id: String) throws {
        try call("DELETE", try Self.installation(id), accept: [200, 202, 204, 404])
    }

    /// `POST /api/security/installation/{id}/deletion/lock` (or `/unlock`).
    public func setDeletionLock(_ id: String, locked: Bool) throws {
        guard let seg = Segment(id), (try? Self.installation(id)) != nil else {
            throw SwitchyardError.upstream("`\(id.prefix(40))` is not a provisioner installation id")
        }
        let base = APIPath("/api/security/installation") / seg / "deletion"
        try call("POST", locked ? base / "lock" : base / "unlock")
    }

    public func hibernate(_ id: String) throws {
        try call("POST", try Self.installation(id) / "hibernate")
    }

    public func wakeUp(_ id: String) throws {
        try call("POST", try Self.installation(id) / "wakeup")
    }

    // MARK: Running commands in a server (the exec route)

    /// The cluster installations that run an installation (`GET /api/cluster_installations?installation=`).
    public func clusterInstallations(of id: String) throws -> [String] {
        _ = try Self.installation(id)
        let r = try call("GET", APIPath("/api/cluster_installations"), query: [("installation", id)])
        return (r.body.array ?? []).compactMap { $0["ID"]?.string }.filter { (try? Self.installation($0)) != nil }
    }

    public enum ExecResult: Sendable, Equatable {
        case output(String)
        /// The command failed; the provisioner's text is for the log only.
        case failed(status: Int, output: String)
        /// 504: the request ended before the command did, which keeps running.
        case stillRunning
    }

    /// `POST /api/cluster_installation/{ci}/exec/mmctl` with the arguments as a JSON array; mmctl
    /// always gets `--local` (the exec route has no session to log in with).
    public func mmctl(_ clusterInstallation: String, _ arguments: [String]) throws -> ExecResult {
        try exec(clusterInstallation, mattermostCLI: false, arguments.contains("--local") ? arguments : arguments + ["--local"])
    }

    /// `…/exec/mmctl` or `…/exec/mattermost` (the server's own CLI), arguments as given.
    public func exec(_ clusterInstallation: String, mattermostCLI: Bool, _ args: [String]) throws -> ExecResult {
        guard let seg = Segment(clusterInstallation), (try? Self.installation(clusterInstallation)) != nil else {
            throw SwitchyardError.upstream("`\(clusterInstallation.prefix(40))` is not a cluster installation id")
        }
        let base = APIPath("/api/cluster_installation") / seg / "exec"
        let r = try call("POST", mattermostCLI ? base / "mattermost" : base / "mmctl", json: .array(args.map(JSON.string)),
                         accept: [200, 400, 500, 504], rawText: true)
        switch r.status {
        case 200: return .output(r.text)
        case 504: return .stillRunning
        default: return .failed(status: r.status, output: r.text)
        }
    }

    /// `/api/installation/{id}`: ids are 26 letters and digits, as the provisioner's routes require.
    static func installation(_ id: String) throws -> APIPath {
        guard id.utf8.count == 26, id.utf8.allSatisfy({ RepoRef.isAlphanumeric($0) }), let seg = Segment(id) else {
            throw SwitchyardError.upstream("`\(id.prefix(40))` is not a provisioner installation id")
        }
        return APIPath("/api/installation") / seg
    }

    // MARK: Wire format

    /// `{"NAME": {"value": "…"}}` as mattermost-cloud's `model.EnvVar` encodes it; an entry with no
    /// value (`{}`) removes the variable in a patch.
    static func envMap(_ env: [String: String]) -> JSON {
        .object(env.mapValues { $0.isEmpty ? .object([:]) : ["value": .string($0)] })
    }

    /// An installation (or installation DTO) in the provisioner's JSON.
    public static func server(_ j: JSON) -> TestServer? {
        guard let id = j["ID"]?.string, !id.isEmpty else { return nil }
        let records = j["DNSRecords"]?.array ?? []
        let dns = records.first { $0["IsPrimary"]?.bool == true }?["DomainName"]?.string ?? records.first?["DomainName"]?.string
            ?? j["DNS"]?.string.flatMap { $0.isEmpty ? nil : $0 }
        var env: [String: String] = [:]
        // Responses carry `value` (`model/env.go`); `Value` only from something that echoed a request back.
        for (k, v) in j["MattermostEnv"]?.object ?? [:] { env[k] = v["value"]?.string ?? v["Value"]?.string ?? "" }
        return TestServer(id: id, owner: j["OwnerID"]?.string ?? "", name: j["Name"]?.string ?? dns.map { String($0.prefix { $0 != "." }) } ?? id,
                          state: j["State"]?.string ?? "unknown", version: j["Version"]?.string ?? "", image: j["Image"]?.string ?? "",
                          size: j["Size"]?.string ?? "", dns: dns, env: env,
                          annotations: (j["Annotations"]?.array ?? []).compactMap { $0["Name"]?.string ?? $0.string },
                          deletionLocked: j["DeletionLocked"]?.bool ?? false,
                          deleteAt: Int64(j["DeleteAt"]?.int ?? 0), createAt: Int64(j["CreateAt"]?.int ?? 0), filestore: j["Filestore"]?.string ?? "", scheduledDeletion: Int64(j["ScheduledDeletionTime"]?.int ?? 0))
    }
}

/// OAuth2 client credentials, with the access token cached on disk (0600) like the GitHub App's.
struct OAuth2Token {
    let tokenURL: String
    let clientID: String
    let clientSecret: String
    let cacheDirectory: String?

    func cachePath(logger: Logger) -> String? {
        guard let dir = CacheDirectory.usable(cacheDirectory, logger: logger) else { return nil }
        var h: UInt64 = 0xcbf29ce484222325
        for b in "\(tokenURL)|\(clientID)".utf8 { h = (h ^ UInt64(b)) &* 0x100000001b3 }
        return "\(dir)/provisioner-token-\(String(h, radix: 16)).json"
    }

    func cached(_ path: String?, now: Int64) -> String? {
        guard let path, let bytes = Files.read(path, limit: 16_384, privateOnly: true), let j = try? JSON.parse(bytes),
              let t = j["access_token"]?.string, let exp = j["expires_at"]?.int, Int64(exp) - 60 > now else { return nil }
        return t
    }

    func token(transport: any HTTPTransport, timeout: Int, deadline: Deadline, logger: Logger, refresh: Bool) throws -> String {
        let now = Deadline.epochMillis() / 1000
        let path = cachePath(logger: logger)
        if !refresh, let t = cached(path, now: now) { logger.redact([t]); return t }
        // As with the GitHub App's token: one process mints, a burst waits on the lock and reads the cache.
        let lock = path.map { CacheLock(path: $0 + ".lock", deadline: deadline) }
        defer { lock?.release() }
        if !refresh, lock?.acquired == true, let t = cached(path, now: now) { logger.redact([t]); return t }
        let body = "grant_type=client_credentials&client_id=\(APIPath.encode(clientID))&client_secret=\(APIPath.encode(clientSecret))"
        let r: HTTPResponse
        do {
            r = try transport.send(HTTPRequest(method: "POST", url: tokenURL,
                                               headers: [("Content-Type", "application/x-www-form-urlencoded"), ("Accept", "application/json")],
                                               body: Array(body.utf8)), timeoutMilliseconds: timeout)
        } catch {
            throw SwitchyardError.upstream("the provisioner's token endpoint could not be reached")
        }
        guard r.status == 200, let j = try? JSON.parse(r.body), let t = j["access_token"]?.string, !t.isEmpty else {
            throw SwitchyardError.misconfigured("the provisioner's token endpoint refused the client credentials (\(r.status))")
        }
        logger.redact([t])
        if let path {
            let expires = Int(now) + (j["expires_in"]?.int ?? 3600)
            _ = Files.writeAtomically(path, Array((["access_token": .string(t), "expires_at": .int(expires)] as JSON).encoded().utf8))
        }
        logger.debug("minted a provisioner access token")
        return t
    }
}
