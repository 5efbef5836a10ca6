import Foundation
import Testing
import SwitchyardCore
import SwitchyardGitHub
import SwitchyardTesting

/// The emulator's git-data routes answer from real git, with GitHub's status codes.
@Suite("Emulator git data", .serialized)
struct EmulatorGitTests {
    func client(_ gh: GitHubEmulator, _ url: String) -> GitHubClient {
        GitHubClient(baseURL: url, credentials: TokenCredentials(token: Support.token(of: gh)),
                     deadline: Deadline(millisecondsFromNow: 20_000), logger: Logger(function: "t", sink: { _ in }))
    }

    func json(_ r: HTTPResponse) throws -> JSON { try JSON.parse(r.body) }

    @Test func refsCommitsAndTrees() throws {
        let (gh, url) = try Support.world()
        let c = client(gh, url)
        let main = try json(c.sendRaw("GET", "/repos/acme/widgets/git/ref/heads/main"))
        let mainSHA = try #require(main["object"]?["sha"]?.string)
        #expect(main["ref"]?.string == "refs/heads/main")

        let created = try c.sendRaw("POST", "/repos/acme/widgets/git/refs", json: ["ref": "refs/heads/tmp", "sha": .string(mainSHA)])
        #expect(created.status == 201)
        // Creating it again is the lock two racing callers contend for.
        do { try c.sendRaw("POST", "/repos/acme/widgets/git/refs", json: ["ref": "refs/heads/tmp", "sha": .string(mainSHA)]); Issue.record("created twice") }
        catch let e as GitHubError { #expect(e.status == 422); #expect(e.message.contains("already exists")) }

        let commit = try json(c.sendRaw("GET", "/repos/acme/widgets/git/commits/\(mainSHA)"))
        let tree = try #require(commit["tree"]?["sha"]?.string)
        let listing = try json(c.sendRaw("GET", "/repos/acme/widgets/git/trees/\(tree)", query: [("recursive", "1")]))
        #expect(listing["tree"]?.array?.contains { $0["path"]?.string == "src/a.txt" } == true)

        let made = try json(c.sendRaw("POST", "/repos/acme/widgets/git/commits", json: [
            "message": "Same tree, new commit", "tree": .string(tree), "parents": [.string(mainSHA)],
            "author": ["name": "Octo", "email": "octo@example.com", "date": "2026-01-02T03:04:05Z"]]))
        let newSHA = try #require(made["sha"]?.string)
        #expect(made["author"]?["email"]?.string == "octo@example.com")
        let moved = try c.sendRaw("PATCH", "/repos/acme/widgets/git/refs/heads/tmp", json: ["sha": .string(newSHA)])
        #expect(moved.status == 200)
        // Not a fast forward without force.
        do { try c.sendRaw("PATCH", "/repos/acme/widgets/git/refs/heads/tmp", json: ["sha": .string(mainSHA)]); Issue.record("moved back") }
        catch let e as GitHubError { #expect(e.status == 422) }
        #expect(try c.sendRaw("DELETE", "/repos/acme/widgets/git/refs/heads/tmp").status == 204)
        do { try c.sendRaw("DELETE", "/repos/acme/widgets/git/refs/heads/tmp"); Issue.record("deleted twice") }
        catch let e as GitHubError { #expect(e.status == 422) }
        #expect(gh.contractViolations.isEmpty, "\(gh.contractViolations)")
    }

    @Test func mergesAreRealIncludingConflicts() throws {
        let (gh, url) = try Support.world()
        let c = client(gh, url)
        try gh.commit("acme/widgets", branch: "left", files: ["src/a.txt": "one\nLEFT\nthree\n"], message: "left")
        try gh.commit("acme/widgets", branch: "right", files: ["src/a.txt": "one\nRIGHT\nthree\n"], message: "right")
        try gh.commit("acme/widgets", branch: "other", files: ["other.txt": "x\n"], message: "other")
        let merged = try c.sendRaw("POST", "/repos/acme/widgets/merges", json: ["base": "left", "head": "other"])
        #expect(merged.status == 201)
        let repo = try #require(gh.repo("acme/widgets"))
        #expect(repo.git.file("other.txt", at: "refs/heads/left") == "x")
        #expect(repo.git.file("src/a.txt", at: "refs/heads/left") == "one\nLEFT\nthree")
        // Nothing to merge.
        #expect(try c.sendRaw("POST", "/repos/acme/widgets/merges", json: ["base": "left", "head": "other"]).status == 204)
        // A real conflict leaves the base untouched.
        let before = repo.git.resolve("refs/heads/left")
        do { try c.sendRaw("POST", "/repos/acme/widgets/merges", json: ["base": "left", "head": "right"]); Issue.record("merged a conflict") }
        catch let e as GitHubError { #expect(e.status == 409); #expect(e.message == "Merge conflict") }
        #expect(repo.git.resolve("refs/heads/left") == before)
        do { try c.sendRaw("POST", "/repos/acme/widgets/merges", json: ["base": "nope", "head": "right"]); Issue.record("no base") }
        catch let e as GitHubError { #expect(e.status == 404) }
    }

    @Test func compareAndPullCommitsWithAuthorsLinkedByEmail() throws {
        let (gh, url) = try Support.world()
        gh.addUser("linked-lee", emails: ["lee@example.com"])
        for i in 0..<3 {
            try gh.commit("acme/widgets", branch: "feature", files: ["f\(i).txt": "\(i)\n"], message: "c\(i)", author: ("Lee", "lee@example.com"))
        }
        let c = client(gh, url)
        let cmp = try json(c.sendRaw("GET", "/repos/acme/widgets/compare/main...feature"))
        #expect(cmp["ahead_by"]?.int == 4)
        #expect(cmp["behind_by"]?.int == 1)
        #expect(cmp["status"]?.string == "diverged")
        let commits = try c.paginateRaw(JSON.self, "/repos/acme/widgets/pulls/1/commits")
        #expect(commits.items.count == 4)
        #expect(commits.items.last?["author"]?["login"]?.string == "linked-lee")
        #expect(commits.items.first?["author"]?.isNull == true)   // dev@example.com is linked to no account
        #expect(commits.items.last?["commit"]?["message"]?.string == "c2")
        let files = try c.paginateRaw(JSON.self, "/repos/acme/widgets/pulls/1/files")
        #expect(files.items.compactMap { $0["filename"]?.string }.sorted() == ["f0.txt", "f1.txt", "f2.txt", "src/b.txt"])
    }

    @Test func pullCommitsStopAt250() throws {
        let (gh, url) = try Support.world()
        let repo = try #require(gh.repo("acme/widgets"))
        var parent = try #require(repo.git.resolve("refs/heads/feature"))
        let tree = try repo.git.git("rev-parse", parent + "^{tree}")
        for i in 0..<300 {
            parent = try repo.git.commitTree(tree, parents: [parent], message: "commit \(i)", author: ("Dev", "dev@example.com", nil))
        }
        try repo.git.setRef("refs/heads/feature", to: parent)
        let listed = try client(gh, url).paginateRaw(JSON.self, "/repos/acme/widgets/pulls/1/commits")
        #expect(listed.items.count == 250)
        let cmp = try json(client(gh, url).sendRaw("GET", "/repos/acme/widgets/compare/main...feature"))
        #expect(cmp["ahead_by"]?.int == 301)
    }

    @Test func pullRequestsCanBeOpenedOnce() throws {
        let (gh, url) = try Support.world()
        try gh.commit("acme/widgets", branch: "pick", files: ["p.txt": "p\n"], message: "p")
        let c = client(gh, url)
        let pr = try json(c.sendRaw("POST", "/repos/acme/widgets/pulls", json: ["title": "[main] p", "head": "pick", "base": "main", "body": "b"]))
        #expect(pr["number"]?.int == 2)
        do { try c.sendRaw("POST", "/repos/acme/widgets/pulls", json: ["title": "again", "head": "pick", "base": "main"]); Issue.record("twice") }
        catch let e as GitHubError { #expect(e.status == 422); #expect(e.message.contains("already exists")) }
        let open = try c.paginateRaw(JSON.self, "/repos/acme/widgets/pulls", query: [("head", "acme:pick"), ("state", "open")])
        #expect(open.items.count == 1)
        #expect(gh.contractViolations.isEmpty)
    }
}
