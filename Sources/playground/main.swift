import Foundation
import SwitchyardCore
import SwitchyardRuntime
import SwitchyardTesting

/// The playground: a demo GitHub (the emulator, seeded), the function binaries, and a scenario played
/// over the real path: signed deliveries in, REST calls back over loopback HTTP. No account, no network.
let interactive = CommandLine.arguments.contains("--interactive")
let colour = isatty(1) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
func paint(_ s: String, _ code: String) -> String { colour ? "\u{1B}[\(code)m\(s)\u{1B}[0m" : s }
func say(_ s: String) { FileHandle.standardOutput.write(Data((s + "\n").utf8)) }

let binDir = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")).map { ($0 as NSString).deletingLastPathComponent }
    ?? (CommandLine.arguments[0] as NSString).deletingLastPathComponent
func binary(_ name: String) -> String? {
    let p = binDir + "/" + name
    return FileManager.default.isExecutableFile(atPath: p) ? p : nil
}

let secret = "playground-webhook-secret"
let gh = try GitHubEmulator()
try Fixture.load(Fixture.demo, into: gh)
let api = try gh.start()
say(paint("Switchyard playground", "1") + "  GitHub emulator at \(api), repo acme/widgets, PR #1 (behind main)")

struct Step { var title: String; var function: String; var event: String; var payload: JSON; var dryRun = false; var expect: String }
final class Counter: @unchecked Sendable { var value = 5000 }
let commentIDs = Counter()
func comment(_ body: String, by user: String, on number: Int = 1) -> JSON {
    commentIDs.value += 1
    let commentID = commentIDs.value
    return [
        "action": "created",
        "issue": ["number": .int(number), "title": "Stream rows in the importer", "state": "open",
                  "user": ["login": "octo-contributor", "type": "User"],
                  "pull_request": ["url": .string("\(api)/repos/acme/widgets/pulls/\(number)")]],
        "comment": ["id": .int(commentID), "body": .string(body), "user": ["login": .string(user), "type": "User"],
                    "created_at": "2026-11-25T12:00:00Z"],
        "repository": ["name": "widgets", "full_name": "acme/widgets", "owner": ["login": "acme", "type": "Organization"]],
        "sender": ["login": .string(user), "type": "User"],
        "installation": ["id": 4242],
    ]
}

var steps: [Step] = []
let mona = comment("Let's get this current before review.\n\n/update-branch", by: "maint-mona")
steps.append(Step(title: "maint-mona comments /update-branch (dry run: plan only)", function: "update-branch", event: "issue_comment", payload: mona, dryRun: true, expect: "planned"))
steps.append(Step(title: "the same comment, for real", function: "update-branch", event: "issue_comment", payload: mona, expect: "done"))
steps.append(Step(title: "GitHub redelivers that comment", function: "update-branch", event: "issue_comment", payload: mona, expect: "ignored"))
steps.append(Step(title: "random-rita tries /update-branch", function: "update-branch", event: "issue_comment", payload: comment("/update-branch", by: "random-rita"), expect: "rejected"))
steps.append(Step(title: "someone quotes the command in a code block", function: "update-branch", event: "issue_comment", payload: comment("Run this:\n```\n/update-branch\n```", by: "maint-mona"), expect: "ignored"))

var failures = 0
for (i, step) in steps.enumerated() {
    guard let path = binary(step.function) else {
        say(paint("missing binary \(step.function) next to the playground; run `swift build` first", "31")); exit(1)
    }
    let delivery = WebhookDelivery(event: step.event, payload: step.payload, id: "playground-\(i)", secret: secret)
    let run = try delivery.pipe(to: path, environment: [
        "GITHUB_API_URL": api, "GITHUB_TOKEN": "demo-token", "GITHUB_WEBHOOK_SECRET": secret,
        "PATH": "/usr/bin:/bin", "SWITCHYARD_LOG_LEVEL": "warning"], arguments: step.dryRun ? ["--dry-run"] : [])
    let out = run.stdout
    let response = try? JSON.parse(Array(out))
    let outcome = response?["outcome"]?.string ?? "no answer"
    let ok = outcome == step.expect
    if !ok { failures += 1 }
    say("\n\(paint("▶ \(i + 1). \(step.title)", "1;36"))")
    say("  \(step.function) → \(paint(outcome, ok ? "32" : "31"))\(ok ? "" : " (expected \(step.expect))"): \(response?["message"]?.string ?? String(decoding: out, as: UTF8.self))")
    for a in response?["actions"]?.array ?? [] {
        say("    \(step.dryRun ? "would" : "did"): \(a["type"]?.string ?? "?") \(a["issue"]?.string ?? a["pull"]?.string ?? "")")
    }
}

say("\n" + paint("Timeline of acme/widgets#1", "1"))
for c in gh.comments("acme/widgets", issue: 1) {
    let text = c.body.components(separatedBy: "\n").first ?? ""
    say("  💬 \(c.user): \(text)")
}
let repo = gh.repo("acme/widgets")!
if let head = gh.headSHA("acme/widgets", 1) {
    say("  🔀 head of stream-rows is now \(head.prefix(7)): \(try repo.git.git("log", "-1", "--format=%s", head))")
}
let writes = gh.requests.filter { $0.method != "GET" }.count
say("\n\(paint("Summary", "1")): \(steps.count) events, \(gh.requests.count) GitHub API requests (\(writes) writes), " +
    "\(gh.contractViolations.count) calls GitHub does not have, \(failures) unexpected outcomes.")
if !gh.contractViolations.isEmpty { say(gh.contractViolations.joined(separator: "\n")) }
if interactive {
    say("\nThe emulator keeps running at \(api) (token: demo-token). Press Ctrl-C to stop.")
    while true { sleep(3600) }
}
exit(failures == 0 && gh.contractViolations.isEmpty ? 0 : 1)
