import Foundation
import Crypto
import SwitchyardCore

/// Feeds a function binary malformed and hostile requests in every mode and checks each answer:
/// no signal, an exit within the deadline, well-formed JSON, and a 4xx (or a deliberate 2xx "ignored")
/// with a message. Deterministic for a seed.
public struct ProcessFuzzer: Sendable {
    public enum Mode: String, CaseIterable, Sendable { case pipe, cgi, openfaas }

    public struct Failure: Sendable, CustomStringConvertible {
        public var mode: Mode
        public var input: String
        public var problem: String
        public var description: String { "[\(mode.rawValue)] \(input): \(problem)" }
    }

    public let binary: String
    public let secret: String
    public let corpus: [(event: String, body: [UInt8])]
    var rng: SplitMix

    public init(binary: String, secret: String, corpus: [(event: String, body: [UInt8])], seed: UInt64) {
        self.binary = binary; self.secret = secret; self.corpus = corpus; rng = SplitMix(seed: seed)
    }

    struct Case: Sendable {
        var name: String
        var headers: [String: String]
        var body: [UInt8]
        var contentLength: String?
        var closeEarly = false
    }

    func sign(_ body: [UInt8]) -> String {
        "sha256=" + HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Array(secret.utf8))).map { String(format: "%02x", $0) }.joined()
    }

    mutating func next() -> Case {
        let base = corpus[Int(rng.next() % UInt64(corpus.count))]
        var body = base.body
        var headers = ["Content-Type": "application/json", "X-GitHub-Event": base.event, "X-GitHub-Delivery": "fuzz-\(rng.next() % 1_000_000)"]
        var name = base.event
        var contentLength: String? = nil
        switch rng.next() % 17 {
        case 0: body = Array(body.prefix(Int(rng.next() % UInt64(max(1, body.count))))); name += " truncated"
        case 1: body = []; name += " empty"
        case 2: for _ in 0..<8 { let i = Int(rng.next() % UInt64(max(1, body.count))); if i < body.count { body[i] = UInt8(rng.next() % 256) } }; name += " bit-flipped"
        case 3: body = [0xFF, 0xFE, 0xC3, 0x28] + body; name += " invalid UTF-8"
        case 4: body = Array((String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)).utf8); name = "nested 10,000 deep"
        case 5: headers["Content-Type"] = ["text/plain", "application/xml", "multipart/form-data; boundary=x", ""][Int(rng.next() % 4)]; name += " wrong content type"
        case 6: headers["X-GitHub-Event"] = ["issue_comment", "pull_request", "ping", "installation"][Int(rng.next() % 4)]; name += " as \(headers["X-GitHub-Event"]!)"
        case 7: contentLength = "\(body.count + 1 + Int(rng.next() % 1000))"; name += " CONTENT_LENGTH too large"
        case 8: contentLength = "-\(rng.next() % 100)"; name += " negative CONTENT_LENGTH"
        case 9: headers.removeValue(forKey: "X-GitHub-Event"); name += " no event header"
        case 10: headers["X-Hub-Signature-256"] = "sha256=" + String(repeating: "a", count: Int(rng.next() % 80)); name += " forged signature"
        case 11: body = Array("{\"action\":\"created\",\"comment\":{\"id\":\"x\"},\"issue\":7}".utf8); name = "right shape, wrong types"
        case 12: headers["Content-Type"] = "application/x-www-form-urlencoded"; body = Array("payload=%zz&x=%".utf8); name = "broken form"
        case 13: headers["X-Slack-Signature"] = "v0=00"; headers["X-Slack-Request-Timestamp"] = "\(rng.next())"
                 headers["Content-Type"] = "application/x-www-form-urlencoded"; name = "slack, stale and forged"
        case 14:
            // A provisioner webhook, with a wrong token or none.
            headers = ["Content-Type": "application/json"]
            if rng.next() % 2 == 0 { headers["X-Provisioner-Token"] = "guess-\(rng.next() % 1000)" }
            body = Array(#"{"event_id":"e","timestamp":1764081234567890123,"id":"x1n3gs4ye3fu7pfxk4oh7a6pcr","type":"installation","new_state":"stable","old_state":"creation-in-progress","extra_data":{"DNS":"a.example.com"}}"#.utf8)
            if rng.next() % 2 == 0 { body = Array(body.prefix(Int(rng.next() % UInt64(body.count)))) }
            name = "provisioner webhook, \(headers["X-Provisioner-Token"] == nil ? "no token" : "wrong token")"
        default: name += " as is"
        }
        if headers["X-Hub-Signature-256"] == nil, rng.next() % 4 != 0 { headers["X-Hub-Signature-256"] = sign(body) }
        return Case(name: name, headers: headers, body: body, contentLength: contentLength)
    }

    /// Runs `count` inputs per mode, one process at a time (Foundation's `Process` is not safe to start
    /// from several threads: pipes leak into siblings and readers wait forever), and returns the failures.
    /// For parallel runs, start several fuzzers as separate processes (`bench/fuzz.sh` does).
    public mutating func run(count: Int, modes: [Mode] = Mode.allCases, deadlineSeconds: Double = 8) -> (tried: Int, failures: [Failure]) {
        // A child that stops reading early must not kill the fuzzer.
        signal(SIGPIPE, SIG_IGN)
        var failures: [Failure] = []
        var tried = 0
        for mode in modes {
            for _ in 0..<count {
                let c = next()
                tried += 1
                if let problem = execute(c, mode: mode, deadline: deadlineSeconds) { failures.append(Failure(mode: mode, input: c.name, problem: problem)) }
            }
        }
        return (tried, failures)
    }

    func execute(_ c: Case, mode: Mode, deadline: Double) -> String? {
        var env = ["PATH": "/usr/bin:/bin", "GITHUB_WEBHOOK_SECRET": secret, "SLACK_SIGNING_SECRET": "s", "MATTERMOST_TOKEN": "m",
                   "SWITCHYARD_LOG_LEVEL": "error", "GITHUB_API_URL": "http://127.0.0.1:9", "SWITCHYARD_DEADLINE_MS": "600",
                   "SWITCHYARD_FUNCTIONS_DIR": "/nonexistent"]
        var stdin = c.body
        switch mode {
        case .pipe:
            var h: [String: JSON] = [:]
            for (k, v) in c.headers { h[k.lowercased()] = .string(v) }
            stdin = Array((["headers": .object(h), "body": .string(String(decoding: c.body, as: UTF8.self))] as JSON).encoded().utf8)
        case .cgi:
            env["GATEWAY_INTERFACE"] = "CGI/1.1"; env["REQUEST_METHOD"] = "POST"
            env["CONTENT_LENGTH"] = c.contentLength ?? "\(c.body.count)"
            for (k, v) in c.headers {
                if k == "Content-Type" { env["CONTENT_TYPE"] = v } else { env["HTTP_" + k.uppercased().replacingOccurrences(of: "-", with: "_")] = v }
            }
        case .openfaas:
            env["Http_Method"] = "POST"
            for (k, v) in c.headers {
                let canonical = k.split(separator: "-").map { $0.prefix(1).uppercased() + $0.dropFirst().lowercased() }.joined(separator: "_")
                env["Http_" + canonical] = v
            }
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.environment = env
        let i = Pipe(), o = Pipe()
        p.standardInput = i; p.standardOutput = o; p.standardError = FileHandle.nullDevice
        do { try p.run() } catch { return "could not start: \(error)" }
        let started = Date()
        try? i.fileHandleForWriting.write(contentsOf: Data(stdin))
        try? i.fileHandleForWriting.close()
        let out = o.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let elapsed = Date().timeIntervalSince(started)
        if p.terminationReason == .uncaughtSignal { return "killed by signal \(p.terminationStatus)" }
        if elapsed > deadline { return "took \(Int(elapsed)) s" }
        var text = String(decoding: out, as: UTF8.self)
        var status: Int? = nil
        if mode == .cgi {
            let parts = text.components(separatedBy: "\r\n\r\n")
            guard parts.count >= 2, let line = parts[0].split(separator: "\r\n").first(where: { $0.hasPrefix("Status: ") }) else { return "no CGI status line" }
            status = Int(line.dropFirst(8).prefix(3))
            text = parts.dropFirst().joined(separator: "\r\n\r\n")
        }
        guard let json = try? JSON.parse(Array(text.utf8)) else { return "stdout is not JSON: \(text.prefix(120))" }
        guard json["message"]?.string?.isEmpty == false || json["text"]?.string != nil else { return "no message" }
        let code = status ?? json["status"]?.int ?? 200
        let outcome = json["outcome"]?.string ?? ""
        if code >= 500 && !(json["message"]?.string?.contains("GitHub") ?? false) && outcome != "failed" { return "answered \(code)" }
        if code >= 500, json["error"]?.string == "internalError" { return "internal error: \(json["message"]?.string ?? "")" }
        return nil
    }
}

/// A small deterministic generator (SplitMix64).
struct SplitMix: Sendable {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
