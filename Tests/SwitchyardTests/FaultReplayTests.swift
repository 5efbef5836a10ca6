import Foundation
import Testing
import SwitchyardCore
import SwitchyardTesting

/// Each capability's scenario run clean, with every step replayed, and with a fault injected at every
/// GitHub call in turn (500, reset, timeout, secondary rate limit). The final GitHub state must equal
/// the clean run's, either directly (survived) or after retrying the step that reported the failure
/// (reported); anything else is lost. No temporary ref may be left.
@Suite("Faults and replays", .serialized)
struct FaultReplayTests {
    struct Step { var function: String; var event: String; var payload: (GitHubEmulator) -> JSON }
    struct Scenario: Sendable, CustomTestStringConvertible {
        var name: String
        var testDescription: String { name }
    }

    static let secret = "fault-secret"
    static let scenarios = ["update-branch", "sla-check", "cherry-pick", "housekeeping", "e2e-trigger"].map(Scenario.init)

    static func config() throws -> String {
        return try Support.writeConfig("""
            defaults:
              cla: { signers: { list: [maint-mona, octo-contributor] } }
              housekeeping:
                label-messages:
                  - { label: Needs Rebase, message: "{author} please rebase." }
              e2e: { workflow: e2e.yml }
            """)
    }

    /// A fresh world for a scenario, and its steps.
    static func setup(_ name: String) throws -> (GitHubEmulator, String, [Step]) {
        let (gh, url) = try Support.world()
        let repo = gh.repo("acme/widgets")!
        try repo.git.setRef("refs/heads/release-1.0", to: repo.git.resolve("refs/heads/main")!)
        func comment(_ body: String) -> (GitHubEmulator) -> JSON {
            let id = gh.addComment("acme/widgets", issue: 1, user: "maint-mona", body: body)
            return { $0.commentEvent("acme/widgets", commentID: id) }
        }
        switch name {
        case "update-branch":
            return (gh, url, [Step(function: "update-branch", event: "issue_comment", payload: comment("/update-branch"))])
        case "sla-check":
            return (gh, url, [Step(function: "sla-check", event: "pull_request", payload: { $0.pullRequestEvent("acme/widgets", 1, action: "opened") })])
        case "cherry-pick":
            try gh.mergePull("acme/widgets", 1, method: .squash)
            return (gh, url, [Step(function: "cherry-pick", event: "issue_comment", payload: comment("/cherry-pick release-1.0"))])
        case "housekeeping":
            gh.updatePull("acme/widgets", 1) { $0.labels = ["Needs Rebase", "Do Not Merge"] }
            return (gh, url, [Step(function: "housekeeping", event: "pull_request",
                                   payload: { $0.pullRequestEvent("acme/widgets", 1, action: "labeled", label: "Needs Rebase") })])
        default:
            return (gh, url, [Step(function: "e2e-trigger", event: "issue_comment", payload: comment("/e2e-test"))])
        }
    }

    /// What a person would see on GitHub, with volatile ids folded.
    static func snapshot(_ gh: GitHubEmulator) throws -> String {
        gh.settle()
        let repo = gh.repo("acme/widgets")!
        var lines: [String] = []
        for n in 1...4 {
            for c in gh.comments("acme/widgets", issue: n) where c.user == "switchyard[bot]" { lines.append("comment #\(n) \(Self.readable(c.body))") }
            lines.append("labels #\(n) \(gh.labels("acme/widgets", issue: n).sorted())")
            if let p = gh.pull("acme/widgets", n) { lines.append("pull #\(n) \(p.title) \(p.headRef)->\(p.baseRef) \(p.state) \(p.assignees)") }
            if let head = gh.headSHA("acme/widgets", n) {
                var latest: [String: String] = [:]
                for s in gh.statuses("acme/widgets", sha: head) { latest[s.context] = s.state }
                lines.append("statuses #\(n) \(latest.sorted { $0.key < $1.key })")
            }
        }
        lines.append("refs " + (try repo.git.git("for-each-ref", "--format=%(refname)")))
        lines.append("runs \(gh.workflowRuns("acme/widgets").map(\.status))")
        let text = lines.joined(separator: "\n")
        // Object ids (4+ digits) and shas depend on how many objects a run created, not on what a person sees.
        return text.replacing(/[0-9a-f]{40}/, with: "SHA").replacing(/`[0-9a-f]{7}`/, with: "`SHA`")
            .replacing(/\b[0-9a-f]{7}\b/, with: "SHA").replacing(/[0-9]{4,}/, with: "N")
    }

    /// A body with each marker's state decoded, so that the shas in it are normalized like the rest.
    static func readable(_ body: String) -> String {
        var text = body
        for m in Marker.all(in: body) { text += "\nstate \(m.key) \(m.state?.encoded() ?? "-")" }
        return text.replacing(/\ state=[A-Za-z0-9_-]+\ -->/, with: " -->")
    }

    static func run(_ step: Step, _ gh: GitHubEmulator, _ url: String, config: String) throws -> Bool {
        let r = try Support.run(step.function, environment: [
            "GITHUB_API_URL": url, "GITHUB_TOKEN": Support.token(of: gh), "GITHUB_WEBHOOK_SECRET": secret,
            "SWITCHYARD_CONFIG": config, "SWITCHYARD_DEADLINE_MS": "2500"],
            stdin: Support.envelope(event: step.event, body: Array(step.payload(gh).encoded().utf8), secret: secret))
        let outcome = r.json?["outcome"]?.string
        return r.status == 0 && outcome != "failed" && r.json != nil
    }

    @Test("clean, replayed and faulted runs converge", arguments: scenarios)
    func converge(_ scenario: Scenario) throws {
        let config = try Self.config()
        // Clean.
        var (gh, url, steps) = try Self.setup(scenario.name)
        for s in steps { #expect(try Self.run(s, gh, url, config: config)) }
        let clean = try Self.snapshot(gh)
        let calls = gh.requests.count
        #expect(calls > 0)
        // Every step twice.
        (gh, url, steps) = try Self.setup(scenario.name)
        for s in steps { _ = try Self.run(s, gh, url, config: config); _ = try Self.run(s, gh, url, config: config) }
        #expect(try Self.snapshot(gh) == clean, "replaying \(scenario.name) changed the outcome")
        // A fault at every call in turn.
        let kinds: [GitHubEmulator.Fault.Kind] = [.status(500, "Server Error"), .reset, .slow(milliseconds: 3_000), .secondaryRateLimit(retryAfter: 1)]
        var survived = 0, reported = 0, lost: [String] = []
        for i in 0..<calls {
            (gh, url, steps) = try Self.setup(scenario.name)
            gh.inject(.init(pathContains: "/", skip: i, times: 1, kind: kinds[i % kinds.count]))
            var failed = false
            for s in steps where !(try Self.run(s, gh, url, config: config)) {
                failed = true
                gh.clearFaults()
                // Retried once the failed invocation is surely over (its deadline, plus margin), as a
                // redelivery or a new comment would be.
                Thread.sleep(forTimeInterval: 4.5)
                _ = try Self.run(s, gh, url, config: config)   // GitHub redelivers, or someone comments again
            }
            let state = try Self.snapshot(gh)
            if state == clean { if failed { reported += 1 } else { survived += 1 } }
            else { lost.append("call \(i) (\(kinds[i % kinds.count])): \(Self.firstDifference(clean, state))") }
            #expect(!state.contains("switchyard-tmp"))
        }
        print("faults \(scenario.name): \(calls) injected, \(survived) survived, \(reported) reported and converged, \(lost.count) lost")
        #expect(lost.isEmpty, "\(lost.prefix(3))")
    }

    static func firstDifference(_ a: String, _ b: String) -> String {
        let x = a.split(separator: "\n"), y = b.split(separator: "\n")
        for (l, r) in zip(x, y) where l != r { return "expected «\(l.prefix(160))», got «\(r.prefix(160))»" }
        return "\(x.count) vs \(y.count) lines"
    }

    /// label-deploy: labelled, then the provisioner's webhooks; faults at every GitHub and every
    /// provisioner call in turn. The provisioner's servers are part of the state compared.
    @Test func labelDeployConverges() throws {
        typealias Lab = LabelDeployEndToEndTests.Lab
        func steps(_ lab: Lab) -> [() throws -> Bool] {
            func ok(_ r: Support.Run) -> Bool { r.status == 0 && r.json != nil && r.json?["outcome"]?.string != "failed" }
            return [
                { ok(try lab.pr("labeled", label: LabelDeployEndToEndTests.cloud)) },
                { lab.prov.clearFaults(); let events = lab.prov.settle(); return try events.map { ok(try lab.deliver($0)) }.allSatisfy { $0 } },
                // Redelivered by the provisioner (no settling): only the webhooks.
                { try lab.prov.events.map { ok(try lab.deliver($0)) }.allSatisfy { $0 } },
            ]
        }
        func snapshot(_ lab: Lab) throws -> String {
            let deployments = lab.gh.deployments(LabelDeployEndToEndTests.full).map { "deployment \($0.environment) \($0.statuses.map(\.state))" }
            let servers = lab.prov.all.map { "server \($0.name) \($0.state) \($0.owner)" }
            return ([try Self.snapshot(lab.gh)] + deployments + servers).joined(separator: "\n")
        }
        func lab() throws -> Lab { let l = try Lab(); l.extra["SWITCHYARD_DEADLINE_MS"] = "2500"; return l }
        let clean = try lab()
        for s in steps(clean) { #expect(try s()) }
        let expected = try snapshot(clean)
        #expect(expected.contains("is ready") && expected.contains("deployment pr-1 [\"in_progress\", \"success\"]"), "\(expected)")
        let ghCalls = clean.gh.requests.count, provCalls = clean.prov.requests.count
        let twice = try lab()
        for s in steps(twice) { _ = try s(); _ = try s() }
        #expect(try snapshot(twice) == expected, "replaying changed the outcome")

        var survived = 0, reported = 0, lost: [String] = []
        let ghKinds: [GitHubEmulator.Fault.Kind] = [.status(500, "Server Error"), .reset, .slow(milliseconds: 3_000), .secondaryRateLimit(retryAfter: 1)]
        let provKinds: [ProvisionerEmulator.Fault] = [.status(500), .reset, .slow(milliseconds: 3_000), .status(503)]
        for i in 0..<(ghCalls + provCalls) {
            let l = try lab()
            let github = i < ghCalls
            if github { l.gh.inject(.init(pathContains: "/", skip: i, times: 1, kind: ghKinds[i % ghKinds.count])) }
            else { l.prov.inject(skip: i - ghCalls, provKinds[i % provKinds.count]) }
            var failed = false
            for s in steps(l) where !(try s()) {
                failed = true
                l.gh.clearFaults(); l.prov.clearFaults()
                Thread.sleep(forTimeInterval: 3.2)   // a slow answer's work is surely done, as before a redelivery
                _ = try s()
            }
            let state = try snapshot(l)
            if state == expected { if failed { reported += 1 } else { survived += 1 } }
            else { lost.append("\(github ? "GitHub" : "provisioner") call \(github ? i : i - ghCalls): \(Self.firstDifference(expected, state))") }
        }
        print("faults label-deploy: \(ghCalls + provCalls) injected (\(provCalls) at the provisioner), \(survived) survived, \(reported) reported and converged, \(lost.count) lost")
        #expect(lost.isEmpty, "\(lost.prefix(3))")
    }
}
