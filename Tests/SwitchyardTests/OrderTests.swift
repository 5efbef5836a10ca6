import Foundation
import Testing
import SwitchyardCore
import SwitchyardTesting

/// Deliveries out of order: for every pair of events that can arrive out of order for one pull request,
/// GitHub's state is changed as the events say, then the two are delivered in order and, in a second
/// world, in the other order (a late delivery). The final state must be the in-order run's. A late
/// replay of an old delivery, after the pull request moved on, must change nothing either.
@Suite("Delivery order")
struct OrderTests {
    static let secret = "order-secret"
    static let full = "acme/widgets"

    struct Event { var function: String; var name: String; var payload: JSON }

    struct Pair: Sendable, CustomTestStringConvertible {
        var name: String
        var testDescription: String { name }
    }

    static let pairs = ["housekeeping labeled/unlabeled", "housekeeping synchronize/labeled", "housekeeping status/labeled",
                        "cherry-pick closed/labeled", "e2e-trigger closed/labeled", "e2e-trigger synchronize/labeled",
                        "sla-check synchronize/synchronize", "label-deploy labeled/unlabeled", "label-deploy synchronize/labeled",
                        "label-deploy closed/labeled"].map(Pair.init)

    static let config = """
        defaults:
          cla: { signers: { list: [maint-mona, octo-contributor] } }
          e2e: { workflow: e2e.yml }
          deploy: { domain: test.example.com }
        """

    /// A world, the state changes the two events report (made in order), and the two events.
    static func setup(_ pair: String) throws -> (GitHubEmulator, String, LabelDeployEndToEndTests.Lab?, [Event]) {
        let lab = pair.hasPrefix("label-deploy") ? try LabelDeployEndToEndTests.Lab() : nil
        let (gh, url) = try lab.map { ($0.gh, $0.url) } ?? Support.world()
        gh.backgroundDelayMilliseconds = 10
        let repo = gh.repo(full)!
        try repo.git.setRef("refs/heads/release-1.0", to: repo.git.resolve("refs/heads/main")!)
        func pr(_ function: String, _ action: String, label: String? = nil, sender: String = "maint-mona") -> Event {
            Event(function: function, name: "pull_request", payload: gh.pullRequestEvent(full, 1, action: action, sender: sender, label: label))
        }
        let cloud = LabelDeployEndToEndTests.cloud
        switch pair {
        case "housekeeping labeled/unlabeled":
            gh.setLabels(full, issue: 1, ["Do Not Merge"], by: "maint-mona")
            let a = pr("housekeeping", "labeled", label: "Do Not Merge")
            gh.setLabels(full, issue: 1, [], by: "maint-mona")
            return (gh, url, lab, [a, pr("housekeeping", "unlabeled", label: "Do Not Merge")])
        case "housekeeping synchronize/labeled":
            try gh.commit(full, branch: "feature", files: ["p.txt": "p\n"], message: "push")
            let a = pr("housekeeping", "synchronize")
            gh.setLabels(full, issue: 1, ["Do Not Merge"], by: "maint-mona")
            return (gh, url, lab, [a, pr("housekeeping", "labeled", label: "Do Not Merge")])
        case "housekeeping status/labeled":
            gh.setLabels(full, issue: 1, ["AutoMerge"], by: "maint-mona")
            let a = pr("housekeeping", "labeled", label: "AutoMerge")
            try gh.commit(full, branch: "feature", files: ["p.txt": "p\n"], message: "push")
            try gh.commit(full, branch: "feature", files: ["README.md": "widgets, updated\n"], message: "catch up")
            let head = gh.headSHA(full, 1)!
            gh.addStatus(full, sha: head, state: "success", context: "ci/test")
            let status: JSON = ["sha": .string(head), "state": "success", "context": "ci/test",
                                "repository": ["name": "widgets", "full_name": .string(full), "owner": ["login": "acme"]]]
            return (gh, url, lab, [a, Event(function: "housekeeping", name: "status", payload: status)])
        case "cherry-pick closed/labeled":
            gh.setLabels(full, issue: 1, ["cherry-pick/release-1.0"], by: "maint-mona")
            let a = pr("cherry-pick", "labeled", label: "cherry-pick/release-1.0")
            try gh.mergePull(full, 1, method: .squash)
            return (gh, url, lab, [a, pr("cherry-pick", "closed")])
        case "e2e-trigger closed/labeled":
            gh.setLabels(full, issue: 1, ["E2E/Run"], by: "maint-mona")
            let a = pr("e2e-trigger", "labeled", label: "E2E/Run")
            gh.updatePull(full, 1) { $0.state = "closed" }
            return (gh, url, lab, [a, pr("e2e-trigger", "closed")])
        case "e2e-trigger synchronize/labeled":
            gh.setLabels(full, issue: 1, ["E2E/Run"], by: "maint-mona")
            let a = pr("e2e-trigger", "labeled", label: "E2E/Run")
            try gh.commit(full, branch: "feature", files: ["p.txt": "p\n"], message: "push")
            return (gh, url, lab, [a, pr("e2e-trigger", "synchronize")])
        case "sla-check synchronize/synchronize":
            try gh.commit(full, branch: "feature", files: ["p.txt": "p\n"], message: "push one")
            let a = pr("sla-check", "synchronize")
            try gh.commit(full, branch: "feature", files: ["q.txt": "q\n"], message: "push two", author: ("Someone", "someone@example.com"))
            return (gh, url, lab, [a, pr("sla-check", "synchronize")])
        case "label-deploy labeled/unlabeled":
            gh.setLabels(full, issue: 1, [cloud], by: "maint-mona")
            let a = pr("label-deploy", "labeled", label: cloud)
            gh.setLabels(full, issue: 1, [], by: "maint-mona")
            return (gh, url, lab, [a, pr("label-deploy", "unlabeled", label: cloud)])
        case "label-deploy synchronize/labeled":
            try gh.commit(full, branch: "feature", files: ["p.txt": "p\n"], message: "push")
            let a = pr("label-deploy", "synchronize")
            gh.setLabels(full, issue: 1, [cloud], by: "maint-mona")
            return (gh, url, lab, [a, pr("label-deploy", "labeled", label: cloud)])
        default:   // label-deploy closed/labeled
            gh.setLabels(full, issue: 1, [cloud], by: "maint-mona")
            let a = pr("label-deploy", "labeled", label: cloud)
            gh.updatePull(full, 1) { $0.state = "closed" }
            return (gh, url, lab, [a, pr("label-deploy", "closed")])
        }
    }

    static func deliver(_ e: Event, _ gh: GitHubEmulator, _ url: String, _ lab: LabelDeployEndToEndTests.Lab?) throws {
        if let lab {
            _ = try lab.github(e.name, e.payload)
            for w in lab.prov.settle() { _ = try lab.deliver(w) }
            return
        }
        _ = try Support.run(e.function, environment: [
            "GITHUB_API_URL": url, "GITHUB_TOKEN": Support.token(of: gh), "GITHUB_WEBHOOK_SECRET": secret,
            "SWITCHYARD_CONFIG": try Support.writeConfig(config)],
            stdin: Support.envelope(event: e.name, body: Array(e.payload.encoded().utf8), secret: secret))
    }

    static func state(_ gh: GitHubEmulator, _ lab: LabelDeployEndToEndTests.Lab?) throws -> String {
        var text = try GitHubState.snapshot(gh)
        if let lab { text += "\n" + lab.live.map { "server \($0.name) \($0.state)" }.joined(separator: "\n") }
        return text
    }

    @Test("both orders end alike", arguments: pairs)
    func bothOrders(_ pair: Pair) throws {
        var (gh, url, lab, events) = try Self.setup(pair.name)
        for e in events { try Self.deliver(e, gh, url, lab) }
        let inOrder = try Self.state(gh, lab)
        (gh, url, lab, events) = try Self.setup(pair.name)
        for e in events.reversed() { try Self.deliver(e, gh, url, lab) }
        let reversed = try Self.state(gh, lab)
        #expect(reversed == inOrder, "\(pair.name): \(GitHubState.firstDifference(inOrder, reversed))")
        // A late replay of the first delivery, after everything: nothing changes.
        try Self.deliver(events[0], gh, url, lab)
        let replayed = try Self.state(gh, lab)
        #expect(replayed == reversed, "\(pair.name), replayed late: \(GitHubState.firstDifference(reversed, replayed))")
    }

    @Test func aLateReplayOfAnOldCommandChangesNothing() throws {
        let (gh, url) = try Support.world()
        let id = gh.addComment(Self.full, issue: 1, user: "maint-mona", body: "/update-branch")
        let event = Event(function: "update-branch", name: "issue_comment", payload: gh.commentEvent(Self.full, commentID: id))
        try Self.deliver(event, gh, url, nil)
        gh.settle()
        try gh.commit(Self.full, branch: "main", files: ["later.txt": "l\n"], message: "main moves on")
        let before = try Self.state(gh, nil)
        try Self.deliver(event, gh, url, nil)
        #expect(try Self.state(gh, nil) == before)
    }
}
