import Foundation
import Testing
import SwitchyardCore
import SwitchyardRuntime
import SwitchyardTesting
import UpdateBranch
import CherryPick

/// The built slash-dispatch with the exec transport over the real sibling binaries, against the emulator.
@Suite("slash-dispatch end to end", .serialized)
struct SlashDispatchEndToEndTests {
    let secret = "dispatch-secret"
    let full = "acme/widgets"
    let token = "mm-token-\(UUID().uuidString.prefix(6))"

    func config(_ extra: String = "") throws -> String {
        return try Support.writeConfig("""
            chat:
              users:
                mattermost:alan: maint-mona
                slack:slacker: maint-mona
            defaults:
              cla:
                signers: { list: [maint-mona] }
            \(extra)
            """)
    }

    func env(_ gh: GitHubEmulator, _ url: String, config: String, extra: [String: String] = [:]) -> [String: String] {
        var e = ["GITHUB_API_URL": url, "GITHUB_TOKEN": Support.token(of: gh), "GITHUB_WEBHOOK_SECRET": secret,
                 "MATTERMOST_TOKEN": token, "SLACK_SIGNING_SECRET": secret, "SWITCHYARD_CONFIG": config,
                 "SWITCHYARD_FUNCTIONS_DIR": Support.packageRoot + "/functions", "PATH": "/usr/bin:/bin"]
        for (k, v) in extra { e[k] = v }
        return e
    }

    func deliver(_ gh: GitHubEmulator, _ url: String, event: String, _ payload: JSON, config: String, extra: [String: String] = [:]) throws -> Support.Run {
        try Support.run("slash-dispatch", environment: env(gh, url, config: config, extra: extra),
                        stdin: Support.envelope(event: event, body: Array(payload.encoded().utf8), secret: secret))
    }

    func world() throws -> (GitHubEmulator, String) {
        let (gh, url) = try Support.world()
        let repo = try #require(gh.repo(full))
        try repo.git.setRef("refs/heads/release-1.0", to: repo.git.resolve("refs/heads/main")!)
        return (gh, url)
    }

    @Test func oneCommentTwoCommandsTwoFunctionsAndReplaySafety() throws {
        let (gh, url) = try world()
        let cfg = try config()
        let id = gh.addComment(full, issue: 1, user: "maint-mona", body: "/update-branch\n/cherry-pick release-1.0")
        let payload = gh.commentEvent(full, commentID: id)
        let r = try deliver(gh, url, event: "issue_comment", payload, config: cfg)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        let results = try #require(r.json?["results"]?.object)
        #expect(results["update-branch"]?["outcome"]?.string == "done")
        #expect(results["cherry-pick"]?["outcome"]?.string == "done")   // acknowledged: will pick at merge
        #expect(gh.reactions(commentID: id).map(\.content) == ["eyes"])
        #expect(gh.requests.filter { $0.method == "PUT" }.count == 1)
        let bot = gh.comments(full, issue: 1).filter { $0.user == "switchyard[bot]" }
        #expect(bot.count == 2)

        // Redelivered: the 👀 marks it handled.
        let again = try deliver(gh, url, event: "issue_comment", payload, config: cfg)
        #expect(again.json?["outcome"]?.string == "ignored")
        #expect(again.json?["message"]?.string?.contains("already handled") == true)
        #expect(gh.requests.filter { $0.method == "PUT" }.count == 1)
        #expect(gh.comments(full, issue: 1).filter { $0.user == "switchyard[bot]" }.count == 2)
        #expect(gh.contractViolations.isEmpty, "\(gh.contractViolations)")
        #expect(!r.stderr.contains(secret) && !r.stdout.contains(Support.token(of: gh)))
    }

    @Test func refusalsBotsAndCodeBlocks() throws {
        let (gh, url) = try world()
        let cfg = try config()
        // A non-member: one reply naming who may, nothing forwarded.
        var id = gh.addComment(full, issue: 1, user: "random-rita", body: "/cherry-pick release-1.0")
        var r = try deliver(gh, url, event: "issue_comment", gh.commentEvent(full, commentID: id), config: cfg)
        #expect(r.status == 3)
        #expect(r.json?["routed"]?.array?.contains("cherry-pick") != true)
        let refusal = gh.comments(full, issue: 1).filter { $0.user == "switchyard[bot]" }
        #expect(refusal.count == 1)
        #expect(refusal[0].body.contains("only organization members or collaborators with write access can run `/cherry-pick`"))
        #expect(gh.reactions(commentID: id).isEmpty)
        // A bot's comment.
        gh.addUser("ci-helper[bot]", type: "Bot")
        id = gh.addComment(full, issue: 1, user: "ci-helper[bot]", body: "/update-branch")
        r = try deliver(gh, url, event: "issue_comment", gh.commentEvent(full, commentID: id), config: cfg)
        #expect(r.json?["outcome"]?.string == "ignored")
        #expect(r.json?["message"]?.string?.contains("bots") == true)
        // Inside a fenced code block.
        id = gh.addComment(full, issue: 1, user: "maint-mona", body: "To update, type:\n```\n/update-branch\n```")
        r = try deliver(gh, url, event: "issue_comment", gh.commentEvent(full, commentID: id), config: cfg)
        #expect(r.json?["outcome"]?.string == "ignored")
        #expect(gh.requests.filter { $0.method == "PUT" }.isEmpty)
        // Other bots' commands are silently ignored.
        id = gh.addComment(full, issue: 1, user: "maint-mona", body: "/lgtm\n/retest")
        r = try deliver(gh, url, event: "issue_comment", gh.commentEvent(full, commentID: id), config: cfg)
        #expect(r.json?["outcome"]?.string == "ignored")
        #expect(gh.comments(full, issue: 1).filter { $0.user == "switchyard[bot]" }.count == 1)
    }

    @Test func plainEventsFanOut() throws {
        let (gh, url) = try world()
        let r = try deliver(gh, url, event: "pull_request", gh.pullRequestEvent(full, 1, action: "opened"), config: try config())
        let routed = r.json?["routed"]?.array?.compactMap(\.string) ?? []
        #expect(routed.contains("sla-check"), "\(r.stdout)")
        #expect(r.json?["results"]?["sla-check"]?["outcome"]?.string == "done")
        let ping = try deliver(gh, url, event: "ping", try JSON.parse(Support.corpusFile("github-webhooks/ping.json")), config: try config())
        #expect(ping.json?["outcome"]?.string == "done")
    }

    /// The triggers-only routing table is cached with a digest of every manifest's bytes, in one file per
    /// folder and build: a second event reads no YAML, a changed or added manifest misses the digest and
    /// is honoured at once, a damaged cache file or a hard link is not read, and a folder others may
    /// write is not used.
    @Test func routingTableIsCachedByContent() throws {
        let (gh, url) = try world()
        let fm = FileManager.default
        let work = NSTemporaryDirectory() + "routes-\(UUID().uuidString.prefix(8))"
        let functions = work + "/functions", cache = work + "/cache"
        try fm.createDirectory(atPath: functions, withIntermediateDirectories: true)
        for name in try fm.contentsOfDirectory(atPath: Support.packageRoot + "/functions") {
            try fm.createDirectory(atPath: functions + "/" + name, withIntermediateDirectories: true)
            try fm.copyItem(atPath: Support.packageRoot + "/functions/\(name)/function.yaml", toPath: functions + "/\(name)/function.yaml")
        }
        defer { try? fm.removeItem(atPath: work) }
        let extra = ["SWITCHYARD_FUNCTIONS_DIR": functions, "SWITCHYARD_CACHE_DIR": cache]
        let edited = gh.pullRequestEvent(full, 1, action: "edited")
        func cached() -> [String] { ((try? fm.contentsOfDirectory(atPath: cache)) ?? []).filter { $0.hasPrefix("routes-") }.sorted() }

        var r = try deliver(gh, url, event: "pull_request", edited, config: try config(), extra: extra)
        #expect(r.json?["message"]?.string == "no function handles pull_request.edited", "\(r.stdout)")
        let first = cached()
        #expect(first.count == 1)
        let table = try JSON.parse(Array(try #require(fm.contents(atPath: cache + "/" + first[0]))))
        #expect(table["table"]?.array?.compactMap { $0["name"]?.string }.contains("sla-check") == true)
        let digest = try #require(table["digest"]?.string)
        r = try deliver(gh, url, event: "pull_request", edited, config: try config(), extra: extra)
        #expect(r.json?["message"]?.string == "no function handles pull_request.edited")
        #expect(cached() == first)

        // A damaged cache file is read as a miss and written again.
        try Array("not a table".utf8).withUnsafeBytes { try Data($0).write(to: URL(fileURLWithPath: cache + "/" + first[0])) }
        r = try deliver(gh, url, event: "pull_request", edited, config: try config(), extra: extra)
        #expect(r.json?["message"]?.string == "no function handles pull_request.edited")
        #expect((try? JSON.parse(Array(fm.contents(atPath: cache + "/" + first[0]) ?? Data())))?["digest"]?.string == digest)

        // A new function that takes pull_request.edited: a new table, routed at once.
        try fm.createDirectory(atPath: functions + "/zz-extra", withIntermediateDirectories: true)
        try "name: zz-extra\ntriggers:\n  github:\n    - event: pull_request\n      actions: [edited]\n"
            .write(toFile: functions + "/zz-extra/function.yaml", atomically: true, encoding: .utf8)
        r = try deliver(gh, url, event: "pull_request", edited, config: try config(), extra: extra)
        #expect(r.json?["message"]?.string != "no function handles pull_request.edited", "\(r.stdout)")
        #expect(r.json?["routed"]?.array?.compactMap(\.string).contains("zz-extra") == true, "\(r.stdout)")
        #expect(cached() == first)
        let rewritten = try JSON.parse(Array(try #require(fm.contents(atPath: cache + "/" + first[0]))))
        #expect(rewritten["digest"]?.string != digest)
        #expect(rewritten["table"]?.array?.count == table["table"]!.array!.count + 1)

        // A hard link in place of the file (another name for some other copy) is not read. Forged here:
        // the current digest with a table that routes pull_request.edited to zz-extra again.
        try "name: zz-extra\ntriggers:\n  github:\n    - event: pull_request\n      actions: [closed]\n"
            .write(toFile: functions + "/zz-extra/function.yaml", atomically: true, encoding: .utf8)
        r = try deliver(gh, url, event: "pull_request", edited, config: try config(), extra: extra)
        #expect(r.json?["message"]?.string == "no function handles pull_request.edited", "\(r.stdout)")
        let current = try JSON.parse(Array(try #require(fm.contents(atPath: cache + "/" + first[0]))))
        let forged: JSON = ["digest": current["digest"]!, "table": .array(current["table"]!.array!.map { t in
            guard t["name"]?.string == "zz-extra" else { return t }
            return ["name": "zz-extra", "github": [["event": "pull_request", "actions": ["edited"], "commands": []]], "chat": []]
        })]
        let other = work + "/other.json"
        try Array(forged.encoded().utf8).withUnsafeBytes { try Data($0).write(to: URL(fileURLWithPath: other)) }
        chmod(other, 0o600)
        try fm.removeItem(atPath: cache + "/" + first[0])
        try fm.linkItem(atPath: other, toPath: cache + "/" + first[0])
        r = try deliver(gh, url, event: "pull_request", edited, config: try config(), extra: extra)
        #expect(r.json?["message"]?.string == "no function handles pull_request.edited", "a hard-linked table was read: \(r.stdout)")
        // The same bytes as a file of its own are read (so the link count alone kept them out).
        try fm.removeItem(atPath: cache + "/" + first[0])
        try fm.copyItem(atPath: other, toPath: cache + "/" + first[0])
        chmod(cache + "/" + first[0], 0o600)
        r = try deliver(gh, url, event: "pull_request", edited, config: try config(), extra: extra)
        #expect(r.json?["routed"]?.array?.compactMap(\.string).contains("zz-extra") == true, "\(r.stdout)")

        // A cache folder others may write is not trusted: nothing is read from it or written to it.
        let open = work + "/open"
        try fm.createDirectory(atPath: open, withIntermediateDirectories: true)
        chmod(open, 0o777)
        r = try deliver(gh, url, event: "pull_request", edited, config: try config(), extra: ["SWITCHYARD_FUNCTIONS_DIR": functions, "SWITCHYARD_CACHE_DIR": open])
        #expect(r.json?["message"]?.string == "no function handles pull_request.edited", "\(r.stdout)")
        #expect(((try? fm.contentsOfDirectory(atPath: open)) ?? []).isEmpty)
    }

    func mattermost(_ text: String, user: String = "alan", token: String? = nil) -> [UInt8] {
        let t = token ?? self.token
        let encoded = text.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        let body = "channel_id=c1&channel_name=town-square&command=%2Fswitchyard&response_url=http%3A%2F%2F127.0.0.1%3A9%2Fhooks&team_domain=acme&team_id=t1&text=\(encoded)&token=\(t)&trigger_id=x&user_id=u1&user_name=\(user)"
        let env: JSON = ["headers": ["content-type": "application/x-www-form-urlencoded", "authorization": .string("Token \(t)"),
                                     "user-agent": "Mattermost-Bot/1.1"], "body": .string(body)]
        return Array(env.encoded().utf8)
    }

    @Test func mattermostCommandsHelpAndUnknown() throws {
        let (gh, url) = try world()
        let cfg = try config()
        var r = try Support.run("slash-dispatch", environment: env(gh, url, config: cfg), stdin: mattermost("update-branch acme/widgets#1"))
        #expect(r.json?["response_type"]?.string == "ephemeral", "\(r.stdout)\(r.stderr)")
        #expect(r.json?["text"]?.string?.contains("updated") == true)
        #expect(gh.requests.filter { $0.method == "PUT" }.count == 1)

        r = try Support.run("slash-dispatch", environment: env(gh, url, config: cfg), stdin: mattermost("update-branch acme/widgets#1", token: "wrong"))
        #expect(r.status == 3)
        #expect(r.json?["status"]?.int == 401)

        r = try Support.run("slash-dispatch", environment: env(gh, url, config: cfg), stdin: mattermost("help"))
        let help = try #require(r.json?["text"]?.string)
        for c in ["update-branch", "cherry-pick", "check-cla"] { #expect(help.contains(c), "\(help)") }
        r = try Support.run("slash-dispatch", environment: env(gh, url, config: cfg), stdin: mattermost("help cherry-pick"))
        #expect(r.json?["text"]?.string?.contains("Who may run it: organization members or collaborators with write access") == true)

        r = try Support.run("slash-dispatch", environment: env(gh, url, config: cfg), stdin: mattermost("cheery-pick acme/widgets#1 release-1.0"))
        #expect(r.json?["text"]?.string?.contains("Did you mean `cherry-pick`?") == true)
        #expect(r.json?["text"]?.string?.contains("help") == true)
    }

    @Test func slackSignaturesAndStaleTimestamps() throws {
        let (gh, url) = try world()
        let cfg = try config()
        func slack(_ text: String, ts: Int) -> [UInt8] {
            let body = "token=legacy&team_id=T1&team_domain=acme&channel_id=C1&channel_name=dev&user_id=U1&user_name=slacker&command=%2Fswitchyard&text=\(text.replacingOccurrences(of: " ", with: "+").replacingOccurrences(of: "/", with: "%2F").replacingOccurrences(of: "#", with: "%23"))&response_url=http%3A%2F%2F127.0.0.1%3A9%2Fx&trigger_id=t"
            let sig = "v0=" + Verification.hmacHex(secret: secret, body: Array("v0:\(ts):\(body)".utf8))
            let env: JSON = ["headers": ["content-type": "application/x-www-form-urlencoded", "x-slack-signature": .string(sig),
                                         "x-slack-request-timestamp": .string("\(ts)")], "body": .string(body)]
            return Array(env.encoded().utf8)
        }
        let now = Int(Date().timeIntervalSince1970)
        var r = try Support.run("slash-dispatch", environment: env(gh, url, config: cfg), stdin: slack("update-branch acme/widgets#1", ts: now))
        #expect(r.json?["text"]?.string?.contains("updated") == true, "\(r.stdout)\(r.stderr)")
        r = try Support.run("slash-dispatch", environment: env(gh, url, config: cfg), stdin: slack("update-branch acme/widgets#1", ts: now - 400))
        #expect(r.json?["status"]?.int == 401)
        #expect(r.json?["text"]?.string?.contains("5 minutes") == true)
    }

    @Test func aRoutedFunctionThatHangsDoesNotHideTheOthers() throws {
        let (gh, url) = try world()
        let script = NSTemporaryDirectory() + "hang-\(UUID().uuidString).sh"
        try "#!/bin/sh\nexec sleep 30\n".write(toFile: script, atomically: true, encoding: .utf8)
        chmod(script, 0o755)
        let cfg = try config("functions:\n  cherry-pick:\n    path: \(script)\n")
        let id = gh.addComment(full, issue: 1, user: "maint-mona", body: "/update-branch\n/cherry-pick release-1.0")
        let started = Date()
        let r = try deliver(gh, url, event: "issue_comment", gh.commentEvent(full, commentID: id), config: cfg, extra: ["SWITCHYARD_DEADLINE_MS": "3000"])
        #expect(Date().timeIntervalSince(started) < 8)
        #expect(r.json?["results"]?["update-branch"]?["outcome"]?.string == "done", "\(r.stdout)")
        #expect(r.json?["results"]?["cherry-pick"]?["timed_out"]?.bool == true)
        // The delivery failed as a whole (exit 1, 502 over HTTP): GitHub shows it, and a redelivery is safe.
        #expect(r.json?["outcome"]?.string == "failed")
        #expect(r.status == 1)
    }

    @Test func httpTransportToALocalFunction() throws {
        let (gh, url) = try world()
        final class Seen: @unchecked Sendable { var verified = false }
        let seen = Seen()
        let secret = self.secret
        let server = try HTTPServer { r in
            do {
                try Verification.verifyGitHub(signature: r.header("x-hub-signature-256"), body: r.body, secrets: [secret])
                seen.verified = true
                return .json(200, ["outcome": "done", "message": "handled over HTTP"])
            } catch { return .json(401, ["outcome": "rejected", "message": "bad signature"]) }
        }
        defer { server.stop() }
        let cfg = try config("functions:\n  sla-check:\n    transport: http\n    url: \(server.baseURL)/function/sla-check\n")
        let r = try deliver(gh, url, event: "pull_request", gh.pullRequestEvent(full, 1, action: "opened"), config: cfg)
        #expect(seen.verified)
        #expect(r.json?["results"]?["sla-check"]?["message"]?.string == "handled over HTTP", "\(r.stdout)")
    }
}

@Suite("Manifests and help")
struct ManifestTests {
    static let manifests: [FunctionManifest] = {
        let dir = Support.packageRoot + "/functions"
        return ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted().compactMap {
            guard let text = try? String(contentsOfFile: "\(dir)/\($0)/function.yaml", encoding: .utf8) else { return nil }
            return try? FunctionManifest(yaml: text)
        }
    }()

    @Test func everyFunctionHasAValidManifest() throws {
        let dirs = try FileManager.default.contentsOfDirectory(atPath: Support.packageRoot + "/functions").sorted()
        #expect(Self.manifests.map(\.name) == dirs)
    }

    @Test("every example shown in help parses to its command", arguments: manifests)
    func examplesParse(_ m: FunctionManifest) throws {
        for doc in m.commands {
            for e in doc.examples {
                let parsed = CommandGrammar.commands(inComment: e)
                #expect(parsed.count == 1, "\(e)")
                #expect(parsed.first.map { m.command($0.name)?.name == doc.name } == true, "\(e) is not \(doc.name)")
            }
            for e in doc.chatExamples {
                let c = try #require(CommandGrammar.command(fromChat: e))
                #expect(m.command(c.name)?.name == doc.name || c.name == doc.name, "\(e)")
                if let target = c.arguments.first, target.contains("#") { #expect(IssueRef(target) != nil, "\(e)") }
            }
        }
    }

    @Test func manifestPoliciesMatchTheCapabilities() {
        func allow(_ f: String, _ c: String) -> [PermissionLevel]? { Self.manifests.first { $0.name == f }?.command(c)?.allow }
        #expect(allow("update-branch", "update-branch") == UpdateBranch.defaultPolicy)
        #expect(allow("cherry-pick", "cherry-pick") == CherryPick.defaultPolicy)
        #expect(allow("sla-check", "check-cla") == [.anyone])
    }

    @Test func slowChatCommandsAreAcknowledgedThenAnswered() throws {
        let (gh, url) = try Support.world()
        final class Got: @unchecked Sendable { var body = ""; let lock = NSLock() }
        let got = Got()
        let hook = try HTTPServer { r in
            got.lock.lock(); got.body = String(decoding: r.body, as: UTF8.self); got.lock.unlock()
            return .json(200, ["ok": true])
        }
        defer { hook.stop() }
        let script = NSTemporaryDirectory() + "slow-\(UUID().uuidString).sh"
        try "#!/bin/sh\ncat >/dev/null\nsleep 3\necho '{\"response_type\":\"ephemeral\",\"text\":\"finally done\",\"outcome\":\"done\"}'\n"
            .write(toFile: script, atomically: true, encoding: .utf8)
        chmod(script, 0o755)
        // The answer may only go to an allowed origin: Slack's, the Mattermost site's, or one listed.
        let cfg = try Support.writeConfig("functions:\n  update-branch:\n    path: \(script)\nchat:\n  allowed-origins: [\"\(hook.baseURL)\"]\n")
        let secret = "slow-secret"
        let ts = Int(Date().timeIntervalSince1970)
        let body = "team_id=T1&team_domain=acme&channel_id=C1&user_id=U1&user_name=slacker&command=%2Fswitchyard&text=update-branch+acme%2Fwidgets%231&response_url=\(hook.baseURL.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)%2Fhook"
        let sig = "v0=" + Verification.hmacHex(secret: secret, body: Array("v0:\(ts):\(body)".utf8))
        let env: JSON = ["headers": ["content-type": "application/x-www-form-urlencoded", "x-slack-signature": .string(sig),
                                     "x-slack-request-timestamp": .string("\(ts)")], "body": .string(body)]
        let r = try Support.run("slash-dispatch", environment: [
            "SLACK_SIGNING_SECRET": secret, "SWITCHYARD_CONFIG": cfg, "GITHUB_API_URL": url, "GITHUB_TOKEN": Support.token(of: gh),
            "SWITCHYARD_FUNCTIONS_DIR": Support.packageRoot + "/functions"], stdin: Array(env.encoded().utf8))
        #expect(r.json?["text"]?.string?.contains("Working on") == true, "\(r.stdout)")
        got.lock.lock(); let delivered = got.body; got.lock.unlock()
        #expect(delivered.contains("finally done"))
    }
}
