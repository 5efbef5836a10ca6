import Foundation
import SwitchyardCore

extension GitHubEmulator {
    func route(_ r: ServerRequest, identity: String?) -> ServerReply {
        let seg = r.path.split(separator: "/").map { String($0).removingPercentEncoding ?? String($0) }
        let m = r.method
        func notFound() -> ServerReply { .json(404, ["message": "Not Found", "documentation_url": "https://docs.github.com/rest"]) }

        // App installation tokens.
        if m == "POST", seg.count == 4, seg[0] == "app", seg[1] == "installations", seg[3] == "access_tokens" {
            return mintInstallationToken(installation: Int(seg[2]) ?? -1, identity: identity)
        }
        // Who the credentials are: the App (JWT) and the token's user.
        if m == "GET", seg == ["app"] {
            guard let identity, identity.hasPrefix("app:"), let id = Int(identity.dropFirst(4)), let app = lock.withLock({ apps[id] }) else {
                return .json(401, ["message": "A JSON web token could not be decoded", "documentation_url": "https://docs.github.com/rest"])
            }
            return .json(200, ["id": .int(app.id), "slug": .string(app.slug), "name": .string(app.slug), "owner": userJSON("acme")])
        }
        if m == "GET", seg == ["user"] {
            guard let identity, !identity.hasPrefix("app:") else { return .json(401, ["message": "Requires authentication"]) }
            // Installation tokens are not users: GitHub answers 403 to them.
            if identity.hasSuffix("[bot]"), lock.withLock({ apps.values.contains { "\($0.slug)[bot]" == identity } }) {
                return .json(403, ["message": "Resource not accessible by integration"])
            }
            return .json(200, userJSON(identity))
        }
        // Organization and team membership.
        if m == "GET", seg.count == 4, seg[0] == "orgs", seg[2] == "members" {
            let member = lock.withLock { orgMembers[seg[1].lowercased()]?.contains(seg[3].lowercased()) ?? false }
            return member ? .empty(204) : notFound()
        }
        if m == "GET", seg.count == 6, seg[0] == "orgs", seg[2] == "teams", seg[4] == "memberships" {
            let member = lock.withLock { teams["\(seg[1].lowercased())/\(seg[3].lowercased())"]?.contains(seg[5].lowercased()) ?? false }
            return member ? .json(200, ["state": "active", "role": "member", "url": ""]) : notFound()
        }
        guard seg.count >= 3, seg[0] == "repos", let repo = repo("\(seg[1])/\(seg[2])") else { return notFound() }
        let rest = Array(seg.dropFirst(3))
        let full = repo.fullName

        switch (m, rest.count) {
        case ("GET", 2) where rest[0] == "pulls":
            guard let n = Int(rest[1]), let p = pull(full, n) else { return notFound() }
            // Like GitHub, mergeability is computed in the background: the first read after the head or
            // the base moved answers null (`unknown`) and starts the computation; later reads have it.
            var json = pullJSON(repo, p)
            if p.state == "open" {
                let key = "\(headSHA(repo: repo, pull: p) ?? "")|\(repo.git.resolve("refs/heads/\(p.baseRef)") ?? "")"
                if p.mergeabilityKnownFor != key {
                    updatePull(full, n) { $0.mergeabilityKnownFor = key }
                    if case .object(var o) = json { o["mergeable"] = .null; o["mergeable_state"] = "unknown"; json = .object(o) }
                }
            }
            return .json(200, json)
        case ("PUT", 3) where rest[0] == "pulls" && rest[2] == "update-branch":
            guard let n = Int(rest[1]) else { return notFound() }
            return updateBranch(repo, n, body: r.json, identity: identity)
        case ("GET", 3) where rest[0] == "issues" && rest[2] == "comments":
            guard let n = Int(rest[1]), issueExists(full, n) else { return notFound() }
            var list = comments(full, issue: n)
            if let since = r.query["since"] { list = list.filter { $0.updatedAt >= since } }
            return paginate(list.map(commentJSON), request: r)
        case ("POST", 3) where rest[0] == "issues" && rest[2] == "comments":
            guard let n = Int(rest[1]), issueExists(full, n) else { return notFound() }
            guard let body = r.json?["body"]?.string, !body.isEmpty else {
                return .json(422, ["message": "Validation Failed", "errors": [["resource": "IssueComment", "code": "missing_field", "field": "body"]]])
            }
            guard canWrite(repo, identity) else { return forbidden() }
            let id = addComment(full, issue: n, user: identity ?? "ghost", body: body)
            let c = lock.withLock { comments.first { $0.id == id }! }
            return .json(201, commentJSON(c))
        case ("PATCH", 3) where rest[0] == "issues" && rest[1] == "comments":
            guard let id = Int(rest[2]), let body = r.json?["body"]?.string else { return notFound() }
            guard canWrite(repo, identity) else { return forbidden() }
            let updated: Comment? = lock.withLock {
                guard let i = comments.firstIndex(where: { $0.id == id && $0.repo == full.lowercased() }) else { return nil }
                comments[i].body = body
                comments[i].updatedAt = now()
                return comments[i]
            }
            return updated.map { .json(200, commentJSON($0)) } ?? notFound()
        case ("DELETE", 3) where rest[0] == "issues" && rest[1] == "comments":
            guard let id = Int(rest[2]) else { return notFound() }
            let removed: Bool = lock.withLock {
                let before = comments.count
                comments.removeAll { $0.id == id && $0.repo == full.lowercased() }
                return comments.count < before
            }
            return removed ? .empty(204) : notFound()
        case ("POST", 4) where rest[0] == "issues" && rest[1] == "comments" && rest[3] == "reactions":
            guard let id = Int(rest[2]), let content = r.json?["content"]?.string else { return notFound() }
            let valid: Set<String> = ["+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes"]
            guard valid.contains(content) else {
                return .json(422, ["message": "Validation Failed", "errors": [["resource": "Reaction", "code": "invalid", "field": "content"]]])
            }
            let outcome: (created: Bool, reaction: Reaction)? = lock.withLock {
                guard comments.contains(where: { $0.id == id }) else { return nil }
                let user = identity ?? "ghost"
                if let existing = reactions.first(where: { $0.commentID == id && $0.user == user && $0.content == content }) {
                    return (false, existing)
                }
                let reaction = Reaction(id: nextID(), commentID: id, user: user, content: content)
                reactions.append(reaction)
                return (true, reaction)
            }
            guard let outcome else { return notFound() }
            return .json(outcome.created ? 201 : 200, reactionJSON(outcome.reaction))
        case ("GET", 4) where rest[0] == "issues" && rest[1] == "comments" && rest[3] == "reactions":
            guard let id = Int(rest[2]) else { return notFound() }
            return paginate(reactions(commentID: id).map(reactionJSON), request: r)
        case ("GET", 2) where rest[0] == "collaborators":
            // 204 for a collaborator (organization members count), 404 for anyone else.
            let a = association(rest[1], repo: full)
            return user(rest[1]) != nil && a != "NONE" ? .empty(204) : notFound()
        case ("GET", 3) where rest[0] == "collaborators" && rest[2] == "permission":
            let login = rest[1]
            guard let u = user(login) else { return notFound() }
            let role = repo.collaborators.first { $0.key.lowercased() == login.lowercased() }?.value ?? .read
            let permission: String = switch role {
            case .admin: "admin"
            case .maintain, .write: "write"
            case .triage, .read: "read"
            case .none: "none"
            }
            return .json(200, ["permission": .string(permission), "role_name": .string(role.rawValue), "user": userJSON(u.login)])
        case ("POST", 3) where rest[0] == "issues" && rest[2] == "labels":
            guard let n = Int(rest[1]), issueExists(full, n) else { return notFound() }
            guard canWrite(repo, identity) else { return forbidden() }
            let new = r.json?["labels"]?.array?.compactMap(\.string) ?? []
            let labels = mutateLabels(full, n, actor: identity) { ls in for l in new where !ls.contains(l) { ls.append(l) } }
            return .json(200, .array(labels.map { labelJSON($0) }))
        case ("DELETE", 4) where rest[0] == "issues" && rest[2] == "labels":
            guard let n = Int(rest[1]), issueExists(full, n) else { return notFound() }
            guard canWrite(repo, identity) else { return forbidden() }
            let name = rest[3]
            guard labels(full, issue: n).contains(name) else {
                return .json(404, ["message": "Label does not exist", "documentation_url": "https://docs.github.com/rest"])
            }
            let labels = mutateLabels(full, n, actor: identity) { $0.removeAll { $0 == name } }
            return .json(200, .array(labels.map { labelJSON($0) }))
        case ("GET", 3) where rest[0] == "issues" && rest[2] == "events":
            guard let n = Int(rest[1]), issueExists(full, n) else { return notFound() }
            let events = lock.withLock { issueEvents.filter { $0.repo == full.lowercased() && $0.issue == n } }
            return paginate(events.map { e in
                ["id": .int(e.id), "event": .string(e.event), "actor": userJSON(e.actor), "created_at": .string(e.createdAt),
                 "label": labelJSON(e.label)]
            }, request: r)
        case ("POST", 2) where rest[0] == "statuses":
            let sha = rest[1]
            guard repo.git.resolve(sha) != nil else { return .json(422, ["message": "No commit found for SHA: \(sha)"]) }
            guard let state = r.json?["state"]?.string, ["error", "failure", "pending", "success"].contains(state) else {
                return .json(422, ["message": "Validation Failed", "errors": [["resource": "Status", "code": "custom", "field": "state"]]])
            }
            guard canWrite(repo, identity) else { return forbidden() }
            let desc = r.json?["description"]?.string
            if let d = desc, d.count > 140 {
                return .json(422, ["message": "Validation Failed", "errors": [["resource": "Status", "code": "custom", "field": "description", "message": "description is too long (maximum is 140 characters)"]]])
            }
            let status = lock.withLock {
                let s = Status(id: nextID(), repo: full.lowercased(), sha: sha, state: state,
                               context: r.json?["context"]?.string ?? "default", description: desc,
                               targetURL: r.json?["target_url"]?.string, creator: identity ?? "ghost", createdAt: now())
                statuses.append(s)
                return s
            }
            return .json(201, statusJSON(status))
        case ("GET", 3) where rest[0] == "commits" && rest[2] == "statuses":
            let sha = repo.git.resolve(rest[1]) ?? rest[1]
            return paginate(statuses(full, sha: sha).reversed().map(statusJSON), request: r)
        default:
            return gitRoute(r, repo: repo, rest: rest, identity: identity) ?? actionsRoute(r, repo: repo, rest: rest, identity: identity)
                ?? deploymentsRoute(r, repo: repo, rest: rest, identity: identity) ?? notFound()
        }
    }

    func forbidden() -> ServerReply {
        .json(403, ["message": "Resource not accessible by integration", "documentation_url": "https://docs.github.com/rest"])
    }

    /// Writes need credentials: a bot, or a user with write access.
    func canWrite(_ repo: Repo, _ identity: String?) -> Bool {
        guard let identity else { return false }
        if identity.hasSuffix("[bot]") { return true }
        if let role = repo.collaborators.first(where: { $0.key.lowercased() == identity.lowercased() })?.value { return role >= .write }
        return lock.withLock { orgMembers[repo.owner.lowercased()]?.contains(identity.lowercased()) ?? false }
    }

    func issueExists(_ full: String, _ n: Int) -> Bool {
        lock.withLock { pulls[full.lowercased()]?[n] != nil || issues[full.lowercased()]?[n] != nil }
    }

    func mutateLabels(_ full: String, _ n: Int, actor: String? = nil, _ change: (inout [String]) -> Void) -> [String] {
        lock.withLock {
            let k = full.lowercased()
            var before: [String] = [], after: [String] = []
            if var p = pulls[k]?[n] { before = p.labels; change(&p.labels); p.updatedAt = now(); pulls[k]![n] = p; after = p.labels }
            else if var i = issues[k]?[n] { before = i.labels; change(&i.labels); issues[k]![n] = i; after = i.labels }
            for l in after where !before.contains(l) {
                issueEvents.append(IssueEvent(id: nextID(), repo: k, issue: n, event: "labeled", actor: actor ?? "ghost", label: l, createdAt: now()))
            }
            for l in before where !after.contains(l) {
                issueEvents.append(IssueEvent(id: nextID(), repo: k, issue: n, event: "unlabeled", actor: actor ?? "ghost", label: l, createdAt: now()))
            }
            return after
        }
    }

    // MARK: update-branch, on real git

    func updateBranch(_ repo: Repo, _ n: Int, body: JSON?, identity: String?) -> ServerReply {
        guard let p = pull(repo.fullName, n) else { return .json(404, ["message": "Not Found"]) }
        guard canWrite(repo, identity) else { return forbidden() }
        guard p.state == "open" else { return .json(422, ["message": "Pull request is closed."]) }
        if p.headRepo.lowercased() != repo.fullName.lowercased() && !p.maintainerCanModify {
            return forbidden()
        }
        guard let head = headSHA(repo: repo, pull: p), let base = repo.git.resolve("refs/heads/\(p.baseRef)") else {
            return .json(422, ["message": "Head or base branch is missing."])
        }
        if let expected = body?["expected_head_sha"]?.string, expected != head {
            return .json(422, ["message": "expected head sha didn't match current head ref."])
        }
        if repo.git.isAncestor(base, of: head) {
            return .json(422, ["message": "There are no new commits on the base branch."])
        }
        do {
            let merged = try repo.git.mergeTree(head, base)
            guard let tree = merged.tree else {
                return .json(422, ["message": "merge conflict between base and head"])
            }
            // Like GitHub, the answer is 202 and the merge happens afterwards, pinned to the head it was asked
            // for: a job that finds the head moved does nothing.
            let ref = p.headRepo.lowercased() == repo.fullName.lowercased() ? "refs/heads/\(p.headRef)" : "refs/forks/\(p.headRepo)/\(p.headRef)"
            let message = "Merge branch '\(p.baseRef)' into \(p.headRef)"
            let author = (identity ?? "GitHub", noreplyEmail(identity), String?.none)
            background { [self] in
                guard repo.git.resolve(ref) == head,
                      let commit = try? repo.git.commitTree(tree, parents: [head, base], message: message, author: author),
                      (try? repo.git.run(["update-ref", ref, commit, head])) != nil else { return }
                if p.headRepo.lowercased() != repo.fullName.lowercased(), let fork = self.repo(p.headRepo) {
                    _ = try? fork.git.run(["fetch", "--quiet", repo.git.path, "\(ref):refs/heads/\(p.headRef)"])
                }
                updatePull(repo.fullName, n) { $0.updatedAt = now() }
            }
            return .json(202, ["message": "Updating pull request branch.", "url": .string("https://github.com/\(repo.fullName)/pull/\(n)")])
        } catch {
            return .json(500, ["message": .string("emulator git failure: \(error)")])
        }
    }

    // MARK: App tokens

    func mintInstallationToken(installation: Int, identity: String?) -> ServerReply {
        guard let identity, identity.hasPrefix("app:"), let appID = Int(identity.dropFirst(4)) else {
            return .json(401, ["message": "A JSON web token could not be decoded", "documentation_url": "https://docs.github.com/rest"])
        }
        return lock.withLock {
            guard apps[appID]?.installations.contains(installation) == true else {
                return .json(404, ["message": "Not Found", "documentation_url": "https://docs.github.com/rest"])
            }
            var token = "ghs_"
            let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
            for _ in 0..<36 { token.append(alphabet.randomElement()!) }
            let expires = Date().addingTimeInterval(3600)
            installationTokens[token] = (installation, appID, expires)
            minted += 1
            let f = ISO8601DateFormatter()
            return .json(201, ["token": .string(token), "expires_at": .string(f.string(from: expires)),
                               "permissions": ["contents": "write", "issues": "write", "pull_requests": "write", "statuses": "write"],
                               "repository_selection": "all"])
        }
    }

    // MARK: Pagination

    /// Pages a listing with `per_page` (default 30, at most 100) and `page`, and GitHub's `Link` header.
    func paginate(_ items: [JSON], request r: ServerRequest) -> ServerReply {
        let q = r.query
        let perPage = min(100, max(1, Int(q["per_page"] ?? "30") ?? 30))
        let page = max(1, Int(q["page"] ?? "1") ?? 1)
        let last = max(1, (items.count + perPage - 1) / perPage)
        let slice = Array(items.dropFirst((page - 1) * perPage).prefix(perPage))
        var links: [String] = []
        func url(_ p: Int) -> String {
            var params = q.filter { $0.key != "page" }.map { "\($0.key)=\($0.value)" }.sorted()
            params.append("page=\(p)")
            return "<\(baseURL)\(r.path)?\(params.joined(separator: "&"))>"
        }
        if page < last { links.append("\(url(page + 1)); rel=\"next\""); links.append("\(url(last)); rel=\"last\"") }
        if page > 1 { links.append("\(url(1)); rel=\"first\""); links.append("\(url(page - 1)); rel=\"prev\"") }
        return .json(200, .array(slice), headers: links.isEmpty ? [] : [("Link", links.joined(separator: ", "))])
    }

    // MARK: Shapes

    func userJSON(_ login: String) -> JSON {
        let u = user(login)
        let type = u?.type ?? (login.hasSuffix("[bot]") ? "Bot" : "User")
        return ["login": .string(login), "id": .int(u?.id ?? 0), "type": .string(type),
                "html_url": .string("https://github.com/\(login)")]
    }

    func repoJSON(_ fullName: String) -> JSON {
        guard let r = repo(fullName) else { return .null }
        return ["id": .int(r.id), "name": .string(r.name), "full_name": .string(r.fullName), "owner": userJSON(r.owner),
                "html_url": .string("https://github.com/\(r.fullName)"), "default_branch": .string(r.defaultBranch),
                "private": false, "fork": false]
    }

    func labelJSON(_ name: String) -> JSON { ["name": .string(name), "color": "ededed"] }

    func pullJSON(_ repo: Repo, _ p: Pull) -> JSON {
        let head = headSHA(repo: repo, pull: p) ?? ""
        let base = repo.git.resolve("refs/heads/\(p.baseRef)") ?? ""
        let headOwner = p.headRepo.split(separator: "/").first.map(String.init) ?? repo.owner
        return [
            "number": .int(p.number), "state": .string(p.state), "title": .string(p.title),
            "body": p.body.map(JSON.string) ?? .null, "user": userJSON(p.author), "draft": .bool(p.draft),
            "merged": .bool(p.merged), "merge_commit_sha": p.mergeCommitSHA.map(JSON.string) ?? .null,
            "maintainer_can_modify": .bool(p.maintainerCanModify),
            "labels": .array(p.labels.map { labelJSON($0) }),
            "milestone": p.milestone.map { ["title": .string($0), "number": 1] } ?? .null,
            "assignees": .array(p.assignees.map(userJSON)),
            "merged_at": p.merged ? .string(p.updatedAt) : .null,
            "html_url": .string("https://github.com/\(repo.fullName)/pull/\(p.number)"),
            "head": ["ref": .string(p.headRef), "sha": .string(head), "label": .string("\(headOwner):\(p.headRef)"),
                     "repo": repoJSON(p.headRepo), "user": userJSON(headOwner)],
            "base": ["ref": .string(p.baseRef), "sha": .string(base), "label": .string("\(repo.owner):\(p.baseRef)"),
                     "repo": repoJSON(repo.fullName), "user": userJSON(repo.owner)],
            "updated_at": .string(p.updatedAt), "created_at": .string(p.createdAt.isEmpty ? p.updatedAt : p.createdAt),
            "commits": .int(range(repo, p).map { commitRange(repo, base: $0.0, head: $0.1).count } ?? 0),
            "mergeable": p.state != "open" ? .null : .bool(mergeState(repo, p) != "dirty"),
            "mergeable_state": .string(p.state != "open" ? "unknown" : mergeState(repo, p)),
            "requested_reviewers": .array(p.requestedReviewers.map(userJSON)), "requested_teams": .array(p.requestedTeams.map { ["slug": .string($0)] }),
            "author_association": .string(association(p.author, repo: repo.fullName) == "NONE" && p.firstTime ? "FIRST_TIME_CONTRIBUTOR" : association(p.author, repo: repo.fullName)),
        ]
    }

    func commentJSON(_ c: Comment) -> JSON {
        ["id": .int(c.id), "body": .string(c.body), "user": userJSON(c.user), "created_at": .string(c.createdAt),
         "updated_at": .string(c.updatedAt), "html_url": .string("https://github.com/\(c.repo)/issues/\(c.issue)#issuecomment-\(c.id)"),
         "author_association": .string(association(c.user, repo: c.repo))]
    }

    /// `dirty` when base and head conflict, `blocked` when a status on the head is not success, else `clean`.
    func mergeState(_ repo: Repo, _ p: Pull) -> String {
        guard let head = headSHA(repo: repo, pull: p), let base = repo.git.resolve("refs/heads/\(p.baseRef)") else { return "unknown" }
        if !repo.git.isAncestor(base, of: head), (try? repo.git.mergeTree(base, head).tree) == nil { return "dirty" }
        let latest = Dictionary(grouping: statuses(repo.fullName, sha: head), by: \.context).compactMap { $0.value.last?.state }
        if latest.contains(where: { $0 != "success" }) { return "blocked" }
        return "clean"
    }

    /// The combined state of a commit's statuses: failure, pending, or success.
    func combinedState(_ repo: Repo, _ sha: String) -> String {
        let latest = Dictionary(grouping: statuses(repo.fullName, sha: sha), by: \.context).compactMap { $0.value.last?.state }
        if latest.contains(where: { $0 == "failure" || $0 == "error" }) { return "failure" }
        if latest.contains("pending") { return "pending" }
        return "success"
    }

    /// GitHub's `author_association` of a login to a repository.
    func association(_ login: String, repo fullName: String) -> String {
        guard let repo = repo(fullName) else { return "NONE" }
        if login.lowercased() == repo.owner.lowercased() { return "OWNER" }
        if lock.withLock({ orgMembers[repo.owner.lowercased()]?.contains(login.lowercased()) ?? false }) { return "MEMBER" }
        if repo.collaborators.keys.contains(where: { $0.lowercased() == login.lowercased() }) { return "COLLABORATOR" }
        return "NONE"
    }

    func reactionJSON(_ r: Reaction) -> JSON {
        ["id": .int(r.id), "content": .string(r.content), "user": userJSON(r.user)]
    }

    func statusJSON(_ s: Status) -> JSON {
        ["id": .int(s.id), "state": .string(s.state), "context": .string(s.context),
         "description": s.description.map(JSON.string) ?? .null, "target_url": s.targetURL.map(JSON.string) ?? .null,
         "creator": userJSON(s.creator), "created_at": .string(s.createdAt)]
    }
}
