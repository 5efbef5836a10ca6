import Foundation
import Testing
import SwitchyardCore
import SwitchyardTesting

/// The built `update-branch` binary, piped a signed envelope, against the GitHub emulator over HTTP.
@Suite("update-branch end to end", .serialized)
struct UpdateBranchEndToEndTests {
    let secret = "whsec-e2e-\(UUID().uuidString.prefix(6))"

    func env(_ url: String, _ gh: GitHubEmulator, extra: [String: String] = [:]) -> [String: String] {
        var e = ["GITHUB_API_URL": url, "GITHUB_TOKEN": Support.token(of: gh), "GITHUB_WEBHOOK_SECRET": secret,
                 "SWITCHYARD_LOG_LEVEL": "debug"]
        for (k, v) in extra { e[k] = v }
        return e
    }

    func comment(_ body: String, by user: String, id: Int = 9001, number: Int = 1, isPull: Bool = true,
                 action: String = "created", userType: String = "User") -> [UInt8] {
        Support.envelope(event: "issue_comment",
                         body: Support.commentPayload(repo: "acme/widgets", number: number, body: body, user: user,
                                                      commentID: id, isPull: isPull, action: action, userType: userType),
                         secret: secret)
    }

    func assertClean(_ gh: GitHubEmulator, _ runs: [Support.Run]) {
        #expect(gh.contractViolations.isEmpty, "\(gh.contractViolations)")
        for r in runs {
            #expect(!r.stderr.contains(secret))
            #expect(!r.stdout.contains(secret))
            #expect(!r.stderr.contains(Support.token(of: gh)))
        }
    }

    @Test func memberUpdatesTheBranchOnceAndReplayChangesNothing() throws {
        let (gh, url) = try Support.world()
        let oldHead = try #require(gh.headSHA("acme/widgets", 1))
        let request = comment("LGTM once it is current.\r\n\r\n/update-branch\r\n", by: "maint-mona")
        let first = try Support.run("update-branch", environment: env(url, gh), stdin: request)
        #expect(first.status == 0, "\(first.stdout) \(first.stderr)")
        #expect(first.json?["outcome"]?.string == "done")
        // The reply first ("updating", pinned to the head), the update, then the reply edited to the outcome.
        #expect(first.json?["actions"]?.array?.map { $0["type"]?.string ?? "" } == ["upsert-comment", "update-branch", "upsert-comment"])

        // The branch really moved (GitHub merges after its 202): a merge commit holding both sides.
        gh.settle()
        let repo = try #require(gh.repo("acme/widgets"))
        let newHead = try #require(gh.headSHA("acme/widgets", 1))
        #expect(newHead != oldHead)
        #expect(repo.git.file("README.md", at: newHead) == "widgets, updated")
        #expect(repo.git.file("src/b.txt", at: newHead) == "new file")
        #expect(repo.git.isAncestor(oldHead, of: newHead))

        let replies = gh.comments("acme/widgets", issue: 1)
        #expect(replies.count == 1)
        #expect(replies[0].body.contains("@maint-mona updated `feature` with the latest `main`"))
        #expect(replies[0].body.contains("<!-- switchyard:update-branch:reply:9001 state="))
        #expect(replies[0].user == "switchyard[bot]")
        // Cost: who Switchyard is (once per token, then cached), comments, PR, the reply, the update, the reply
        // edited (membership comes from the signed payload's author_association).
        #expect(gh.requests.count == 6, "\(gh.requests)")
        let put = gh.requests.filter { $0.method == "PUT" }
        #expect(put.count == 1)
        #expect(put[0].body?["expected_head_sha"]?.string == oldHead)

        // GitHub redelivers: nothing new happens.
        let replay = try Support.run("update-branch", environment: env(url, gh), stdin: request)
        #expect(replay.status == 0)
        #expect(replay.json?["outcome"]?.string == "ignored")
        #expect(gh.requests.count == 7)   // a replay costs one listing
        #expect(gh.comments("acme/widgets", issue: 1).count == 1)
        #expect(gh.requests.filter { $0.method == "PUT" }.count == 1)
        #expect(gh.headSHA("acme/widgets", 1) == newHead)

        // A new request now finds the branch current and says so.
        let again = try Support.run("update-branch", environment: env(url, gh), stdin: comment("/update_branch", by: "maint-mona", id: 9002))
        #expect(again.json?["outcome"]?.string == "ignored")
        #expect(gh.comments("acme/widgets", issue: 1).last?.body.contains("already up to date") == true)
        assertClean(gh, [first, replay, again])
    }

    @Test func conflictGetsARecipeAndNoMerge() throws {
        let (gh, url) = try Support.world()
        try gh.commit("acme/widgets", branch: "clash", files: ["src/a.txt": "one\nTWO from branch\nthree\n"], message: "Edit a")
        try gh.commit("acme/widgets", branch: "main", files: ["src/a.txt": "one\ntwo from main\nthree\n"], message: "Edit a on main")
        let n = try gh.openPull("acme/widgets", title: "Clash", author: "octo-contributor", head: "clash")
        let head = gh.headSHA("acme/widgets", n)
        let r = try Support.run("update-branch", environment: env(url, gh), stdin: comment("/update-branch", by: "octo-contributor", number: n))
        #expect(r.status == 0)
        #expect(r.json?["outcome"]?.string == "rejected")
        #expect(gh.headSHA("acme/widgets", n) == head)
        let body = try #require(gh.comments("acme/widgets", issue: n).first?.body)
        #expect(body.contains("conflicts"))
        #expect(body.contains("git merge origin/main"))
        assertClean(gh, [r])
    }

    @Test func outsiderIsRefusedPolitely() throws {
        let (gh, url) = try Support.world()
        let r = try Support.run("update-branch", environment: env(url, gh), stdin: comment("/update-branch", by: "random-rita"))
        #expect(r.status == 3)
        #expect(r.json?["outcome"]?.string == "rejected")
        #expect(gh.requests.filter { $0.method == "PUT" }.isEmpty)
        #expect(gh.requests.count == 6)   // identity, comments, PR, membership, permission, reply
        let body = try #require(gh.comments("acme/widgets", issue: 1).first?.body)
        #expect(body.contains("@random-rita only the author, organization members or collaborators with write access"))
        assertClean(gh, [r])
    }

    @Test func policyFromConfig() throws {
        let (gh, url) = try Support.world()
        let config = try Support.writeConfig("repos:\n  acme/widgets:\n    commands:\n      update-branch:\n        allow: [maintain]\n")
        let r = try Support.run("update-branch", environment: env(url, gh, extra: ["SWITCHYARD_CONFIG": config]),
                                stdin: comment("/update-branch", by: "octo-contributor"))
        #expect(r.status == 3)
        #expect(gh.comments("acme/widgets", issue: 1).first?.body.contains("collaborators with maintain access") == true)

        try "repos:\n  acme/widgets:\n    comands: {}\n".write(toFile: config, atomically: true, encoding: .utf8)
        let bad = try Support.run("update-branch", environment: env(url, gh, extra: ["SWITCHYARD_CONFIG": config]),
                                  stdin: comment("/update-branch", by: "octo-contributor", id: 77))
        #expect(bad.status == 1)
        #expect(bad.json?["status"]?.int == 500)
        #expect(bad.json?["message"]?.string?.contains("line 3") == true)
        #expect(bad.json?["message"]?.string?.contains("comands") == true)
    }

    @Test func forkWithoutMaintainerEdits() throws {
        let (gh, url) = try Support.world()
        try gh.addRepo("contrib/widgets")
        try gh.commit("contrib/widgets", branch: "patch", files: ["x.txt": "x\n"], message: "x")
        let n = try gh.openPull("acme/widgets", title: "From a fork", author: "octo-contributor", head: "patch", headRepo: "contrib/widgets")
        let r = try Support.run("update-branch", environment: env(url, gh), stdin: comment("/update-branch", by: "maint-mona", number: n))
        #expect(r.json?["outcome"]?.string == "rejected")
        let body = try #require(gh.comments("acme/widgets", issue: n).first?.body)
        #expect(body.contains("@octo-contributor"))
        #expect(body.contains("Allow edits"))
        #expect(gh.requests.filter { $0.method == "PUT" }.isEmpty)
    }

    struct Ignored: Sendable, CustomTestStringConvertible {
        var name: String
        var isPull = true
        var action = "created"
        var user = "maint-mona"
        var userType = "User"
        var body = "/update-branch"
        var reason: String
        var testDescription: String { name }
    }

    static let ignored: [Ignored] = [
        Ignored(name: "issue, not a PR", isPull: false, reason: "issue"),
        Ignored(name: "edited comment", action: "edited", reason: "edited"),
        Ignored(name: "deleted comment", action: "deleted", reason: "deleted"),
        Ignored(name: "bot author", user: "dependabot[bot]", userType: "Bot", reason: "bots"),
        Ignored(name: "inside a code block", body: "```\n/update-branch\n```", reason: "no /update-branch"),
        Ignored(name: "quoted reply", body: "> /update-branch\nno thanks", reason: "no /update-branch"),
        Ignored(name: "a bot's comment with a marker", user: "switchyard[bot]", body: "/update-branch\n<!-- switchyard:x -->", reason: "bots"),
    ]

    @Test("ignored comments say why and call nothing", arguments: ignored)
    func ignoredComments(_ c: Ignored) throws {
        let (gh, url) = try Support.world()
        let r = try Support.run("update-branch", environment: env(url, gh),
                                stdin: comment(c.body, by: c.user, isPull: c.isPull, action: c.action, userType: c.userType))
        #expect(r.status == 0)
        #expect(r.json?["outcome"]?.string == "ignored")
        #expect(r.json?["message"]?.string?.contains(c.reason) == true, "\(r.stdout)")
        #expect(gh.requests.isEmpty)
    }

    @Test func dryRunPlansAndWritesNothing() throws {
        let (gh, url) = try Support.world()
        let r = try Support.run("update-branch", arguments: ["--dry-run"], environment: env(url, gh), stdin: comment("/update-branch", by: "maint-mona"))
        #expect(r.json?["outcome"]?.string == "planned")
        #expect(r.json?["actions"]?.array?.count == 3)
        #expect(gh.requests.allSatisfy { $0.method == "GET" })
        #expect(gh.comments("acme/widgets", issue: 1).isEmpty)
        let viaEnv = try Support.run("update-branch", environment: env(url, gh, extra: ["SWITCHYARD_DRY_RUN": "1"]), stdin: comment("/update-branch", by: "maint-mona"))
        #expect(viaEnv.json?["outcome"]?.string == "planned")
    }
}
