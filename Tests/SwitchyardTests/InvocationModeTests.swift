import Foundation
import Testing
import SwitchyardCore
import SwitchyardRuntime
import SwitchyardTesting

/// The built binary in each of its four modes, with good and bad requests.
@Suite("Invocation modes", .serialized)
struct InvocationModeTests {
    let secret = "mode-secret-\(UUID().uuidString.prefix(6))"
    let ping = Support.corpusFile("github-webhooks/ping.json")

    // MARK: CGI

    func cgi(body: [UInt8], headers: [String: String], extra: [String: String] = [:], contentLength: String? = nil,
             closeStdin: Bool = true, arguments: [String] = [], binary: String = "update-branch") throws -> (status: Int, json: JSON?, run: Support.Run) {
        var env: [String: String] = ["GATEWAY_INTERFACE": "CGI/1.1", "REQUEST_METHOD": "POST", "SERVER_PROTOCOL": "HTTP/1.1",
                                     "CONTENT_LENGTH": contentLength ?? "\(body.count)", "SCRIPT_NAME": "/update-branch"]
        for (k, v) in headers {
            if k.lowercased() == "content-type" { env["CONTENT_TYPE"] = v }
            else { env["HTTP_" + k.uppercased().replacingOccurrences(of: "-", with: "_")] = v }
        }
        for (k, v) in extra { env[k] = v }
        let r = try Support.run(binary, arguments: arguments, environment: env, stdin: body, closeStdin: closeStdin, timeout: 20)
        let parts = r.stdout.components(separatedBy: "\r\n\r\n")
        let head = parts.first ?? ""
        let status = head.split(separator: "\r\n").first { $0.hasPrefix("Status: ") }.flatMap { Int($0.dropFirst(8).prefix(3)) } ?? -1
        #expect(head.contains("Content-Type: application/json"))
        return (status, parts.count > 1 ? try? JSON.parse(Array(parts[1].utf8)) : nil, r)
    }

    func githubHeaders(_ body: [UInt8], event: String = "ping", secret: String? = nil) -> [String: String] {
        var h = ["Content-Type": "application/json", "X-GitHub-Event": event, "X-GitHub-Delivery": "d-1"]
        if let s = secret ?? Optional(self.secret) { h["X-Hub-Signature-256"] = Support.sign(body, secret: s) }
        return h
    }

    @Test func cgiAnswersWithStatusAndJSON() throws {
        let r = try cgi(body: ping, headers: githubHeaders(ping), extra: ["GITHUB_WEBHOOK_SECRET": secret])
        #expect(r.status == 200)
        #expect(r.json?["outcome"]?.string == "done")
        #expect(r.json?["delivery"]?.string == "d-1")
        #expect(r.run.stdout.hasPrefix("Status: 200 OK\r\n"))
        #expect(r.run.status == 0)
    }

    /// Apache passes a query string without `=` to a CGI program as arguments (RFC 3875 §4.4). They are
    /// the sender's words: no option parsing (no usage text instead of a CGI answer, no exit 2), and in
    /// the multi-call binary they do not choose the function.
    @Test func cgiIgnoresQueryArguments() throws {
        for arguments in [["zzz"], ["--help"], ["--event", "issue_comment"], ["--dry-run"]] {
            let r = try cgi(body: ping, headers: githubHeaders(ping), extra: ["GITHUB_WEBHOOK_SECRET": secret], arguments: arguments)
            #expect(r.status == 200, "\(arguments)")
            #expect(r.json?["function"]?.string == "update-branch", "\(arguments)")
            #expect(r.run.status == 0, "\(arguments)")
        }
        let chosen = try cgi(body: ping, headers: githubHeaders(ping), extra: ["GITHUB_WEBHOOK_SECRET": secret, "SWITCHYARD_FUNCTION": "update-branch"],
                             arguments: ["sla-check"], binary: "switchyard")
        #expect(chosen.status == 200)
        #expect(chosen.json?["function"]?.string == "update-branch")
    }

    @Test func cgiRotatedSecretsAndFiles() throws {
        let file = NSTemporaryDirectory() + "secret-\(UUID().uuidString)"
        try "old-secret,\(secret)\n".write(toFile: file, atomically: true, encoding: .utf8)
        let r = try cgi(body: ping, headers: githubHeaders(ping), extra: ["GITHUB_WEBHOOK_SECRET_FILE": file])
        #expect(r.status == 200)
        let missing = try cgi(body: ping, headers: githubHeaders(ping), extra: ["GITHUB_WEBHOOK_SECRET_FILE": file + ".nope"])
        #expect(missing.status == 500)
        #expect(missing.json?["message"]?.string?.contains("GITHUB_WEBHOOK_SECRET_FILE") == true)
    }

    struct Bad: Sendable, CustomTestStringConvertible {
        var name: String
        var status: Int
        var mentions: String
        var testDescription: String { name }
    }

    @Test func cgiErrors() throws {
        let base = ["GITHUB_WEBHOOK_SECRET": secret]
        // Bad signature.
        var r = try cgi(body: ping, headers: githubHeaders(ping, secret: "wrong"), extra: base)
        #expect(r.status == 401)
        #expect(r.json?["message"]?.string?.contains("signature") == true)
        // Missing signature.
        var h = githubHeaders(ping); h.removeValue(forKey: "X-Hub-Signature-256")
        r = try cgi(body: ping, headers: h, extra: base)
        #expect(r.status == 401)
        // Missing event header.
        h = githubHeaders(ping); h.removeValue(forKey: "X-GitHub-Event")
        h["User-Agent"] = "GitHub-Hookshot/1"
        r = try cgi(body: ping, headers: h, extra: base)
        #expect(r.status == 400)
        #expect(r.json?["message"]?.string?.contains("X-GitHub-Event") == true)
        // Wrong content type.
        h = githubHeaders(ping); h["Content-Type"] = "text/plain"
        r = try cgi(body: ping, headers: h, extra: base)
        #expect(r.status == 415)
        // Over the limit: refused from CONTENT_LENGTH alone.
        r = try cgi(body: ping, headers: githubHeaders(ping), extra: base.merging(["SWITCHYARD_MAX_BODY_BYTES": "100"]) { $1 })
        #expect(r.status == 413)
        // Negative or nonsense length.
        r = try cgi(body: ping, headers: githubHeaders(ping), extra: base, contentLength: "-5")
        #expect(r.status == 400)
        r = try cgi(body: ping, headers: githubHeaders(ping), extra: base, contentLength: "12abc")
        #expect(r.status == 400)
        // Empty body.
        r = try cgi(body: [], headers: githubHeaders([]), extra: base)
        #expect(r.status == 400)
        // Not POST.
        var env = base; env["REQUEST_METHOD"] = "GET"
        r = try cgi(body: ping, headers: githubHeaders(ping), extra: env)
        #expect(r.status == 405)
        // No secret configured: fail closed, naming the variable.
        r = try cgi(body: ping, headers: githubHeaders(ping), extra: [:])
        #expect(r.status == 500)
        #expect(r.json?["message"]?.string?.contains("GITHUB_WEBHOOK_SECRET") == true)
        // Malformed JSON with a valid signature.
        let junk = Array("{\"zen\": ".utf8)
        r = try cgi(body: junk, headers: githubHeaders(junk), extra: base)
        #expect(r.status == 400)
        #expect(!r.run.stderr.contains(secret))
    }

    @Test func cgiShortBodyNeverHangs() throws {
        let started = Date()
        let r = try cgi(body: Array(ping.prefix(100)), headers: githubHeaders(ping),
                        extra: ["GITHUB_WEBHOOK_SECRET": secret, "SWITCHYARD_DEADLINE_MS": "1500"],
                        contentLength: "\(ping.count)", closeStdin: false)
        #expect(r.status == 400)
        #expect(r.json?["message"]?.string?.contains("shorter than CONTENT_LENGTH") == true)
        #expect(Date().timeIntervalSince(started) < 10)
        // Closed early: answered at once.
        let closed = try cgi(body: Array(ping.prefix(100)), headers: githubHeaders(ping), extra: ["GITHUB_WEBHOOK_SECRET": secret],
                             contentLength: "\(ping.count)")
        #expect(closed.status == 400)
    }

    // MARK: OpenFaaS

    @Test func openFaaSWatchdogVariables() throws {
        var env = ["Http_Method": "POST", "Http_Content_Type": "application/json", "Http_X_Github_Event": "ping",
                   "Http_X_Github_Delivery": "faas-1", "Http_X_Hub_Signature_256": Support.sign(ping, secret: secret),
                   "Http_Content_Length": "\(ping.count)", "Http_Path": "/", "Http_X_Call_Id": "call-1",
                   "GITHUB_WEBHOOK_SECRET": secret]
        var r = try Support.run("update-branch", environment: env, stdin: ping)
        #expect(r.status == 0)
        #expect(r.json?["outcome"]?.string == "done")
        #expect(r.json?["delivery"]?.string == "faas-1")
        env["Http_X_Hub_Signature_256"] = "sha256=" + String(repeating: "0", count: 64)
        r = try Support.run("update-branch", environment: env, stdin: ping)
        #expect(r.status == 3)
        #expect(r.json?["status"]?.int == 401)
        env.removeValue(forKey: "GITHUB_WEBHOOK_SECRET")
        r = try Support.run("update-branch", environment: env, stdin: ping)
        #expect(r.status == 1)
        #expect(r.json?["status"]?.int == 500)
    }

    // MARK: Pipe

    @Test func pipeRawAndEnvelope() throws {
        // Raw payload, no secret: unverified local testing, event inferred.
        var r = try Support.run("update-branch", stdin: ping)
        #expect(r.status == 0)
        #expect(r.json?["event"]?.string == "ping")
        // Raw payload while a secret is set: refused.
        r = try Support.run("update-branch", environment: ["GITHUB_WEBHOOK_SECRET": secret], stdin: ping)
        #expect(r.status == 3)
        // Signed envelope, base64 body.
        let env = Support.envelope(event: "ping", body: ping, secret: secret, base64: true)
        r = try Support.run("update-branch", environment: ["GITHUB_WEBHOOK_SECRET": secret], stdin: env)
        #expect(r.status == 0, "\(r.stdout)")
        #expect(r.json?["outcome"]?.string == "done")
        // --event for an ambiguous payload.
        let odd = Array(#"{"action":"created","something":{}}"#.utf8)
        r = try Support.run("update-branch", stdin: odd)
        #expect(r.status == 2)
        #expect(r.json?["message"]?.string?.contains("--event") == true)
        r = try Support.run("update-branch", arguments: ["--event", "workflow_job"], stdin: odd)
        #expect(r.status == 0)
        #expect(r.json?["outcome"]?.string == "ignored")
        // Wrong event for the body: a clear 400.
        r = try Support.run("update-branch", arguments: ["--event", "issue_comment"], stdin: ping)
        #expect(r.status == 2)
        #expect(r.json?["status"]?.int == 400)
        // Over the limit.
        r = try Support.run("update-branch", environment: ["SWITCHYARD_MAX_BODY_BYTES": "64"], stdin: ping)
        #expect(r.status == 2)
        #expect(r.json?["status"]?.int == 413)
        // Unknown option.
        r = try Support.run("update-branch", arguments: ["--frobnicate"], stdin: ping)
        #expect(r.status == 2)
        // Deep nesting is refused, not a crash.
        let deep = Array((String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)).utf8)
        r = try Support.run("update-branch", stdin: deep)
        #expect(r.status == 2)
    }

    // MARK: Chat

    @Test func mattermostAndSlackCommands() throws {
        let (gh, url) = try Support.world()
        let config = try Support.writeConfig("chat:\n  users:\n    mattermost:alan: maint-mona\n")
        let token = "mmtoken\(UUID().uuidString.prefix(8))"
        func form(_ text: String, user: String = "alan") -> [UInt8] {
            Array("channel_id=c1&channel_name=town-square&command=%2Fswitchyard&response_url=http%3A%2F%2Flocalhost%2Fhooks&team_domain=t&team_id=t1&text=\(text)&token=\(token)&trigger_id=x&user_id=u1&user_name=\(user)".utf8)
        }
        func post(_ body: [UInt8], headers: [String: String], extra: [String: String] = [:]) throws -> Support.Run {
            var env: [String: String] = ["Http_Method": "POST", "Http_Content_Type": "application/x-www-form-urlencoded",
                                         "MATTERMOST_TOKEN": token, "GITHUB_API_URL": url, "GITHUB_TOKEN": Support.token(of: gh),
                                         "SWITCHYARD_CONFIG": config, "SLACK_SIGNING_SECRET": secret]
            for (k, v) in headers { env["Http_" + k] = v }
            for (k, v) in extra { env[k] = v }
            return try Support.run("update-branch", environment: env, stdin: body)
        }
        var r = try post(form("update-branch+acme%2Fwidgets%231"), headers: ["Authorization": "Token \(token)"])
        #expect(r.status == 0, "\(r.stdout)")
        #expect(r.json?["response_type"]?.string == "ephemeral")
        #expect(r.json?["text"]?.string?.contains("updated") == true)
        #expect(gh.requests.filter { $0.method == "PUT" }.count == 1)
        #expect(gh.comments("acme/widgets", issue: 1).isEmpty)   // chat requests are answered in chat
        // Not linked to a GitHub login.
        r = try post(form("update-branch+acme%2Fwidgets%231", user: "stranger"), headers: [:])
        #expect(r.status == 3)
        #expect(r.json?["text"]?.string?.contains("chat.users") == true)
        // Bad token.
        r = try post(form("update-branch+acme%2Fwidgets%231"), headers: ["Authorization": "Token wrong"])
        #expect(r.status == 3)
        #expect(r.json?["status"]?.int == 401)
        // Slack: a fresh signature passes verification; a stale timestamp is refused.
        let body = form("update-branch+acme%2Fwidgets%231", user: "slacker")
        let now = Int(Date().timeIntervalSince1970)
        func slackHeaders(_ ts: Int) -> [String: String] {
            ["X_Slack_Request_Timestamp": "\(ts)",
             "X_Slack_Signature": "v0=" + Verification.hmacHex(secret: secret, body: Array("v0:\(ts):".utf8) + body)]
        }
        r = try post(body, headers: slackHeaders(now))
        #expect(r.json?["response_type"]?.string == "ephemeral")
        #expect(r.json?["text"]?.string?.contains("not linked") == true)
        r = try post(body, headers: slackHeaders(now - 600))
        #expect(r.json?["status"]?.int == 401)
        #expect(r.json?["text"]?.string?.contains("5 minutes") == true)
        // Slack retries are acknowledged without running again.
        r = try post(body, headers: slackHeaders(now).merging(["X_Slack_Retry_Num": "1"]) { $1 })
        #expect(r.json?["outcome"]?.string == "ignored")
        for run in [r] { #expect(!run.stderr.contains(token) && !run.stderr.contains(secret)) }
    }

    // MARK: Lambda

    @Test func lambdaLoop() throws {
        let (gh, url) = try Support.world()
        let api = LambdaRuntimeAPI()
        let address = try api.start()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Support.binary("update-branch"))
        p.environment = ["AWS_LAMBDA_RUNTIME_API": address, "GITHUB_WEBHOOK_SECRET": secret, "GITHUB_API_URL": url,
                         "GITHUB_TOKEN": Support.token(of: gh), "PATH": "/usr/bin:/bin"]
        let err = Pipe()
        p.standardError = err
        p.standardOutput = Pipe()
        try p.run()
        defer { if p.isRunning { kill(p.processIdentifier, SIGKILL); p.waitUntilExit() }; api.stop() }

        // A signed Function URL event with a base64 body.
        let good = api.enqueue(Support.envelope(event: "ping", body: ping, secret: secret, base64: true))
        let r1 = try #require(api.result(good))
        #expect(r1.kind == "response")
        #expect(r1.body?["statusCode"]?.int == 200)
        let inner = try JSON.parse(Array(r1.body!["body"]!.string!.utf8))
        #expect(inner["outcome"]?.string == "done")

        // A real command through Lambda.
        let cmd = api.enqueue(Support.envelope(event: "issue_comment",
            body: Support.commentPayload(repo: "acme/widgets", number: 1, body: "/update-branch", user: "maint-mona"), secret: secret))
        let r2 = try #require(api.result(cmd))
        #expect(r2.body?["statusCode"]?.int == 200)
        #expect(gh.requests.filter { $0.method == "PUT" }.count == 1)

        // A bad signature is a 401 response; the loop goes on.
        let bad = api.enqueue(Support.envelope(event: "ping", body: ping, secret: "nope"))
        #expect(api.result(bad)?.body?["statusCode"]?.int == 401)

        // Not an HTTP event at all: reported to /error, and the loop goes on.
        let junk = api.enqueue(Array("[1,2,3]".utf8))
        let r3 = try #require(api.result(junk))
        #expect(r3.kind == "error")
        #expect(r3.headers["lambda-runtime-function-error-type"]?.hasPrefix("Switchyard.") == true)
        #expect(r3.body?["errorMessage"]?.string != nil)

        // Every request event in the corpus gets an answer.
        let files = try FileManager.default.contentsOfDirectory(atPath: Support.corpus + "/lambda").filter { !$0.contains("response") }
        for f in files {
            let id = api.enqueue(Support.corpusFile("lambda/" + f))
            let r = try #require(api.result(id), "\(f)")
            #expect(r.kind == "response", "\(f)")
            let status = r.body?["statusCode"]?.int ?? 0
            #expect((400..<500).contains(status), "\(f) answered \(status)")
        }

        // The deadline is honoured: GitHub is slow, the event's deadline is short.
        gh.inject(.init(pathContains: "/comments", times: 5, kind: .slow(milliseconds: 3_000)))
        let started = Date()
        let slow = api.enqueue(Support.envelope(event: "issue_comment",
            body: Support.commentPayload(repo: "acme/widgets", number: 1, body: "/update-branch", user: "maint-mona", commentID: 4), secret: secret),
            deadlineMs: 1_200)
        let r4 = try #require(api.result(slow))
        #expect(Date().timeIntervalSince(started) < 2.5)
        #expect(r4.kind == "error")
        #expect(r4.body?["errorType"]?.string == "Switchyard.504")
        #expect(p.isRunning)
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(!stderr.contains(secret))
    }

    @Test func lambdaInitError() throws {
        let api = LambdaRuntimeAPI()
        let address = try api.start()
        defer { api.stop() }
        let r = try Support.run("update-branch", environment: ["AWS_LAMBDA_RUNTIME_API": address,
                                                               "GITHUB_WEBHOOK_SECRET_FILE": "/nonexistent/secret"])
        #expect(r.status != 0)
        #expect(api.initErrors.first?["errorMessage"]?.string?.contains("GITHUB_WEBHOOK_SECRET_FILE") == true)
    }
}
