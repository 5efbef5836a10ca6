import Foundation
import Testing
import SwitchyardCore
import SwitchyardTesting

/// The fault matrix: every scenario run clean, then once for every GitHub call index N of the clean run
/// and every kind of fault at that call, each failed delivery redelivered up to twice (as GitHub or a
/// platform would; a redelivery sees the lease of a dead run as expired, like a clock moved on). GitHub's
/// final state (branches and trees, pull requests with labels and assignees, comments, statuses,
/// reactions, runs, deployments, and the provisioner's servers) must equal the clean run's in every case,
/// with no contradictory comment left behind.
@Suite("Fault matrix")
struct FaultMatrixTests {
    static let secret = "matrix-secret"
    static let full = "acme/widgets"

    enum Kind: String, CaseIterable, Sendable {
        case transient5xx, persistent5xx, appliedThen5xx, appliedThenDrop, appliedThenReset, secondaryRateLimit
        func fault(at n: Int) -> GitHubEmulator.Fault {
            switch self {
            case .transient5xx: .init(pathContains: "/", skip: n, times: 1, kind: .status(502, "Server Error"))
            case .persistent5xx: .init(pathContains: "/", skip: n, times: .max, kind: .status(502, "Server Error"))
            case .appliedThen5xx: .init(pathContains: "/", skip: n, times: 1, kind: .appliedThenStatus(502))
            case .appliedThenDrop: .init(pathContains: "/", skip: n, times: 1, kind: .appliedThenDrop)
            case .appliedThenReset: .init(pathContains: "/", skip: n, times: 1, kind: .lostResponse)
            // GitHub asks to wait a minute: past the deadline, so the delivery fails and is redelivered.
            case .secondaryRateLimit: .init(pathContains: "/", skip: n, times: 1, kind: .secondaryRateLimit(retryAfter: 60))
            }
        }
    }

    /// One test's GitHub (and, for label-deploy, provisioner and chat webhooks).
    final class World: @unchecked Sendable {
        let gh: GitHubEmulator
        let url: String
        var lab: LabelDeployEndToEndTests.Lab?
        var config: String = ""
        let cache = NSTemporaryDirectory() + "matrix-cache-\(UUID().uuidString)"
        init(gh: GitHubEmulator, url: String) { self.gh = gh; self.url = url }
        init(lab: LabelDeployEndToEndTests.Lab) { self.lab = lab; gh = lab.gh; url = lab.url }

        /// A redelivery comes later: a dead run's lease has run out (the fake clock is the lease setting).
        func config(redelivery: Bool) throws -> String {
            redelivery ? try Support.writeConfig(config + "\nrepos:\n  acme/widgets:\n    cherry-pick: { lease-seconds: 0 }\n") : try Support.writeConfig(config)
        }

        func run(_ function: String, _ event: String, _ payload: JSON, redelivery: Bool) throws -> Bool {
            let env = ["GITHUB_API_URL": url, "GITHUB_TOKEN": Support.token(of: gh), "GITHUB_WEBHOOK_SECRET": FaultMatrixTests.secret,
                       "SWITCHYARD_CONFIG": try config(redelivery: redelivery), "SWITCHYARD_DEADLINE_MS": "4000", "SWITCHYARD_CACHE_DIR": cache]
            let r = try Support.run(function, environment: env,
                                    stdin: Support.envelope(event: event, body: Array(payload.encoded().utf8), secret: FaultMatrixTests.secret))
            return FaultMatrixTests.succeeded(r)
        }
    }

    static func succeeded(_ r: Support.Run) -> Bool { r.status == 0 && r.json != nil && r.json?["outcome"]?.string != "failed" }

    /// One delivery: its payload is taken once (a redelivery sends the same bytes), it may be tried again.
    final class Delivery: @unchecked Sendable {
        let attempt: (World, Bool) throws -> Bool
        init(_ attempt: @escaping (World, Bool) throws -> Bool) { self.attempt = attempt }

        static func github(_ function: String, _ event: String, _ payload: @escaping (GitHubEmulator) -> JSON) -> Delivery {
            var taken: JSON? = nil
            return Delivery { w, redelivery in
                if taken == nil { taken = payload(w.gh) }
                return try w.run(function, event, taken!, redelivery: redelivery)
            }
        }
    }

    struct Scenario: Sendable, CustomTestStringConvertible {
        var name: String
        var testDescription: String { name }
    }

    static let scenarios = ["cherry-pick squash", "cherry-pick rebase", "cherry-pick merge commit", "update-branch", "sla-check",
                            "housekeeping label message", "housekeeping merge block", "e2e start", "e2e cancel",
                            "label-deploy create", "label-deploy update", "label-deploy delete"].map(Scenario.init)
        // FAULT_MATRIX_ONLY=<text> narrows a run by hand to the scenarios whose names contain it.
        .filter { s in ProcessInfo.processInfo.environment["FAULT_MATRIX_ONLY"].map { s.name.contains($0) } ?? true }

    /// A fresh world for a scenario, set up as far as the deliveries under test, and those deliveries.
    static func setup(_ name: String) throws -> (World, [Delivery]) {
        if name.hasPrefix("label-deploy") { return try labelDeploy(name) }
        let (gh, url) = try Support.world()
        gh.backgroundDelayMilliseconds = 20
        let w = World(gh: gh, url: url)
        let repo = gh.repo(full)!
        try repo.git.setRef("refs/heads/release-1.0", to: repo.git.resolve("refs/heads/main")!)
        func comment(_ body: String, _ n: Int = 1) -> (GitHubEmulator) -> JSON {
            let id = gh.addComment(full, issue: n, user: "maint-mona", body: body)
            return { $0.commentEvent(full, commentID: id) }
        }
        switch name {
        case "cherry-pick squash", "cherry-pick rebase", "cherry-pick merge commit":
            let method: GitHubEmulator.MergeMethod = name.hasSuffix("squash") ? .squash : name.hasSuffix("rebase") ? .rebase : .merge
            try gh.commit(full, branch: "two", from: "main", files: ["r1.txt": "1\n"], message: "First of two")
            try gh.commit(full, branch: "two", files: ["src/a.txt": "one\ntwo\nthree\nfour\n"], message: "Second of two")
            let n = try gh.openPull(full, title: "Two changes", author: "octo-contributor", head: "two")
            try gh.mergePull(full, n, method: method)
            return (w, [.github("cherry-pick", "issue_comment", comment("/cherry-pick release-1.0", n))])
        case "update-branch":
            return (w, [.github("update-branch", "issue_comment", comment("/update-branch"))])
        case "sla-check":
            w.config = "defaults:\n  cla: { signers: { list: [maint-mona] } }\n"
            return (w, [.github("sla-check", "pull_request", { $0.pullRequestEvent(full, 1, action: "opened") })])
        case "housekeeping label message":
            w.config = "defaults:\n  housekeeping:\n    label-messages:\n      - { label: Needs Rebase, message: \"{author} please rebase.\" }\n"
            gh.setLabels(full, issue: 1, ["Needs Rebase"], by: "maint-mona")
            return (w, [.github("housekeeping", "pull_request", { $0.pullRequestEvent(full, 1, action: "labeled", label: "Needs Rebase") })])
        case "housekeeping merge block":
            gh.setLabels(full, issue: 1, ["Do Not Merge"], by: "maint-mona")
            return (w, [.github("housekeeping", "pull_request", { $0.pullRequestEvent(full, 1, action: "labeled", label: "Do Not Merge") })])
        case "e2e start":
            w.config = "defaults:\n  e2e: { workflow: e2e.yml }\n"
            return (w, [.github("e2e-trigger", "issue_comment", comment("/e2e-test"))])
        default:   // e2e cancel: a run started cleanly, then cancelled under faults
            w.config = "defaults:\n  e2e: { workflow: e2e.yml }\n"
            #expect(try w.run("e2e-trigger", "issue_comment", comment("/e2e-test")(gh), redelivery: false))
            gh.clearLog()
            return (w, [.github("e2e-trigger", "issue_comment", comment("/e2e-cancel"))])
        }
    }

    static func labelDeploy(_ name: String) throws -> (World, [Delivery]) {
        let lab = try LabelDeployEndToEndTests.Lab()
        lab.extra["SWITCHYARD_DEADLINE_MS"] = "4000"
        let w = World(lab: lab)
        let cloud = LabelDeployEndToEndTests.cloud
        func ok(_ r: Support.Run) -> Bool { succeeded(r) }
        /// The provisioner's work and every webhook it sends. A webhook that failed stays pending and is
        /// sent again on the next attempt (the provisioner itself never retries: label-deploy's
        /// reconciliation run is what finds a lost one in production).
        final class Pending: @unchecked Sendable { var events: [ProvisionerEmulator.Event]? = nil }
        let pending = Pending()
        let webhooks = Delivery { w, _ in
            while true {
                if pending.events == nil { pending.events = w.lab!.prov.settle() }
                var left: [ProvisionerEmulator.Event] = []
                for e in pending.events! where !ok(try w.lab!.deliver(e)) { left.append(e) }
                pending.events = left
                guard left.isEmpty else { return false }
                // Delivering may have started more work (an update after a push made during creation).
                let more = w.lab!.prov.settle()
                if more.isEmpty { return true }
                pending.events = more
            }
        }
        func labelDelivery() -> Delivery {
            Delivery { w, _ in ok(try w.lab!.github("pull_request", w.gh.pullRequestEvent(full, 1, action: "labeled", sender: "maint-mona", label: cloud))) }
        }
        switch name {
        case "label-deploy create":
            lab.gh.setLabels(full, issue: 1, [cloud], by: "maint-mona")
            return (w, [labelDelivery(), webhooks])
        case "label-deploy update":
            lab.gh.setLabels(full, issue: 1, [cloud], by: "maint-mona")
            #expect(ok(try lab.github("pull_request", lab.gh.pullRequestEvent(full, 1, action: "labeled", sender: "maint-mona", label: cloud))))
            #expect(try webhooks.attempt(w, false))
            try lab.gh.commit(full, branch: "feature", files: ["pushed.txt": "x\n"], message: "push")
            lab.gh.clearLog()
            let sync = Delivery { w, _ in ok(try w.lab!.github("pull_request", w.gh.pullRequestEvent(full, 1, action: "synchronize"))) }
            return (w, [sync, webhooks])
        default:   // delete
            lab.gh.setLabels(full, issue: 1, [cloud], by: "maint-mona")
            #expect(ok(try lab.github("pull_request", lab.gh.pullRequestEvent(full, 1, action: "labeled", sender: "maint-mona", label: cloud))))
            #expect(try webhooks.attempt(w, false))
            lab.gh.setLabels(full, issue: 1, [], by: "maint-mona")
            lab.gh.clearLog()
            let unlabel = Delivery { w, _ in
                ok(try w.lab!.github("pull_request", w.gh.pullRequestEvent(full, 1, action: "unlabeled", sender: "maint-mona", label: cloud)))
            }
            return (w, [unlabel, webhooks])
        }
    }

    static func snapshot(_ w: World) throws -> String {
        var text = try GitHubState.snapshot(w.gh)
        if let lab = w.lab {
            text += "\n" + lab.prov.all.map { "server \($0.name) \($0.state) \($0.owner) \($0.version)" }.joined(separator: "\n")
                .replacing(/\b[0-9a-f]{7}\b/, with: "SHA")
            text += "\ncredentials \(lab.credentials.messages.count)"
        }
        return text
    }

    /// Runs every delivery; a failed one is redelivered (at most twice) once the fault has passed.
    static func play(_ w: World, _ deliveries: [Delivery]) throws -> Bool {
        var anyFailed = false
        for d in deliveries {
            var ok = try d.attempt(w, false)
            if w.gh.faultsFired > 0 { w.gh.clearFaults() }   // a persistent fault lasts for the run it hit
            if w.lab?.prov.faultFired == true { w.lab?.prov.clearFaults() }
            var tries = 0
            while !ok && tries < 2 {
                anyFailed = true
                tries += 1
                w.gh.clearFaults(); w.lab?.prov.clearFaults()
                ok = try d.attempt(w, true)
            }
        }
        return anyFailed
    }

    @Test("every fault at every call converges", arguments: scenarios)
    func matrix(_ scenario: Scenario) throws {
        // Clean.
        var (w, deliveries) = try Self.setup(scenario.name)
        let before = w.gh.requests.count
        let provBefore = w.lab?.prov.requests.count ?? 0
        #expect(try !Self.play(w, deliveries), "the clean run of \(scenario.name) failed")
        let clean = try Self.snapshot(w)
        let calls = w.gh.requests.count - before
        let provCalls = (w.lab?.prov.requests.count ?? 0) - provBefore
        #expect(calls > 0)
        // Replayed: every delivery twice changes nothing.
        (w, deliveries) = try Self.setup(scenario.name)
        for d in deliveries { _ = try d.attempt(w, false); _ = try d.attempt(w, false) }
        let replayed = try Self.snapshot(w)
        #expect(replayed == clean, "replaying \(scenario.name): \(GitHubState.firstDifference(clean, replayed))")

        var cases = 0, survived = 0, recovered = 0
        var lost: [String] = []
        for n in 0..<calls {
            for kind in Kind.allCases {
                (w, deliveries) = try Self.setup(scenario.name)
                w.gh.inject(kind.fault(at: n))
                let failed = try Self.play(w, deliveries)
                let state = try Self.snapshot(w)
                cases += 1
                if state == clean { if failed { recovered += 1 } else { survived += 1 } }
                else { lost.append("call \(n) \(kind): \(GitHubState.firstDifference(clean, state))") }
            }
        }
        // The provisioner's calls too, for label-deploy.
        for n in 0..<provCalls {
            for fault: ProvisionerEmulator.Fault in [.status(502), .reset, .status(503)] {
                (w, deliveries) = try Self.setup(scenario.name)
                w.lab!.prov.inject(skip: n, fault)
                let failed = try Self.play(w, deliveries)
                let state = try Self.snapshot(w)
                cases += 1
                if state == clean { if failed { recovered += 1 } else { survived += 1 } }
                else { lost.append("provisioner call \(n) \(fault): \(GitHubState.firstDifference(clean, state))") }
            }
        }
        print("fault matrix \(scenario.name): \(calls) GitHub calls\(provCalls > 0 ? " and \(provCalls) provisioner calls" : ""), \(cases) cases: \(survived) survived, \(recovered) redelivered and converged, \(lost.count) differ")
        #expect(lost.isEmpty, "\(lost.prefix(4))")
    }
}
