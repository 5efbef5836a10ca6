import Foundation
import Testing
import SwitchyardCore
import SwitchyardTesting

/// The built `housekeeping` against the GitHub emulator.
@Suite("housekeeping end to end", .serialized)
struct HousekeepingEndToEndTests {
    let secret = "hk-secret"
    let full = "acme/widgets"

    func config(_ extra: String = "") throws -> String {
        return try Support.writeConfig("""
            defaults:
              housekeeping:
                label-messages:
                  - label: Needs Rebase
                    message: "{author} please rebase this pull request onto the latest main."
                cleanup-labels: [Awaiting Review, Work In Progress]
                blocking-labels: [Do Not Merge, Work In Progress]
                welcome:
                  message: "Welcome {author}, and thank you for your first pull request!"
                  labels: [Contributor]
                  team: reviewers
                stale:
                  days: 30
                  per-page: 2
                  pages: 1
            \(extra)
            """)
    }

    func run(_ gh: GitHubEmulator, _ url: String, _ event: String, _ payload: JSON, config: String) throws -> Support.Run {
        try Support.run("housekeeping", environment: ["GITHUB_API_URL": url, "GITHUB_TOKEN": Support.token(of: gh),
                                                      "GITHUB_WEBHOOK_SECRET": secret, "SWITCHYARD_CONFIG": config],
                        stdin: Support.envelope(event: event, body: Array(payload.encoded().utf8), secret: secret))
    }

    func bot(_ gh: GitHubEmulator, _ n: Int) -> [String] { gh.comments(full, issue: n).filter { $0.user == "switchyard[bot]" }.map(\.body) }

    @Test func labelMessageOnceEvenWhenRedelivered() throws {
        let (gh, url) = try Support.world()
        let cfg = try config()
        gh.updatePull(full, 1) { $0.labels = ["Needs Rebase"] }
        let event = gh.pullRequestEvent(full, 1, action: "labeled", sender: "maint-mona", label: "Needs Rebase")
        _ = try run(gh, url, "pull_request", event, config: cfg)
        #expect(gh.requests.count == 5)   // the PR now, status, identity, comment lookup, message
        gh.clearLog()
        _ = try run(gh, url, "pull_request", event, config: cfg)
        let messages = bot(gh, 1).filter { $0.contains("please rebase") }
        #expect(messages.count == 1)
        #expect(messages.first?.contains("@octo-contributor") == true)
        #expect(gh.requests.filter { $0.method == "POST" && $0.path.hasSuffix("/comments") }.isEmpty)
        #expect(gh.requests.count == 3)   // the PR now, status, comment lookup
    }

    @Test func mergeBlockStatusFollowsTheHeadAcrossAPush() throws {
        let (gh, url) = try Support.world()
        let cfg = try config()
        func state(_ sha: String) -> String? { gh.statuses(full, sha: sha).filter { $0.context == "merge/blocked" }.last?.state }
        let first = try #require(gh.headSHA(full, 1))
        gh.updatePull(full, 1) { $0.labels = ["Do Not Merge"] }
        _ = try run(gh, url, "pull_request", gh.pullRequestEvent(full, 1, action: "labeled", label: "Do Not Merge"), config: cfg)
        #expect(state(first) == "failure")
        #expect(gh.statuses(full, sha: first).last?.description?.contains("Do Not Merge") == true)
        try gh.commit(full, branch: "feature", files: ["more.txt": "more\n"], message: "More")
        let second = try #require(gh.headSHA(full, 1))
        _ = try run(gh, url, "pull_request", gh.pullRequestEvent(full, 1, action: "synchronize"), config: cfg)
        #expect(state(second) == "failure")
        gh.updatePull(full, 1) { $0.labels = [] }
        _ = try run(gh, url, "pull_request", gh.pullRequestEvent(full, 1, action: "unlabeled", label: "Do Not Merge"), config: cfg)
        #expect(state(second) == "success")
    }

    @Test func welcomeAndCleanUp() throws {
        let (gh, url) = try Support.world()
        let cfg = try config()
        gh.updatePull(full, 1) { $0.firstTime = true; $0.labels = ["Awaiting Review", "bug"] }
        var r = try run(gh, url, "pull_request", gh.pullRequestEvent(full, 1, action: "opened"), config: cfg)
        #expect(r.json?["outcome"]?.string == "done", "\(r.stdout)")
        #expect(bot(gh, 1).filter { $0.contains("Welcome @octo-contributor") }.count == 1)
        #expect(gh.labels(full, issue: 1).contains("Contributor"))
        #expect(gh.pull(full, 1)?.requestedTeams == ["reviewers"])
        _ = try run(gh, url, "pull_request", gh.pullRequestEvent(full, 1, action: "opened"), config: cfg)
        #expect(bot(gh, 1).filter { $0.contains("Welcome") }.count == 1)
        gh.closePull(full, 1)
        r = try run(gh, url, "pull_request", gh.pullRequestEvent(full, 1, action: "closed"), config: cfg)
        #expect(gh.labels(full, issue: 1).contains("Awaiting Review") == false)
        #expect(gh.labels(full, issue: 1).contains("bug"))
    }

    @Test func staleRunsAreBoundedAndResume() throws {
        let (gh, url) = try Support.world()
        let cfg = try config()
        // Five old PRs by an outsider, one old PR by a member, one recent PR.
        var old: [Int] = []
        for i in 0..<5 {
            try gh.commit(full, branch: "old-\(i)", files: ["o\(i).txt": "o\n"], message: "o\(i)")
            old.append(try gh.openPull(full, title: "Old \(i)", author: "octo-contributor", head: "old-\(i)"))
        }
        try gh.commit(full, branch: "member-old", files: ["m.txt": "m\n"], message: "m")
        let member = try gh.openPull(full, title: "Member's old PR", author: "maint-mona", head: "member-old")
        for (i, n) in (old + [member, 1]).enumerated() { gh.updatePull(full, n) { $0.updatedAt = "2026-01-0\(i + 1)T00:00:00Z" } }
        gh.updatePull(full, 1) { $0.updatedAt = "2099-01-01T00:00:00Z" }
        let schedule: JSON = ["schedule": "stale", "repository": "acme/widgets"]
        var marked: [Int] = []
        for _ in 0..<5 {
            gh.clearLog()
            let r = try run(gh, url, "schedule", schedule, config: cfg)
            #expect(gh.requests.count <= 9)   // one page, then per PR marked: membership, label, comment lookup, message; identity once
            #expect(r.status == 0, "\(r.stdout)")
            marked = (old + [member, 1]).filter { gh.labels(full, issue: $0).contains("lifecycle/stale") }
        }
        #expect(Set(marked) == Set(old))
        for n in old { #expect(bot(gh, n).count == 1, "#\(n)") }
        #expect(bot(gh, member).isEmpty)
        // New activity lifts the label.
        try gh.commit(full, branch: "old-0", files: ["again.txt": "a\n"], message: "again")
        _ = try run(gh, url, "pull_request", gh.pullRequestEvent(full, old[0], action: "synchronize"), config: cfg)
        #expect(!gh.labels(full, issue: old[0]).contains("lifecycle/stale"))
    }

    @Test func autoMergeWaitsForARedCheckThenMerges() throws {
        let (gh, url) = try Support.world()
        let cfg = try config("repos:\n  acme/widgets:\n    housekeeping:\n      blocking-labels: []\n")
        try gh.commit(full, branch: "auto", files: ["auto.txt": "a\n"], message: "auto")
        let n = try gh.openPull(full, title: "Auto", author: "octo-contributor", head: "auto", labels: ["AutoMerge"])
        let head = try #require(gh.headSHA(full, n))
        let status = { (state: String) in gh.addStatus("acme/widgets", sha: head, state: state, context: "ci/test") }
        status("failure")
        var r = try run(gh, url, "pull_request", gh.pullRequestEvent(full, n, action: "labeled", sender: "maint-mona", label: "AutoMerge"), config: cfg)
        #expect(gh.pull(full, n)?.merged == false, "\(r.stdout)")
        #expect(bot(gh, n).filter { $0.contains("will be merged") }.count == 1)
        status("success")
        let statusEvent: JSON = ["sha": .string(head), "state": "success", "context": "ci/test",
                                 "repository": ["name": "widgets", "full_name": "acme/widgets", "owner": ["login": "acme"]]]
        gh.clearLog()
        r = try run(gh, url, "status", statusEvent, config: cfg)
        #expect(gh.requests.count == 4)   // open PRs, the PR, combined status, merge
        #expect(r.json?["outcome"]?.string == "done", "\(r.stdout)")
        #expect(gh.pull(full, n)?.merged == true)
        #expect(gh.requests.contains { $0.method == "PUT" && $0.path.hasSuffix("/merge") && $0.body?["sha"]?.string == head })
        #expect(bot(gh, n).count == 1)
        #expect(gh.contractViolations.isEmpty, "\(gh.contractViolations)")
    }
}
