import Foundation
import SwitchyardCore

/// Seeds a `GitHubEmulator` from JSON:
///
/// ```json
/// {"users": ["alice", {"login": "ci[bot]", "type": "Bot"}],
///  "orgs": {"acme": {"members": ["alice"], "teams": {"core": ["alice"]}}},
///  "tokens": {"demo-token": "switchyard[bot]"},
///  "repos": [{"name": "acme/widgets", "files": {"README.md": "hi\n"}, "collaborators": {"bob": "write"},
///             "branches": [{"name": "release-1.0", "from": "main"}],
///             "commits": [{"branch": "feature", "from": "main", "message": "Add b", "files": {"b.txt": "b\n"}}],
///             "pulls": [{"title": "Add b", "author": "alice", "head": "feature", "number": 7,
///                        "comments": [{"id": 9001, "user": "bob", "body": "/update-branch"}]}],
///             "issues": [{"title": "A bug", "author": "bob"}]}]}
/// ```
public enum Fixture {
    public static func load(_ json: JSON, into gh: GitHubEmulator) throws {
        for u in json["users"]?.array ?? [] {
            if let login = u.string { gh.addUser(login) }
            else if let login = u["login"]?.string {
                gh.addUser(login, type: u["type"]?.string ?? "User", emails: u["emails"]?.array?.compactMap(\.string) ?? [])
            }
        }
        for (org, spec) in json["orgs"]?.object ?? [:] {
            gh.addOrg(org, members: spec["members"]?.array?.compactMap(\.string) ?? [])
            for (team, members) in spec["teams"]?.object ?? [:] {
                gh.addTeam(org: org, slug: team, members: members.array?.compactMap(\.string) ?? [])
            }
        }
        for (token, login) in json["tokens"]?.object ?? [:] { if let l = login.string { gh.addToken(token, for: l) } }
        for repo in json["repos"]?.array ?? [] {
            guard let name = repo["name"]?.string else { throw EmulatorError("a repo in the fixture has no name") }
            var files: [String: String] = [:]
            for (k, v) in repo["files"]?.object ?? ["README.md": "hello\n"] { files[k] = v.string ?? "" }
            var collaborators: [String: RepoRole] = [:]
            for (k, v) in repo["collaborators"]?.object ?? [:] {
                guard let role = v.string.flatMap(RepoRole.init(rawValue:)) else { throw EmulatorError("bad role for \(k) in \(name)") }
                collaborators[k] = role
            }
            let created = try gh.addRepo(name, defaultBranch: repo["default_branch"]?.string ?? "main", files: files, collaborators: collaborators)
            for b in repo["branches"]?.array ?? [] {
                guard let branch = b["name"]?.string, let sha = created.git.resolve("refs/heads/\(b["from"]?.string ?? created.defaultBranch)") else { continue }
                try created.git.setRef("refs/heads/\(branch)", to: sha)
            }
            for c in repo["commits"]?.array ?? [] {
                var changed: [String: String?] = [:]
                for (k, v) in c["files"]?.object ?? [:] { changed[k] = v.string }
                try gh.commit(name, branch: c["branch"]?.string ?? "main", from: c["from"]?.string, files: changed,
                              message: c["message"]?.string ?? "Change",
                              author: (c["author_name"]?.string ?? "Dev", c["author_email"]?.string ?? "dev@example.com"))
            }
            for p in repo["pulls"]?.array ?? [] {
                if let number = p["number"]?.int { gh.reserveNumbers(name, next: number) }
                let number = try gh.openPull(name, title: p["title"]?.string ?? "Change", author: p["author"]?.string ?? "ghost",
                                             head: p["head"]?.string ?? "feature", base: p["base"]?.string, body: p["body"]?.string,
                                             headRepo: p["head_repo"]?.string, maintainerCanModify: p["maintainer_can_modify"]?.bool ?? false,
                                             labels: p["labels"]?.array?.compactMap(\.string) ?? [])
                for c in p["comments"]?.array ?? [] {
                    _ = gh.addComment(name, issue: number, user: c["user"]?.string ?? "ghost", body: c["body"]?.string ?? "", id: c["id"]?.int)
                }
            }
            for i in repo["issues"]?.array ?? [] {
                _ = gh.openIssue(name, title: i["title"]?.string ?? "Issue", author: i["author"]?.string ?? "ghost")
            }
        }
    }

    /// The demo world used by the playground and `github-emulator --demo`.
    public static let demo: JSON = [
        "users": [["login": "maint-mona", "emails": ["mona@example.com"]], ["login": "octo-contributor", "emails": ["octo@example.com"]],
                  "random-rita", ["login": "dependabot[bot]", "type": "Bot"]],
        "orgs": ["acme": ["members": ["maint-mona"], "teams": ["core": ["maint-mona"]]]],
        "tokens": ["demo-token": "switchyard[bot]"],
        "repos": [[
            "name": "acme/widgets",
            "files": ["README.md": "# widgets\n", "src/importer.txt": "load all rows\n"],
            "branches": [["name": "release-1.0", "from": "main"]],
            "commits": [
                ["branch": "stream-rows", "from": "main", "message": "Stream rows in the importer",
                 "files": ["src/importer.txt": "stream rows\n"], "author_name": "Octo Contributor", "author_email": "octo@example.com"],
                ["branch": "main", "message": "Document the importer", "files": ["README.md": "# widgets\n\nImports rows.\n"],
                 "author_name": "Mona", "author_email": "mona@example.com"],
            ],
            "pulls": [["title": "Stream rows in the importer", "author": "octo-contributor", "head": "stream-rows",
                       "body": "Uses constant memory for large files."]],
            "issues": [["title": "Importer is slow", "author": "random-rita"]],
        ]],
    ]
}
