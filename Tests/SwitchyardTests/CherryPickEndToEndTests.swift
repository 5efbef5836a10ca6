import Foundation
import Testing
import SwitchyardCore
import SwitchyardTesting
import CherryPick

/// The built `cherry-pick` against the GitHub emulator, whose git data is real git.
@Suite("cherry-pick end to end", .serialized)
struct CherryPickEndToEndTests {
    let secret = "pick-secret"
    let full = "acme/widgets"

    /// main has a release-1.0 branch cut from it, then main moves on with a main-only change.
    func world() throws -> (GitHubEmulator, String) {
        let (gh, url) = try Support.world()
        gh.addUser("octo-contributor", emails: ["octo@example.com"])
        let repo = try #require(gh.repo(full))
        let main = try #require(repo.git.resolve("refs/heads/main"))
        try repo.git.setRef("refs/heads/release-1.0", to: main)
        try repo.git.setRef("refs/heads/release-2.0", to: main)
        try gh.commit(full, branch: "main", files: ["main-only.txt": "only on main\n"], message: "Main-only work")
        return (gh, url)
    }

    /// A PR from `branch` with the given commits (each a file change), opened by octo-contributor.
    func pull(_ gh: GitHubEmulator, branch: String, commits: [(file: String, content: String)], title: String = "Fix the importer",
              body: String? = "Fixes the importer.\n\n```release-note\nThe importer streams rows.\n```") throws -> Int {
        for (i, c) in commits.enumerated() {
            try gh.commit(full, branch: branch, from: "main", files: [c.file: c.content], message: "Change \(i + 1) of \(branch)",
                          author: ("Octo Contributor", "octo@example.com"))
        }
        return try gh.openPull(full, title: title, author: "octo-contributor", head: branch, body: body)
    }

    func run(_ gh: GitHubEmulator, _ url: String, _ event: String, _ payload: JSON, config: String? = nil) throws -> Support.Run {
        var env = ["GITHUB_API_URL": url, "GITHUB_TOKEN": Support.token(of: gh), "GITHUB_WEBHOOK_SECRET": secret]
        if let config { env["SWITCHYARD_CONFIG"] = config }
        return try Support.run("cherry-pick", environment: env, stdin: Support.envelope(event: event, body: Array(payload.encoded().utf8), secret: secret))
    }

    func comment(_ gh: GitHubEmulator, _ n: Int, _ body: String, by user: String = "maint-mona") -> JSON {
        gh.commentEvent(full, commentID: gh.addComment(full, issue: n, user: user, body: body))
    }

    func temporaryRefs(_ gh: GitHubEmulator) throws -> String {
        try #require(gh.repo(full)).git.git("for-each-ref", "--format=%(refname)", "refs/heads/switchyard-tmp")
    }

    func botComments(_ gh: GitHubEmulator, _ n: Int) -> [String] {
        gh.comments(full, issue: n).filter { $0.user == "switchyard[bot]" }.map(\.body)
    }

    @Test func squashPickOnCommentIsCleanAndCheap() throws {
        let (gh, url) = try world()
        let n = try pull(gh, branch: "fix", commits: [("src/a.txt", "one\ntwo fixed\nthree\n"), ("src/c.txt", "new\n")])
        let merged = try gh.mergePull(full, n, method: .squash)
        gh.clearLog()
        let r = try run(gh, url, "issue_comment", comment(gh, n, "/cherry-pick release-1.0"))
        #expect(r.json?["outcome"]?.string == "done", "\(r.stdout)\(r.stderr)")
        let repo = try #require(gh.repo(full))
        let branch = "refs/heads/cherry-pick-\(n)-to-release-1.0"
        let tip = try #require(repo.git.resolve(branch))
        // The tree: the PR's change on the release branch, without main's later work.
        #expect(repo.git.file("src/a.txt", at: tip) == "one\ntwo fixed\nthree")
        #expect(repo.git.file("src/c.txt", at: tip) == "new")
        #expect(repo.git.file("main-only.txt", at: tip) == nil)
        #expect(try repo.git.git("rev-parse", tip + "^") == repo.git.resolve("refs/heads/release-1.0"))
        #expect(try repo.git.git("log", "-1", "--format=%B", tip).contains("(cherry picked from commit \(merged))"))
        #expect(try repo.git.git("log", "-1", "--format=%ae", tip) == "octo@example.com")
        // The backport PR.
        let backport = try #require(gh.pull(full, n + 1))
        #expect(backport.title == "[release-1.0] Fix the importer")
        #expect(backport.baseRef == "release-1.0")
        #expect(backport.body?.contains("#\(n)") == true)
        #expect(backport.body?.contains("The importer streams rows.") == true)
        #expect(backport.labels == ["AutomatedCherryPick"])
        #expect(backport.assignees == ["maint-mona"])
        #expect(gh.labels(full, issue: n).contains("CherryPick/Done"))
        #expect(botComments(gh, n).count == 1)
        #expect(botComments(gh, n)[0].contains("#\(n + 1)"))
        #expect(try temporaryRefs(gh).isEmpty)
        #expect(gh.contractViolations.isEmpty, "\(gh.contractViolations)")
        // 19 requests, the PR, its labels and assignee (each an idempotent add), the reply and Switchyard's
        // identity (once per token) included, and whose review to ask (the author's membership, the
        // original's reviews).
        #expect(gh.requests.count <= 19, "\(gh.requests.map(\.description))")
    }

    @Test func mergedEventPicksPendingRequestsAndReplayCreatesNothing() throws {
        let (gh, url) = try world()
        let n = try pull(gh, branch: "fix", commits: [("src/a.txt", "one\ntwo fixed\nthree\n")])
        // Asked while open: acknowledged in one sticky note.
        var r = try run(gh, url, "issue_comment", comment(gh, n, "/cherry-pick release-1.0 release-2.0"))
        #expect(r.json?["outcome"]?.string == "done")
        r = try run(gh, url, "issue_comment", comment(gh, n, "/cherry-pick cancel release-2.0"))
        let notes = botComments(gh, n)
        #expect(notes.count == 1)
        #expect(notes[0].contains("`release-1.0`"))
        #expect(!notes[0].contains("`release-2.0`"))
        try gh.mergePull(full, n, method: .squash)
        gh.clearLog()
        let closed = gh.pullRequestEvent(full, n, action: "closed")
        r = try run(gh, url, "pull_request", closed)
        #expect(r.json?["outcome"]?.string == "done", "\(r.stdout)")
        // 16, plus one edit of the note that was written while the PR was open.
        #expect(gh.requests.count <= 20, "\(gh.requests.map(\.description))")
        #expect(botComments(gh, n).first?.contains("release-1.0: #") == true)
        let repo = try #require(gh.repo(full))
        #expect(repo.git.resolve("refs/heads/cherry-pick-\(n)-to-release-1.0") != nil)
        #expect(repo.git.resolve("refs/heads/cherry-pick-\(n)-to-release-2.0") == nil)   // cancelled
        // GitHub redelivers the merged event: nothing new.
        let pullsBefore = gh.requests.count
        r = try run(gh, url, "pull_request", closed)
        #expect(r.json?["outcome"]?.string == "ignored")
        #expect(gh.requests.dropFirst(pullsBefore).allSatisfy { $0.method == "GET" })
        #expect(botComments(gh, n).count == 2)
        #expect(gh.pull(full, n + 2) == nil)
    }

    @Test func rebaseMergedPullOfThreeCommits() throws {
        let (gh, url) = try world()
        let n = try pull(gh, branch: "three", commits: [("r1.txt", "1\n"), ("r2.txt", "2\n"), ("src/a.txt", "one\ntwo\nthree\nfour\n")])
        try gh.mergePull(full, n, method: .rebase)
        let r = try run(gh, url, "issue_comment", comment(gh, n, "/cherry-pick release-1.0"))
        #expect(r.json?["outcome"]?.string == "done", "\(r.stdout)")
        let repo = try #require(gh.repo(full))
        let tip = try #require(repo.git.resolve("refs/heads/cherry-pick-\(n)-to-release-1.0"))
        let subjects = try repo.git.git("log", "--format=%s", "refs/heads/release-1.0..\(tip)").split(separator: "\n")
        #expect(subjects == ["Change 3 of three", "Change 2 of three", "Change 1 of three"])
        #expect(repo.git.file("src/a.txt", at: tip) == "one\ntwo\nthree\nfour")
        #expect(repo.git.file("r1.txt", at: tip) == "1")
        #expect(repo.git.file("main-only.txt", at: tip) == nil)
    }

    @Test func mergeCommitPull() throws {
        let (gh, url) = try world()
        let n = try pull(gh, branch: "merged", commits: [("m1.txt", "1\n"), ("m2.txt", "2\n")])
        try gh.mergePull(full, n, method: .merge)
        let r = try run(gh, url, "issue_comment", comment(gh, n, "/cherry-pick release-1.0"))
        #expect(r.json?["outcome"]?.string == "done", "\(r.stdout)")
        let repo = try #require(gh.repo(full))
        let tip = try #require(repo.git.resolve("refs/heads/cherry-pick-\(n)-to-release-1.0"))
        #expect(repo.git.file("m1.txt", at: tip) == "1")
        #expect(repo.git.file("m2.txt", at: tip) == "2")
        #expect(repo.git.file("main-only.txt", at: tip) == nil)
        #expect(try repo.git.git("rev-list", "--count", "refs/heads/release-1.0..\(tip)") == "1")
    }

    @Test func twoTargetsInOneComment() throws {
        let (gh, url) = try world()
        let n = try pull(gh, branch: "fix", commits: [("src/a.txt", "one\ntwo fixed\nthree\n")])
        try gh.mergePull(full, n, method: .squash)
        let r = try run(gh, url, "issue_comment", comment(gh, n, "Please backport.\n/cherry-pick release-1.0 release-2.0"))
        #expect(r.json?["outcome"]?.string == "done", "\(r.stdout)")
        let repo = try #require(gh.repo(full))
        for t in ["release-1.0", "release-2.0"] {
            let tip = try #require(repo.git.resolve("refs/heads/cherry-pick-\(n)-to-\(t)"))
            #expect(repo.git.file("src/a.txt", at: tip) == "one\ntwo fixed\nthree")
        }
        #expect(botComments(gh, n).count == 2)
    }

    @Test func changesAlreadyOnTheTargetAreSkippedAndSaid() throws {
        let (gh, url) = try world()
        // The fix was already made on release-1.0 by hand.
        try gh.commit(full, branch: "release-1.0", files: ["src/a.txt": "one\ntwo fixed\nthree\n"], message: "Same fix on the release")
        let releaseHead = gh.repo(full)?.git.resolve("refs/heads/release-1.0")
        let n = try pull(gh, branch: "fix", commits: [("src/a.txt", "one\ntwo fixed\nthree\n")])
        try gh.mergePull(full, n, method: .squash)
        var r = try run(gh, url, "issue_comment", comment(gh, n, "/cherry-pick release-1.0"))
        #expect(r.json?["outcome"]?.string == "done", "\(r.stdout)")
        #expect(r.json?["message"]?.string?.contains("already there") == true)
        // No empty commit, no branch, no PR; one reply that says so.
        #expect(gh.repo(full)?.git.resolve("refs/heads/release-1.0") == releaseHead)
        #expect(gh.repo(full)?.git.resolve("refs/heads/cherry-pick-\(n)-to-release-1.0") == nil)
        #expect(gh.pull(full, n + 1) == nil)
        #expect(botComments(gh, n).count == 1)
        #expect(botComments(gh, n)[0].contains("nothing to cherry-pick to `release-1.0`"))
        // One of two commits already there: the other is picked, the reply names the one skipped.
        try gh.commit(full, branch: "release-2.0", files: ["r1.txt": "1\n"], message: "r1 by hand")
        let m = try pull(gh, branch: "two", commits: [("r1.txt", "1\n"), ("r2.txt", "2\n")], title: "Two")
        try gh.mergePull(full, m, method: .rebase)
        r = try run(gh, url, "issue_comment", comment(gh, m, "/cherry-pick release-2.0"))
        #expect(r.json?["outcome"]?.string == "done", "\(r.stdout)")
        let tip = try #require(gh.repo(full)?.git.resolve("refs/heads/cherry-pick-\(m)-to-release-2.0"))
        #expect(try gh.repo(full)!.git.git("rev-list", "--count", "refs/heads/release-2.0..\(tip)") == "1")
        #expect(botComments(gh, m).first?.contains("Already on `release-2.0`, so skipped") == true, "\(botComments(gh, m))")
    }

    @Test func anUnexpected404MidPickIsAFailureThatSaysSoAndIsRetried() throws {
        let (gh, url) = try world()
        let n = try pull(gh, branch: "fix", commits: [("src/a.txt", "one\ntwo fixed\nthree\n")])
        try gh.mergePull(full, n, method: .squash)
        gh.inject(.init(method: "POST", pathContains: "/merges", times: 1, kind: .status(404, "Not Found")))
        let payload = comment(gh, n, "/cherry-pick release-1.0")
        let r = try run(gh, url, "issue_comment", payload)
        // Not "bad input": GitHub failed; the delivery is failed (exit 1) and the requester is told.
        #expect(r.status == 1, "\(r.stdout)")
        #expect(r.json?["outcome"]?.string == "failed")
        #expect(botComments(gh, n).first?.contains("failed") == true)
        // The redelivery (once the claim's lease has passed) finishes, and the reply becomes the success.
        let again = try run(gh, url, "issue_comment", payload, config: try Support.writeConfig("defaults:\n  cherry-pick: { lease-seconds: 0 }\n"))
        #expect(again.json?["outcome"]?.string == "done", "\(again.stdout)")
        #expect(botComments(gh, n).count == 1)
        #expect(botComments(gh, n)[0].contains("cherry-picked to `release-1.0` in #\(n + 1)"))
    }

    @Test func aRealConflictGetsARecipeAndLeavesNothingBehind() throws {
        let (gh, url) = try world()
        try gh.commit(full, branch: "release-1.0", files: ["src/a.txt": "one\nTWO ON RELEASE\nthree\n"], message: "Release-only edit")
        let releaseHead = gh.repo(full)?.git.resolve("refs/heads/release-1.0")
        let n = try pull(gh, branch: "fix", commits: [("src/a.txt", "one\ntwo fixed\nthree\n")])
        let merged = try gh.mergePull(full, n, method: .squash)
        let r = try run(gh, url, "issue_comment", comment(gh, n, "/cherry-pick release-1.0"))
        #expect(r.json?["outcome"]?.string == "done", "\(r.stdout)")
        #expect(r.json?["message"]?.string?.contains("conflict") == true)
        let repo = try #require(gh.repo(full))
        #expect(repo.git.resolve("refs/heads/cherry-pick-\(n)-to-release-1.0") == nil)
        #expect(repo.git.resolve("refs/heads/release-1.0") == releaseHead)
        #expect(try temporaryRefs(gh).isEmpty)
        let body = try #require(botComments(gh, n).first)
        #expect(body.contains("`src/a.txt`"))
        #expect(body.contains("git cherry-pick -x \(merged)"))
        #expect(body.contains("git switch -c cherry-pick-\(n)-to-release-1.0 origin/release-1.0"))
        #expect(body.contains("compare/release-1.0...cherry-pick-\(n)-to-release-1.0"))
        #expect(body.components(separatedBy: "@maint-mona").count == 2)
        #expect(gh.labels(full, issue: n).contains("CherryPick/Conflict"))
        #expect(gh.pull(full, n + 1) == nil)
    }

    @Test func missingTargetAndNoPermissionAndClosedUnmerged() throws {
        let (gh, url) = try world()
        let n = try pull(gh, branch: "fix", commits: [("src/a.txt", "one\ntwo fixed\nthree\n")])
        try gh.mergePull(full, n, method: .squash)
        var r = try run(gh, url, "issue_comment", comment(gh, n, "/cherry-pick release-9.9"))
        #expect(botComments(gh, n).last?.contains("no such branch") == true)
        #expect(try temporaryRefs(gh).isEmpty)

        r = try run(gh, url, "issue_comment", comment(gh, n, "/cherry-pick release-1.0", by: "random-rita"))
        #expect(r.status == 3)
        #expect(botComments(gh, n).last?.contains("@random-rita only organization members or collaborators with write access") == true)
        #expect(gh.repo(full)?.git.resolve("refs/heads/cherry-pick-\(n)-to-release-1.0") == nil)

        let m = try pull(gh, branch: "abandoned", commits: [("x.txt", "x\n")])
        gh.closePull(full, m)
        r = try run(gh, url, "issue_comment", comment(gh, m, "/cherry-pick release-1.0"))
        #expect(r.json?["outcome"]?.string == "rejected")
        #expect(botComments(gh, m).last?.contains("closed without being merged") == true)
    }

    @Test func labelsWithPrefixAndMilestone() throws {
        let (gh, url) = try world()
        let n = try pull(gh, branch: "fix", commits: [("src/a.txt", "one\ntwo fixed\nthree\n")])
        gh.updatePull(full, n) { $0.milestone = "v2.0.1"; $0.labels = ["CherryPick/Approved"] }
        try gh.mergePull(full, n, method: .squash)
        var r = try run(gh, url, "pull_request", gh.pullRequestEvent(full, n, action: "labeled", sender: "maint-mona", label: "CherryPick/Approved"))
        #expect(r.json?["outcome"]?.string == "done", "\(r.stdout)")
        #expect(gh.repo(full)?.git.resolve("refs/heads/cherry-pick-\(n)-to-release-2.0") != nil)
        #expect(gh.pull(full, n + 1)?.milestone != nil)
        // Mattermod's bookkeeping: done, and the approval label acted on is taken off.
        #expect(gh.labels(full, issue: n).contains("CherryPick/Done"))
        #expect(!gh.labels(full, issue: n).contains("CherryPick/Approved"))
        // An untrusted labeller is refused.
        r = try run(gh, url, "pull_request", gh.pullRequestEvent(full, n, action: "labeled", sender: "random-rita", label: "cherry-pick/release-1.0"))
        #expect(r.status == 3)
        #expect(gh.repo(full)?.git.resolve("refs/heads/cherry-pick-\(n)-to-release-1.0") == nil)
    }

    @Test func twoRacingInvocationsMakeOnePullRequest() throws {
        let (gh, url) = try world()
        let n = try pull(gh, branch: "fix", commits: [("src/a.txt", "one\ntwo fixed\nthree\n")])
        try gh.mergePull(full, n, method: .squash)
        let payload = comment(gh, n, "/cherry-pick release-1.0")
        final class Results: @unchecked Sendable { var runs: [Support.Run] = []; let lock = NSLock() }
        let results = Results()
        DispatchQueue.concurrentPerform(iterations: 2) { _ in
            if let r = try? run(gh, url, "issue_comment", payload) { results.lock.lock(); results.runs.append(r); results.lock.unlock() }
        }
        #expect(results.runs.count == 2)
        let backports = (n + 1...n + 3).compactMap { gh.pull(full, $0) }
        #expect(backports.count == 1)
        #expect(botComments(gh, n).count == 1, "\(botComments(gh, n))")
        #expect(try temporaryRefs(gh).isEmpty)
    }

    @Test func backportsAskTheRightReviewAndCarryTheConfiguredLabels() throws {
        let (gh, url) = try world()
        let cfg = try Support.writeConfig("defaults:\n  cherry-pick:\n    pr-labels: [AutomatedCherryPick, Changelog/Not Needed, Docs/Not Needed]\n")
        // An outside author: the review goes to the original's latest approver.
        let n = try pull(gh, branch: "fix", commits: [("src/a.txt", "one\ntwo fixed\nthree\n")])
        gh.addUser("rev-ana"); gh.repo(full)?.collaborators["rev-ana"] = .write
        gh.addReview(full, n, user: "rev-ana", state: "APPROVED")
        gh.addReview(full, n, user: "maint-mona", state: "APPROVED")
        try gh.mergePull(full, n, method: .squash)
        var r = try run(gh, url, "issue_comment", comment(gh, n, "/cherry-pick release-1.0"), config: cfg)
        #expect(r.json?["outcome"]?.string == "done", "\(r.stdout)")
        let backport = try #require(gh.pull(full, n + 1))
        #expect(backport.labels == ["AutomatedCherryPick", "Changelog/Not Needed", "Docs/Not Needed"])
        #expect(backport.requestedReviewers == ["maint-mona"])
        // A member's PR: the review goes to its author.
        try gh.commit(full, branch: "member-fix", from: "main", files: ["src/m.txt": "m\n"], message: "Member fix")
        let m = try gh.openPull(full, title: "Member fix", author: "maint-mona", head: "member-fix")
        try gh.mergePull(full, m, method: .squash)
        gh.repo(full)?.collaborators["rev-ana"] = .write
        r = try run(gh, url, "issue_comment", comment(gh, m, "/cherry-pick release-2.0", by: "rev-ana"), config: cfg)
        #expect(r.json?["outcome"]?.string == "done", "\(r.stdout)")
        let second = try #require(gh.pull(full, m + 1))
        #expect(second.requestedReviewers == ["maint-mona"])
        #expect(second.assignees == ["rev-ana"])
        #expect(gh.contractViolations.isEmpty, "\(gh.contractViolations)")
    }
}
