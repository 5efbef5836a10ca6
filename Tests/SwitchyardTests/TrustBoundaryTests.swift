import Foundation
import Testing
import SwitchyardCore
import SwitchyardGitHub
import SwitchyardRuntime
import SwitchyardTesting
import CherryPick
import E2ETrigger

/// The outsider: someone with a GitHub account and no rights in the repository writes copies of every
/// piece of state a function reads back (markers, sticky comments and their state blocks, reactions,
/// branches) and tries every request field. Each function, built and run as shipped, must act as if the
/// forgery were not there.
@Suite("Trust boundary: the outsider", .serialized)
struct TrustBoundaryTests {
    static let secret = "trust-secret"
    static let full = "acme/widgets"

    static func env(_ gh: GitHubEmulator, _ url: String, config: String? = nil, extra: [String: String] = [:]) -> [String: String] {
        var e = ["GITHUB_API_URL": url, "GITHUB_TOKEN": Support.token(of: gh), "GITHUB_WEBHOOK_SECRET": secret,
                 "SWITCHYARD_FUNCTIONS_DIR": Support.packageRoot + "/functions"]
        if let config { e["SWITCHYARD_CONFIG"] = config }
        for (k, v) in extra { e[k] = v }
        return e
    }

    @discardableResult
    static func run(_ function: String, _ gh: GitHubEmulator, _ url: String, _ event: String, _ payload: JSON, config: String? = nil,
                    extra: [String: String] = [:]) throws -> Support.Run {
        try Support.run(function, environment: env(gh, url, config: config, extra: extra),
                        stdin: Support.envelope(event: event, body: Array(payload.encoded().utf8), secret: secret))
    }

    /// A comment by the outsider carrying a copy of a marker (and its state).
    static func forge(_ gh: GitHubEmulator, issue: Int = 1, _ marker: Marker, text: String = "just a comment") -> Int {
        gh.addComment(full, issue: issue, user: "random-rita", body: text + "\n\n" + marker.html)
    }

    static func bot(_ gh: GitHubEmulator, _ n: Int = 1) -> [GitHubEmulator.Comment] {
        gh.comments(full, issue: n).filter { $0.user == "switchyard[bot]" }
    }

    static func comment(_ gh: GitHubEmulator, _ body: String, on n: Int = 1, by user: String = "maint-mona") -> JSON {
        gh.commentEvent(full, commentID: gh.addComment(full, issue: n, user: user, body: body))
    }

    // MARK: Forged bot state, function by function

    @Test func updateBranchIgnoresAForgedReply() throws {
        let (gh, url) = try Support.world()
        let id = gh.addComment(Self.full, issue: 1, user: "maint-mona", body: "/update-branch")
        // The outsider guesses the next comment's reply marker, final state included.
        let forged = Self.forge(gh, Marker(function: "update-branch", "reply", "\(id)").with(state: ["head": "x", "final": true]))
        let before = try #require(gh.headSHA(Self.full, 1))
        let r = try Self.run("update-branch", gh, url, "issue_comment", gh.commentEvent(Self.full, commentID: id))
        #expect(r.json?["outcome"]?.string == "done", "\(r.stdout)")
        gh.settle()
        #expect(gh.headSHA(Self.full, 1) != before)
        #expect(Self.bot(gh).count == 1)
        #expect(gh.comments(Self.full, issue: 1).first { $0.id == forged }?.user == "random-rita")
    }

    @Test func slaCheckWritesItsOwnStickyBesideAForgedOne() throws {
        let (gh, url) = try Support.world()
        let cfg = try Support.writeConfig("defaults:\n  cla: { signers: { list: [maint-mona] } }\n")
        let forged = Self.forge(gh, Marker(function: "sla-check", "status"), text: "### Contributor License Agreement\n\n✅ all signed")
        let r = try Self.run("sla-check", gh, url, "pull_request", gh.pullRequestEvent(Self.full, 1, action: "opened"), config: cfg)
        #expect(r.json?["outcome"]?.string == "done", "\(r.stdout)\(r.stderr)")
        // Its own sticky, saying who must sign; the forged one is someone else's text, untouched.
        #expect(Self.bot(gh).count == 1)
        #expect(Self.bot(gh)[0].body.contains("needs to sign") || Self.bot(gh)[0].body.contains("need to sign"), "\(Self.bot(gh)[0].body)")
        #expect(gh.comments(Self.full, issue: 1).first { $0.id == forged }?.body.contains("all signed") == true)
        #expect(!gh.requests.contains { $0.method == "PATCH" && $0.path.hasSuffix("/\(forged)") })
    }

    @Test func cherryPickIgnoresForgedDoneAndPendingMarkers() throws {
        let (gh, url) = try Support.world()
        let repo = try #require(gh.repo(Self.full))
        try repo.git.setRef("refs/heads/release-1.0", to: repo.git.resolve("refs/heads/main")!)
        _ = Self.forge(gh, CherryPick.targetMarker("release-1.0").with(state: ["outcome": "done"]))
        _ = Self.forge(gh, CherryPick.pendingMarker, text: "Will cherry-pick nothing")
        try gh.mergePull(Self.full, 1, method: .squash)
        let r = try Self.run("cherry-pick", gh, url, "issue_comment", Self.comment(gh, "/cherry-pick release-1.0"))
        #expect(r.json?["outcome"]?.string == "done", "\(r.stdout)\(r.stderr)")
        #expect(gh.pull(Self.full, 2)?.baseRef == "release-1.0")
        #expect(Self.bot(gh).contains { $0.body.contains("cherry-picked to `release-1.0` in #2") })
    }

    @Test func cherryPickNeverMovesABranchItDidNotWrite() throws {
        let (gh, url) = try Support.world()
        let repo = try #require(gh.repo(Self.full))
        try repo.git.setRef("refs/heads/release-1.0", to: repo.git.resolve("refs/heads/main")!)
        try gh.mergePull(Self.full, 1, method: .squash)
        // A maintainer's own branch, by chance of the same name.
        let theirs = try gh.commit(Self.full, branch: "cherry-pick-1-to-release-1.0", from: "main", files: ["mine.txt": "mine\n"], message: "mine")
        let r = try Self.run("cherry-pick", gh, url, "issue_comment", Self.comment(gh, "/cherry-pick release-1.0"))
        #expect(r.json?["outcome"]?.string == "done", "\(r.stdout)\(r.stderr)")
        #expect(repo.git.resolve("refs/heads/cherry-pick-1-to-release-1.0") == theirs)
        #expect(gh.pull(Self.full, 2)?.headRef == "cherry-pick-1-to-release-1.0-2")
    }

    @Test func e2eTriggerTrustsNoForgedRunList() throws {
        let (gh, url) = try Support.world()
        let cfg = try Support.writeConfig("defaults:\n  e2e: { workflow: e2e.yml }\n")
        // The outsider's sticky claims a run (of another repository) and a path-shaped sha.
        let runs: JSON = [["id": 4242, "url": "x", "sha": "../../../../repos/acme/secret-repo/statuses/0000000000000000000000000000000000000000",
                           "options": "", "state": "running"],
                          ["id": 777, "url": "x", "sha": "0123456789012345678901234567890123456789", "options": "", "state": "running"]]
        _ = Self.forge(gh, E2ETrigger.marker.with(state: runs), text: "### End-to-end tests")
        try gh.commit(Self.full, branch: "feature", files: ["pushed.txt": "x\n"], message: "push")
        let r = try Self.run("e2e-trigger", gh, url, "pull_request", gh.pullRequestEvent(Self.full, 1, action: "synchronize"), config: cfg)
        #expect(r.json?["outcome"]?.string == "ignored", "\(r.stdout)\(r.stderr)")
        #expect(!gh.requests.contains { $0.path.contains("/cancel") || $0.path.contains("/statuses/") || $0.path.contains("secret-repo") })
        // A real /e2e-test still works, with a sticky of its own.
        let started = try Self.run("e2e-trigger", gh, url, "issue_comment", Self.comment(gh, "/e2e-test"), config: cfg)
        #expect(started.json?["outcome"]?.string == "done", "\(started.stdout)")
        #expect(Self.bot(gh).count == 1)
        #expect(gh.workflowRuns(Self.full).count == 1)
    }

    @Test func slashDispatchIgnoresSomeoneElsesEyes() throws {
        let (gh, url) = try Support.world()
        let id = gh.addComment(Self.full, issue: 1, user: "maint-mona", body: "/update-branch")
        gh.addReaction(commentID: id, user: "random-rita", content: "eyes")
        let r = try Self.run("slash-dispatch", gh, url, "issue_comment", gh.commentEvent(Self.full, commentID: id))
        #expect(r.json?["routed"]?.array?.contains("update-branch") == true, "\(r.stdout)\(r.stderr)")
        #expect(r.json?["results"]?["update-branch"]?["outcome"]?.string == "done")
        // Its own 👀 then marks the comment handled.
        #expect(gh.reactions(commentID: id).contains { $0.user == "switchyard[bot]" && $0.content == "eyes" })
        let again = try Self.run("slash-dispatch", gh, url, "issue_comment", gh.commentEvent(Self.full, commentID: id))
        #expect(again.json?["outcome"]?.string == "ignored", "\(again.stdout)")
    }

    @Test func housekeepingPostsItsMessagesDespiteForgedMarkers() throws {
        let (gh, url) = try Support.world()
        let cfg = try Support.writeConfig("""
            defaults:
              housekeeping:
                label-messages:
                  - { label: Needs Rebase, message: "{author} please rebase." }
            """)
        _ = Self.forge(gh, Marker(function: "housekeeping", "label", "Needs Rebase"))
        gh.setLabels(Self.full, issue: 1, ["Needs Rebase"], by: "maint-mona")
        let r = try Self.run("housekeeping", gh, url, "pull_request",
                             gh.pullRequestEvent(Self.full, 1, action: "labeled", sender: "maint-mona", label: "Needs Rebase"), config: cfg)
        #expect(r.json?["outcome"]?.string == "done", "\(r.stdout)")
        #expect(Self.bot(gh).contains { $0.body.contains("please rebase") })
    }

    @Test func aMarkerInSomeoneElsesCommentIsOrdinaryText() throws {
        let (gh, url) = try Support.world()
        // A maintainer quoting a bot comment, marker and all: the command in it still runs.
        let body = "/update-branch\n\n> earlier:\n" + Marker(function: "update-branch", "reply", "1").html
        let r = try Self.run("update-branch", gh, url, "issue_comment", Self.comment(gh, body))
        #expect(r.json?["outcome"]?.string == "done", "\(r.stdout)")
    }

    @Test func switchyardsOwnCommentNeverRunsItsCommands() throws {
        // Switchyard as a personal token whose login looks like anyone's: its own comments are known by
        // its identity (GET /user), not by the [bot] suffix.
        let (gh, url) = try Support.world()
        gh.addUser("acme-robot")
        gh.addToken("robot-token", for: "acme-robot")
        let body = "/update-branch\n" + Marker(function: "x", "y").html
        let r = try Support.run("update-branch", environment: Self.env(gh, url, extra: ["GITHUB_TOKEN": "robot-token"]),
                                stdin: Support.envelope(event: "issue_comment", body: Array(Self.comment(gh, body, by: "acme-robot").encoded().utf8),
                                                        secret: Self.secret))
        #expect(r.json?["outcome"]?.string == "ignored", "\(r.stdout)")
        #expect(r.json?["message"]?.string?.contains("own comments") == true)
    }

    // MARK: Paths from validated parts

    @Test func branchesAndNamesWithDotSegmentsAreRefused() throws {
        for bad in ["./main", "../main", "a/../b", "main/.", "..", ".hidden", "x.lock", "a//b", "-x", "a b", "a~1", "a:b"] {
            #expect(!CherryPick.isValidBranch(bad), "\(bad)")
            #expect(GitRef(bad) == nil, "\(bad)")
        }
        for good in ["release-8.0", "release/8.0", "v1.2.3", "feature_x"] { #expect(CherryPick.isValidBranch(good)) }
        for bad in ["acme/.", "acme/..", "./x", "../x", "ac me/x", "acme/x/y", "-acme/x"] { #expect(RepoRef(Substring(bad)) == nil, "\(bad)") }
        #expect(IssueRef("acme/../secret#1") == nil)
        #expect(APIPath.encode("..") == "%2E%2E")
        #expect(APIPath.encode(".") == "%2E")
        #expect((APIPath.repo(RepoRef(owner: "acme", name: "w")) / "statuses" / SHA(String(repeating: "a", count: 40))!).text
                == "/repos/acme/w/statuses/" + String(repeating: "a", count: 40))
        #expect(SHA("../../../../repos/acme/secret-repo/statuses") == nil)
        #expect(Segment("..") == nil && Segment(".") == nil)
    }

    @Test func chatTargetsWithDotSegmentsAreRefused() throws {
        let (gh, url) = try Support.world()
        let cfg = try Support.writeConfig("chat:\n  users: { \"mattermost:alan\": maint-mona }\n")
        for text in ["cherry-pick acme/widgets#1 ./main", "cherry-pick acme/..#1 main", "update-branch acme/.#1"] {
            let body = "command=%2Fswitchyard&text=\(text.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)&token=t&user_id=u&user_name=alan"
            let env: JSON = ["headers": ["content-type": "application/x-www-form-urlencoded"], "body": .string(body)]
            let r = try Support.run("slash-dispatch", environment: Self.env(gh, url, config: cfg, extra: ["MATTERMOST_TOKEN": "t"]),
                                    stdin: Array(env.encoded().utf8))
            #expect(r.json?["outcome"]?.string == "rejected", "\(text): \(r.stdout)")
        }
        #expect(gh.requests.filter { $0.method != "GET" }.isEmpty)
    }

    /// No string is interpolated into an API path anywhere in the functions: paths are `APIPath`s
    /// built from typed parts, and the text-path escape hatches are for tests only.
    @Test func noInterpolatedAPIPathsInTheSources() throws {
        let fm = FileManager.default
        let roots = ["repos", "orgs", "app", "user", "users", "api", "runtime", "projects", "installation", "installations", "teams", "2018-06-01"]
        var offenders: [String] = []
        let enumerator = fm.enumerator(atPath: Support.packageRoot + "/Sources")!
        for case let file as String in enumerator where file.hasSuffix(".swift") {
            if ["SwitchyardTesting/", "playground/", "load-test/", "fuzz-", "github-emulator/"].contains(where: file.hasPrefix) { continue }
            let text = try String(contentsOfFile: Support.packageRoot + "/Sources/" + file, encoding: .utf8)
            for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let l = String(line)
                if l.contains("sendRaw(") || l.contains("paginateRaw(") {
                    if !file.hasSuffix("GitHubClient.swift") { offenders.append("\(file):\(i + 1) uses a text path") }
                }
                for root in roots where l.contains("\"/\(root)/") && l.range(of: #"\"/[^"]*\\\("#, options: .regularExpression) != nil {
                    offenders.append("\(file):\(i + 1) interpolates into /\(root)/…")
                }
            }
        }
        #expect(offenders.isEmpty, "\(offenders)")
    }

    // MARK: Total verification

    @Test func anExtremeSlackTimestampIsRefusedNotACrash() throws {
        for ts in ["-9223372036854775808", "9223372036854775807", "99999999999999999999", "-1", " 1 "] {
            let body = "command=%2Fswitchyard&text=help&user_id=u&user_name=x"
            let env: JSON = ["headers": ["content-type": "application/x-www-form-urlencoded", "x-slack-signature": "v0=00",
                                         "x-slack-request-timestamp": .string(ts)], "body": .string(body)]
            let r = try Support.run("update-branch", environment: ["SLACK_SIGNING_SECRET": "s"], stdin: Array(env.encoded().utf8))
            #expect(r.status == 3, "\(ts): \(r.stdout)\(r.stderr)")
            #expect(r.json?["status"]?.int == 401)
        }
    }

    @Test func theLambdaLoopSurvivesTheCrashInputAndServesTheNextEvent() throws {
        let api = LambdaRuntimeAPI()
        let base = try api.start()
        func event(_ ts: String) -> JSON {
            ["version": "2.0", "rawPath": "/", "requestContext": ["http": ["method": "POST"]], "isBase64Encoded": false,
             "headers": ["content-type": "application/x-www-form-urlencoded", "x-slack-signature": "v0=00", "x-slack-request-timestamp": .string(ts)],
             "body": "command=%2Fswitchyard&text=help&user_id=u&user_name=x"]
        }
        let first = api.enqueue(Array(event("-9223372036854775808").encoded().utf8))
        let second = api.enqueue(Array(event("1").encoded().utf8))
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Support.binary("update-branch"))
        p.environment = ["AWS_LAMBDA_RUNTIME_API": base, "SLACK_SIGNING_SECRET": "s", "PATH": "/usr/bin:/bin"]
        p.standardError = FileHandle.nullDevice
        try p.run()
        defer { if p.isRunning { kill(p.processIdentifier, SIGKILL); p.waitUntilExit() }; api.stop() }
        let a = api.result(first, timeout: 10), b = api.result(second, timeout: 10)
        #expect(a?.body?["statusCode"]?.int == 401, "\(String(describing: a))")
        #expect(b?.body?["statusCode"]?.int == 401, "\(String(describing: b))")
        #expect(p.isRunning)
    }

    // MARK: Transport hygiene

    @Test func childrenGetOnlyTheirOwnPipes() throws {
        // A sibling that keeps running must not hold another child's input open: `cat` sees end of input
        // as soon as its bytes are written, whatever its sibling does.
        let started = Date()
        let slow = try Subprocess.start(.init(path: "/bin/sleep", arguments: ["3"], environment: [:], stdin: Array("x".utf8)))
        let cat = try Subprocess.start(.init(path: "/bin/cat", environment: [:], stdin: Array("hello".utf8)))
        let results = Subprocess.wait([cat], deadline: Deadline(millisecondsFromNow: 2_500))
        #expect(results[0].stdout == Array("hello".utf8))
        #expect(!results[0].timedOut)
        #expect(Date().timeIntervalSince(started) < 2)
        _ = Subprocess.wait([slow], deadline: Deadline(millisecondsFromNow: 5_000))
        // And through the dispatcher: the quick function answers although the slow one holds on.
        let (gh, url) = try Support.world()
        let repo = try #require(gh.repo(Self.full))
        try repo.git.setRef("refs/heads/release-1.0", to: repo.git.resolve("refs/heads/main")!)
        let script = NSTemporaryDirectory() + "slow-\(UUID().uuidString).sh"
        try "#!/bin/sh\nsleep 5\n".write(toFile: script, atomically: true, encoding: .utf8)
        chmod(script, 0o755)
        // update-branch (slow) is started after cherry-pick (quick): before the fix it held cherry-pick's stdin.
        let cfg = try Support.writeConfig("functions:\n  update-branch:\n    path: \(script)\n")
        let r = try Self.run("slash-dispatch", gh, url, "issue_comment", Self.comment(gh, "/cherry-pick release-1.0\n/update-branch"), config: cfg,
                             extra: ["SWITCHYARD_DEADLINE_MS": "3000"])
        #expect(r.json?["results"]?["cherry-pick"]?["outcome"]?.string == "done", "\(r.stdout)")
        #expect(r.json?["results"]?["update-branch"]?["timed_out"]?.bool == true)
        // One routed function failed: so did the delivery, and the exit status says so.
        #expect(r.json?["outcome"]?.string == "failed")
        #expect(r.status == 1)
    }

    // MARK: Credentials stay with their origin

    @Test func paginationNeverFollowsALinkToAnotherOrigin() throws {
        final class Seen: @unchecked Sendable { var auth: [String?] = []; let lock = NSLock() }
        let seen = Seen()
        let elsewhere = try HTTPServer { r in
            seen.lock.lock(); seen.auth.append(r.header("authorization")); seen.lock.unlock()
            return .json(200, [])
        }
        defer { elsewhere.stop() }
        for next in [elsewhere.baseURL + "/repos/acme/widgets/issues/1/comments?page=2", "file:///etc/passwd",
                     "https://user@api.example.com/x"] {
            let github = try HTTPServer { _ in .json(200, [["id": 1, "body": "x", "user": ["login": "a"]]], headers: [("Link", "<\(next)>; rel=\"next\"")]) }
            defer { github.stop() }
            let client = GitHubClient(baseURL: github.baseURL, credentials: TokenCredentials(token: "the-token"),
                                      deadline: Deadline(millisecondsFromNow: 5_000), logger: Logger(function: "t", sink: { _ in }))
            #expect(throws: SwitchyardError.self) { try client.comments(on: IssueRef(repo: RepoRef(owner: "acme", name: "widgets"), number: 1)) }
        }
        #expect(seen.auth.isEmpty, "\(seen.auth)")
        #expect(Origin("HTTPS://API.github.com:443/x") == Origin("https://api.github.com"))
        #expect(Origin("https://api.github.com@evil.example") == nil)
        #expect(Origin("http://api.github.com") != Origin("https://api.github.com"))
    }

    @Test func aResponseURLElsewhereGetsNothing() throws {
        let (gh, url) = try Support.world()
        final class Got: @unchecked Sendable { var count = 0; let lock = NSLock() }
        let got = Got()
        let attacker = try HTTPServer { _ in got.lock.lock(); got.count += 1; got.lock.unlock(); return .json(200, [:]) }
        defer { attacker.stop() }
        let script = NSTemporaryDirectory() + "slow-\(UUID().uuidString).sh"
        try "#!/bin/sh\ncat >/dev/null\nsleep 1\necho '{\"text\":\"done\",\"outcome\":\"done\"}'\n".write(toFile: script, atomically: true, encoding: .utf8)
        chmod(script, 0o755)
        let cfg = try Support.writeConfig("functions:\n  update-branch:\n    path: \(script)\nchat:\n  mattermost-ack-ms: 100\n")
        let hook = (attacker.baseURL + "/hooks/x").addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        let body = "command=%2Fswitchyard&text=update-branch+acme%2Fwidgets%231&token=t&user_id=u&user_name=alan&response_url=\(hook)"
        let env: JSON = ["headers": ["content-type": "application/x-www-form-urlencoded"], "body": .string(body)]
        let r = try Support.run("slash-dispatch", environment: Self.env(gh, url, config: cfg, extra: ["MATTERMOST_TOKEN": "t"]),
                                stdin: Array(env.encoded().utf8))
        #expect(r.json?["text"]?.string?.contains("Working on") == true, "\(r.stdout)")
        Thread.sleep(forTimeInterval: 0.5)
        #expect(got.count == 0)
        #expect(r.stderr.contains("outside the allowed origins"))
    }

    // MARK: Secrets in answers

    @Test func upstreamBodiesAndTrickySecretsNeverReachAnAnswerOrALog() throws {
        let token = "tok\"en\\with-quotes-leakcheck"
        let secret = "sec\"ret\\leakcheck"
        // A GitHub that echoes back everything it was sent, credentials included, in its errors.
        let echo = try HTTPServer { r in
            .json(422, ["message": .string("Validation failed for \(r.header("authorization") ?? "") and \(String(decoding: r.body, as: UTF8.self))"),
                        "errors": [["message": .string("token \(token) secret \(secret)")]]])
        }
        defer { echo.stop() }
        let payload = Support.commentPayload(repo: "acme/widgets", number: 1, body: "/update-branch", user: "maint-mona")
        let r = try Support.run("update-branch", environment: ["GITHUB_API_URL": echo.baseURL, "GITHUB_TOKEN": token, "GITHUB_WEBHOOK_SECRET": secret,
                                                                "SWITCHYARD_LOG_LEVEL": "debug", "SWITCHYARD_BOT_LOGIN": "switchyard[bot]"],
                                stdin: Support.envelope(event: "issue_comment", body: payload, secret: secret))
        #expect(r.json != nil, "\(r.stdout)")
        for s in [token, secret] {
            let escaped = String(JSON.string(s).encoded().dropFirst().dropLast())
            for text in [r.stdout, r.stderr] {
                #expect(!text.contains(s) && !text.contains(escaped), "a secret reached the output: \(text.prefix(400))")
            }
        }
        #expect(!r.stdout.contains("Validation failed for"))
    }

    @Test func aConfigPointingAtASecretIsNotEchoed() throws {
        let (gh, url) = try Support.world()
        let file = NSTemporaryDirectory() + "token-\(UUID().uuidString)"
        for content in ["ghp_leakcheck0123456789abcdef\n", "-----BEGIN RSA PRIVATE KEY-----\nMIIEleakcheckAAAAAAAAAAAAAAAAAAAAAAA\n-----END RSA PRIVATE KEY-----\n",
                        "token: ghp_leakcheck0123456789abcdef\n", "{\"secret\": \"ghp_leakcheck0123456789abcdef\"}"] {
            try content.write(toFile: file, atomically: true, encoding: .utf8)
            let r = try Self.run("update-branch", gh, url, "issue_comment", Self.comment(gh, "/update-branch"), config: file)
            #expect(r.json?["status"]?.int == 500, "\(r.stdout)")
            #expect(!r.stdout.contains("leakcheck") && !r.stderr.contains("leakcheck"), "\(r.stdout)\(r.stderr)")
        }
    }

    @Test func redactionWorksOnRawValuesAndEveryLineOfAKey() {
        let r = Redactor()
        r.add(["a\"b\\c-secret", "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nBKcwggSjAgEAAoIBAQDC0123456789ab\n-----END PRIVATE KEY-----"])
        let logged = r.redact(JSON.object(["m": .string("x a\"b\\c-secret y"), "n": .string("line BKcwggSjAgEAAoIBAQDC0123456789ab")])).encoded()
        #expect(!logged.contains("secret"))
        #expect(!logged.contains("BKcwggSjAgEAAoIBAQDC0123456789ab"))
        #expect(logged.contains("[redacted]"))
        #expect(r.redact("-----BEGIN PRIVATE KEY-----") == "-----BEGIN PRIVATE KEY-----")
        // Every occurrence, back to back, beside non-ASCII text; a longer secret before a shorter one it contains.
        let m = Redactor()
        m.add(["token-1234", "token-12345678", "é-secret"])
        #expect(m.redact("a token-12345678 b token-1234 c token-1234") == "a [redacted] b [redacted] c [redacted]")
        #expect(m.redact("token-1234token-1234") == "[redacted][redacted]")
        #expect(m.redact("ünïcødé token-1234 é-secret!") == "ünïcødé [redacted] [redacted]!")
        #expect(m.redact("nothing here") == "nothing here")
        #expect(m.redact(JSON.object(["token-1234": "x"])).encoded() == #"{"[redacted]":"x"}"#)
    }

    // MARK: Policy in one place: blocked users on every trigger

    @Test func aBlockedUserTriggersNothingAnywhere() throws {
        let (gh, url) = try Support.world()
        let repo = try #require(gh.repo(Self.full))
        try repo.git.setRef("refs/heads/release-1.0", to: repo.git.resolve("refs/heads/main")!)
        let cfg = try Support.writeConfig("""
            defaults:
              blocked-users: [maint-mona]
              cla: { signers: { list: [maint-mona] } }
              e2e: { workflow: e2e.yml }
            chat:
              users: { "mattermost:mona": maint-mona }
            """)
        // Comments, on every function that takes them.
        for (function, body) in [("update-branch", "/update-branch"), ("cherry-pick", "/cherry-pick release-1.0"), ("sla-check", "/check-cla"),
                                 ("e2e-trigger", "/e2e-test"), ("slash-dispatch", "/update-branch")] {
            let r = try Self.run(function, gh, url, "issue_comment", Self.comment(gh, body), config: cfg)
            #expect(r.json?["outcome"]?.string == "ignored", "\(function): \(r.stdout)")
            #expect(r.json?["message"]?.string?.contains("block list") == true, "\(function): \(r.stdout)")
        }
        // Labels: nothing is started, and the cherry-pick label is taken off again.
        gh.setLabels(Self.full, issue: 1, ["cherry-pick/release-1.0", "E2E/Run"], by: "maint-mona")
        for function in ["cherry-pick", "e2e-trigger"] {
            let label = function == "cherry-pick" ? "cherry-pick/release-1.0" : "E2E/Run"
            let r = try Self.run(function, gh, url, "pull_request", gh.pullRequestEvent(Self.full, 1, action: "labeled", sender: "maint-mona", label: label),
                                 config: cfg)
            #expect(r.json?["message"]?.string?.contains("block list") == true, "\(function): \(r.stdout)")
        }
        #expect(!gh.labels(Self.full, issue: 1).contains("cherry-pick/release-1.0"))
        #expect(gh.workflowRuns(Self.full).isEmpty)
        // Chat, as the mapped login.
        let form = "command=%2Fswitchyard&text=cherry-pick+acme%2Fwidgets%231+release-1.0&token=t&user_id=u&user_name=mona"
        let chat: JSON = ["headers": ["content-type": "application/x-www-form-urlencoded"], "body": .string(form)]
        let c = try Support.run("cherry-pick", environment: Self.env(gh, url, config: cfg, extra: ["MATTERMOST_TOKEN": "t"]), stdin: Array(chat.encoded().utf8))
        #expect(c.json?["text"]?.string?.contains("block list") == true, "\(c.stdout)")
        // Deferred work: asked while open by someone blocked since, merged by someone else: not picked.
        let open: JSON = Self.comment(gh, "/cherry-pick release-1.0")
        _ = open
        gh.setLabels(Self.full, issue: 1, [], by: "octo-contributor")
        try gh.mergePull(Self.full, 1, method: .squash, by: "octo-contributor")
        let merged = try Self.run("cherry-pick", gh, url, "pull_request", gh.pullRequestEvent(Self.full, 1, action: "closed", sender: "octo-contributor"),
                                  config: cfg)
        #expect(merged.json?["outcome"]?.string == "ignored", "\(merged.stdout)")
        #expect(gh.pull(Self.full, 2) == nil)
        #expect(Self.bot(gh).isEmpty)
    }

    // MARK: Bounded requests

    @Test func aCommentAskingForTooMuchGetsOneRefusalAndNothingElse() throws {
        let (gh, url) = try Support.world()
        try gh.mergePull(Self.full, 1, method: .squash)
        let targets = (1...20).map { "release-\($0).0" }.joined(separator: " ")
        let payload = Self.comment(gh, "/cherry-pick \(targets)")
        for function in ["cherry-pick", "slash-dispatch"] {
            let r = try Self.run(function, gh, url, "issue_comment", payload)
            #expect(r.json?["outcome"]?.string == "rejected", "\(function): \(r.stdout)")
        }
        #expect(Self.bot(gh).count == 1)
        #expect(Self.bot(gh)[0].body.contains("at most 10"))
        #expect(gh.requests.filter { $0.method != "GET" }.count == 1)
        // The limit is a setting.
        let cfg = try Support.writeConfig("defaults:\n  limits: { requests-per-comment: 25 }\n")
        let allowed = try Self.run("cherry-pick", gh, url, "issue_comment", Self.comment(gh, "/cherry-pick \(targets)"), config: cfg)
        #expect(allowed.json?["outcome"]?.string != "rejected", "\(allowed.stdout)")
    }

    // MARK: A cache that trusts nothing it does not own

    @Test(.enabled(if: getuid() == 0, "needs root to plant files owned by another user"))
    func theTokenCacheRefusesWhatItDoesNotOwn() throws {
        let (gh, url) = try Support.world()
        let planted = NSTemporaryDirectory() + "planted-cache-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: planted, withIntermediateDirectories: true)
        chmod(planted, 0o777)
        chown(planted, 65534, 65534)   // nobody
        let run = { (dir: String) throws -> Support.Run in
            try Self.run("update-branch", gh, url, "issue_comment", Self.comment(gh, "/update-branch"),
                         extra: ["SWITCHYARD_CACHE_DIR": dir, "TMPDIR": NSTemporaryDirectory()])
        }
        // Another user's world-writable folder: not used, and the log says why.
        let r = try run(planted)
        #expect(r.json?["outcome"] != nil, "\(r.stdout)")
        #expect(r.stderr.contains("the cache directory is unsafe"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: planted).isEmpty)

        // A private folder whose identity file is a symbolic link to someone else's file: never followed.
        let mine = NSTemporaryDirectory() + "my-cache-\(UUID().uuidString)"
        _ = try run(mine)
        let files = try FileManager.default.contentsOfDirectory(atPath: mine)
        let identity = try #require(files.first { $0.hasPrefix("identity-") })
        let elsewhere = NSTemporaryDirectory() + "elsewhere-\(UUID().uuidString).json"
        try #"{"login": "random-rita"}"#.write(toFile: elsewhere, atomically: true, encoding: .utf8)
        try FileManager.default.removeItem(atPath: mine + "/" + identity)
        try FileManager.default.createSymbolicLink(atPath: mine + "/" + identity, withDestinationPath: elsewhere)
        gh.clearLog()
        _ = try run(mine)
        // The link was not believed: the identity was asked of GitHub again, and the other file is unchanged.
        #expect(gh.requests.contains { $0.path == "/user" })
        #expect(try String(contentsOfFile: elsewhere, encoding: .utf8).contains("random-rita"))
    }

    @Test func cacheFilesAreNeverFollowedThroughLinks() throws {
        let dir = NSTemporaryDirectory() + "links-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        let target = dir + "/target"
        try #"{"token":"stolen","expires_at":99999999999}"#.write(toFile: target, atomically: true, encoding: .utf8)
        chmod(target, 0o600)
        try FileManager.default.createSymbolicLink(atPath: dir + "/link.json", withDestinationPath: target)
        #expect(Files.read(dir + "/link.json", privateOnly: true) == nil)
        #expect(Files.read(target, privateOnly: true) != nil)
        // A planted lock: opened without following it, so it is not taken and the target is untouched.
        try FileManager.default.createSymbolicLink(atPath: dir + "/x.lock", withDestinationPath: target)
        let lock = CacheLock(path: dir + "/x.lock", deadline: Deadline(millisecondsFromNow: 200))
        #expect(!lock.acquired)
        lock.release()
        #expect(try String(contentsOfFile: target, encoding: .utf8).contains("stolen"))
        #expect(Files.privateDirectory(dir) == nil)
        chmod(dir, 0o777)
        #expect(Files.privateDirectory(dir)?.contains("writable") == true)
    }
}
