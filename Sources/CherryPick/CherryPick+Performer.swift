import SwitchyardCore
import SwitchyardGitHub

extension CherryPick {
    /// True when `ref` points at a commit older than `staleAfter` seconds: nobody is working on it any more.
    func isLeftover(_ ref: String, repo: RepoRef, github: some CherryPickGitHub, staleAfter: Int64) throws -> Bool {
        guard let sha = try github.refSHA(repo, ref) else { return true }
        let commit = try github.gitCommit(repo, sha)
        guard let date = (commit.committer?.date ?? commit.author?.date).flatMap(ISO8601.parse) else { return true }
        return Deadline.epochMillis() / 1000 - date > staleAfter
    }

    /// Decides which commits a merged PR contributed: the squash commit, the rebased range, or the
    /// merge commit (applied against its first parent).
    public func source(of pull: GitHub.PullRequest, repo: RepoRef, github: some CherryPickGitHub) throws -> Source {
        guard let merged = pull.mergeCommitSha else { throw SwitchyardError.upstream("#\(pull.number) has no merge commit") }
        let commit = try github.gitCommit(repo, merged)
        if commit.parents.count > 1 { return .mergeCommit(merged) }
        let count = pull.commits ?? 1
        if count <= 1 { return .squash(merged) }
        let firstLine = commit.message.split(separator: "\n", maxSplits: 1).first.map(String.init) ?? ""
        if firstLine.hasSuffix("(#\(pull.number))") { return .squash(merged) }
        // A rebase merge puts the PR's commits, with their messages, on the base: compare them.
        let prCommits = try github.pullCommits(IssueRef(repo: repo, number: pull.number), maxPages: 3).commits
        let onBase = try github.commits(repo, from: merged, count: prCommits.count)
        let baseMessages = onBase.prefix(prCommits.count).reversed().map(\.commit.message)
        if prCommits.count > 1, baseMessages == prCommits.map(\.commit.message) {
            return .rebase(onBase.prefix(prCommits.count).reversed().map(\.sha))
        }
        return .squash(merged)
    }

    /// Performs one job: each commit is applied onto the target through a temporary ref and `POST /merges`,
    /// then the branch is created (the lock: one of two racing invocations wins) and the PR opened.
    /// Temporary refs are deleted whatever happens.
    /// `staleAfter`: seconds after which a temporary ref or an unfinished branch is a leftover of a
    /// failed invocation (no invocation lives longer than its deadline) rather than another one's work.
    public func perform(_ job: Job, settings: Settings, github: some CherryPickGitHub, staleAfter: Int64 = 11) -> Outcome {
        let repo = job.pull.repo
        var temporary: [String] = []
        defer { for ref in temporary { try? github.deleteRef(repo, ref) } }
        do {
            guard var head = try github.branchHead(repo, job.request.target) else { return .missingTarget }
            for (i, sha) in job.source.commits.enumerated() {
                let picked = try github.gitCommit(repo, sha)
                guard let parent = picked.parents.first?.sha else { return .failed("commit \(sha.prefix(10)) has no parent to pick against.") }
                // A sibling of the picked commit's parent that carries the target's tree: merging the picked
                // commit into it applies exactly that commit's change.
                let sibling = try github.createCommit(repo, message: "switchyard: temporary base for cherry-picking \(sha)",
                                                      tree: head.tree, parents: [parent], author: nil)
                // Deterministic, so a leftover of a failed invocation is found and reused (and then deleted).
                let tmp = "switchyard-tmp/\(job.branch)-\(i)"
                if try !github.createRef(repo, "refs/heads/\(tmp)", sha: sibling.sha) {
                    guard try isLeftover("refs/heads/\(tmp)", repo: repo, github: github, staleAfter: staleAfter) else { return .inProgress }
                    try github.forceRef(repo, "refs/heads/\(tmp)", sha: sibling.sha)
                }
                temporary.append("refs/heads/\(tmp)")
                let merged = try github.merge(repo, base: tmp, head: sha, message: "switchyard: apply \(sha)")
                try github.deleteRef(repo, "refs/heads/\(tmp)")
                temporary.removeAll { $0 == "refs/heads/\(tmp)" }
                switch merged {
                case .conflict:
                    let files = (try? github.commitFiles(repo, sha)) ?? []
                    return .conflict(commit: sha, files: files)
                case .nothingToMerge:
                    // The sibling lacks the commit's change by construction: only a concurrent invocation
                    // moving the temporary ref can make this happen.
                    return .inProgress
                case .merged(_, let tree):
                    var message = picked.message
                    while message.hasSuffix("\n") { message.removeLast() }
                    let commit = try github.createCommit(repo, message: message + "\n\n(cherry picked from commit \(sha))",
                                                         tree: tree, parents: [head.sha], author: picked.author)
                    head = (commit.sha, tree)
                }
            }
            // Creating the branch is the lock: a racing invocation finds it and stands back.
            if try !github.createRef(repo, "refs/heads/\(job.branch)", sha: head.sha) {
                if let pr = try github.openPulls(repo, head: "\(repo.owner):\(job.branch)", base: job.request.target).first {
                    return .existing(number: pr.number, url: pr.htmlUrl ?? "")
                }
                // A branch without a PR: another invocation is about to open it, or one failed after pushing.
                guard try isLeftover("refs/heads/\(job.branch)", repo: repo, github: github, staleAfter: staleAfter) else { return .inProgress }
            }
            let pr = try github.createPull(repo, title: "[\(job.request.target)] \(job.title)", head: job.branch,
                                           base: job.request.target, body: job.body)
            try github.updateIssue(IssueRef(repo: repo, number: pr.number), labels: settings.prLabels,
                                   assignees: [job.request.requester], milestone: job.request.milestone)
            return .created(number: pr.number, url: pr.htmlUrl ?? "https://github.com/\(repo.fullName)/pull/\(pr.number)")
        } catch let e as GitHubError where e.status == 403 {
            return .failed("GitHub refused (\(e.message)); the app may lack permission to push to \(repo.fullName).")
        } catch {
            return .failed(SwitchyardError.from(error).message + ".")
        }
    }
}
