import Foundation
import Testing
import SwitchyardCore
import SwitchyardTesting

/// The built `sla-check` against the GitHub emulator and a published signer list on loopback.
@Suite("sla-check end to end", .serialized)
struct SlaCheckEndToEndTests {
    let secret = "cla-hook-secret"

    final class SignerList: @unchecked Sendable {
        let lock = NSLock()
        var text = "Name,GitHub Login\nMona,maint-mona\n"
        var failing = false
        var server: HTTPServer!
        init() throws {
            server = try HTTPServer { [weak self] _ in
                guard let self else { return .respond(status: 503, headers: [], body: Array("server owner is gone".utf8)) }
                self.lock.lock(); defer { self.lock.unlock() }
                return self.failing ? .json(500, ["message": "down"]) : .respond(status: 200, headers: [("Content-Type", "text/csv")], body: Array(self.text.utf8))
            }
        }
        func set(_ t: String) { lock.lock(); text = t; lock.unlock() }
    }

    struct World {
        var gh: GitHubEmulator
        var url: String
        var list: SignerList
        var config: String
    }

    func world(extraConfig: String = "") throws -> World {
        let (gh, url) = try Support.world()
        gh.addUser("new-nia", emails: ["nia@example.com"])
        let list = try SignerList()
        let config = try Support.writeConfig("""
            defaults:
              cla:
                sign-url: https://cla.example.com/acme
                signers:
                  url: \(list.server.baseURL)/signers.csv
                check-interval: 0
            \(extraConfig)
            """)
        return World(gh: gh, url: url, list: list, config: config)
    }

    func run(_ w: World, _ event: String, _ payload: JSON, env extra: [String: String] = [:]) throws -> Support.Run {
        var env = ["GITHUB_API_URL": w.url, "GITHUB_TOKEN": Support.token(of: w.gh), "GITHUB_WEBHOOK_SECRET": secret,
                   "SWITCHYARD_CONFIG": w.config]
        for (k, v) in extra { env[k] = v }
        return try Support.run("sla-check", environment: env,
                               stdin: Support.envelope(event: event, body: Array(payload.encoded().utf8), secret: secret))
    }

    func statuses(_ w: World, _ sha: String) -> [String] {
        w.gh.statuses("acme/widgets", sha: sha).filter { $0.context == "cla/switchyard" }.map(\.state)
    }

    @Test func signerOpensAPullRequestInFourRequests() throws {
        let w = try world()
        try w.gh.commit("acme/widgets", branch: "mona-change", files: ["m.txt": "m\n"], message: "m", author: ("Mona", "mona@example.com"))
        w.gh.addUser("maint-mona", emails: ["mona@example.com"])
        let n = try w.gh.openPull("acme/widgets", title: "Mona's change", author: "maint-mona", head: "mona-change")
        w.gh.clearLog()
        let r = try run(w, "pull_request", w.gh.pullRequestEvent("acme/widgets", n, action: "opened"))
        #expect(r.json?["outcome"]?.string == "done", "\(r.stdout)\(r.stderr)")
        let head = try #require(w.gh.headSHA("acme/widgets", n))
        #expect(statuses(w, head) == ["pending", "success"])
        #expect(w.gh.comments("acme/widgets", issue: n).isEmpty)
        // the pull request as it is now, list commits, pending, result, identity, one comment lookup.
        #expect(w.gh.requests.count <= 6, "\(w.gh.requests)")
        #expect(w.gh.contractViolations.isEmpty)
    }

    @Test func nonSignerSignsThenChecksAgainThenPushes() throws {
        let w = try world()
        try w.gh.commit("acme/widgets", branch: "nia", files: ["n.txt": "n\n"], message: "n", author: ("Nia", "nia@example.com"))
        try w.gh.commit("acme/widgets", branch: "nia", files: ["n2.txt": "n\n"], message: "n2\n\nCo-authored-by: Mona <mona@example.com>",
                        author: ("Nia", "nia@example.com"))
        try w.gh.commit("acme/widgets", branch: "nia", files: ["n3.txt": "n\n"], message: "n3", author: ("Ghost Writer", "ghost@nowhere.example"))
        let n = try w.gh.openPull("acme/widgets", title: "Nia's change", author: "new-nia", head: "nia")
        let head = try #require(w.gh.headSHA("acme/widgets", n))

        // Opened by someone who has not signed.
        var r = try run(w, "pull_request", w.gh.pullRequestEvent("acme/widgets", n, action: "opened"))
        #expect(r.json?["outcome"]?.string == "done")
        #expect(statuses(w, head).last == "failure")
        var comments = w.gh.comments("acme/widgets", issue: n)
        #expect(comments.count == 1)
        #expect(comments[0].body.contains("@new-nia"))
        #expect(comments[0].body.contains("`ghost@nowhere.example`"))
        #expect(comments[0].body.contains("not linked to any GitHub account"))
        #expect(comments[0].body.contains("Co-author Mona"))

        // Replayed: still one comment, same result.
        r = try run(w, "pull_request", w.gh.pullRequestEvent("acme/widgets", n, action: "opened"))
        #expect(w.gh.comments("acme/widgets", issue: n).count == 1)
        #expect(statuses(w, head).last == "failure")

        // They sign (and so do the others), then ask for a new check.
        w.list.set("Name,GitHub Login,Email\nMona,maint-mona,mona@example.com\nNia,new-nia,\nGhost,,ghost@nowhere.example\n")
        let asked = w.gh.addComment("acme/widgets", issue: n, user: "new-nia", body: "Signed!\n\n/check-cla")
        r = try run(w, "issue_comment", w.gh.commentEvent("acme/widgets", commentID: asked))
        #expect(r.json?["outcome"]?.string == "done", "\(r.stdout)")
        #expect(statuses(w, head).last == "success")
        comments = w.gh.comments("acme/widgets", issue: n).filter { $0.user == "switchyard[bot]" }
        #expect(comments.count == 1)
        #expect(comments[0].body.contains("has signed the CLA"))

        // A push after signing: checked on the new head.
        try w.gh.commit("acme/widgets", branch: "nia", files: ["n4.txt": "n\n"], message: "n4", author: ("Nia", "nia@example.com"))
        let newHead = try #require(w.gh.headSHA("acme/widgets", n))
        r = try run(w, "pull_request", w.gh.pullRequestEvent("acme/widgets", n, action: "synchronize"))
        #expect(statuses(w, newHead) == ["pending", "success"])
        #expect(w.gh.comments("acme/widgets", issue: n).filter { $0.user == "switchyard[bot]" }.count == 1)
        #expect(w.gh.contractViolations.isEmpty)
    }

    @Test func anUnreadableSourceNeverLeavesPending() throws {
        let w = try world()
        w.list.failing = true
        let r = try run(w, "pull_request", w.gh.pullRequestEvent("acme/widgets", 1, action: "opened"))
        #expect(r.status == 1)
        let head = try #require(w.gh.headSHA("acme/widgets", 1))
        #expect(statuses(w, head) == ["pending", "error"])
        #expect(w.gh.statuses("acme/widgets", sha: head).last?.description?.contains("/check-cla") == true)

        // GitHub failing mid-check also ends in error, not pending.
        w.list.failing = false
        w.gh.inject(.init(method: "GET", pathContains: "/commits", times: 20, kind: .status(500, "boom")))
        let again = try run(w, "pull_request", w.gh.pullRequestEvent("acme/widgets", 1, action: "synchronize"), env: ["SWITCHYARD_DEADLINE_MS": "3000"])
        #expect(again.status == 1)
        #expect(statuses(w, head).last == "error")
    }

    @Test func longPullRequestsAreReadThroughCompare() throws {
        let w = try world()
        let repo = try #require(w.gh.repo("acme/widgets"))
        var parent = try #require(repo.git.resolve("refs/heads/feature"))
        let tree = try repo.git.git("rev-parse", parent + "^{tree}")
        for i in 0..<299 {
            let who = i == 280 ? ("Late Larry", "larry@example.com") : ("Mona", "mona@example.com")
            parent = try repo.git.commitTree(tree, parents: [parent], message: "c\(i)", author: (who.0, who.1, nil))
        }
        try repo.git.setRef("refs/heads/feature", to: parent)
        w.gh.addUser("maint-mona", emails: ["mona@example.com"])
        w.list.set("maint-mona\ndev@example.com\n")
        let r = try run(w, "pull_request", w.gh.pullRequestEvent("acme/widgets", 1, action: "synchronize"))
        #expect(r.json?["message"]?.string?.contains("Late Larry") == true, "\(r.stdout)")
        #expect(w.gh.requests.contains { $0.path.contains("/compare/") })
    }

    @Test func checkClaIsRateLimitedPerPullRequest() throws {
        let w = try world(extraConfig: "repos:\n  acme/widgets:\n    cla:\n      check-interval: 600\n")
        let first = w.gh.addComment("acme/widgets", issue: 1, user: "random-rita", body: "/check-sla")
        var r = try run(w, "issue_comment", w.gh.commentEvent("acme/widgets", commentID: first))
        #expect(r.json?["outcome"]?.string == "done")
        let second = w.gh.addComment("acme/widgets", issue: 1, user: "random-rita", body: "/check-cla")
        r = try run(w, "issue_comment", w.gh.commentEvent("acme/widgets", commentID: second))
        #expect(r.json?["outcome"]?.string == "ignored")
        #expect(r.json?["message"]?.string?.contains("works again in") == true)
    }

    @Test func mergeQueueCommitsGetTheStatus() throws {
        let w = try world()
        let sha = try #require(w.gh.repo("acme/widgets")?.git.resolve("refs/heads/main"))
        let payload: JSON = ["action": "checks_requested",
                             "merge_group": ["head_sha": .string(sha), "head_ref": "refs/heads/gh-readonly-queue/main/pr-1", "base_ref": "refs/heads/main"],
                             "repository": ["name": "widgets", "full_name": "acme/widgets", "owner": ["login": "acme"]],
                             "installation": ["id": 4242]]
        let r = try run(w, "merge_group", payload)
        #expect(r.json?["outcome"]?.string == "done")
        #expect(statuses(w, sha) == ["success"])
    }

    @Test func signersFromAFileInARepository() throws {
        let w = try world(extraConfig: "repos:\n  acme/widgets:\n    cla:\n      signers: { repo: acme/legal, path: cla/signers.txt }\n")
        try w.gh.addRepo("acme/legal", files: ["cla/signers.txt": "# people\nocto-contributor\n"])
        w.gh.addUser("octo-contributor", emails: ["dev@example.com"])
        let r = try run(w, "pull_request", w.gh.pullRequestEvent("acme/widgets", 1, action: "opened"))
        #expect(r.json?["outcome"]?.string == "done", "\(r.stdout)")
        #expect(statuses(w, try #require(w.gh.headSHA("acme/widgets", 1))).last == "success")
        #expect(w.gh.contractViolations.isEmpty)
    }
}
