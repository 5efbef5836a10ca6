import Foundation
import SwitchyardCore

/// Git data, commits, compare, merges and pull-request routes, all answered from real git.
extension GitHubEmulator {
    struct CommitInfo {
        var sha, tree: String
        var parents: [String]
        var authorName, authorEmail, authorDate, committerName, committerEmail, committerDate, message: String
    }

    func commitInfo(_ repo: Repo, _ rev: String) -> CommitInfo? {
        guard let sha = repo.git.resolve(rev),
              let out = try? repo.git.run(["show", "-s", "--format=%H%x00%T%x00%P%x00%an%x00%ae%x00%aI%x00%cn%x00%ce%x00%cI%x00%B", sha]).out
        else { return nil }
        let f = out.components(separatedBy: "\u{0}")
        guard f.count >= 10 else { return nil }
        var message = f[9...].joined(separator: "\u{0}")
        while message.hasSuffix("\n") { message.removeLast() }
        return CommitInfo(sha: f[0], tree: f[1], parents: f[2].split(separator: " ").map(String.init), authorName: f[3],
                          authorEmail: f[4], authorDate: f[5], committerName: f[6], committerEmail: f[7],
                          committerDate: f[8], message: message)
    }

    /// The GitHub account an email belongs to: a registered email, a noreply address, or GitHub's web-flow.
    func login(forEmail email: String) -> String? {
        let e = email.lowercased()
        if e == "noreply@github.com" { return "web-flow" }
        if e.hasSuffix("@users.noreply.github.com") {
            let local = e.dropLast("@users.noreply.github.com".count)
            let login = local.split(separator: "+").last.map(String.init) ?? String(local)
            return user(login)?.login ?? login
        }
        return lock.withLock { emails[e] }
    }

    /// GitHub's noreply address for an account: `<id>+<login>@users.noreply.github.com`.
    func noreplyEmail(_ login: String?) -> String {
        guard let login else { return "noreply@github.com" }
        return "\(user(login)?.id ?? 1)+\(login)@users.noreply.github.com"
    }

    func gitCommitJSON(_ c: CommitInfo) -> JSON {
        ["sha": .string(c.sha), "tree": ["sha": .string(c.tree)], "message": .string(c.message),
         "parents": .array(c.parents.map { ["sha": .string($0)] }),
         "author": ["name": .string(c.authorName), "email": .string(c.authorEmail), "date": .string(c.authorDate)],
         "committer": ["name": .string(c.committerName), "email": .string(c.committerEmail), "date": .string(c.committerDate)],
         "verification": ["verified": false, "reason": "unsigned"]]
    }

    func restCommitJSON(_ repo: Repo, _ c: CommitInfo, files: Bool = false) -> JSON {
        var o: [String: JSON] = [
            "sha": .string(c.sha),
            "commit": ["message": .string(c.message), "tree": ["sha": .string(c.tree)],
                       "author": ["name": .string(c.authorName), "email": .string(c.authorEmail), "date": .string(c.authorDate)],
                       "committer": ["name": .string(c.committerName), "email": .string(c.committerEmail), "date": .string(c.committerDate)]],
            "author": login(forEmail: c.authorEmail).map(userJSON) ?? .null,
            "committer": login(forEmail: c.committerEmail).map(userJSON) ?? .null,
            "parents": .array(c.parents.map { ["sha": .string($0)] }),
            "html_url": .string("https://github.com/\(repo.fullName)/commit/\(c.sha)"),
        ]
        if files { o["files"] = .array(fileChanges(repo, from: c.parents.first, to: c.sha)) }
        return .object(o)
    }

    func fileChanges(_ repo: Repo, from: String?, to: String) -> [JSON] {
        let base = from ?? "4b825dc642cb6eb9a060e54bf8d69288fbee4904"   // the empty tree
        guard let out = try? repo.git.run(["diff", "--numstat", "--no-renames", base, to]).out,
              let names = try? repo.git.run(["diff", "--name-status", "--no-renames", base, to]).out else { return [] }
        // GitHub's `patch`: each file's hunks, without the diff headers.
        var patches: [String: String] = [:]
        if let diff = try? repo.git.run(["diff", "--no-renames", "--no-color", base, to]).out {
            for section in diff.split(separator: "diff --git ", omittingEmptySubsequences: true) {
                let lines = section.split(separator: "\n", omittingEmptySubsequences: false)
                guard let header = lines.first, let b = header.range(of: " b/") else { continue }
                let name = String(header[b.upperBound...])
                guard let start = lines.firstIndex(where: { $0.hasPrefix("@@") }) else { continue }
                patches[name] = lines[start...].joined(separator: "\n").trimmingCharacters(in: .newlines)
            }
        }
        var status: [String: String] = [:]
        for line in names.split(separator: "\n") {
            let p = line.split(separator: "\t", maxSplits: 1).map(String.init)
            if p.count == 2 { status[p[1]] = ["A": "added", "D": "removed", "M": "modified"][p[0]] ?? "changed" }
        }
        return out.split(separator: "\n").compactMap { line in
            let p = line.split(separator: "\t", maxSplits: 2).map(String.init)
            guard p.count == 3 else { return nil }
            let add = Int(p[0]) ?? 0, del = Int(p[1]) ?? 0
            return ["filename": .string(p[2]), "status": .string(status[p[2]] ?? "modified"),
                    "additions": .int(add), "deletions": .int(del), "changes": .int(add + del),
                    "patch": patches[p[2]].map(JSON.string) ?? .null]
        }
    }

    /// Commits reachable from `head` but not `base`, oldest first.
    func commitRange(_ repo: Repo, base: String, head: String) -> [String] {
        ((try? repo.git.run(["rev-list", "--reverse", "--topo-order", head, "^" + base]).out) ?? "")
            .split(separator: "\n").map(String.init)
    }

    func refJSON(_ repo: Repo, _ ref: String, _ sha: String) -> JSON {
        ["ref": .string(ref), "object": ["sha": .string(sha), "type": "commit"],
         "url": .string("\(baseURL)/repos/\(repo.fullName)/git/\(ref)")]
    }

    // MARK: Routes

    func gitRoute(_ r: ServerRequest, repo: Repo, rest: [String], identity: String?) -> ServerReply? {
        let m = r.method
        let full = repo.fullName
        func notFound(_ message: String = "Not Found") -> ServerReply { .json(404, ["message": .string(message)]) }
        let joined = rest.dropFirst(2).joined(separator: "/")

        switch (m, rest.first ?? "") {
        case ("GET", "git") where rest.count >= 3 && rest[1] == "ref":
            let ref = "refs/" + joined
            guard let sha = repo.git.resolve(ref) else { return notFound() }
            return .json(200, refJSON(repo, ref, sha))
        case ("GET", "git") where rest.count >= 3 && rest[1] == "matching-refs":
            let prefix = "refs/" + joined
            let out = (try? repo.git.run(["for-each-ref", "--format=%(refname) %(objectname)", prefix]).out) ?? ""
            let refs = out.split(separator: "\n").compactMap { line -> JSON? in
                let p = line.split(separator: " ").map(String.init)
                return p.count == 2 ? refJSON(repo, p[0], p[1]) : nil
            }
            return .json(200, .array(refs))
        case ("POST", "git") where rest.count == 2 && rest[1] == "refs":
            guard canWrite(repo, identity) else { return forbidden() }
            guard let ref = r.json?["ref"]?.string, ref.hasPrefix("refs/"), ref.split(separator: "/").count >= 3,
                  let sha = r.json?["sha"]?.string else {
                return .json(422, ["message": "Reference name is not valid"])
            }
            guard repo.git.resolve(sha) != nil else { return .json(422, ["message": "Object does not exist"]) }
            // Creating a ref is atomic in git: two racing callers get one 201 and one 422.
            do {
                try repo.git.run(["update-ref", ref, sha, String(repeating: "0", count: 40)])
            } catch {
                return .json(422, ["message": "Reference already exists"])
            }
            return .json(201, refJSON(repo, ref, sha))
        case ("PATCH", "git") where rest.count >= 3 && rest[1] == "refs":
            guard canWrite(repo, identity) else { return forbidden() }
            let ref = "refs/" + joined
            guard let old = repo.git.resolve(ref) else { return .json(422, ["message": "Reference does not exist"]) }
            guard let sha = r.json?["sha"]?.string, repo.git.resolve(sha) != nil else { return .json(422, ["message": "Object does not exist"]) }
            if r.json?["force"]?.bool != true && !repo.git.isAncestor(old, of: sha) {
                return .json(422, ["message": "Update is not a fast forward"])
            }
            do { try repo.git.run(["update-ref", ref, sha, old]) } catch { return .json(422, ["message": "Reference update failed"]) }
            return .json(200, refJSON(repo, ref, sha))
        case ("DELETE", "git") where rest.count >= 3 && rest[1] == "refs":
            guard canWrite(repo, identity) else { return forbidden() }
            let ref = "refs/" + joined
            guard repo.git.resolve(ref) != nil else { return .json(422, ["message": "Reference does not exist"]) }
            _ = try? repo.git.run(["update-ref", "-d", ref])
            return .empty(204)
        case ("GET", "git") where rest.count == 3 && rest[1] == "commits":
            guard let c = commitInfo(repo, rest[2]) else { return notFound() }
            return .json(200, gitCommitJSON(c))
        case ("POST", "git") where rest.count == 2 && rest[1] == "commits":
            guard canWrite(repo, identity) else { return forbidden() }
            guard let message = r.json?["message"]?.string, let tree = r.json?["tree"]?.string else {
                return .json(422, ["message": "Invalid request: message and tree are required"])
            }
            let parents = r.json?["parents"]?.array?.compactMap(\.string) ?? []
            guard (try? repo.git.run(["cat-file", "-e", tree + "^{tree}"], allowedStatuses: [0]).status) == 0,
                  parents.allSatisfy({ repo.git.resolve($0) != nil }) else {
                return .json(422, ["message": "Tree SHA or a parent SHA does not exist"])
            }
            let a = r.json?["author"]
            let author = (a?["name"]?.string ?? identity ?? "ghost", a?["email"]?.string ?? "noreply@github.com", a?["date"]?.string)
            let c = r.json?["committer"]
            // GitHub takes the committer (and its date) as given; without one, the author is the committer.
            let committer = c.map { ($0["name"]?.string ?? "GitHub", $0["email"]?.string ?? "noreply@github.com", $0["date"]?.string) }
                ?? (author.0, author.1, author.2)
            guard let sha = try? repo.git.commitTree(tree, parents: parents, message: message, author: author, committer: committer),
                  let info = commitInfo(repo, sha) else { return .json(422, ["message": "Could not create commit"]) }
            return .json(201, gitCommitJSON(info))
        case ("GET", "git") where rest.count == 3 && rest[1] == "trees":
            let recursive = r.query["recursive"] != nil
            guard let out = try? repo.git.run(["ls-tree", "--full-tree"] + (recursive ? ["-r", "-t"] : []) + [rest[2]]).out else { return notFound() }
            let entries = out.split(separator: "\n").compactMap { line -> JSON? in
                let parts = line.split(separator: "\t", maxSplits: 1).map(String.init)
                let meta = parts[0].split(separator: " ").map(String.init)
                guard parts.count == 2, meta.count == 3 else { return nil }
                return ["path": .string(parts[1]), "mode": .string(meta[0]), "type": .string(meta[1]), "sha": .string(meta[2])]
            }
            let treeSHA = (try? repo.git.run(["rev-parse", rest[2] + "^{tree}"]).out) ?? rest[2]
            return .json(200, ["sha": .string(treeSHA), "tree": .array(entries), "truncated": false])
        case ("POST", "merges") where rest.count == 1:
            guard canWrite(repo, identity) else { return forbidden() }
            guard let baseName = r.json?["base"]?.string, let headName = r.json?["head"]?.string else {
                return .json(422, ["message": "Invalid request: base and head are required"])
            }
            guard let base = repo.git.resolve("refs/heads/\(baseName)") ?? (baseName.hasPrefix("refs/") ? repo.git.resolve(baseName) : nil) else {
                return .json(404, ["message": "Base does not exist"])
            }
            guard let head = repo.git.resolve("refs/heads/\(headName)") ?? repo.git.resolve(headName) else {
                return .json(404, ["message": "Head does not exist"])
            }
            if repo.git.isAncestor(head, of: base) { return .empty(204) }
            guard let merged = try? repo.git.mergeTree(base, head) else { return .json(500, ["message": "merge failed"]) }
            guard let tree = merged.tree else { return .json(409, ["message": "Merge conflict"]) }
            let message = r.json?["commit_message"]?.string ?? "Merge \(headName) into \(baseName)"
            guard let sha = try? repo.git.commitTree(tree, parents: [base, head], message: message,
                                                     author: (identity ?? "GitHub", noreplyEmail(identity), nil)) else {
                return .json(500, ["message": "merge failed"])
            }
            let ref = repo.git.resolve("refs/heads/\(baseName)") != nil ? "refs/heads/\(baseName)" : baseName
            do { try repo.git.run(["update-ref", ref, sha, base]) } catch { return .json(409, ["message": "Base moved during the merge"]) }
            return .json(201, restCommitJSON(repo, commitInfo(repo, sha)!))
        case ("GET", "compare") where rest.count >= 2:
            let spec = rest.dropFirst().joined(separator: "/")
            let sides = spec.components(separatedBy: "...")
            guard sides.count == 2, let base = resolveCompareSide(repo, sides[0]), let head = resolveCompareSide(repo, sides[1]) else {
                return notFound()
            }
            let mergeBase = (try? repo.git.run(["merge-base", base, head]).out) ?? base
            let ahead = commitRange(repo, base: base, head: head)
            let behind = commitRange(repo, base: head, head: base)
            let status = ahead.isEmpty && behind.isEmpty ? "identical" : behind.isEmpty ? "ahead" : ahead.isEmpty ? "behind" : "diverged"
            // Without `page`, the first 250 commits (GitHub's classic answer); with `page`, that page.
            let perPage = min(250, Int(r.query["per_page"] ?? "250") ?? 250)
            let page = max(1, Int(r.query["page"] ?? "1") ?? 1)
            let pageCommits = ahead.dropFirst((page - 1) * perPage).prefix(perPage)
            var headers: [(String, String)] = []
            if r.query["page"] != nil || r.query["per_page"] != nil, page * perPage < ahead.count {
                var q = r.query; q["page"] = "\(page + 1)"
                let query = q.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: "&")
                headers.append(("Link", "<\(baseURL)\(r.path)?\(query)>; rel=\"next\""))
            }
            return .json(200, [
                "status": .string(status), "ahead_by": .int(ahead.count), "behind_by": .int(behind.count),
                "total_commits": .int(ahead.count),
                "merge_base_commit": commitInfo(repo, mergeBase).map { restCommitJSON(repo, $0) } ?? .null,
                "commits": .array(pageCommits.compactMap { commitInfo(repo, $0).map { restCommitJSON(repo, $0) } }),
                "files": .array(fileChanges(repo, from: mergeBase, to: head)),
            ], headers: headers)
        case ("GET", "commits") where rest.count == 1:
            let start = r.query["sha"] ?? repo.defaultBranch
            guard let tip = repo.git.resolve("refs/heads/\(start)") ?? repo.git.resolve(start) else { return notFound() }
            let shas = ((try? repo.git.run(["rev-list", "--topo-order", tip]).out) ?? "").split(separator: "\n").map(String.init)
            return paginate(shas.compactMap { commitInfo(repo, $0).map { restCommitJSON(repo, $0) } }, request: r)
        case ("GET", "commits") where rest.count == 2:
            guard let c = commitInfo(repo, rest[1]) else { return .json(422, ["message": "No commit found for SHA: \(rest[1])"]) }
            return .json(200, restCommitJSON(repo, c, files: true))
        case ("GET", "contents") where rest.count >= 2:
            let path = rest.dropFirst().joined(separator: "/")
            let ref = r.query["ref"] ?? repo.defaultBranch
            guard let rev = repo.git.resolve("refs/heads/\(ref)") ?? repo.git.resolve(ref),
                  let blob = try? repo.git.run(["rev-parse", "\(rev):\(path)"]).out,
                  let raw = try? repo.git.run(["cat-file", "blob", blob]).out else { return notFound() }
            let content = Data((raw + "\n").utf8).base64EncodedString(options: [.lineLength76Characters, .endLineWithLineFeed])
            return .json(200, ["type": "file", "encoding": "base64", "path": .string(path), "name": .string(path.split(separator: "/").last.map(String.init) ?? path),
                               "sha": .string(blob), "size": .int(raw.utf8.count + 1), "content": .string(content)])
        case ("GET", "branches") where rest.count >= 2:
            let name = rest.dropFirst().joined(separator: "/")
            guard let sha = repo.git.resolve("refs/heads/\(name)"), let c = commitInfo(repo, sha) else {
                return .json(404, ["message": "Branch not found"])
            }
            return .json(200, ["name": .string(name), "commit": restCommitJSON(repo, c), "protected": false])
        case ("GET", "pulls") where rest.count == 3 && rest[2] == "commits":
            guard let n = Int(rest[1]), let p = pull(full, n), let (base, head) = range(repo, p) else { return notFound() }
            // GitHub lists at most 250 commits of a pull request.
            let shas = Array(commitRange(repo, base: base, head: head).prefix(250))
            return paginate(shas.compactMap { commitInfo(repo, $0).map { restCommitJSON(repo, $0) } }, request: r)
        case ("GET", "releases") where rest.count == 1:
            // Newest first, as GitHub lists them.
            let list = lock.withLock { releases[full.lowercased()] ?? [] }.enumerated().reversed().map { i, rel -> JSON in
                ["id": .int(1000 + i), "tag_name": .string(rel.tag), "name": .string(rel.tag), "draft": false, "prerelease": .bool(rel.prerelease),
                 "html_url": .string("https://github.com/\(repo.fullName)/releases/tag/\(rel.tag)")]
            }
            return paginate(list, request: r)
        case ("GET", "pulls") where rest.count == 3 && rest[2] == "files":
            guard let n = Int(rest[1]), let p = pull(full, n), let head = headSHA(repo: repo, pull: p),
                  let base = repo.git.resolve("refs/heads/\(p.baseRef)") else { return notFound() }
            let mergeBase = (try? repo.git.run(["merge-base", base, head]).out) ?? base
            return paginate(fileChanges(repo, from: mergeBase, to: head), request: r)
        case ("GET", "pulls") where rest.count == 1:
            let state = r.query["state"] ?? "open"
            var list = lock.withLock { Array((pulls[full.lowercased()] ?? [:]).values) }.sorted { $0.number > $1.number }
            if r.query["sort"] == "updated" {
                list.sort { ($0.updatedAt, $0.number) < ($1.updatedAt, $1.number) }
                if r.query["direction"] != "asc" { list.reverse() }
            }
            if state != "all" { list = list.filter { $0.state == state } }
            if let head = r.query["head"] {
                list = list.filter { "\($0.headRepo.split(separator: "/")[0]):\($0.headRef)".lowercased() == head.lowercased() }
            }
            if let base = r.query["base"] { list = list.filter { $0.baseRef == base } }
            return paginate(list.map { pullJSON(repo, $0) }, request: r)
        case ("POST", "pulls") where rest.count == 1:
            guard canWrite(repo, identity) else { return forbidden() }
            guard let title = r.json?["title"]?.string, let head = r.json?["head"]?.string, let base = r.json?["base"]?.string else {
                return .json(422, ["message": "Validation Failed", "errors": [["resource": "PullRequest", "code": "missing_field"]]])
            }
            let headBranch = head.split(separator: ":").last.map(String.init) ?? head
            guard repo.git.resolve("refs/heads/\(headBranch)") != nil else {
                return .json(422, ["message": "Validation Failed", "errors": [["resource": "PullRequest", "field": "head", "code": "invalid"]]])
            }
            guard repo.git.resolve("refs/heads/\(base)") != nil else {
                return .json(422, ["message": "Validation Failed", "errors": [["resource": "PullRequest", "field": "base", "code": "invalid"]]])
            }
            let existing = lock.withLock { (pulls[full.lowercased()] ?? [:]).values.first { $0.state == "open" && $0.headRef == headBranch && $0.baseRef == base } }
            if existing != nil {
                return .json(422, ["message": "Validation Failed",
                                   "errors": [["resource": "PullRequest", "code": "custom", "message": .string("A pull request already exists for \(repo.owner):\(headBranch).")]]])
            }
            let n = (try? openPull(full, title: title, author: identity ?? "ghost", head: headBranch, base: base,
                                   body: r.json?["body"]?.string)) ?? 0
            return .json(201, pullJSON(repo, pull(full, n)!))
        case ("PATCH", "issues") where rest.count == 2:
            guard let n = Int(rest[1]), issueExists(full, n) else { return notFound() }
            guard canWrite(repo, identity) else { return forbidden() }
            if let milestone = r.json?["milestone"] { updatePull(full, n) { $0.milestone = milestone.string ?? milestone.int.map { "milestone-\($0)" } } }
            if let labels = r.json?["labels"]?.array?.compactMap(\.string) { _ = mutateLabels(full, n) { $0 = labels } }
            if let assignees = r.json?["assignees"]?.array?.compactMap(\.string) { updatePull(full, n) { $0.assignees = assignees } }
            if let state = r.json?["state"]?.string { updatePull(full, n) { $0.state = state } }
            return .json(200, pull(full, n).map { pullJSON(repo, $0) } ?? ["number": .int(n)])
        case ("GET", "commits") where rest.count == 3 && rest[2] == "status":
            let sha = repo.git.resolve(rest[1]) ?? rest[1]
            // One status per context: the latest, as GitHub's combined status lists them.
            var latest: [String: Status] = [:]
            for st in statuses(full, sha: sha) { latest[st.context] = st }
            let list = latest.values.sorted { $0.context < $1.context }
            return .json(200, ["state": .string(combinedState(repo, sha)), "sha": .string(sha), "total_count": .int(list.count),
                               "statuses": .array(list.map(statusJSON))])
        case ("PUT", "pulls") where rest.count == 3 && rest[2] == "merge":
            guard let n = Int(rest[1]), let p = pull(full, n) else { return notFound() }
            guard canWrite(repo, identity) else { return forbidden() }
            guard p.state == "open" else { return .json(405, ["message": "Pull Request is not mergeable"]) }
            if let sha = r.json?["sha"]?.string, sha != headSHA(repo: repo, pull: p) {
                return .json(409, ["message": "Head branch was modified. Review and try the merge again."])
            }
            let state = mergeState(repo, p)
            guard state == "clean" else { return .json(405, ["message": .string("Pull Request is not mergeable (\(state))")]) }
            let method = MergeMethod(rawValue: r.json?["merge_method"]?.string ?? "merge") ?? .merge
            guard let sha = try? mergePull(full, n, method: method, by: identity ?? "ghost") else {
                return .json(405, ["message": "Pull Request is not mergeable"])
            }
            return .json(200, ["sha": .string(sha), "merged": true, "message": "Pull Request successfully merged"])
        case ("POST", "pulls") where rest.count == 3 && rest[2] == "requested_reviewers":
            guard let n = Int(rest[1]), let p = pull(full, n) else { return notFound() }
            guard canWrite(repo, identity) else { return forbidden() }
            let asked = r.json?["team_reviewers"]?.array?.compactMap(\.string) ?? []
            let people = r.json?["reviewers"]?.array?.compactMap(\.string) ?? []
            // GitHub's refusals: the author cannot review their own PR; reviewers must be collaborators
            // (organization members count); teams must exist. One refusal refuses the whole request.
            if people.contains(where: { $0.lowercased() == p.author.lowercased() }) {
                return .json(422, ["message": "Review cannot be requested from pull request author.",
                                   "documentation_url": "https://docs.github.com/rest/pulls/review-requests#request-reviewers-for-a-pull-request"])
            }
            let outsiders = people.filter { user($0) == nil || association($0, repo: full) == "NONE" }
            let missingTeams = asked.filter { t in lock.withLock { self.teams["\(repo.owner.lowercased())/\(t.lowercased())"] == nil } }
            if !outsiders.isEmpty || !missingTeams.isEmpty {
                return .json(422, ["message": .string("Reviews may only be requested from collaborators. One or more of the users or teams you specified is not a collaborator of the \(full) repository."),
                                   "documentation_url": "https://docs.github.com/rest/pulls/review-requests#request-reviewers-for-a-pull-request"])
            }
            updatePull(full, n) { p in
                for t in asked where !p.requestedTeams.contains(t) { p.requestedTeams.append(t) }
                for u in people where !p.requestedReviewers.contains(where: { $0.lowercased() == u.lowercased() }) { p.requestedReviewers.append(u) }
            }
            return .json(201, pullJSON(repo, pull(full, n)!))
        case ("GET", "pulls") where rest.count == 3 && rest[2] == "requested_reviewers":
            guard let n = Int(rest[1]), let p = pull(full, n) else { return notFound() }
            return .json(200, ["users": .array(p.requestedReviewers.map(userJSON)), "teams": .array(p.requestedTeams.map { ["slug": .string($0), "name": .string($0)] })])
        case ("GET", "pulls") where rest.count == 3 && rest[2] == "reviews":
            guard let n = Int(rest[1]), let p = pull(full, n) else { return notFound() }
            return paginate(p.reviews.map { v in
                ["id": .int(v.id), "user": userJSON(v.user), "state": .string(v.state), "commit_id": .string(v.commitID),
                 "submitted_at": .string(v.submittedAt), "body": "",
                 "author_association": .string(association(v.user, repo: full))]
            }, request: r)
        case ("POST", "issues") where rest.count == 3 && rest[2] == "assignees":
            guard let n = Int(rest[1]), issueExists(full, n) else { return notFound() }
            guard canWrite(repo, identity) else { return forbidden() }
            let add = r.json?["assignees"]?.array?.compactMap(\.string) ?? []
            updatePull(full, n) { p in for a in add where !p.assignees.contains(a) { p.assignees.append(a) } }
            return .json(201, pull(full, n).map { pullJSON(repo, $0) } ?? ["number": .int(n)])
        default:
            return nil
        }
    }

    /// A PR's base and head: the recorded ones once merged, else the current branch tips.
    func range(_ repo: Repo, _ p: Pull) -> (String, String)? {
        if let r = p.mergedRange { return (r.base, r.head) }
        guard let head = headSHA(repo: repo, pull: p), let base = repo.git.resolve("refs/heads/\(p.baseRef)") else { return nil }
        return (base, head)
    }

    func resolveCompareSide(_ repo: Repo, _ side: String) -> String? {
        let name = side.contains(":") ? String(side.split(separator: ":", maxSplits: 1)[1]) : side
        return repo.git.resolve("refs/heads/\(name)") ?? repo.git.resolve(name)
    }
}

extension GitHubEmulator {
    public enum MergeMethod: String, Sendable { case merge, squash, rebase }

    /// Merges a pull request the way GitHub's merge button does, with real git. Returns the merge commit sha
    /// (for a rebase, the last rebased commit).
    @discardableResult
    public func mergePull(_ fullName: String, _ number: Int, method: MergeMethod, by merger: String = "maint-mona") throws -> String {
        guard let repo = repo(fullName), let p = pull(fullName, number), p.state == "open",
              let head = headSHA(repo: repo, pull: p), var base = repo.git.resolve("refs/heads/\(p.baseRef)") else {
            throw EmulatorError("pull request \(fullName)#\(number) cannot be merged")
        }
        let authorEmail = lock.withLock { emails.first { $0.value == p.author }?.key } ?? noreplyEmail(p.author)
        let sha: String
        switch method {
        case .merge:
            guard let tree = try repo.git.mergeTree(base, head).tree else { throw EmulatorError("merge conflict") }
            sha = try repo.git.commitTree(tree, parents: [base, head], message: "Merge pull request #\(number) from \(p.headRepo.split(separator: "/")[0])/\(p.headRef)\n\n\(p.title)",
                                          author: (merger, noreplyEmail(merger), nil))
        case .squash:
            guard let tree = try repo.git.mergeTree(base, head).tree else { throw EmulatorError("merge conflict") }
            sha = try repo.git.commitTree(tree, parents: [base], message: "\(p.title) (#\(number))\n\n\(p.body ?? "")",
                                          author: (p.author, authorEmail, nil))
        case .rebase:
            for c in commitRange(repo, base: base, head: head) {
                guard let info = commitInfo(repo, c),
                      let tree = try repo.git.cherryPickTree(c, onto: base) else { throw EmulatorError("rebase conflict") }
                base = try repo.git.commitTree(tree, parents: [base], message: info.message,
                                               author: (info.authorName, info.authorEmail, info.authorDate))
            }
            sha = base
        }
        let baseBefore = repo.git.resolve("refs/heads/\(p.baseRef)")!
        try repo.git.setRef("refs/heads/\(p.baseRef)", to: sha)
        updatePull(fullName, number) {
            $0.state = "closed"; $0.merged = true; $0.mergeCommitSHA = sha; $0.updatedAt = now()
            $0.mergedRange = (baseBefore, head)
        }
        return sha
    }

    /// Closes a pull request without merging.
    public func closePull(_ fullName: String, _ number: Int) {
        updatePull(fullName, number) { $0.state = "closed"; $0.updatedAt = now() }
    }
}
