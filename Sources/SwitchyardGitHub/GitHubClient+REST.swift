import SwitchyardCore

/// The REST calls Switchyard makes. Each capability sees only the narrow protocol it declares.
extension GitHubClient: PermissionReading, PlanPerforming {
    // MARK: Typed path parts (a value that does not fit its kind never reaches a path)

    /// A commit sha from a payload, a response or bot state.
    public static func sha(_ s: String) throws -> SHA {
        guard let v = SHA(s) else { throw SwitchyardError.upstream("`\(s.prefix(80))` is not a commit sha") }
        return v
    }
    public static func segment(_ s: String, _ what: String) throws -> Segment {
        guard let v = Segment(s) else { throw SwitchyardError.badRequest("`\(s.prefix(80))` is not a valid \(what)") }
        return v
    }
    public static func ref(_ s: String) throws -> GitRef {
        guard let v = GitRef(s) else { throw SwitchyardError.badRequest("`\(s.prefix(80))` is not a valid branch or ref name") }
        return v
    }
    /// `refs/heads/x` → `heads/x` as a typed ref (the form the git refs routes take).
    static func shortRef(_ ref: String) throws -> GitRef {
        try Self.ref(ref.hasPrefix("refs/") ? String(ref.dropFirst(5)) : ref)
    }

    // MARK: Pull requests

    public func pullRequest(_ pull: IssueRef) throws -> GitHub.PullRequest {
        // Read field by field (no Codable): almost every function reads the PR it acts on.
        let path = APIPath.repo(pull.repo) / "pulls" / pull.number
        let r = try send("GET", path)
        do { return try GitHub.PullRequest(json: try JSON.parse(r.body)) }
        catch { throw SwitchyardError.upstream("GitHub's answer to \(path.text) could not be read", detail: "\(error)") }
    }

    /// `GET /repos/{o}/{r}/compare/{base}...{head}`: how far `head` is ahead of and behind `base`.
    public func compare(_ repo: RepoRef, base: String, head: String) throws -> Comparison {
        guard let spec = CompareSpec(base: base, head: head) else { throw SwitchyardError.badRequest("not refs to compare: \(base.prefix(80))...\(head.prefix(80))") }
        return try get(Comparison.self, .repo(repo) / "compare" / spec, query: [("per_page", "1")])
    }

    /// `PUT …/pulls/{n}/update-branch` pinned to `expectedHeadSHA`. A 422 "expected head sha" after an
    /// answer was lost is resolved by reading: when the head is now the merge GitHub makes for this
    /// request (first parent the expected head), the update happened and is reported as done.
    public func updateBranch(_ pull: IssueRef, expectedHeadSHA: String) throws {
        let expected = try Self.sha(expectedHeadSHA)
        do {
            try send("PUT", .repo(pull.repo) / "pulls" / pull.number / "update-branch", json: ["expected_head_sha": .string(expected.value)])
        } catch let e as GitHubError where e.status == 422 && e.message.lowercased().contains("expected head sha") {
            let now = try pullRequest(pull).head.sha
            if let head = SHA(now), head != expected, let commit = try? gitCommit(pull.repo, head.value),
               commit.parents.count == 2, commit.parents.first?.sha.lowercased() == expected.value {
                logger.debug("update-branch: the head is already the merge of this request (an earlier answer was lost)")
                return
            }
            throw e
        }
    }

    // MARK: Permissions

    public func isOrgMember(org: String, login: String) throws -> Bool {
        do {
            let r = try send("GET", APIPath("/orgs") / Self.segment(org, "organization") / "members" / Self.segment(login, "login"))
            return r.status == 204
        } catch let e as GitHubError where e.status == 404 || e.status == 302 {
            return false
        }
    }

    public func isTeamMember(org: String, team: String, login: String) throws -> Bool {
        do {
            let r = try send("GET", APIPath("/orgs") / Self.segment(org, "organization") / "teams" / Self.segment(team, "team")
                                / "memberships" / Self.segment(login, "login"))
            return (try? JSON.parse(r.body))?["state"]?.string == "active"
        } catch let e as GitHubError where e.status == 404 {
            return false
        }
    }

    public func repoRole(_ repo: RepoRef, login: String) throws -> RepoRole {
        do {
            let r = try send("GET", .repo(repo) / "collaborators" / Self.segment(login, "login") / "permission")
            let json = try? JSON.parse(r.body)
            return RepoRole(permission: json?["permission"]?.string, roleName: json?["role_name"]?.string)
        } catch let e as GitHubError where e.status == 404 {
            return RepoRole.none
        }
    }

    // MARK: Comments

    public func comments(on issue: IssueRef) throws -> [GitHub.Comment] {
        if let cached = commentCache.get(issue) { return cached }
        let (items, _) = try paginate(GitHub.Comment.self, .repo(issue.repo) / "issues" / issue.number / "comments")
        commentCache.set(issue, items)
        return items
    }

    public func createComment(on issue: IssueRef, body: String) throws -> Int {
        let path = APIPath.repo(issue.repo) / "issues" / issue.number / "comments"
        // A POST whose outcome is unknown is retried only if the comment did not land.
        let r = try send("POST", path, json: ["body": .string(body)], alreadyDone: { [self] in
            commentCache.clear(issue)
            let existing = try comments(on: issue)
            guard let found = existing.first(where: { $0.body == body }) else { return nil }
            return HTTPResponse(status: 201, body: Array(#"{"id":\#(found.id)}"#.utf8))
        })
        let id = (try? JSON.parse(r.body))?["id"]?.int ?? 0
        if let c = try? GitHubDecoder.decode(GitHub.Comment.self, from: r.body) {
            commentCache.append(issue, c)
        }
        return id
    }

    public func editComment(in repo: RepoRef, id: Int, body: String) throws {
        try send("PATCH", .repo(repo) / "issues" / "comments" / id, json: ["body": .string(body)])
        commentCache.replace(id: id, body: body)
    }

    public func deleteComment(in repo: RepoRef, id: Int) throws {
        do {
            try send("DELETE", .repo(repo) / "issues" / "comments" / id)
        } catch let e as GitHubError where e.status == 404 {
            // Already gone.
        }
        commentCache.remove(id: id)
    }

    // MARK: Commits, statuses and files

    /// A pull request's commits, every page up to `maxPages` (GitHub lists at most 250).
    public func pullCommits(_ pull: IssueRef, maxPages: Int = 3) throws -> (commits: [GitHub.Commit], complete: Bool) {
        let r = try paginate(GitHub.Commit.self, .repo(pull.repo) / "pulls" / pull.number / "commits", maxPages: maxPages)
        return (r.items, r.complete)
    }

    /// Commits in `head` but not `base` through the compare API, page by page (for PRs over 250 commits).
    public func compareCommits(_ repo: RepoRef, base: String, head: String, maxPages: Int) throws -> (commits: [GitHub.Commit], complete: Bool) {
        struct Page: Decodable { var commits: [GitHub.Commit]; var totalCommits: Int? }
        var all: [GitHub.Commit] = []
        var total = 0
        guard let spec = CompareSpec(base: base, head: head) else { throw SwitchyardError.badRequest("not refs to compare") }
        let path = APIPath.repo(repo) / "compare" / spec
        var next: String? = baseURL + path.text + Self.queryString([("per_page", "100"), ("page", "1")])
        var pages = 0
        while let url = next, pages < maxPages {
            let r = try send(method: "GET", url: url, logPath: path.text, body: [], accept: "application/vnd.github+json", alreadyDone: nil)
            let page = try decode(Page.self, r, path: "compare")
            all += page.commits
            total = page.totalCommits ?? all.count
            pages += 1
            next = r.header("Link").flatMap(Self.nextLink)
        }
        return (all, all.count >= total)
    }

    /// The latest status of `context` on `sha`, with its creation time.
    public func latestStatus(_ repo: RepoRef, sha: String, context: String) throws -> (state: String, createdAt: String, creator: String)? {
        struct S: Decodable { var state: String; var context: String; var createdAt: String?; var creator: GitHub.User? }
        let list = try get([S].self, .repo(repo) / "commits" / Self.sha(sha) / "statuses", query: [("per_page", "100")])
        return list.first { $0.context == context }.map { ($0.state, $0.createdAt ?? "", $0.creator?.login ?? "") }
    }

    /// A file's bytes from a repository, through the contents API.
    public func fileContents(_ repo: RepoRef, path: String, ref: String?) throws -> [UInt8] {
        struct F: Decodable { var content: String?; var encoding: String? }
        guard let file = FilePath(path) else { throw SwitchyardError.misconfigured("`\(path.prefix(80))` is not a file path in a repository") }
        let f = try get(F.self, .repo(repo) / "contents" / file, query: ref.map { [("ref", $0)] } ?? [])
        guard f.encoding == "base64", let text = f.content,
              let data = Data(base64Encoded: text, options: .ignoreUnknownCharacters) else {
            throw SwitchyardError.upstream("GitHub returned \(path) in an encoding Switchyard cannot read")
        }
        return Array(data)
    }

    public func addReaction(in repo: RepoRef, commentID: Int, content: String) throws {
        // Creating a reaction that exists answers 200 instead of 201, so a retry is harmless.
        try send("POST", .repo(repo) / "issues" / "comments" / commentID / "reactions",
                 json: ["content": .string(content)], alreadyDone: { nil })
    }

    // MARK: Labels and statuses

    public func addLabels(_ labels: [String], to issue: IssueRef) throws {
        try send("POST", .repo(issue.repo) / "issues" / issue.number / "labels",
                 json: ["labels": .array(labels.map(JSON.string))], alreadyDone: { nil })
    }

    public func removeLabel(_ label: String, from issue: IssueRef) throws {
        do {
            try send("DELETE", .repo(issue.repo) / "issues" / issue.number / "labels" / Self.segment(label, "label"))
        } catch let e as GitHubError where e.status == 404 {
            return
        }
    }

    public func createStatus(in repo: RepoRef, sha: String, state: String, context: String, description: String, targetURL: String?) throws {
        var body: [String: JSON] = ["state": .string(state), "context": .string(context), "description": .string(description)]
        if let targetURL { body["target_url"] = .string(targetURL) }
        // Statuses are "last write wins" per context, so sending twice is harmless.
        try send("POST", .repo(repo) / "statuses" / Self.sha(sha), json: .object(body), alreadyDone: { nil })
    }
}

/// The part of a compare answer Switchyard reads.
public struct Comparison: Decodable, Sendable, Equatable {
    public var status: String?
    public var aheadBy: Int
    public var behindBy: Int
    public var totalCommits: Int?
}

/// Comment listings cached for one invocation, kept current as comments are created and edited.
final class CommentCache: @unchecked Sendable {
    private let lock = Mutex()
    private var byIssue: [IssueRef: [GitHub.Comment]] = [:]
    func get(_ i: IssueRef) -> [GitHub.Comment]? { lock.withLock { byIssue[i] } }
    func set(_ i: IssueRef, _ c: [GitHub.Comment]) { lock.withLock { byIssue[i] = c } }
    func clear(_ i: IssueRef) { lock.withLock { _ = byIssue.removeValue(forKey: i) } }
    func append(_ i: IssueRef, _ c: GitHub.Comment) { lock.withLock { byIssue[i]?.append(c) } }
    func remove(id: Int) {
        lock.withLock { for (k, list) in byIssue { byIssue[k] = list.filter { $0.id != id } } }
    }
    func replace(id: Int, body: String) {
        lock.withLock {
            for (k, list) in byIssue {
                byIssue[k] = list.map { var c = $0; if c.id == id { c.body = body }; return c }
            }
        }
    }
}

// MARK: - Git data (cherry-pick without a clone)

extension GitHubClient {
    public enum MergeResult: Sendable, Equatable {
        case merged(sha: String, tree: String)
        case nothingToMerge
        case conflict
    }

    /// The head of a branch, or nil when there is no such branch.
    public func branchHead(_ repo: RepoRef, _ branch: String) throws -> (sha: String, tree: String)? {
        struct B: Decodable { struct C: Decodable { struct D: Decodable { var tree: GitHub.GitCommit.Ref }; var sha: String; var commit: D }; var commit: C }
        do {
            let b = try get(B.self, .repo(repo) / "branches" / Self.ref(branch))
            return (b.commit.sha, b.commit.commit.tree.sha)
        } catch let e as GitHubError where e.status == 404 {
            return nil
        }
    }

    /// Up to `count` commits from `sha` backwards (`GET /repos/{o}/{r}/commits?sha=`).
    public func commits(_ repo: RepoRef, from sha: String, count: Int) throws -> [GitHub.Commit] {
        try get([GitHub.Commit].self, .repo(repo) / "commits", query: [("sha", Self.sha(sha).value), ("per_page", "\(min(100, max(1, count)))")])
    }

    public func gitCommit(_ repo: RepoRef, _ sha: String) throws -> GitHub.GitCommit {
        try get(GitHub.GitCommit.self, .repo(repo) / "git" / "commits" / Self.sha(sha))
    }

    /// Creates a commit object. `committer` (with its date) is set explicitly when given, so that the time
    /// it records is this run's, not one copied from another commit.
    public func createCommit(_ repo: RepoRef, message: String, tree: String, parents: [String], author: GitHub.Commit.Person?,
                             committer: GitHub.Commit.Person? = nil) throws -> GitHub.GitCommit {
        var body: [String: JSON] = ["message": .string(message), "tree": .string(try Self.sha(tree).value),
                                    "parents": .array(try parents.map { .string(try Self.sha($0).value) })]
        func person(_ a: GitHub.Commit.Person?) -> JSON? {
            guard let a, let name = a.name, let email = a.email else { return nil }
            var p: [String: JSON] = ["name": .string(name), "email": .string(email)]
            if let d = a.date { p["date"] = .string(d) }
            return .object(p)
        }
        if let a = person(author) { body["author"] = a }
        if let c = person(committer) { body["committer"] = c }
        // A commit object is content-addressed: creating it twice is harmless.
        let r = try send("POST", .repo(repo) / "git" / "commits", json: .object(body), alreadyDone: { nil })
        return try decode(GitHub.GitCommit.self, r, path: "git/commits")
    }

    /// Creates a ref; returns false when it already exists (the lock is taken).
    public func createRef(_ repo: RepoRef, _ ref: String, sha: String) throws -> Bool {
        do {
            guard ref.hasPrefix("refs/"), GitRef(ref) != nil else { throw SwitchyardError.badRequest("`\(ref.prefix(80))` is not a ref name") }
            try send("POST", .repo(repo) / "git" / "refs", json: ["ref": .string(ref), "sha": .string(try Self.sha(sha).value)], alreadyDone: { nil })
            return true
        } catch let e as GitHubError where e.status == 422 && e.message.lowercased().contains("already exists") {
            return false
        }
    }

    /// The commit a ref points at, or nil.
    public func refSHA(_ repo: RepoRef, _ ref: String) throws -> String? {
        let short = try Self.shortRef(ref)
        do {
            let json = try JSON.parse(try send("GET", .repo(repo) / "git" / "ref" / short).body)
            return json["object"]?["sha"]?.string
        } catch let e as GitHubError where e.status == 404 {
            return nil
        }
    }

    /// Points a ref at `sha`, even when that is not a fast forward.
    public func forceRef(_ repo: RepoRef, _ ref: String, sha: String) throws {
        try send("PATCH", .repo(repo) / "git" / "refs" / Self.shortRef(ref), json: ["sha": .string(try Self.sha(sha).value), "force": true])
    }

    public func deleteRef(_ repo: RepoRef, _ ref: String) throws {
        let short = try Self.shortRef(ref)
        do {
            try send("DELETE", .repo(repo) / "git" / "refs" / short)
        } catch let e as GitHubError where e.status == 422 || e.status == 404 {
            return
        }
    }

    /// `POST /merges`: merges `head` into the branch `base`. When the answer is lost, the branch is read:
    /// if it now points at a merge of `head`, that merge was this request's.
    public func merge(_ repo: RepoRef, base: String, head: String, message: String) throws -> MergeResult {
        do {
            let r = try send("POST", .repo(repo) / "merges",
                             json: ["base": .string(base), "head": .string(head), "commit_message": .string(message)],
                             alreadyDone: { [self] in
                                 guard let tip = try refSHA(repo, "refs/heads/" + base) else { return nil }
                                 let commit = try gitCommit(repo, tip)
                                 guard commit.parents.count == 2, commit.parents.last?.sha.lowercased() == head.lowercased() else { return nil }
                                 let body: JSON = ["sha": .string(commit.sha), "commit": ["tree": ["sha": .string(commit.tree.sha)]]]
                                 return HTTPResponse(status: 201, body: Array(body.encoded().utf8))
                             })
            if r.status == 204 { return .nothingToMerge }
            let json = try JSON.parse(r.body)
            guard let sha = json["sha"]?.string, let tree = json["commit"]?["tree"]?["sha"]?.string else {
                throw SwitchyardError.upstream("GitHub's merge answer had no commit")
            }
            return .merged(sha: sha, tree: tree)
        } catch let e as GitHubError where e.status == 409 {
            return .conflict
        }
    }

    public func openPulls(_ repo: RepoRef, head: String, base: String) throws -> [GitHub.PullRequest] {
        try get([GitHub.PullRequest].self, .repo(repo) / "pulls", query: [("state", "open"), ("head", head), ("base", base)])
    }

    public func createPull(_ repo: RepoRef, title: String, head: String, base: String, body: String) throws -> GitHub.PullRequest {
        let r = try send("POST", .repo(repo) / "pulls",
                         json: ["title": .string(title), "head": .string(head), "base": .string(base), "body": .string(body)],
                         alreadyDone: { [self] in
                             guard let existing = try openPulls(repo, head: "\(repo.owner):\(head)", base: base).first else { return nil }
                             return HTTPResponse(status: 201, body: Array(try JSONEncoder().encode(["number": existing.number])))
                         })
        if let pr = try? GitHubDecoder.decode(GitHub.PullRequest.self, from: r.body) { return pr }
        let number = (try? JSON.parse(r.body))?["number"]?.int ?? 0
        return try pullRequest(IssueRef(repo: repo, number: number))
    }

    /// Adds assignees (those already assigned stay; adding twice is harmless).
    public func addAssignees(_ logins: [String], to issue: IssueRef) throws {
        guard !logins.isEmpty else { return }
        try send("POST", .repo(issue.repo) / "issues" / issue.number / "assignees",
                 json: ["assignees": .array(logins.map(JSON.string))], alreadyDone: { nil })
    }

    /// Sets an issue's or pull request's milestone.
    public func setMilestone(_ milestone: Int, on issue: IssueRef) throws {
        try send("PATCH", .repo(issue.repo) / "issues" / issue.number, json: ["milestone": .int(milestone)])
    }

    /// Who last added `label` to an issue or pull request, from its events; nil when no event says.
    public func lastLabeller(of issue: IssueRef, label: String) throws -> String? {
        struct E: Decodable { var event: String; var actor: GitHub.User?; var label: GitHub.Label? }
        let (events, _) = try paginate(E.self, .repo(issue.repo) / "issues" / issue.number / "events", maxPages: 3)
        return events.last { $0.event == "labeled" && $0.label?.name == label }?.actor?.login
    }

    /// The files a commit touches (for a conflict report).
    public func commitFiles(_ repo: RepoRef, _ sha: String) throws -> [String] {
        let json = try JSON.parse(try send("GET", .repo(repo) / "commits" / Self.sha(sha)).body)
        return json["files"]?.array?.compactMap { $0["filename"]?.string } ?? []
    }
}

extension GitHubClient {
    /// Reactions on an issue comment, as (login, content) pairs.
    public func reactions(in repo: RepoRef, commentID: Int) throws -> [(login: String, content: String)] {
        struct R: Decodable { var content: String; var user: GitHub.User? }
        let (items, _) = try paginate(R.self, .repo(repo) / "issues" / "comments" / commentID / "reactions", maxPages: 2)
        return items.map { ($0.user?.login ?? "", $0.content) }
    }
}

extension GitHubClient {
    /// Open pull requests, least recently updated first, one page.
    public func openPullsByUpdate(_ repo: RepoRef, page: Int, perPage: Int) throws -> [GitHub.PullRequest] {
        try get([GitHub.PullRequest].self, .repo(repo) / "pulls",
                query: [("state", "open"), ("sort", "updated"), ("direction", "asc"), ("per_page", "\(perPage)"), ("page", "\(page)")])
    }

    /// The combined status of a commit: `success`, `pending` or `failure`.
    public func combinedStatus(_ repo: RepoRef, sha: String) throws -> String {
        (try JSON.parse(try send("GET", .repo(repo) / "commits" / Self.sha(sha) / "status").body))["state"]?.string ?? "pending"
    }

    /// Merges a pull request pinned to `sha`; GitHub's 405 (not mergeable) and 409 (head moved) are thrown.
    public func merge(_ pull: IssueRef, sha: String, method: String) throws {
        try send("PUT", .repo(pull.repo) / "pulls" / pull.number / "merge",
                 json: ["sha": .string(try Self.sha(sha).value), "merge_method": .string(method)])
    }

    /// Requests reviews from people and teams. Asking again is harmless (GitHub keeps one request each).
    /// GitHub refuses the whole request (422) when one of them cannot review (not a collaborator, the
    /// author, a team without access): then each is asked alone and those refused are left out, so one
    /// stale name in a config does not stop the others. Returns who was refused.
    @discardableResult
    public func requestReviews(_ pull: IssueRef, users: [String], teams: [String]) throws -> [String] {
        guard !users.isEmpty || !teams.isEmpty else { return [] }
        func ask(_ u: [String], _ t: [String]) throws {
            try send("POST", .repo(pull.repo) / "pulls" / pull.number / "requested_reviewers",
                     json: ["reviewers": .array(u.map(JSON.string)), "team_reviewers": .array(t.map(JSON.string))], alreadyDone: { nil })
        }
        do { try ask(users, teams); return [] } catch let e as GitHubError where e.status == 422 {
            guard users.count + teams.count > 1 else { logger.warning("GitHub refused a review request", ["reviewer": .string((users + teams).joined())]); return users + teams }
        }
        var refused: [String] = []
        for u in users { do { try ask([u], []) } catch let e as GitHubError where e.status == 422 { refused.append(u) } }
        for t in teams { do { try ask([], [t]) } catch let e as GitHubError where e.status == 422 { refused.append(t) } }
        if !refused.isEmpty { logger.warning("GitHub refused review requests", ["reviewers": .string(refused.joined(separator: ", "))]) }
        return refused
    }

    /// True when `login` is a collaborator of the repository (organization members with access count).
    public func isCollaborator(_ repo: RepoRef, login: String) throws -> Bool {
        do {
            try send("GET", .repo(repo) / "collaborators" / Self.segment(login, "login"))
            return true
        } catch let e as GitHubError where e.status == 404 {
            return false
        }
    }

    /// A pull request's reviews, oldest first.
    public func reviews(_ pull: IssueRef, maxPages: Int = 3) throws -> [GitHub.Review] {
        try paginate(GitHub.Review.self, .repo(pull.repo) / "pulls" / pull.number / "reviews", maxPages: maxPages).items
    }

    /// The files a pull request changes (GitHub lists at most 3000), up to `maxPages` pages of 100.
    public func pullFiles(_ pull: IssueRef, maxPages: Int = 5) throws -> (files: [GitHub.PullFile], complete: Bool) {
        let r = try paginate(GitHub.PullFile.self, .repo(pull.repo) / "pulls" / pull.number / "files", maxPages: maxPages)
        return (r.items, r.complete)
    }

    /// True when someone other than `bot` removed `label` from the issue or pull request at some point.
    public func labelRemovedByOthers(_ issue: IssueRef, label: String, bot: String?) throws -> Bool {
        struct E: Decodable { var event: String; var actor: GitHub.User?; var label: GitHub.Label? }
        let (events, _) = try paginate(E.self, .repo(issue.repo) / "issues" / issue.number / "events", maxPages: 3)
        return events.contains { $0.event == "unlabeled" && $0.label?.name == label && $0.actor?.login.lowercased() != bot?.lowercased() }
    }
}

extension GitHub.Review {
    /// Whether GitHub says the reviewer belongs to the repository (owner, member or collaborator): a
    /// review by anyone else is an opinion, not a decision that holds a merge or counts as approval.
    public var isTrusted: Bool { ["OWNER", "MEMBER", "COLLABORATOR"].contains(authorAssociation?.uppercased() ?? "") }

    /// Each trusted reviewer's latest deciding review (`APPROVED`, `CHANGES_REQUESTED` or `DISMISSED`), by login.
    public static func latestDecisions(_ reviews: [GitHub.Review]) -> [String: String] {
        var out: [String: String] = [:]
        for r in reviews where r.isTrusted {
            guard let state = r.state, ["APPROVED", "CHANGES_REQUESTED", "DISMISSED"].contains(state) else { continue }
            out[r.user.login] = state
        }
        return out
    }
}

extension GitHubClient {
    /// A repository's release tags, newest first, without drafts (first page of 100).
    public func releaseTags(_ repo: RepoRef) throws -> [(tag: String, prerelease: Bool)] {
        struct R: Decodable { var tagName: String; var prerelease: Bool?; var draft: Bool? }
        return try get([R].self, .repo(repo) / "releases", query: [("per_page", "100")])
            .filter { $0.draft != true }.map { ($0.tagName, $0.prerelease ?? false) }
    }
}
