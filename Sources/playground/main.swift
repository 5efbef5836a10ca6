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
let colour = isatty(1) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
func paint(_ s: String, _ code: String) -> String { colour ? "\u{1B}[\(code)m\(s)\u{1B}[0m" : s }
func say(_ s: String) { FileHandle.standardOutput.write(Data((s + "\n").utf8)) }

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
let gh = try GitHubEmulator()
try Fixture.load(Fixture.demo, into: gh)
let api = try gh.start()
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
try writeConfig(signers: ["maint-mona"])
let userConfig = ProcessInfo.processInfo.environment["SWITCHYARD_CONFIG"]

// A test-server provisioner and a chat incoming webhook, for label-deploy.
let provisioner = ProvisionerEmulator(auth: .apiKey("demo-provisioner-key"))
let provisionerURL = try provisioner.start()
provisioner.registerWebhook(owner: "switchyard", url: "label-deploy", headers: [("X-Provisioner-Token", "demo-provisioner-hook")])
let chatHook = ChatWebhookEmulator()
let chatHookURL = try chatHook.start()
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
                   config: configPath, extraEnvironment: deployEnvironment)
    : nil
say(paint("Switchyard playground", "1") + "  GitHub emulator at \(api): org acme, repo acme/widgets, PR #1 by octo-contributor (behind main)")
say(host.map { "Functions: CGI under nginx + fcgiwrap at \($0.url("slash-dispatch")), signed webhooks over HTTP" }
    ?? "Functions: piped one event at a time (install nginx and fcgiwrap to host them over CGI)")

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

var failures = 0
for (i, step) in steps.enumerated() {
    try step.before()
    let delivery = WebhookDelivery(event: step.event, payload: step.payload(), id: "playground-\(i)", secret: secret)
    var response: JSON?
    var raw: [UInt8] = []
    if step.provisioner {
        let headers: JSON = ["content-type": "application/json", "x-provisioner-token": "demo-provisioner-hook"]
        if let host {
            var request = URLRequest(url: URL(string: host.url("label-deploy"))!)
            request.httpMethod = "POST"
            request.httpBody = Data(delivery.payload)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.setValue("demo-provisioner-hook", forHTTPHeaderField: "X-Provisioner-Token")
            final class Box: @unchecked Sendable { var data = Data() }
            let box = Box(), done = DispatchSemaphore(value: 0)
            URLSession.shared.dataTask(with: request) { d, _, _ in box.data = d ?? Data(); done.signal() }.resume()
            _ = done.wait(timeout: .now() + 20)
            raw = Array(box.data)
        } else {
            let envelope: JSON = ["headers": headers, "body": .string(String(decoding: delivery.payload, as: UTF8.self))]
            let p = Process()
            p.executableURL = URL(fileURLWithPath: binary(step.function))
            p.environment = deployEnvironment.merging(["GITHUB_API_URL": api, "GITHUB_TOKEN": "demo-token", "SWITCHYARD_LOG_LEVEL": "warning",
                                                       "SWITCHYARD_CONFIG": userConfig ?? configPath]) { a, _ in a }
            let i = Pipe(), o = Pipe()
            p.standardInput = i; p.standardOutput = o
            try p.run()
            i.fileHandleForWriting.write(Data(envelope.encoded().utf8)); try i.fileHandleForWriting.close()
            raw = Array(o.fileHandleForReading.readDataToEndOfFile())
            p.waitUntilExit()
        }
        response = try? JSON.parse(raw)
    } else if let host, !step.dryRun {
        // Over HTTP to slash-dispatch, which routes to the function by its manifest.
        let r = try delivery.post(to: host.url("slash-dispatch"))
        raw = r.body
        let whole = try? JSON.parse(r.body)
        response = whole?["results"]?[step.function] ?? whole
    } else {
        let run = try delivery.pipe(to: binary(step.function), environment: deployEnvironment.merging([
            "GITHUB_API_URL": api, "GITHUB_TOKEN": "demo-token", "GITHUB_WEBHOOK_SECRET": secret,
            "SWITCHYARD_CONFIG": userConfig ?? configPath, "PATH": "/usr/bin:/bin", "SWITCHYARD_LOG_LEVEL": "warning",
        ]) { a, _ in a }, arguments: step.dryRun ? ["--dry-run"] : [])
        raw = run.stdout
        response = try? JSON.parse(run.stdout)
    }
    let outcome = response?["outcome"]?.string ?? "no answer"
    let ok = outcome == step.expect || userConfig != nil
    if !ok { failures += 1 }
    say("\n\(paint("▶ \(i + 1). \(step.title)", "1;36"))")
    say("  \(step.function) → \(paint(outcome, ok ? "32" : "31"))\(ok ? "" : " (expected \(step.expect))"): \(response?["message"]?.string ?? String(decoding: raw, as: UTF8.self))")
    for a in response?["actions"]?.array ?? [] {
        let what = [a["type"]?.string, a["state"]?.string, a["context"]?.string].compactMap { $0 }.joined(separator: " ")
        say("    \(step.dryRun ? "would" : "did"): \(what) \(a["issue"]?.string ?? a["pull"]?.string ?? "")")
    }
}

say("\n" + paint("Timeline of acme/widgets#1", "1"))
for c in gh.comments("acme/widgets", issue: 1) {
    let first = c.body.components(separatedBy: "\n").first { !$0.isEmpty && !$0.hasPrefix("#") } ?? ""
    say("  💬 \(c.user): \(first.prefix(110))")
}
if let head = gh.headSHA("acme/widgets", 1), let repo = gh.repo("acme/widgets") {
    say("  🔀 stream-rows was updated: \(try repo.git.git("log", "-1", "--format=%s", head))")
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
    try writeConfig(signers: ["maint-mona", "octo-contributor"])
    while let line = readLine() {
        let words = line.split(separator: " ", maxSplits: 3).map(String.init)
        switch words.first {
        case "comment" where words.count == 4 && Int(words[2]) != nil:
            let payload = comment(words[3].replacingOccurrences(of: "\\n", with: "\n"), by: words[1], on: Int(words[2])!)()
            let d = WebhookDelivery(event: "issue_comment", payload: payload, secret: secret)
            let out = try host.map { try d.post(to: $0.url("slash-dispatch")).body }
                ?? d.pipe(to: binary("slash-dispatch"), environment: [
                    "GITHUB_API_URL": api, "GITHUB_TOKEN": "demo-token", "GITHUB_WEBHOOK_SECRET": secret,
                    "SWITCHYARD_CONFIG": userConfig ?? configPath, "SWITCHYARD_FUNCTIONS_DIR": sourceRoot + "/functions"]).stdout
            say(String(decoding: out, as: UTF8.self))
        case "chat" where words.count >= 3:
            let text = words.dropFirst(2).joined(separator: " ")
            let form = "channel_id=c&channel_name=town-square&command=%2Fswitchyard&team_domain=acme&team_id=t&token=demo-mattermost&user_id=\(words[1])&user_name=\(words[1])&text="
                + (text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")
            let env: JSON = ["headers": ["content-type": "application/x-www-form-urlencoded"], "body": .string(form)]
            let p = Process()
            p.executableURL = URL(fileURLWithPath: binary("slash-dispatch"))
            p.environment = ["GITHUB_API_URL": api, "GITHUB_TOKEN": "demo-token", "MATTERMOST_TOKEN": "demo-mattermost",
                             "SWITCHYARD_CONFIG": userConfig ?? configPath, "SWITCHYARD_FUNCTIONS_DIR": sourceRoot + "/functions",
                             "SWITCHYARD_LOG_LEVEL": "warning"]
            let i = Pipe(), o = Pipe()
            p.standardInput = i; p.standardOutput = o
            try p.run()
            i.fileHandleForWriting.write(Data(env.encoded().utf8)); try i.fileHandleForWriting.close()
            let reply = try? JSON.parse(Array(o.fileHandleForReading.readDataToEndOfFile()))
            p.waitUntilExit()
            say(reply?["text"]?.string ?? "no reply")
        case "timeline" where words.count == 2 && Int(words[1]) != nil:
            let n = Int(words[1])!
            for c in gh.comments("acme/widgets", issue: n) { say("  💬 \(c.user): \(c.body.prefix(140))") }
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
