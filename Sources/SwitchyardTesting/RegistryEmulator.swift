import Foundation
import SwitchyardCore

/// A container registry as the Docker Registry HTTP API v2 and Docker Hub's token service behave:
/// `HEAD /v2/<repository>/manifests/<tag>` answers 401 with a `WWW-Authenticate: Bearer realm=…`
/// challenge until the request carries a token from that realm; with one, 200 and the manifest's
/// `Docker-Content-Digest`, or 404 (`MANIFEST_UNKNOWN`) for a tag the repository does not have.
public final class RegistryEmulator: @unchecked Sendable {
    public struct Logged: Sendable { public var method: String; public var path: String; public var authorization: String? }
    let lock = NSLock()
    var tags: [String: [String: String]] = [:]
    var tokens: Set<String> = []
    var log: [Logged] = []
    private var server: HTTPServer?

    public init() {}

    /// Adds `repository:tag`, with a digest derived from both (or the one given).
    @discardableResult
    public func add(_ repository: String, tag: String, digest: String? = nil) -> String {
        let d = digest ?? "sha256:" + Self.hex64("\(repository):\(tag)")
        lock.withLock { tags[repository, default: [:]][tag] = d }
        return d
    }

    public func digest(_ repository: String, tag: String) -> String? { lock.withLock { tags[repository]?[tag] } }
    public var requests: [Logged] { lock.withLock { log } }

    public func start() throws -> String {
        let s = try HTTPServer { [weak self] r in
            guard let self else { return .respond(status: 503, headers: [], body: Array("server owner is gone".utf8)) }
            return self.handle(r)
        }
        server = s
        return s.baseURL
    }

    public func stop() { server?.stop() }

    func handle(_ r: ServerRequest) -> ServerReply {
        lock.withLock { log.append(Logged(method: r.method, path: r.path, authorization: r.header("authorization"))) }
        if r.method == "GET", r.path == "/token" {
            guard let scope = r.query["scope"], scope.hasPrefix("repository:"), scope.hasSuffix(":pull"), r.query["service"] == "registry.test" else {
                return .json(400, ["errors": [["code": "DENIED", "message": "bad scope or service"]]])
            }
            let token = "reg-token-" + UUID().uuidString.prefix(12)
            lock.withLock { _ = tokens.insert(String(token)) }
            return .json(200, ["token": .string(String(token)), "expires_in": 300])
        }
        guard r.path.hasPrefix("/v2/"), r.method == "HEAD" || r.method == "GET" else { return .json(404, ["errors": [["code": "NOT_FOUND"]]]) }
        let rest = r.path.dropFirst(4)
        guard let m = rest.range(of: "/manifests/") else { return .json(404, ["errors": [["code": "NAME_UNKNOWN"]]]) }
        let repository = String(rest[..<m.lowerBound]), tag = String(rest[m.upperBound...])
        let bearer = r.header("authorization").flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil }
        guard let bearer, lock.withLock({ tokens.contains(bearer) }) else {
            return .respond(status: 401, headers: [("WWW-Authenticate", "Bearer realm=\"\(server?.baseURL ?? "")/token\",service=\"registry.test\",scope=\"repository:\(repository):pull\""),
                                                   ("Content-Type", "application/json")],
                            body: r.method == "HEAD" ? [] : Array(#"{"errors":[{"code":"UNAUTHORIZED"}]}"#.utf8))
        }
        guard let d = digest(repository, tag: tag) else {
            return .respond(status: 404, headers: [("Content-Type", "application/json")],
                            body: r.method == "HEAD" ? [] : Array(#"{"errors":[{"code":"MANIFEST_UNKNOWN"}]}"#.utf8))
        }
        return .respond(status: 200, headers: [("Docker-Content-Digest", d), ("Content-Type", "application/vnd.docker.distribution.manifest.v2+json")], body: [])
    }

    static func hex64(_ s: String) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        var out = ""
        for round in 0..<4 {
            for b in (s + "\(round)").utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
            out += String(format: "%016llx", h)
        }
        return out
    }
}
