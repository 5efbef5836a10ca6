import Crypto
import _CryptoExtras
import SwitchyardCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// How the client authenticates. The `Authorization` header is computed once per invocation.
public protocol GitHubCredentials: Sendable {
    /// The `Authorization` header value, or nil for anonymous calls. May call GitHub (App token exchange).
    func authorization(using client: GitHubClient) throws -> String?
    /// The login these credentials write as (`<slug>[bot]` for an App, the user for a token), or nil.
    func identity(using client: GitHubClient) throws -> String?
}

public struct AnonymousCredentials: GitHubCredentials {
    public init() {}
    public func authorization(using client: GitHubClient) throws -> String? { nil }
    public func identity(using client: GitHubClient) throws -> String? { nil }
}

/// A personal access token or an installation token from `GITHUB_TOKEN`. Any length or shape.
public struct TokenCredentials: GitHubCredentials {
    let token: String
    let cacheDirectory: String?
    public init(token: String, cacheDirectory: String? = nil) { self.token = token; self.cacheDirectory = cacheDirectory }
    public func authorization(using client: GitHubClient) throws -> String? { "Bearer \(token)" }

    /// `GET /user`, cached (0600) beside the installation tokens under a digest of the token.
    /// An installation token cannot read `/user` (403): it is then nobody Switchyard can vouch for.
    public func identity(using client: GitHubClient) throws -> String? {
        let path = IdentityCache.path(directory: cacheDirectory, key: "\(client.baseURL)|token|\(token)", logger: client.logger)
        if let path, let login = IdentityCache.read(path) { return login }
        struct U: Decodable { var login: String }
        let login: String
        do { login = try client.get(U.self, APIPath("/user")).login }
        catch let e as GitHubError where e.status == 403 || e.status == 404 {
            client.logger.warning("GITHUB_TOKEN cannot read /user; set SWITCHYARD_BOT_LOGIN to the login it writes as")
            return nil
        }
        if let path { IdentityCache.write(path, login) }
        return login
    }
}

/// The bot's login, cached per credentials in the cache directory.
enum IdentityCache {
    static func path(directory: String?, key: String, logger: Logger) -> String? {
        guard let dir = CacheDirectory.usable(directory, logger: logger) else { return nil }
        let digest = SHA256.hash(data: Array(key.utf8))
        return "\(dir)/identity-\(digest.prefix(12).map { String(format2: $0) }.joined()).json"
    }
    static func read(_ path: String) -> String? {
        guard let bytes = Files.read(path, limit: 4096, privateOnly: true), let json = try? JSON.parse(bytes),
              let login = json["login"]?.string, !login.isEmpty else { return nil }
        return login
    }
    static func write(_ path: String, _ login: String) {
        Files.writeAtomically(path, Array((["login": .string(login)] as JSON).encoded().utf8))
    }
}

/// The cache directory, used only when this process may trust it (see `Files.privateDirectory`).
public enum CacheDirectory {
    /// `directory` when it is private to this user (created if missing). When it is not (another local
    /// user made it, or it is writable by others), a new private folder of this process's own is used
    /// instead, and the log says why: tokens still work, they are just not shared with other processes.
    public static func usable(_ directory: String?, logger: Logger) -> String? {
        guard let directory else { return nil }
        guard let reason = Files.privateDirectory(directory) else { return directory }
        return fallback.withLock { chosen in
            if let chosen { return chosen }
            let made = Files.makePrivateTemporaryDirectory(prefix: "switchyard-private-")
            logger.warning("the cache directory is unsafe; using a private one for this process",
                           ["reason": .string(reason), "instead": made.map(JSON.string) ?? "none"])
            chosen = made
            return made
        }
    }

    private static let fallback = Locked<String?>(nil)
}

/// A value behind a lock.
final class Locked<Value>: @unchecked Sendable {
    private var value: Value
    private let lock = Mutex()
    init(_ value: Value) { self.value = value }
    func withLock<R>(_ body: (inout Value) -> R) -> R { lock.withLock { body(&value) } }
}

extension String {
    init(format2 byte: UInt8) {
        let hex = Array("0123456789abcdef")
        self = String([hex[Int(byte >> 4)], hex[Int(byte & 15)]])
    }
}

/// A GitHub App: an RS256 JWT exchanged for an installation token, cached on disk (mode 0600)
/// until shortly before it expires, so a burst of processes mints one token.
public struct AppCredentials: GitHubCredentials {
    public let appID: String
    public let installationID: Int
    let signingKey: _RSA.Signing.PrivateKey
    public let cacheDirectory: String?
    /// Seconds before expiry at which a cached token is no longer used.
    public var refreshMargin: Int64 = 300

    /// Throws `misconfigured` when the key is not an RSA PEM (PKCS#1 or PKCS#8). Never echoes the key.
    public init(appID: String, privateKeyPEM: String, installationID: Int, cacheDirectory: String?) throws {
        self.appID = appID
        self.installationID = installationID
        self.cacheDirectory = cacheDirectory
        do {
            signingKey = try _RSA.Signing.PrivateKey(pemRepresentation: privateKeyPEM)
        } catch {
            throw SwitchyardError.misconfigured(
                "GITHUB_APP_PRIVATE_KEY is not a usable RSA private key in PEM form (PKCS#1 \"BEGIN RSA PRIVATE KEY\" or PKCS#8 \"BEGIN PRIVATE KEY\", 2048 bits or more)")
        }
    }

    /// A JWT for the App: `iat` 60 s in the past, `exp` 9 minutes ahead, `iss` the app id.
    public func makeJWT(now: Int64 = Deadline.epochMillis() / 1000) throws -> String {
        let header = #"{"alg":"RS256","typ":"JWT"}"#
        let iss = Int(appID).map { String($0) } ?? "\"\(appID)\""
        let payload = #"{"exp":\#(now + 540),"iat":\#(now - 60),"iss":\#(iss)}"#
        let input = Base64URL.encode(Array(header.utf8)) + "." + Base64URL.encode(Array(payload.utf8))
        let signature = try signingKey.signature(for: Data(input.utf8), padding: .insecurePKCS1v1_5)
        return input + "." + Base64URL.encode(Array(signature.rawRepresentation))
    }

    public func authorization(using client: GitHubClient) throws -> String? {
        let now = Deadline.epochMillis() / 1000
        let path = cachePath(baseURL: client.baseURL, logger: client.logger)
        if let path, let cached = Self.readCache(path), cached.expiresAt - refreshMargin > now {
            client.logger.debug("installation token from cache", ["installation": .int(installationID)])
            return "Bearer \(cached.token)"
        }
        // One process mints; a burst of others waits on the lock and then reads the cache.
        let lock = path.map { CacheLock(path: $0 + ".lock", deadline: client.deadline) }
        defer { lock?.release() }
        if let path, lock?.acquired == true, let cached = Self.readCache(path), cached.expiresAt - refreshMargin > now {
            client.logger.debug("installation token from cache after waiting", ["installation": .int(installationID)])
            return "Bearer \(cached.token)"
        }
        let jwt = try makeJWT(now: now)
        client.logger.redact([jwt])
        let response: HTTPResponse
        let tokenPath = APIPath("/app/installations") / installationID / "access_tokens"
        do {
            response = try client.send(method: "POST", url: client.baseURL + tokenPath.text, logPath: tokenPath.text, body: [],
                                       accept: "application/vnd.github+json",
                                       alreadyDone: { nil }, authorizationOverride: "Bearer \(jwt)")
        } catch let e as GitHubError where e.status == 401 {
            let m = e.message.lowercased()
            let hint = (m.contains("exp") || m.contains("iat") || m.contains("time")) ?
                " The clock of this machine may be wrong: the JWT's times are checked against GitHub's." : " Check GITHUB_APP_ID and the private key."
            client.logger.warning("GitHub refused the App's JWT", ["detail": .string(e.message)])
            throw SwitchyardError(.misconfigured, "GitHub refused the App's JWT (401).\(hint)")
        } catch let e as GitHubError where e.status == 404 {
            throw SwitchyardError(.misconfigured, "GitHub knows no installation \(installationID) of app \(appID); check GITHUB_APP_INSTALLATION_ID or the App's installation.")
        }
        guard let json = try? JSON.parse(response.body), let token = json["token"]?.string, !token.isEmpty else {
            throw SwitchyardError.upstream("GitHub's installation-token answer had no token")
        }
        client.logger.redact([token])
        let expires = json["expires_at"]?.string.flatMap(ISO8601.parse) ?? (now + 3600)
        if let path {
            let record: JSON = ["token": .string(token), "expires_at": .int(Int(expires)),
                                "app_id": .string(appID), "installation_id": .int(installationID)]
            if !Files.writeAtomically(path, Array(record.encoded().utf8)) {
                client.logger.warning("could not write the token cache", ["path": .string(path)])
            }
        }
        client.logger.debug("minted installation token", ["installation": .int(installationID)])
        return "Bearer \(token)"
    }

    /// The App's bot login, `<slug>[bot]`, from `GET /app` with a JWT; cached like the token.
    public func identity(using client: GitHubClient) throws -> String? {
        let path = IdentityCache.path(directory: cacheDirectory, key: "\(client.baseURL)|app|\(appID)", logger: client.logger)
        if let path, let login = IdentityCache.read(path) { return login }
        let jwt = try makeJWT()
        client.logger.redact([jwt])
        let r = try client.send(method: "GET", url: client.baseURL + "/app", logPath: "/app", body: [], accept: "application/vnd.github+json",
                                alreadyDone: nil, authorizationOverride: "Bearer \(jwt)")
        guard let slug = (try? JSON.parse(r.body))?["slug"]?.string, !slug.isEmpty else {
            throw SwitchyardError.upstream("GitHub's answer to GET /app had no slug")
        }
        let login = slug + "[bot]"
        if let path { IdentityCache.write(path, login) }
        return login
    }

    func cachePath(baseURL: String, logger: Logger) -> String? {
        guard let dir = CacheDirectory.usable(cacheDirectory, logger: logger) else { return nil }
        let digest = SHA256.hash(data: Array("\(baseURL)|\(appID)|\(installationID)".utf8))
        return "\(dir)/installation-token-\(digest.prefix(12).map { String(format2: $0) }.joined()).json"
    }

    static func readCache(_ path: String) -> (token: String, expiresAt: Int64)? {
        guard let bytes = Files.read(path, limit: 16_384, privateOnly: true),
              let json = try? JSON.parse(bytes), let token = json["token"]?.string, !token.isEmpty,
              let exp = json["expires_at"]?.int else { return nil }
        return (token, Int64(exp))
    }
}

/// Base64url without padding, as JWTs use.
public enum Base64URL {
    public static func encode(_ bytes: [UInt8]) -> String {
        String(Data(bytes).base64EncodedString().compactMap { c -> Character? in
            switch c { case "+": "-"; case "/": "_"; case "=": nil; default: c }
        })
    }
    public static func decode(_ text: String) -> [UInt8]? {
        var s = String(text.map { c -> Character in
            switch c { case "-": "+"; case "_": "/"; default: c }
        })
        while s.count % 4 != 0 { s += "=" }
        return Data(base64Encoded: s).map(Array.init)
    }
}

/// Parses `2016-07-11T22:14:10Z` (and fractional seconds or a `+00:00` offset) to Unix seconds.
public enum ISO8601 {
    public static func parse(_ s: String) -> Int64? {
        let u = Array(s.utf8)
        guard u.count >= 19 else { return nil }
        func num(_ from: Int, _ len: Int) -> Int64? {
            var v: Int64 = 0
            for i in from..<from + len {
                guard u[i] >= 48 && u[i] <= 57 else { return nil }
                v = v * 10 + Int64(u[i] - 48)
            }
            return v
        }
        guard let y = num(0, 4), let mo = num(5, 2), let d = num(8, 2), let h = num(11, 2),
              let mi = num(14, 2), let se = num(17, 2), (1...12).contains(mo), (1...31).contains(d) else { return nil }
        // Days from civil (Howard Hinnant's algorithm).
        let yy = mo <= 2 ? y - 1 : y
        let era = (yy >= 0 ? yy : yy - 399) / 400
        let yoe = yy - era * 400
        let doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        var t = days * 86_400 + h * 3600 + mi * 60 + se
        // Offset: Z, or ±hh:mm after optional fraction.
        var i = 19
        if i < u.count, u[i] == UInt8(ascii: ".") { i += 1; while i < u.count, u[i] >= 48 && u[i] <= 57 { i += 1 } }
        if i + 5 < u.count + 0, i < u.count, u[i] == UInt8(ascii: "+") || u[i] == UInt8(ascii: "-"),
           let oh = num(i + 1, 2), let om = num(i + 4, 2) {
            let off = oh * 3600 + om * 60
            t += u[i] == UInt8(ascii: "+") ? -off : off
        }
        return t
    }

    /// Formats Unix seconds as `2016-07-11T22:14:10Z`.
    public static func format(_ t: Int64) -> String {
        let days = t >= 0 ? t / 86_400 : (t - 86_399) / 86_400
        let secs = t - days * 86_400
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        func two(_ n: Int64) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(y)-\(two(m))-\(two(d))T\(two(secs / 3600)):\(two(secs / 60 % 60)):\(two(secs % 60))Z"
    }
}

/// An advisory `flock` on the token cache, held while one process mints, given up at the deadline.
public final class CacheLock {
    private var fd: Int32 = -1
    public private(set) var acquired = false

    public init(path: String, deadline: Deadline) {
        // Never through a symbolic link, and only a regular file of this user's: a planted lock file
        // must not let another user hold Switchyard up, or point it at a file of theirs.
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { return }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, st.st_uid == getuid() else { close(fd); fd = -1; return }
        let until = Deadline(millisecondsFromNow: min(3_000, max(0, deadline.remainingMilliseconds - 1_000)))
        while true {
            if flock(fd, LOCK_EX | LOCK_NB) == 0 { acquired = true; return }
            if until.hasExpired { return }
            Deadline.sleep(milliseconds: 5)
        }
    }

    public func release() {
        guard fd >= 0 else { return }
        if acquired { flock(fd, LOCK_UN) }
        close(fd)
        fd = -1
    }
}
