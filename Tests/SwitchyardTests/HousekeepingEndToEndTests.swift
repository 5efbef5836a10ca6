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
        #expect(gh.requests.count == 5)   // open PRs, the PR, combined status, reviews, merge
        #expect(r.json?["outcome"]?.string == "done", "\(r.stdout)")
        #expect(gh.pull(full, n)?.merged == true)
        #expect(gh.requests.contains { $0.method == "PUT" && $0.path.hasSuffix("/merge") && $0.body?["sha"]?.string == head })
        #expect(bot(gh, n).count == 1)
        #expect(gh.contractViolations.isEmpty, "\(gh.contractViolations)")
    }

    // MARK: Mattermod's chores

    @Test func everyAuthorOutsideTheOrganizationIsWelcomedMembersAreNot() throws {
        let (gh, url) = try Support.world()
        let cfg = try config()
        // Not GitHub's first-timer: Mattermod welcomes every author who is not a member.
        _ = try run(gh, url, "pull_request", gh.pullRequestEvent(full, 1, action: "opened"), config: cfg)
        #expect(bot(gh, 1).filter { $0.contains("Welcome @octo-contributor") }.count == 1)
        #expect(gh.labels(full, issue: 1) == ["Contributor"])
        #expect(gh.pull(full, 1)?.requestedTeams == ["reviewers"])
        // A member's PR, and a bot's: nothing.
        try gh.commit(full, branch: "member-work", files: ["m.txt": "m\n"], message: "m")
        let member = try gh.openPull(full, title: "Member", author: "maint-mona", head: "member-work")
        try gh.commit(full, branch: "deps", files: ["d.txt": "d\n"], message: "d")
        let deps = try gh.openPull(full, title: "Bump", author: "dependabot[bot]", head: "deps")
        for n in [member, deps] {
            let r = try run(gh, url, "pull_request", gh.pullRequestEvent(full, n, action: "opened"), config: cfg)
            #expect(bot(gh, n).isEmpty, "\(r.stdout)")
            #expect(gh.labels(full, issue: n).isEmpty)
            #expect(gh.pull(full, n)?.requestedTeams == [])
        }
        // `who: first-time` keeps the older, narrower rule.
        let narrow = try config("repos:\n  acme/widgets:\n    housekeeping:\n      welcome:\n        who: first-time\n        message: hi {author}\n")
        try gh.commit(full, branch: "second", files: ["s.txt": "s\n"], message: "s")
        let second = try gh.openPull(full, title: "Second", author: "octo-contributor", head: "second")
        _ = try run(gh, url, "pull_request", gh.pullRequestEvent(full, second, action: "opened"), config: narrow)
        #expect(bot(gh, second).isEmpty)
    }

    @Test func autoMergeWaitsForRequestedReviewersAndChangesRequested() throws {
        let (gh, url) = try Support.world()
        let cfg = try config("repos:\n  acme/widgets:\n    housekeeping:\n      blocking-labels: []\n")
        try gh.commit(full, branch: "auto", files: ["auto.txt": "a\n"], message: "auto")
        let n = try gh.openPull(full, title: "Auto", author: "octo-contributor", head: "auto", labels: ["AutoMerge"])
        let head = try #require(gh.headSHA(full, n))
        gh.addStatus(full, sha: head, state: "success", context: "ci/test")
        gh.updatePull(full, n) { $0.requestedReviewers = ["maint-mona"] }
        let statusEvent: JSON = ["sha": .string(head), "state": "success", "context": "ci/test",
                                 "repository": ["name": "widgets", "full_name": "acme/widgets", "owner": ["login": "acme"]]]
        _ = try run(gh, url, "status", statusEvent, config: cfg)   // GitHub computes mergeability after this first read
        var r = try run(gh, url, "status", statusEvent, config: cfg)
        #expect(gh.pull(full, n)?.merged == false)
        #expect(r.json?["message"]?.string?.contains("asked of @maint-mona") == true, "\(r.stdout)\(r.stderr)")
        gh.addReview(full, n, user: "maint-mona", state: "CHANGES_REQUESTED")
        r = try run(gh, url, "pull_request_review", gh.reviewEvent(full, n), config: cfg)
        #expect(gh.pull(full, n)?.merged == false)
        #expect(r.json?["message"]?.string?.contains("changes requested by @maint-mona") == true, "\(r.stdout)")
        gh.addReview(full, n, user: "maint-mona", state: "APPROVED")
        r = try run(gh, url, "pull_request_review", gh.reviewEvent(full, n), config: cfg)
        #expect(gh.pull(full, n)?.merged == true, "\(r.stdout)")
        #expect(gh.contractViolations.isEmpty, "\(gh.contractViolations)")
    }

    @Test func autoMergeCanRequireApprovals() throws {
        let (gh, url) = try Support.world()
        let cfg = try config("repos:\n  acme/widgets:\n    housekeeping:\n      blocking-labels: []\n      auto-merge:\n        required-approvals: 1\n")
        try gh.commit(full, branch: "auto", files: ["auto.txt": "a\n"], message: "auto")
        let n = try gh.openPull(full, title: "Auto", author: "octo-contributor", head: "auto", labels: ["AutoMerge"])
        gh.addStatus(full, sha: try #require(gh.headSHA(full, n)), state: "success", context: "ci/test")
        var r = try run(gh, url, "pull_request", gh.pullRequestEvent(full, n, action: "labeled", sender: "maint-mona", label: "AutoMerge"), config: cfg)
        #expect(gh.pull(full, n)?.merged == false)
        #expect(r.json?["message"]?.string?.contains("0 of 1 approvals") == true, "\(r.stdout)")
        gh.addReview(full, n, user: "maint-mona", state: "APPROVED")
        r = try run(gh, url, "pull_request_review", gh.reviewEvent(full, n), config: cfg)
        #expect(gh.pull(full, n)?.merged == true, "\(r.stdout)")
    }

    func reviewers(_ gh: GitHubEmulator) throws {
        for u in ["rev-ana", "rev-ben", "rev-cal"] { gh.addUser(u); gh.repo(full)?.collaborators[u] = .write }
        try gh.commit(full, branch: "main", files: [".github/CODEOWNERS": "# owners\n*       @rev-cal\n/src/   @rev-ana @rev-ben @octo-contributor\n*.md    @acme/reviewers\n"],
                      message: "Owners")
    }

    func comment(_ gh: GitHubEmulator, _ url: String, _ n: Int, by user: String, _ body: String, config: String) throws -> Support.Run {
        let id = gh.addComment(full, issue: n, user: user, body: body)
        return try run(gh, url, "issue_comment", gh.commentEvent(full, commentID: id), config: config)
    }

    @Test func autoassignAsksOwnersOfTheChangedFilesNeverTheAuthorAndOnlyOnce() throws {
        let (gh, url) = try Support.world()
        try reviewers(gh)
        let cfg = try config()
        let id = gh.addComment(full, issue: 1, user: "octo-contributor", body: "/autoassign")
        var r = try run(gh, url, "issue_comment", gh.commentEvent(full, commentID: id), config: cfg)
        #expect(r.json?["outcome"]?.string == "done", "\(r.stdout)\(r.stderr)")
        // src/b.txt is owned by rev-ana, rev-ben and the author; the author is never asked.
        #expect(Set(gh.pull(full, 1)?.requestedReviewers ?? []) == ["rev-ana", "rev-ben"])
        #expect(bot(gh, 1).contains { $0.contains("@rev-ana") && $0.contains("CODEOWNERS") })
        // The same delivery again: nobody new, no second answer.
        gh.clearLog()
        r = try run(gh, url, "issue_comment", gh.commentEvent(full, commentID: id), config: cfg)
        #expect(!gh.requests.contains { $0.method == "POST" })
        // A new request once both are asked: enough reviewers already.
        r = try comment(gh, url, 1, by: "octo-contributor", "/autoassign", config: cfg)
        #expect(r.json?["outcome"]?.string == "ignored")
        #expect(bot(gh, 1).contains { $0.contains("already has 2 reviewers") })
        #expect(Set(gh.pull(full, 1)?.requestedReviewers ?? []) == ["rev-ana", "rev-ben"])
        // Someone who is neither the author nor a member is refused.
        r = try comment(gh, url, 1, by: "random-rita", "/autoassign", config: cfg)
        #expect(bot(gh, 1).contains { $0.contains("@random-rita only") })
        #expect(gh.contractViolations.isEmpty, "\(gh.contractViolations)")
    }

    @Test func autoassignFallsBackToThePoolAndReportsRefusals() throws {
        let (gh, url) = try Support.world()
        try reviewers(gh)
        let pool = try config("repos:\n  acme/widgets:\n    housekeeping:\n      autoassign:\n        owners-file: \"\"\n        reviewers: 1\n        pool: [octo-contributor, rev-cal]\n")
        // A reviewer who already reviewed counts; the pool never yields the author.
        var r = try comment(gh, url, 1, by: "octo-contributor", "/autoassign", config: pool)
        #expect(gh.pull(full, 1)?.requestedReviewers == ["rev-cal"], "\(r.stdout)")
        #expect(bot(gh, 1).contains { $0.contains("reviewer pool") })
        // An outsider in the pool: GitHub refuses, and the reply says why.
        try gh.commit(full, branch: "second", files: ["s.txt": "s\n"], message: "s")
        let n = try gh.openPull(full, title: "Second", author: "maint-mona", head: "second")
        let outsider = try config("repos:\n  acme/widgets:\n    housekeeping:\n      autoassign:\n        owners-file: \"\"\n        reviewers: 1\n        pool: [random-rita]\n")
        r = try comment(gh, url, n, by: "maint-mona", "/autoassign", config: outsider)
        #expect(r.json?["outcome"]?.string == "ignored", "\(r.stdout)")
        #expect(bot(gh, n).contains { $0.contains("nobody is left to ask") && $0.contains("not collaborators): `random-rita`") }, "\(bot(gh, n))")
        #expect(gh.pull(full, n)?.requestedReviewers == [])
        // Nobody to ask, and a team configured: the team's own assignment picks.
        let team = try config("repos:\n  acme/widgets:\n    housekeeping:\n      autoassign:\n        owners-file: \"\"\n        team: reviewers\n")
        r = try comment(gh, url, n, by: "maint-mona", "/autoassign", config: team)
        #expect(gh.pull(full, n)?.requestedTeams == ["reviewers"], "\(r.stdout)")
    }

    @Test func pathAndSeasonRulesApplyOnceAndLeaveHumanChoicesAlone() throws {
        let (gh, url) = try Support.world()
        let fmt = DateFormatter()
        fmt.dateFormat = "MM-dd"
        fmt.timeZone = TimeZone(identifier: "UTC")
        let today = fmt.string(from: Date())
        let later = fmt.string(from: Date().addingTimeInterval(3 * 86_400))
        let cfg = try config("""
            repos:
              acme/widgets:
                housekeeping:
                  rules:
                    - name: translations
                      when: {paths: ["i18n/"], exclude-paths: [i18n/en.json]}
                      then:
                        labels: [Do Not Merge]
                        notice: "Thank you {author}! Translations are made on translate.example.com, not in pull requests."
                    - name: logging
                      when: {added-lines: ["mlog.Error(", "mlog.Critical("], author: non-member}
                      then:
                        team-reviewers: [reviewers]
                        notice: "Gentle reminder to check the logging principles; {reviewers} will have a look."
                    - name: hacktoberfest
                      when: {from: "\(today)", to: "\(today)", author: non-member, events: [opened]}
                      then: {labels: [Hacktoberfest, hacktoberfest-accepted]}
                    - name: out-of-season
                      when: {from: "\(later)", to: "\(later)"}
                      then: {labels: [Never]}
            """)
        try gh.commit(full, branch: "i18n", files: ["i18n/fr.json": "{}\n", "i18n/en.json": "{}\n",
                                                    "server/log.go": "package server\n\nfunc f() { mlog.Error(\"boom\") }\n"], message: "fr")
        let n = try gh.openPull(full, title: "French", author: "octo-contributor", head: "i18n")
        var r = try run(gh, url, "pull_request", gh.pullRequestEvent(full, n, action: "opened"), config: cfg)
        #expect(r.json?["outcome"]?.string == "done", "\(r.stdout)\(r.stderr)")
        #expect(Set(gh.labels(full, issue: n)) == ["Contributor", "Do Not Merge", "Hacktoberfest", "hacktoberfest-accepted"])
        #expect(bot(gh, n).filter { $0.contains("translate.example.com") && $0.contains("@octo-contributor") }.count == 1)
        #expect(bot(gh, n).filter { $0.contains("logging principles") && $0.contains("@acme/reviewers") }.count == 1)
        #expect(gh.pull(full, n)?.requestedTeams == ["reviewers"])
        // Redelivered, and a later push: nothing twice.
        _ = try run(gh, url, "pull_request", gh.pullRequestEvent(full, n, action: "opened"), config: cfg)
        // A maintainer takes the Do Not Merge label off and pushes: the rule does not put it back.
        gh.relabel(full, n, remove: ["Do Not Merge"], by: "maint-mona")
        try gh.commit(full, branch: "i18n", files: ["i18n/de.json": "{}\n"], message: "de")
        r = try run(gh, url, "pull_request", gh.pullRequestEvent(full, n, action: "synchronize"), config: cfg)
        #expect(!gh.labels(full, issue: n).contains("Do Not Merge"), "\(r.stdout)")
        #expect(bot(gh, n).count == 3)   // the welcome and the two notices
        // A member's logging change, with no translation: no rule applies.
        try gh.commit(full, branch: "member-log", files: ["server/other.go": "mlog.Critical(\"x\")\n"], message: "log")
        let m = try gh.openPull(full, title: "Log", author: "maint-mona", head: "member-log")
        r = try run(gh, url, "pull_request", gh.pullRequestEvent(full, m, action: "opened"), config: cfg)
        #expect(bot(gh, m).isEmpty, "\(r.stdout)")
        #expect(gh.labels(full, issue: m).isEmpty)
        #expect(gh.contractViolations.isEmpty, "\(gh.contractViolations)")
    }

    @Test func ruleMistakesAreRefusedNotWidenedAndARefusedReviewerStopsNothing() throws {
        let (gh, url) = try Support.world()
        try gh.commit(full, branch: "member-work", files: ["m.txt": "m\n"], message: "m")
        let member = try gh.openPull(full, title: "Member", author: "maint-mona", head: "member-work")
        for bad in ["      - name: typo\n        when: {path: [\"i18n/\"]}\n        then: {labels: [X]}\n",
                    "      - name: who\n        when: {author: non-members}\n        then: {labels: [X]}\n",
                    "      - name: when\n        when: {from: \"10-1\"}\n        then: {labels: [X]}\n",
                    "      - when: {author: member}\n        then: {labels: [X]}\n"] {
            let cfg = try config("repos:\n  acme/widgets:\n    housekeeping:\n      rules:\n" + bad)
            let r = try run(gh, url, "pull_request", gh.pullRequestEvent(full, member, action: "opened"), config: cfg)
            #expect(r.json?["status"]?.int == 500, "\(bad): \(r.stdout)")
            #expect(r.json?["message"]?.string?.contains("rules[0]") == true, "\(r.stdout)")
            #expect(gh.labels(full, issue: member).isEmpty)
        }
        // `welcome: false` is off.
        let off = try Support.writeConfig("defaults:\n  housekeeping:\n    welcome: false\n")
        _ = try run(gh, url, "pull_request", gh.pullRequestEvent(full, 1, action: "opened"), config: off)
        #expect(gh.labels(full, issue: 1).isEmpty && bot(gh, 1).isEmpty)
        // A reviewer GitHub refuses is left out; the next rule still applies.
        let cfg = try Support.writeConfig("""
            defaults:
              housekeeping:
                rules:
                  - name: ask-rita
                    when: {author: non-member}
                    then: {reviewers: [random-rita, maint-mona], notice: "asking {reviewers}"}
                  - name: tag
                    when: {author: non-member}
                    then: {labels: [Tagged]}
            """)
        let r = try run(gh, url, "pull_request", gh.pullRequestEvent(full, 1, action: "opened"), config: cfg)
        #expect(r.json?["outcome"]?.string == "done", "\(r.stdout)\(r.stderr)")
        #expect(gh.pull(full, 1)?.requestedReviewers == ["maint-mona"])
        #expect(gh.labels(full, issue: 1) == ["Tagged"])
    }

    @Test func outsidersReviewsNeitherHoldNorApproveAnAutoMerge() throws {
        let (gh, url) = try Support.world()
        let cfg = try config("repos:\n  acme/widgets:\n    housekeeping:\n      blocking-labels: []\n      auto-merge:\n        required-approvals: 1\n")
        try gh.commit(full, branch: "auto", files: ["auto.txt": "a\n"], message: "auto")
        let n = try gh.openPull(full, title: "Auto", author: "octo-contributor", head: "auto", labels: ["AutoMerge"])
        gh.addStatus(full, sha: try #require(gh.headSHA(full, n)), state: "success", context: "ci/test")
        _ = try run(gh, url, "pull_request", gh.pullRequestEvent(full, n, action: "labeled", sender: "maint-mona", label: "AutoMerge"), config: cfg)
        gh.addReview(full, n, user: "random-rita", state: "APPROVED")
        var r = try run(gh, url, "pull_request_review", gh.reviewEvent(full, n), config: cfg)
        #expect(gh.pull(full, n)?.merged == false)
        #expect(r.json?["message"]?.string?.contains("0 of 1 approvals") == true, "\(r.stdout)")
        gh.addReview(full, n, user: "maint-mona", state: "APPROVED")
        gh.addReview(full, n, user: "random-rita", state: "CHANGES_REQUESTED")
        r = try run(gh, url, "pull_request_review", gh.reviewEvent(full, n), config: cfg)
        #expect(gh.pull(full, n)?.merged == true, "\(r.stdout)")
    }
}
