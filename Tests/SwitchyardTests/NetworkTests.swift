import Foundation
import Testing
import CHTTP
import SwitchyardCore
import SwitchyardGitHub
import SwitchyardTesting

/// The HTTP client against real peers on loopback (Tests/netlab/netlab.py): TLS with a certificate that
/// verifies, one that does not and one for another name; DNS over UDP, TCP after truncation, CNAME
/// chains and the search list; CONNECT and absolute-form proxies and `no_proxy`; kept-alive connections.
/// The functions run as built, so what is tested is what ships.
@Suite("HTTP client against real peers", .serialized)
struct NetworkTests {
    /// A netlab peer, stopped when the test ends.
    final class Peer {
        let process = Process()
        let port: Int
        init(_ args: [String]) throws {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", Support.packageRoot + "/Tests/netlab/netlab.py"] + args
            let out = Pipe()
            process.standardOutput = out
            process.standardError = FileHandle.nullDevice
            try process.run()
            var line = Data()
            while let byte = try out.fileHandleForReading.read(upToCount: 1), !byte.isEmpty, byte != Data("\n".utf8) { line += byte }
            guard let p = Int(String(decoding: line, as: UTF8.self)) else { throw EmulatorError("netlab \(args.first ?? "") did not start") }
            port = p
        }
        // SIGKILL: the test runner blocks SIGTERM and its children inherit the mask.
        deinit { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
    }

    /// A self-signed certificate for `names` (DNS names and IP addresses), as PEM files.
    static func certificate(_ names: [String], cn: String) throws -> (cert: String, key: String) {
        let dir = NSTemporaryDirectory() + "certs-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let san = names.map { $0.first!.isNumber ? "IP:\($0)" : "DNS:\($0)" }.joined(separator: ",")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", dir + "/key.pem", "-out", dir + "/cert.pem",
                       "-days", "1", "-subj", "/CN=\(cn)", "-addext", "subjectAltName=\(san)"]
        p.standardError = FileHandle.nullDevice
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        return (dir + "/cert.pem", dir + "/key.pem")
    }

    static func updateBranch(_ gh: GitHubEmulator, api: String, extra: [String: String]) throws -> Support.Run {
        let payload = Support.commentPayload(repo: "acme/widgets", number: 1, body: "/update-branch", user: "maint-mona")
        var env = ["GITHUB_API_URL": api, "GITHUB_TOKEN": Support.token(of: gh), "GITHUB_WEBHOOK_SECRET": "net-secret"]
        for (k, v) in extra { env[k] = v }
        return try Support.run("update-branch", environment: env, stdin: Support.envelope(event: "issue_comment", body: payload, secret: "net-secret"))
    }

    @Test func tlsVerifiesTheCertificateAndTheName() throws {
        let (gh, url) = try Support.world()
        let port = try #require(URL(string: url)?.port)
        let good = try Self.certificate(["localhost", "127.0.0.1"], cn: "localhost")
        let front = try Peer(["tls", "\(port)", good.cert, good.key])
        // Trusted (SSL_CERT_FILE names the CA, as OpenSSL reads it): the work is done over TLS.
        var r = try Self.updateBranch(gh, api: "https://localhost:\(front.port)", extra: ["SSL_CERT_FILE": good.cert])
        #expect(r.json?["outcome"]?.string == "done", "\(r.stdout)\(r.stderr)")
        #expect(gh.requests.contains { $0.method == "PUT" })
        // Not trusted: nothing is sent, not even the token; the failure says why.
        gh.clearLog()
        r = try Self.updateBranch(gh, api: "https://localhost:\(front.port)", extra: ["SSL_CERT_FILE": "/dev/null"])
        #expect(r.status == 1, "\(r.stdout)")
        #expect(gh.requests.isEmpty)
        #expect(r.stderr.contains("did not verify") || r.stderr.contains("no CA certificates"), "\(r.stderr)")
        // A certificate for another name: refused as well.
        let other = try Self.certificate(["other.example"], cn: "other.example")
        let wrong = try Peer(["tls", "\(port)", other.cert, other.key])
        r = try Self.updateBranch(gh, api: "https://localhost:\(wrong.port)", extra: ["SSL_CERT_FILE": other.cert])
        #expect(r.status == 1)
        #expect(gh.requests.isEmpty)
    }

    @Test func dnsOverUDPAndTCPWithCNAMEsAndTheSearchList() throws {
        let zone = NSTemporaryDirectory() + "zone-\(UUID().uuidString).json"
        let many = (1...50).map { "127.0.0.\($0)" }
        try JSON.object(["api.example.test": ["A": ["127.0.0.1"]], "alias.example.test": ["CNAME": "api.example.test"],
                         "many.example.test": ["A": .array(many.map(JSON.string))], "v6.example.test": ["AAAA": ["::1"]]])
            .encoded().write(toFile: zone, atomically: true, encoding: .utf8)
        let server = try Peer(["dns", zone])
        let conf = NSTemporaryDirectory() + "resolv-\(UUID().uuidString).conf"
        try "nameserver 127.0.0.1\nsearch example.test\noptions ndots:1 timeout:1 attempts:2\n".write(toFile: conf, atomically: true, encoding: .utf8)
        let hosts = NSTemporaryDirectory() + "hosts-\(UUID().uuidString)"
        try "127.0.0.9 pinned.example.test\n".write(toFile: hosts, atomically: true, encoding: .utf8)
        setenv("SWITCHYARD_RESOLV_CONF", conf, 1); setenv("SWITCHYARD_DNS_PORT", "\(server.port)", 1); setenv("SWITCHYARD_HOSTS_FILE", hosts, 1)
        defer { unsetenv("SWITCHYARD_RESOLV_CONF"); unsetenv("SWITCHYARD_DNS_PORT"); unsetenv("SWITCHYARD_HOSTS_FILE") }
        func resolve(_ host: String) -> [String] {
            var buffer = [CChar](repeating: 0, count: 2048)
            let n = chttp_resolve_for_test(host, &buffer, buffer.count, 3_000)
            guard n > 0 else { return [] }
            let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            return text.split(separator: "\n").map(String.init)
        }
        #expect(resolve("api.example.test") == ["127.0.0.1"])
        #expect(resolve("alias.example.test") == ["127.0.0.1"])               // a CNAME chain
        #expect(resolve("api") == ["127.0.0.1"])                              // the search list
        #expect(resolve("v6.example.test") == ["::1"])                        // AAAA
        #expect(resolve("many.example.test").count == 16)                     // truncated over UDP, then TCP
        #expect(resolve("pinned.example.test") == ["127.0.0.9"])              // the hosts file first
        #expect(resolve("nope.example.test").isEmpty)
        #expect(resolve("127.0.0.5") == ["127.0.0.5"])
        // And a function, as built, reaching GitHub by name.
        let (gh, url) = try Support.world()
        let port = try #require(URL(string: url)?.port)
        let r = try Self.updateBranch(gh, api: "http://alias.example.test:\(port)", extra: [
            "SWITCHYARD_RESOLV_CONF": conf, "SWITCHYARD_DNS_PORT": "\(server.port)", "SWITCHYARD_HOSTS_FILE": hosts])
        #expect(r.json?["outcome"]?.string == "done", "\(r.stdout)\(r.stderr)")
    }

    @Test func proxiesTunnelHTTPSAndRespectNoProxy() throws {
        let (gh, url) = try Support.world()
        let port = try #require(URL(string: url)?.port)
        let good = try Self.certificate(["localhost", "127.0.0.1"], cn: "localhost")
        let front = try Peer(["tls", "\(port)", good.cert, good.key])
        let log = NSTemporaryDirectory() + "proxy-\(UUID().uuidString).log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let proxy = try Peer(["proxy", log])
        func lines() -> [String] { ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init) }
        var r = try Self.updateBranch(gh, api: "https://localhost:\(front.port)",
                                      extra: ["SSL_CERT_FILE": good.cert, "https_proxy": "http://127.0.0.1:\(proxy.port)"])
        #expect(r.json?["outcome"]?.string == "done", "\(r.stdout)\(r.stderr)")
        #expect(lines().contains { $0.hasPrefix("CONNECT localhost:\(front.port) ") }, "\(lines())")
        // no_proxy: straight there.
        let before = lines().count
        r = try Self.updateBranch(gh, api: "https://localhost:\(front.port)",
                                  extra: ["SSL_CERT_FILE": good.cert, "HTTPS_PROXY": "http://127.0.0.1:\(proxy.port)", "NO_PROXY": "example.com,localhost"])
        #expect(r.json?["outcome"] != nil, "\(r.stdout)")
        #expect(lines().count == before)
        // Plain http through http_proxy, in absolute form. Upper-case HTTP_PROXY is never read: under CGI
        // a request's Proxy header arrives as HTTP_PROXY.
        r = try Self.updateBranch(gh, api: url, extra: ["http_proxy": "http://127.0.0.1:\(proxy.port)"])
        #expect(lines().contains { $0.contains("http://127.0.0.1:\(port)/") }, "\(lines())")
        let counted = lines().count
        r = try Self.updateBranch(gh, api: url, extra: ["HTTP_PROXY": "http://127.0.0.1:\(proxy.port)"])
        #expect(r.json != nil)
        #expect(lines().count == counted)
    }

    @Test func connectionsAreKeptAliveAndReused() throws {
        let server = try Peer(["keepalive"])
        let t = NetworkTransport()
        chttp_close_idle()
        var seen: [(Int, Int)] = []
        for _ in 0..<3 {
            let r = try t.send(HTTPRequest(method: "GET", url: "http://127.0.0.1:\(server.port)/x"), timeoutMilliseconds: 3_000)
            let j = try JSON.parse(r.body)
            seen.append((j["connection"]?.int ?? 0, j["request"]?.int ?? 0))
        }
        #expect(seen.map(\.0) == [1, 1, 1])
        #expect(seen.map(\.1) == [1, 2, 3])
        // A POST on the same connection, body and all.
        let r = try t.send(HTTPRequest(method: "POST", url: "http://127.0.0.1:\(server.port)/y", body: Array("hello".utf8)), timeoutMilliseconds: 3_000)
        #expect(try JSON.parse(r.body)["request"]?.int == 4)
        chttp_close_idle()
        let fresh = try t.send(HTTPRequest(method: "GET", url: "http://127.0.0.1:\(server.port)/x"), timeoutMilliseconds: 3_000)
        #expect(try JSON.parse(fresh.body)["connection"]?.int == 2)
        chttp_close_idle()
    }

    @Test func malformedURLsAndUnreachableHostsAreClearErrors() throws {
        let t = NetworkTransport(connectTimeoutMilliseconds: 500)
        for bad in ["ftp://example.com/", "http://user:pass@127.0.0.1/", "http://127.0.0.1:99999/", "http:///x", "nonsense"] {
            #expect(throws: TransportError.self, "\(bad)") { try t.send(HTTPRequest(method: "GET", url: bad), timeoutMilliseconds: 1_000) }
        }
        do {
            _ = try t.send(HTTPRequest(method: "GET", url: "http://127.0.0.1:9/"), timeoutMilliseconds: 1_000)
            Issue.record("connected to a closed port")
        } catch let e as TransportError {
            #expect(e.code == 7 && e.notSent)
        }
    }

    @Test func hostileAnswersAreErrorsWithinTheDeadlineAndNothingIsSentTwice() throws {
        let log = NSTemporaryDirectory() + "hostile-\(UUID().uuidString).log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let peer = try Peer(["hostile", log])
        func lines() -> [String] { ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init) }
        let t = NetworkTransport(connectTimeoutMilliseconds: 1_000)
        let base = "http://127.0.0.1:\(peer.port)"
        // Broken answers: a clear error, never a crash (each of these once crashed or corrupted the heap).
        for path in ["/nul-status", "/nul-header", "/chunk-negative", "/chunk-huge", "/chunk-no-crlf", "/two-lengths"] {
            chttp_close_idle()
            #expect(throws: TransportError.self, "\(path)") { try t.send(HTTPRequest(method: "GET", url: base + path), timeoutMilliseconds: 2_000) }
        }
        // A server that never stops sending is stopped by the deadline, not by its goodwill.
        for path in ["/chunk-line-forever", "/continue-forever"] {
            let started = Date()
            #expect(throws: TransportError.self, "\(path)") { try t.send(HTTPRequest(method: "GET", url: base + path), timeoutMilliseconds: 1_000) }
            #expect(Date().timeIntervalSince(started) < 3, "\(path) held the client past its deadline")
        }
        // Transfer-Encoding whose last coding is not chunked: the body runs to the close, Content-Length ignored.
        let te = try t.send(HTTPRequest(method: "GET", url: base + "/te-not-chunked"), timeoutMilliseconds: 2_000)
        #expect(String(decoding: te.body, as: UTF8.self) == #"{"a":1}"#)
        // A POST that the server took (it said 100 Continue) and then closed is not sent again, not
        // even on a kept-alive connection, where a close before any answer once meant "try again".
        chttp_close_idle()
        _ = try t.send(HTTPRequest(method: "GET", url: base + "/keep"), timeoutMilliseconds: 2_000)
        let before = lines().filter { $0.hasPrefix("POST /continue-then-close") }.count
        #expect(throws: TransportError.self) {
            try t.send(HTTPRequest(method: "POST", url: base + "/continue-then-close", body: Array("pay".utf8)), timeoutMilliseconds: 2_000)
        }
        #expect(lines().filter { $0.hasPrefix("POST /continue-then-close") }.count == before + 1)
        // The request line: no fragment, a path before a query, and no caller-chosen Host or framing headers.
        let echo = try t.send(HTTPRequest(method: "GET", url: base + "/echo?x=1#frag",
                                          headers: [("Host", "evil.example"), ("Content-Length", "5"), ("Bad Name", "x"), ("X-Ok", "y")]),
                              timeoutMilliseconds: 2_000)
        let head = try JSON.parse(echo.body)["head"]?.string ?? ""
        #expect(head.hasPrefix("GET /echo?x=1 HTTP/1.1\r\n"), "\(head)")
        #expect(head.contains("Host: 127.0.0.1:\(peer.port)\r\n") && !head.contains("evil.example"))
        #expect(!head.contains("Content-Length") && !head.contains("Bad Name") && head.contains("X-Ok: y"))
        let query = try t.send(HTTPRequest(method: "GET", url: base + "?y=2"), timeoutMilliseconds: 2_000)
        #expect((try JSON.parse(query.body)["request"]?.string)?.hasPrefix("GET /?y=2 ") == true)
        // Control characters, spaces or brackets that are not an address: refused before anything is sent.
        let count = lines().count
        for bad in ["http://[x\r\nX-Injected: yes]/p", "http://ex ample.com/", "http://exa\tmple.com/", "http://[::1\n]/", "http://a\"b/"] {
            #expect(throws: TransportError.self, "\(bad)") { try t.send(HTTPRequest(method: "GET", url: bad), timeoutMilliseconds: 1_000) }
        }
        #expect(lines().count == count)
        chttp_close_idle()
    }
}
