import SwitchyardCore
import SwitchyardGitHub

extension CherryPick {
    /// Who writes the commits a pick creates, and when. The date is this run's own clock, so that a
    /// leftover is judged by when Switchyard wrote it, never by a date copied from the picked commit.
    public struct Writer: Sendable {
        public var name: String
        public var email: String
        /// Seconds since the epoch, now.
        public var now: @Sendable () -> Int64
        public init(login: String?, now: @escaping @Sendable () -> Int64 = { Deadline.epochMillis() / 1000 }) {
            name = login ?? "switchyard"
            email = "\(login ?? "switchyard")@users.noreply.github.com"
            self.now = now
        }
        var person: GitHub.Commit.Person { .init(name: name, email: email, date: ISO8601.format(now())) }
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

    /// What a ref holds, as far as cherry-pick is concerned.
    enum Holder { case none, mine, fresh, stale, foreign }

    /// Whose is the commit `ref` points at? Mine when it is `expected`; someone else's (foreign) when
    /// Switchyard did not commit it (a person made a branch of that name: it is never touched); else
    /// a live run's (fresh: stand back) or a dead run's leftover (stale: take it over), by the committer
    /// date Switchyard wrote.
    func holder(_ ref: String, expected: String?, repo: RepoRef, github: some CherryPickGitHub, writer: Writer, lease: Int64) throws -> Holder {
        guard let sha = try github.refSHA(repo, ref) else { return .none }
        if let expected, sha.lowercased() == expected.lowercased() { return .mine }
        let commit = try github.gitCommit(repo, sha)
        // Switchyard's commits name it as committer; the merges it asks GitHub for carry its message.
        let ours = (commit.committer?.name == writer.name && commit.committer?.email == writer.email)
            || commit.message.hasPrefix("switchyard: apply ")
        guard ours else { return .foreign }
        guard let date = commit.committer?.date.flatMap(ISO8601.parse) else { return .stale }
        return writer.now() - date >= lease ? .stale : .fresh
    }

    /// The branch a job uses: `cherry-pick-<n>-to-<target>`, or `…-2`, `…-3` when a person already has a
    /// branch of that name (Switchyard never moves a branch it did not write).
    func branchName(_ job: Job, repo: RepoRef, github: some CherryPickGitHub, writer: Writer, lease: Int64) throws -> String? {
        for i in 1...3 {
            let name = i == 1 ? job.branch : "\(job.branch)-\(i)"
            if try holder("refs/heads/\(name)", expected: nil, repo: repo, github: github, writer: writer, lease: lease) != .foreign { return name }
        }
        return nil
    }

    /// Performs one job, every step safe to repeat.
    ///
    /// The backport branch is claimed first, pointing at a *sibling* commit unique to this run (the
    /// target's tree on the picked commit's parent, with a nonce in its message): creating a ref is
    /// atomic, so of two racing runs one wins, and a run whose answer was lost recognises its own claim
    /// by its unique commit. Each picked commit is then merged into the branch with `POST /merges`,
    /// which applies exactly that commit's change; the pick commit gets the merged tree, the previous
    /// head as its only parent, the original author, and Switchyard as committer with this run's time
    /// (so that a claim left by a run that died is judged by when it was written). The branch is moved
    /// to the last pick, and the pull request opened and labelled. A commit whose change is already on
    /// the target is skipped; when every one is, the claim is withdrawn and nothing is opened.
    /// Returns the outcome and the commits skipped.
    public func perform(_ job: Job, settings: Settings, github: some CherryPickGitHub, writer: Writer,
                        lease: Int64 = 11) -> (Outcome, skipped: [String]) {
        let repo = job.pull.repo
        var claimed = false
        var skipped: [String] = []
        var branchRef = ""
        /// Withdraws this run's claim (best effort): the branch is only ever left behind by a run that died.
        func withdraw() { if claimed { try? github.deleteRef(repo, branchRef) } }
        do {
            guard let target = try github.branchHead(repo, job.request.target) else { return (.missingTarget, []) }
            guard let branch = try branchName(job, repo: repo, github: github, writer: writer, lease: lease) else {
                return (.failed("branches named `\(job.branch)` (and -2, -3) exist and were not made by Switchyard."), [])
            }
            branchRef = "refs/heads/\(branch)"
            // Opened already: by a live run that is about to reply (stand back), or by a run that died
            // before finishing (finish its labels, assignee and reply here).
            if let existing = try openPull(job, branch: branch, github: github) {
                if try holder(branchRef, expected: nil, repo: repo, github: github, writer: writer, lease: lease) == .fresh {
                    return (.inProgress, [])
                }
                return (try finish(existing, job: job, settings: settings, github: github), [])
            }
            let nonce = (0..<4).map { _ in String(UInt16.random(in: 0...UInt16.max), radix: 16) }.joined()
            var head = target
            for (i, sha) in job.source.commits.enumerated() {
                let picked = try github.gitCommit(repo, sha)
                guard let parent = picked.parents.first?.sha else { withdraw(); return (.failed("commit \(sha.prefix(10)) has no parent to pick against."), skipped) }
                // A sibling of the picked commit's parent that carries the tree so far: merging the picked
                // commit into it applies exactly that commit's change.
                let sibling = try github.createCommit(repo, message: "switchyard: base for cherry-picking \(sha) (run \(nonce))",
                                                      tree: head.tree, parents: [parent], author: writer.person, committer: writer.person)
                if i == 0 {
                    if try !github.createRef(repo, branchRef, sha: sibling.sha) {
                        switch try holder(branchRef, expected: sibling.sha, repo: repo, github: github, writer: writer, lease: lease) {
                        case .mine: break                          // this run's own claim; only the answer was lost
                        case .fresh: return (.inProgress, [])     // a live run holds it
                        case .stale, .none: try github.forceRef(repo, branchRef, sha: sibling.sha)   // a dead run's leftover
                        case .foreign: return (.failed("someone else created `\(branch)` meanwhile."), [])
                        }
                    }
                    claimed = true
                } else {
                    try github.forceRef(repo, branchRef, sha: sibling.sha)
                }
                let merged = try github.merge(repo, base: branch, head: sha, message: "switchyard: apply \(sha)")
                switch merged {
                case .conflict:
                    withdraw()
                    let files = (try? github.commitFiles(repo, sha)) ?? []
                    return (.conflict(commit: sha, files: files), skipped)
                case .nothingToMerge:
                    // The sibling lacks the commit's change by construction: only another run moving the
                    // branch can make this happen.
                    return (.inProgress, skipped)
                case .merged(_, let tree):
                    if tree == head.tree {
                        // The change is already on the target: an empty pick, skipped and said.
                        skipped.append(sha)
                        continue
                    }
                    var message = picked.message
                    while message.hasSuffix("\n") { message.removeLast() }
                    let commit = try github.createCommit(repo, message: message + "\n\n(cherry picked from commit \(sha))",
                                                         tree: tree, parents: [head.sha], author: picked.author, committer: writer.person)
                    head = (commit.sha, tree)
                }
            }
            if head.sha == target.sha { withdraw(); return (.alreadyOnTarget, skipped) }
            try github.forceRef(repo, branchRef, sha: head.sha)
            let pr = try github.createPull(repo, title: "[\(job.request.target)] \(job.title)", head: branch,
                                           base: job.request.target, body: job.body)
            let outcome = try finish(pr, job: job, settings: settings, github: github)
            if case .existing(let n, let url) = outcome { return (.created(number: n, url: url), skipped) }
            return (outcome, skipped)
        } catch let e as GitHubError where e.status == 403 {
            return (.failed("GitHub refused (403); the app may lack permission to push to \(repo.fullName)."), skipped)
        } catch {
            let message = SwitchyardError.from(error).message
            return (.failed(message.hasSuffix(".") ? message : message + "."), skipped)
        }
    }

    /// The open backport PR of a job, if there is one.
    func openPull(_ job: Job, branch: String, github: some CherryPickGitHub) throws -> GitHub.PullRequest? {
        try github.openPulls(job.pull.repo, head: "\(job.pull.repo.owner):\(branch)", base: job.request.target).first
    }

    /// Gives a backport PR its labels, assignee and milestone: adding is idempotent, so a run that
    /// found the PR of an earlier one finishes what that one could not.
    func finish(_ pr: GitHub.PullRequest, job: Job, settings: Settings, github: some CherryPickGitHub) throws -> Outcome {
        let ref = IssueRef(repo: job.pull.repo, number: pr.number)
        let have = Set((pr.labels ?? []).map(\.name))
        let missing = settings.prLabels.filter { !have.contains($0) }
        if !missing.isEmpty { try github.addLabels(missing, to: ref) }
        if !(pr.assignees ?? []).contains(where: { $0.login.lowercased() == job.request.requester.lowercased() }) {
            try github.addAssignees([job.request.requester], to: ref)
        }
        if let m = job.request.milestone, pr.milestone?.number != m { try github.setMilestone(m, on: ref) }
        let asked = Set((pr.requestedReviewers ?? []).map { $0.login.lowercased() })
        let wanted = job.reviewers.filter { !asked.contains($0.lowercased()) && $0.lowercased() != pr.user.login.lowercased() }
        // GitHub asks reviews only of collaborators; one it refuses is left out and the backport stands.
        if !wanted.isEmpty { try github.requestReviews(ref, users: wanted, teams: []) }
        return .existing(number: pr.number, url: pr.htmlUrl ?? "https://github.com/\(job.pull.repo.fullName)/pull/\(pr.number)")
    }
}
