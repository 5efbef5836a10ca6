import SwitchyardCore
import SwitchyardGitHub
import SwitchyardRuntime

/// A container registry's manifest check (the Docker Registry HTTP API v2), as the Cloud plugin does
/// it: `HEAD /v2/<repository>/manifests/<tag>`; on 401, an anonymous pull token from the realm the
/// registry names, then the same request with it. The answer's `Docker-Content-Digest` pins the image.
struct Registry {
    /// `DEPLOY_REGISTRY_URL`, default Docker Hub's registry.
    let baseURL: String
    let deadline: Deadline
    let logger: Logger

    static let defaultURL = "https://registry.hub.docker.com"
    static let accept = "application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json"

    enum Answer: Equatable { case digest(String), missing }

    /// Repository names as the distribution spec defines them: lower-case path components.
    static func isRepository(_ s: String) -> Bool {
        guard !s.isEmpty, s.utf8.count <= 255 else { return false }
        return s.split(separator: "/", omittingEmptySubsequences: false).allSatisfy { part in
            guard let f = part.utf8.first, let l = part.utf8.last, isLowerAlnum(f), isLowerAlnum(l) else { return false }
            return part.utf8.allSatisfy { isLowerAlnum($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
        }
    }

    /// Tags: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
    static func isTag(_ s: String) -> Bool {
        guard let f = s.utf8.first, s.utf8.count <= 128, f != UInt8(ascii: "."), f != UInt8(ascii: "-") else { return false }
        return s.utf8.allSatisfy { RepoRef.isAlphanumeric($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }
    }

    static func isLowerAlnum(_ b: UInt8) -> Bool { (b >= 0x61 && b <= 0x7a) || (b >= 0x30 && b <= 0x39) }

    /// The digest of `repository:tag`, or `.missing` when the registry has no such tag.
    func manifest(_ repository: String, tag: String) throws -> Answer {
        guard Self.isRepository(repository), Self.isTag(tag) else { return .missing }
        let url = baseURL + "/v2/" + repository + "/manifests/" + tag
        var r = try head(url, token: nil)
        if r.status == 401 {
            let token = try pullToken(challenge: r.header("WWW-Authenticate") ?? "", repository: repository)
            r = try head(url, token: token)
        }
        switch r.status {
        case 200:
            guard let d = r.header("Docker-Content-Digest"), d.hasPrefix("sha256:"), d.utf8.count == 71,
                  d.utf8.dropFirst(7).allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }) else {
                throw SwitchyardError.upstream("the registry named no digest for \(repository):\(tag)")
            }
            return .digest(d)
        case 404: return .missing
        default: throw SwitchyardError.upstream("the registry answered \(r.status) for \(repository):\(tag)")
        }
    }

    func head(_ url: String, token: String?) throws -> HTTPResponse {
        var headers = [("Accept", Self.accept)]
        if let token { headers.append(("Authorization", "Bearer " + token)) }
        return try NetworkTransport().send(HTTPRequest(method: "HEAD", url: url, headers: headers, body: []),
                                           timeoutMilliseconds: max(100, min(5_000, deadline.remainingMilliseconds - 200)))
    }

    /// `Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:x:pull"`:
    /// an anonymous token for pulling `repository`, from the realm, over https (or the registry's own origin).
    func pullToken(challenge: String, repository: String) throws -> String {
        var fields: [String: String] = [:]
        var rest = Substring(challenge)
        guard rest.lowercased().hasPrefix("bearer ") else { throw SwitchyardError.upstream("the registry asks for an authentication Switchyard does not do") }
        rest = rest.dropFirst(7)
        while let eq = rest.firstIndex(of: "=") {
            let key = rest[..<eq].trimmingPrefix(while: { $0 == "," || $0 == " " }).lowercased()
            var after = rest[rest.index(after: eq)...]
            var value = ""
            if after.first == "\"" {
                after = after.dropFirst()
                guard let close = after.firstIndex(of: "\"") else { break }
                value = String(after[..<close])
                rest = after[after.index(after: close)...]
            } else {
                let end = after.firstIndex(of: ",") ?? after.endIndex
                value = String(after[..<end])
                rest = after[end...]
            }
            fields[String(key)] = value
        }
        guard let realm = fields["realm"], let origin = Origin(realm),
              origin.scheme == "https" || Origin(baseURL) == origin else {
            throw SwitchyardError.upstream("the registry named no usable token realm")
        }
        var query = [("scope", fields["scope"] ?? "repository:\(repository):pull")]
        if let service = fields["service"] { query.insert(("service", service), at: 0) }
        let url = realm + (realm.contains("?") ? "&" : "?") + query.map { "\($0.0)=\(Self.escape($0.1))" }.joined(separator: "&")
        let r = try NetworkTransport().send(HTTPRequest(method: "GET", url: url, headers: [("Accept", "application/json")], body: []),
                                            timeoutMilliseconds: max(100, min(5_000, deadline.remainingMilliseconds - 200)))
        guard r.status == 200, let j = try? JSON.parse(r.body), let token = j["token"]?.string ?? j["access_token"]?.string, !token.isEmpty else {
            throw SwitchyardError.upstream("the registry's token service answered \(r.status)")
        }
        logger.redact([token])
        return token
    }

    static func escape(_ s: String) -> String {
        var out = ""
        for b in s.utf8 {
            if RepoRef.isAlphanumeric(b) || b == UInt8(ascii: "-") || b == UInt8(ascii: "_") || b == UInt8(ascii: ".") || b == UInt8(ascii: "~") {
                out.unicodeScalars.append(Unicode.Scalar(b))
            } else {
                let hex = Array("0123456789ABCDEF".utf8)
                out += "%" + String(decoding: [hex[Int(b >> 4)], hex[Int(b & 15)]], as: UTF8.self)
            }
        }
        return out
    }
}

/// Mattermost versions: `X.Y.Z` release numbers, compared numerically.
struct Semver: Comparable {
    var major: Int, minor: Int, patch: Int

    /// `10.2.1` or `v10.2.1`; pre-releases (`-rc1`) and anything else are not releases.
    init?(_ s: String) {
        let t = s.hasPrefix("v") ? s.dropFirst() : Substring(s)
        let parts = t.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty && $0.utf8.count <= 6 && $0.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } }),
              let a = Int(parts[0]), let b = Int(parts[1]), let c = Int(parts[2]) else { return nil }
        major = a; minor = b; patch = c
    }
    init(_ a: Int, _ b: Int, _ c: Int) { major = a; minor = b; patch = c }

    static func < (l: Semver, r: Semver) -> Bool { (l.major, l.minor, l.patch) < (r.major, r.minor, r.patch) }
    var text: String { "\(major).\(minor).\(patch)" }
}
