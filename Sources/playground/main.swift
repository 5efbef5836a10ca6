import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import SwitchyardCore
import SwitchyardTesting

/// The playground: a demo GitHub (the emulator, seeded), the function binaries, and a scenario played
/// over the real path: signed deliveries in, REST calls back over loopback HTTP. No account, no network.
/// Usage: playground [--interactive]
let interactive = CommandLine.arguments.contains("--interactive")
// Every server this starts is stopped however it ends: at the end, on exit(), Ctrl-C, SIGTERM or an error.
ProcessReaper.installHandlers()
let colour = isatty(1) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
func paint(_ s: String, _ code: String) -> String { colour ? "\u{1B}[\(code)m\(s)\u{1B}[0m" : s }
func say(_ s: String) { FileHandle.standardOutput.write(Data((s + "\n").utf8)) }
/// A step that cannot go on: say why and stop, servers included (exit runs the reaper).
func must<T>(_ what: String, _ body: () throws -> T) -> T {
    do { return try body() } catch {
        say(paint("playground: \(what) failed: \(error)", "31"))
        exit(1)
    }
}

let binDir = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")).map { ($0 as NSString).deletingLastPathComponent }
    ?? (CommandLine.arguments[0] as NSString).deletingLastPathComponent
func binary(_ name: String) -> String {
    let p = binDir + "/" + name
    guard FileManager.default.isExecutableFile(atPath: p) else {
        say(paint("missing \(name) next to the playground: run `swift build` first", "31")); exit(1)
    }
    return p
}

let secret = "playground-webhook-secret"
let gh = must("starting the GitHub emulator") { try GitHubEmulator() }
must("loading the demo data") { try Fixture.load(Fixture.demo, into: gh) }
let api = must("serving the GitHub emulator") { try gh.start() }
let configPath = NSTemporaryDirectory() + "switchyard-playground-\(getpid()).yaml"
func writeConfig(signers: [String]) throws {
    try """
        # The playground's policy. Try your own: SWITCHYARD_CONFIG=your.yaml playground --interactive
        defaults:
          cla:
            sign-url: https://cla.example.com/acme
            signers: { list: [\(signers.joined(separator: ", "))] }
            check-interval: 0
          commands:
            update-branch: { allow: [author, member, write] }
        """.write(toFile: configPath, atomically: true, encoding: .utf8)
}
must("writing the demo policy") { try writeConfig(signers: ["maint-mona"]) }
let userConfig = ProcessInfo.processInfo.environment["SWITCHYARD_CONFIG"].flatMap { $0.isEmpty ? nil : $0 }
/// The policy every path uses: yours when SWITCHYARD_CONFIG names one, else the demo's.
let policy = userConfig ?? configPath

// A test-server provisioner and a chat incoming webhook, for label-deploy.
let provisioner = ProvisionerEmulator(auth: .apiKey("demo-provisioner-key"))
let provisionerURL = must("starting the provisioner emulator") { try provisioner.start() }
provisioner.registerWebhook(owner: "switchyard", url: "label-deploy", headers: [("X-Provisioner-Token", "demo-provisioner-hook")])
let chatHook = ChatWebhookEmulator()
let chatHookURL = must("starting the chat webhook emulator") { try chatHook.start() }
gh.repo("acme/widgets")?.collaborators["maint-mona"] = .write
let deployEnvironment = ["PROVISIONER_URL": provisionerURL, "PROVISIONER_API_KEY": "demo-provisioner-key",
                         "PROVISIONER_WEBHOOK_TOKEN": "demo-provisioner-hook", "DEPLOY_NOTIFY_WEBHOOK_URL": chatHookURL]

// Host the functions the way production does when a web server is installed: nginx + fcgiwrap
// running them as CGI behind slash-dispatch, from deploy/cgi/nginx.conf. Otherwise pipe to each one.
let sourceRoot = URL(fileURLWithPath: binDir).appendingPathComponent("../../..").standardized.path
let host: CGIHost? = CGIHost.available(.nginx) && FileManager.default.fileExists(atPath: sourceRoot + "/deploy/cgi/nginx.conf")
    ? try? CGIHost(.nginx, deployDirectory: sourceRoot + "/deploy/cgi", binDirectory: binDir, functionsDirectory: sourceRoot + "/functions",
                   githubAPI: api, secrets: ["github-webhook-secret": secret, "github-token": "demo-token",
                                             "mattermost-token": "demo-mattermost", "slack-signing-secret": "demo-slack"],
                   config: policy, extraEnvironment: deployEnvironment)
    : nil
say(paint("Switchyard playground", "1") + "  GitHub emulator at \(api): org acme, repo acme/widgets, PR #1 by octo-contributor (behind main)")
say(host.map { "Functions: CGI under nginx + fcgiwrap at \($0.url("slash-dispatch")), signed webhooks over HTTP" }
    ?? "Functions: piped one event at a time (install nginx and fcgiwrap to host them over CGI)")
if let userConfig {
    say(paint("Your policy: \(userConfig)", "1") + " on every path. The demo's expected outcomes assume its own policy, so"
        + " under yours a step counts as unexpected only when a function fails or gives no answer.")
    if let problem = (try? String(contentsOfFile: userConfig, encoding: .utf8)).map({ text -> String? in
        do { _ = try Config(yaml: text); return nil } catch let e as SwitchyardError { return e.message } catch { return "\(error)" }
    }) ?? "it cannot be read" {
        say(paint("  \(userConfig): \(problem)", "31"))
        exit(1)
    }
}

struct Step {
    var title: String
    var function: String
    var event: String
    var payload: () -> JSON
    var dryRun = false
    var expect: String
    var before: () throws -> Void = {}
    /// A provisioner webhook (to label-deploy's own URL, with its static token) rather than a GitHub delivery.
    var provisioner = false
}

func comment(_ body: String, by user: String, on number: Int = 1) -> () -> JSON {
    { gh.commentEvent("acme/widgets", commentID: gh.addComment("acme/widgets", issue: number, user: user, body: body)) }
}
/// The same delivery twice, as GitHub's redelivery does.
final class Memo: @unchecked Sendable { var payload: JSON = nil }
let monaComment = Memo()

let steps: [Step] = [
    Step(title: "octo-contributor opens PR #1 (CLA check)", function: "sla-check", event: "pull_request",
         payload: { gh.pullRequestEvent("acme/widgets", 1, action: "opened") }, expect: "done"),
    Step(title: "maint-mona comments /update-branch (dry run: plan only)", function: "update-branch", event: "issue_comment",
         payload: { monaComment.payload = comment("Let's get this current before review.\n\n/update-branch", by: "maint-mona")(); return monaComment.payload },
         dryRun: true, expect: "planned"),
    Step(title: "the same comment, for real", function: "update-branch", event: "issue_comment", payload: { monaComment.payload }, expect: "done"),
    Step(title: "GitHub redelivers that comment", function: "update-branch", event: "issue_comment", payload: { monaComment.payload }, expect: "ignored"),
    Step(title: "random-rita tries /update-branch", function: "update-branch", event: "issue_comment",
         payload: comment("/update-branch", by: "random-rita"), expect: "rejected"),
    Step(title: "someone quotes the command in a code block", function: "update-branch", event: "issue_comment",
         payload: comment("Run this:\n```\n/update-branch\n```", by: "maint-mona"), expect: "ignored"),
    Step(title: "octo-contributor signs the CLA and comments /check-cla", function: "sla-check", event: "issue_comment",
         payload: comment("Signed it!\n\n/check-cla", by: "octo-contributor"), expect: "done",
         before: { try writeConfig(signers: ["maint-mona", "octo-contributor"]) }),
    Step(title: "maint-mona adds the Setup Cloud Test Server label", function: "label-deploy", event: "pull_request",
         payload: { gh.pullRequestEvent("acme/widgets", 1, action: "labeled", sender: "maint-mona", label: "Setup Cloud Test Server") },
         expect: "done", before: { gh.updatePull("acme/widgets", 1) { $0.labels.append("Setup Cloud Test Server") } }),
    Step(title: "the provisioner reports the server stable (its webhook)", function: "label-deploy", event: "provisioner",
         payload: { provisioner.settle().last?.payload ?? [:] }, expect: "done", provisioner: true),
    Step(title: "maint-mona asks for a backport while the PR is open", function: "cherry-pick", event: "issue_comment",
         payload: comment("/cherry-pick release-1.0", by: "maint-mona"), expect: "done"),
    Step(title: "maint-mona squash-merges PR #1: the pending backport runs", function: "cherry-pick", event: "pull_request",
         payload: { gh.pullRequestEvent("acme/widgets", 1, action: "closed", sender: "maint-mona") }, expect: "done",
         before: { try gh.mergePull("acme/widgets", 1, method: .squash) }),
    Step(title: "GitHub redelivers the merged event", function: "cherry-pick", event: "pull_request",
         payload: { gh.pullRequestEvent("acme/widgets", 1, action: "closed", sender: "maint-mona") }, expect: "ignored"),
]

/// Prints one result in the step format: who answered, the outcome, the message, each action; under
/// slash-dispatch, each routed function on its own line. Returns the outcome of `function`.
func show(_ response: JSON?, raw: [UInt8], function: String, expect: String?, dryRun: Bool) -> Bool {
    func line(_ name: String, _ r: JSON?, expect: String?) -> Bool {
        let outcome = r?["outcome"]?.string ?? "no answer"
        let ok = userConfig == nil ? (expect.map { outcome == $0 } ?? true) : !["failed", "no answer"].contains(outcome)
        let message = r?["message"]?.string ?? r?["text"]?.string ?? r?["error"]?.string ?? String(decoding: raw.prefix(300), as: UTF8.self)
        say("  \(name) → \(paint(outcome, ok ? "32" : "31"))\(ok || userConfig != nil ? "" : " (expected \(expect ?? "?"))"): \(message)")
        for a in r?["actions"]?.array ?? [] {
            let what = [a["type"]?.string, a["state"]?.string, a["context"]?.string].compactMap { $0 }.joined(separator: " ")
            say("    \(dryRun ? "would" : "did"): \(what) \(a["issue"]?.string ?? a["pull"]?.string ?? "")")
        }
        return ok
    }
    // Whoever answered is named: slash-dispatch itself (a refusal, a redelivery it recognised) or each
    // function it routed to.
    let answered = response?["function"]?.string ?? function
    if let routed = response?["routed"]?.array?.compactMap(\.string), let results = response?["results"] {
        say("  slash-dispatch routed it to \(routed.isEmpty ? "no function" : routed.joined(separator: ", "))")
        var ok = true
        if !routed.contains(function) {
            // Not routed to the step's function: slash-dispatch's own answer is the step's outcome.
            ok = line("slash-dispatch", response, expect: expect)
        }
        for name in routed { ok = line(name, results[name], expect: name == function ? expect : nil) && ok }
        return ok
    }
    return line(answered, response, expect: expect)
}

/// Pipes an envelope or a raw payload to a function binary; its JSON answer.
func pipe(_ function: String, stdin: [UInt8], environment: [String: String], arguments: [String] = []) -> [UInt8] {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: binary(function))
    p.arguments = arguments
    p.environment = environment
    let i = Pipe(), o = Pipe()
    p.standardInput = i; p.standardOutput = o
    must("running \(function)") { try p.run() }
    i.fileHandleForWriting.write(Data(stdin)); try? i.fileHandleForWriting.close()
    let out = Array(o.fileHandleForReading.readDataToEndOfFile())
    p.waitUntilExit()
    return out
}

/// POSTs to a hosted function; the answer's body.
func post(_ url: String, body: [UInt8], headers: [(String, String)]) -> [UInt8] {
    must("posting to \(url)") { try LoopbackHTTP.send(url, headers: headers, body: body).body }
}

let pipeEnvironment = deployEnvironment.merging([
    "GITHUB_API_URL": api, "GITHUB_TOKEN": "demo-token", "GITHUB_WEBHOOK_SECRET": secret, "MATTERMOST_TOKEN": "demo-mattermost",
    "SWITCHYARD_CONFIG": policy, "PATH": "/usr/bin:/bin", "SWITCHYARD_LOG_LEVEL": "warning",
    "SWITCHYARD_FUNCTIONS_DIR": sourceRoot + "/functions",
]) { a, _ in a }

var failures = 0
for (i, step) in steps.enumerated() {
    must("preparing step \(i + 1)") { try step.before() }
    let delivery = WebhookDelivery(event: step.event, payload: step.payload(), id: "playground-\(i)", secret: secret)
    var raw: [UInt8] = []
    if step.provisioner {
        let headers: JSON = ["content-type": "application/json", "x-provisioner-token": "demo-provisioner-hook"]
        if let host {
            raw = post(host.url("label-deploy"), body: delivery.payload,
                       headers: [("Content-Type", "application/json"), ("X-Provisioner-Token", "demo-provisioner-hook")])
        } else {
            let envelope: JSON = ["headers": headers, "body": .string(String(decoding: delivery.payload, as: UTF8.self))]
            raw = pipe(step.function, stdin: Array(envelope.encoded().utf8), environment: pipeEnvironment)
        }
    } else if let host, !step.dryRun {
        // Over HTTP to slash-dispatch, which routes to the function by its manifest.
        raw = must("delivering step \(i + 1)") { try delivery.post(to: host.url("slash-dispatch")).body }
    } else {
        raw = must("running step \(i + 1)") {
            try delivery.pipe(to: binary(step.function), environment: pipeEnvironment, arguments: step.dryRun ? ["--dry-run"] : []).stdout
        }
    }
    say("\n\(paint("▶ \(i + 1). \(step.title)", "1;36"))")
    if !show(try? JSON.parse(raw), raw: raw, function: step.function, expect: step.expect, dryRun: step.dryRun) { failures += 1 }
}

/// A comment as the timeline shows it: its first line, and every command line in it.
func summary(_ body: String) -> String {
    let lines = body.components(separatedBy: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
    let first = lines.first { !$0.isEmpty && !$0.hasPrefix("<!--") && !$0.hasPrefix("#") } ?? ""
    let commands = lines.filter { $0.hasPrefix("/") && $0 != first }
    return ([String(first.prefix(110))] + commands.map { "⌘ " + $0.prefix(80) }).joined(separator: "  ")
}

say("\n" + paint("Timeline of acme/widgets#1", "1"))
for c in gh.comments("acme/widgets", issue: 1) { say("  💬 \(c.user): \(summary(c.body))") }
if let head = gh.headSHA("acme/widgets", 1), let repo = gh.repo("acme/widgets") {
    say("  🔀 stream-rows was updated: \((try? repo.git.git("log", "-1", "--format=%s", head)) ?? head)")
    for s in gh.statuses("acme/widgets", sha: head) { say("  🚦 \(s.context) \(s.state): \(s.description ?? "")") }
}
for server in provisioner.all {
    say("  🖥  test server \(server.name) (\(server.owner)): \(server.state), version \(server.version)")
}
for n in 2...5 {
    guard let p = gh.pull("acme/widgets", n) else { continue }
    say("  🍒 PR #\(n) \(p.title) (\(p.headRef) → \(p.baseRef)), labels: \(p.labels.joined(separator: ", "))")
}
let writes = gh.requests.filter { $0.method != "GET" }.count
say("\n\(paint("Summary", "1")): \(steps.count) events, \(gh.requests.count) GitHub API requests (\(writes) writes), " +
    "\(gh.contractViolations.count) calls GitHub does not have, \(failures) unexpected outcomes.")
if !gh.contractViolations.isEmpty { say(gh.contractViolations.joined(separator: "\n")) }
if interactive {
    say("\nThe emulator keeps running at \(api) (token: demo-token, webhook secret: \(secret))"
        + (host.map { "; the functions at \($0.baseURL)/hooks/<name>" } ?? "") + ".")
    say("""
        Type a command (Ctrl-D to quit):
          comment <user> <pr> <text…>     post a PR comment as <user> and deliver it, e.g. comment maint-mona 1 /update-branch
          chat <user> <text…>             a Mattermost /switchyard command, e.g. chat alan help
          timeline <pr>                   the PR's comments, labels and statuses
        """)
    if userConfig == nil { must("writing the demo policy") { try writeConfig(signers: ["maint-mona", "octo-contributor"]) } }
    while let line = readLine() {
        let words = line.split(separator: " ", maxSplits: 3).map(String.init)
        switch words.first {
        case "comment" where words.count == 4 && Int(words[2]) != nil:
            let payload = comment(words[3].replacingOccurrences(of: "\\n", with: "\n"), by: words[1], on: Int(words[2])!)()
            let d = WebhookDelivery(event: "issue_comment", payload: payload, secret: secret)
            let out = must("delivering the comment") {
                try host.map { try d.post(to: $0.url("slash-dispatch")).body }
                    ?? d.pipe(to: binary("slash-dispatch"), environment: pipeEnvironment).stdout
            }
            say(paint("▶ \(words[1]) comments on #\(words[2]): \(words[3])", "1;36"))
            _ = show(try? JSON.parse(out), raw: out, function: "slash-dispatch", expect: nil, dryRun: false)
        case "chat" where words.count >= 3:
            let text = words.dropFirst(2).joined(separator: " ")
            let form = "channel_id=c&channel_name=town-square&command=%2Fswitchyard&team_domain=acme&team_id=t&user_id=\(words[1])&user_name=\(words[1])&text="
                + (text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")
            let out: [UInt8]
            if let host {
                out = post(host.url("slash-dispatch"), body: Array(form.utf8),
                           headers: [("Content-Type", "application/x-www-form-urlencoded"), ("Authorization", "Token demo-mattermost")])
            } else {
                let env: JSON = ["headers": ["content-type": "application/x-www-form-urlencoded", "authorization": "Token demo-mattermost"],
                                 "body": .string(form)]
                out = pipe("slash-dispatch", stdin: Array(env.encoded().utf8), environment: pipeEnvironment)
            }
            say(paint("▶ \(words[1]): /switchyard \(text)", "1;36"))
            let reply = try? JSON.parse(out)
            say("  " + (reply?["text"]?.string ?? reply?["message"]?.string ?? String(decoding: out.prefix(300), as: UTF8.self))
                .replacingOccurrences(of: "\n", with: "\n  "))
            for server in provisioner.all where server.owner.contains(words[1]) {
                say("  🖥  \(server.name): \(server.state), version \(server.version)")
            }
        case "timeline" where words.count == 2 && Int(words[1]) != nil:
            let n = Int(words[1])!
            for c in gh.comments("acme/widgets", issue: n) { say("  💬 \(c.user): \(summary(c.body))") }
            say("  🏷  " + gh.labels("acme/widgets", issue: n).joined(separator: ", "))
            if let head = gh.headSHA("acme/widgets", n) { for s in gh.statuses("acme/widgets", sha: head) { say("  🚦 \(s.context) \(s.state)") } }
        default:
            say("?  comment <user> <pr> <text> | chat <user> <text> | timeline <pr>")
        }
    }
}
host?.stop()
provisioner.stop()
chatHook.stop()
try? FileManager.default.removeItem(atPath: configPath)
exit(failures == 0 && gh.contractViolations.isEmpty ? 0 : 1)
