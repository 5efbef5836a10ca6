import SwitchyardCore
import SwitchyardGitHub

/// The GitHub calls cherry-pick makes, and no others.
public protocol CherryPickGitHub: PermissionReading, CommentReading {
    func pullRequest(_ pull: IssueRef) throws -> GitHub.PullRequest
    func pullCommits(_ pull: IssueRef, maxPages: Int) throws -> (commits: [GitHub.Commit], complete: Bool)
    func branchHead(_ repo: RepoRef, _ branch: String) throws -> (sha: String, tree: String)?
    func commits(_ repo: RepoRef, from sha: String, count: Int) throws -> [GitHub.Commit]
    func gitCommit(_ repo: RepoRef, _ sha: String) throws -> GitHub.GitCommit
    func createCommit(_ repo: RepoRef, message: String, tree: String, parents: [String], author: GitHub.Commit.Person?,
                      committer: GitHub.Commit.Person?) throws -> GitHub.GitCommit
    func createRef(_ repo: RepoRef, _ ref: String, sha: String) throws -> Bool
    func deleteRef(_ repo: RepoRef, _ ref: String) throws
    func refSHA(_ repo: RepoRef, _ ref: String) throws -> String?
    func forceRef(_ repo: RepoRef, _ ref: String, sha: String) throws
    func merge(_ repo: RepoRef, base: String, head: String, message: String) throws -> GitHubClient.MergeResult
    func openPulls(_ repo: RepoRef, head: String, base: String) throws -> [GitHub.PullRequest]
    func createPull(_ repo: RepoRef, title: String, head: String, base: String, body: String) throws -> GitHub.PullRequest
    func addLabels(_ labels: [String], to issue: IssueRef) throws
    func addAssignees(_ logins: [String], to issue: IssueRef) throws
    func setMilestone(_ milestone: Int, on issue: IssueRef) throws
    func commitFiles(_ repo: RepoRef, _ sha: String) throws -> [String]
    func lastLabeller(of issue: IssueRef, label: String) throws -> String?
    func reviews(_ pull: IssueRef, maxPages: Int) throws -> [GitHub.Review]
    @discardableResult
    func requestReviews(_ pull: IssueRef, users: [String], teams: [String]) throws -> [String]
}

extension GitHubClient: CherryPickGitHub {}

/// Backports merged pull requests to release branches through the REST API alone, with no clone.
public struct CherryPick: Sendable {
    public static let name = "cherry-pick"
    public static let defaultPolicy: [PermissionLevel] = [.member, .collaborator(.write)]
    public static let pendingMarker = Marker(function: "cherry-pick", "pending")

    public init() {}

    public struct Settings: Sendable, Equatable {
        /// Labels `<prefix><branch>` ask for a pick to `<branch>`.
        public var labelPrefix = "cherry-pick/"
        /// Mattermost's flow: this label plus a milestone, mapped to a branch by `milestoneBranch`.
        public var approvedLabel = "CherryPick/Approved"
        /// `{major}` and `{minor}` come from the milestone title (`v8.0.0` → `release-8.0`).
        public var milestoneBranch = "release-{major}.{minor}"
        public var prLabels = ["AutomatedCherryPick"]
        public var doneLabel: String? = "CherryPick/Done"
        public var conflictLabel: String? = "CherryPick/Conflict"
        /// Whose review a backport PR asks for: `auto` (Mattermod's rule: the original author when a member
        /// of the organization, else the original PR's latest approver), `author`, `approvers` (all who
        /// approved the original), `requester`, or `none`.
        public var reviewFrom = "auto"
        /// Remove the approved label from the original PR once every pick is done (Mattermod does).
        public var removeApproved = true
        /// Seconds after which a temporary ref or an unfinished branch with no pull request is a leftover
        /// of a run that died, judged by the committer date the run wrote. Default: the longest an
        /// invocation lives (its deadline) plus a margin.
        public var leaseSeconds: Int64? = nil

        public init() {}

        public init(config: Config, repo: RepoRef) {
            func v(_ k: String) -> YAML? { config.value(["cherry-pick", k], for: repo) }
            if let x = v("label-prefix")?.string { labelPrefix = x }
            if let x = v("approved-label")?.string { approvedLabel = x }
            if let x = v("milestone-branch")?.string { milestoneBranch = x }
            if let x = v("pr-labels")?.strings { prLabels = x }
            if let x = v("done-label")?.string { doneLabel = x.isEmpty ? nil : x }
            if let x = v("conflict-label")?.string { conflictLabel = x.isEmpty ? nil : x }
            if let x = v("review-from")?.string { reviewFrom = x }
            if let x = v("remove-approved-label")?.bool { removeApproved = x }
            if let x = v("lease-seconds")?.int { leaseSeconds = Int64(max(0, x)) }
        }

        /// The branch a milestone maps to, or nil when the title has no `major.minor`.
        public func branch(forMilestone title: String) -> String? {
            let digits = title.drop { !$0.isNumber }
            let parts = digits.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count >= 2, let major = Int(parts[0]), let minor = Int(parts[1].prefix { $0.isNumber }) else { return nil }
            return milestoneBranch.replacing("{major}", with: "\(major)").replacing("{minor}", with: "\(minor)")
        }
    }

    /// One request to pick a pull request to a branch.
    public struct Request: Sendable, Equatable, Hashable {
        public var target: String
        public var requester: String
        /// Set when the label flow chose the branch from the milestone.
        public var milestone: Int?
        public init(target: String, requester: String, milestone: Int? = nil) {
            self.target = target; self.requester = requester; self.milestone = milestone
        }
    }

    /// Which commits to apply, decided from how the PR was merged.
    public enum Source: Sendable, Equatable {
        case squash(String)
        case rebase([String])
        case mergeCommit(String)
        public var commits: [String] {
            switch self {
            case .squash(let c), .mergeCommit(let c): [c]
            case .rebase(let cs): cs
            }
        }
    }

    /// Everything the performer needs for one target.
    public struct Job: Sendable, Equatable {
        public var pull: IssueRef
        public var title: String
        public var body: String
        public var source: Source
        public var request: Request
        /// Whose review the backport PR asks for.
        public var reviewers: [String] = []
        public var branch: String { CherryPick.branchName(pr: pull.number, target: request.target) }
    }

    public static func branchName(pr: Int, target: String) -> String { "cherry-pick-\(pr)-to-\(target)" }

    /// A target branch: a name `git check-ref-format --branch` accepts (no `.`, `..` or `./` tricks).
    public static func isValidBranch(_ s: String) -> Bool { GitRef.isValid(s) && s.utf8.count <= 200 }

    // MARK: Requests from comments and labels (GitHub is the only state)

    /// The commands in one comment: targets added and targets cancelled, in order.
    public static func commands(in body: String) -> [(cancel: Bool, targets: [String])] {
        commands(CommandGrammar.scan(body, keeping: [name]).commands)
    }

    static func commands(_ cmds: [Command]) -> [(cancel: Bool, targets: [String])] {
        cmds.map { c in
            if c.arguments.first?.lowercased() == "cancel" { return (true, Array(c.arguments.dropFirst())) }
            return (false, c.arguments)
        }
    }

    /// Rebuilds the pending requests from the PR's comments (oldest first) and labels. `admitted` says
    /// whether a login may request picks now (the shared gate: bots, blocked users, the policy), and
    /// `labeller` who last added a label.
    public static func pendingRequests(comments: [GitHub.Comment], labels: [String], milestone: GitHub.Milestone?,
                                       settings: Settings, admitted: (String) throws -> Bool,
                                       labeller: (String) throws -> String?) rethrows -> [Request] {
        var requests: [Request] = []
        for c in comments where !c.user.isBot {
            let cmds = commands(in: c.body ?? "")
            guard !cmds.isEmpty, try admitted(c.user.login) else { continue }
            for cmd in cmds {
                for t in cmd.targets where isValidBranch(t) {
                    requests.removeAll { $0.target == t }
                    if !cmd.cancel { requests.append(Request(target: t, requester: c.user.login)) }
                }
            }
        }
        for l in labels {
            var target: String? = nil
            var milestoneNumber: Int? = nil
            if l.hasPrefix(settings.labelPrefix) {
                target = String(l.dropFirst(settings.labelPrefix.count))
            } else if l == settings.approvedLabel, let m = milestone, let t = settings.branch(forMilestone: m.title) {
                target = t; milestoneNumber = m.number
            }
            guard let t = target, isValidBranch(t), !requests.contains(where: { $0.target == t }),
                  let who = try labeller(l), try admitted(who) else { continue }
            requests.append(Request(target: t, requester: who, milestone: milestoneNumber))
        }
        return requests
    }

    // MARK: Replies

    public enum Outcome: Sendable, Equatable {
        case created(number: Int, url: String)
        /// The backport pull request exists: opened by this run or an earlier one (finished here).
        case existing(number: Int, url: String)
        /// Another live run holds the branch: it replies itself.
        case inProgress
        case conflict(commit: String, files: [String])
        case missingTarget
        /// Every commit is already on the target: nothing to pick.
        case alreadyOnTarget
        case failed(String)
    }

    /// The one reply per target, edited as the outcome changes (a failure is replaced by the success).
    public static func targetMarker(_ target: String) -> Marker { Marker(function: name, "target", target) }

    /// A target's outcome in a few words, for the note on the merged PR and the response.
    public static func summary(_ target: String, _ outcome: Outcome) -> String {
        switch outcome {
        case .created(let n, _), .existing(let n, _): "\(target): #\(n)"
        case .inProgress: "\(target): in progress elsewhere"
        case .conflict: "\(target): conflict"
        case .missingTarget: "\(target): no such branch"
        case .alreadyOnTarget: "\(target): already there"
        case .failed(let why): "\(target): failed (\(why))"
        }
    }

    /// The hidden state of a target's reply: the outcome, and its summary for the note.
    public static func replyState(_ target: String, _ outcome: Outcome) -> JSON {
        let kind: String = switch outcome {
        case .created, .existing, .alreadyOnTarget: "done"
        case .inProgress: "busy"
        case .conflict: "conflict"
        case .missingTarget: "missing"
        case .failed: "failed"
        }
        return ["target": .string(target), "outcome": .string(kind), "summary": .string(summary(target, outcome))]
    }

    /// Replies and labels for what the performer did: one sticky reply per target.
    public func replies(pull: IssueRef, results: [(Job, Outcome, skipped: [String])], settings: Settings) -> [Action] {
        var actions: [Action] = []
        var labels: [String] = []
        for (job, outcome, skipped) in results {
            let who = "@\(job.request.requester)"
            let t = job.request.target
            let marker = Self.targetMarker(t)
            let skippedNote = skipped.isEmpty ? "" :
                " Already on `\(t)`, so skipped: " + skipped.map { "`\($0.prefix(10))`" }.joined(separator: ", ") + "."
            func reply(_ text: String, state _: String) -> Action {
                .upsertComment(issue: pull, body: text, marker: marker.with(state: Self.replyState(t, outcome)))
            }
            switch outcome {
            case .created(let n, let url), .existing(let n, let url):
                // The same words whichever run opened it, so a finished retry reads like a clean run.
                actions.append(reply("\(who) cherry-picked to `\(t)` in #\(n) (\(url)).\(skippedNote)", state: "done"))
                if let d = settings.doneLabel { labels.append(d) }
            case .inProgress:
                continue
            case .alreadyOnTarget:
                actions.append(reply("\(who) nothing to cherry-pick to `\(t)`: every commit of #\(pull.number) is already there.", state: "done"))
                if let d = settings.doneLabel { labels.append(d) }
            case .conflict(let commit, let files):
                let repo = pull.repo.fullName
                var text = "\(who) could not cherry-pick to `\(t)`: commit \(commit.prefix(10)) does not apply cleanly"
                text += files.isEmpty ? ".\n" : " (it touches \(files.prefix(10).map { "`\($0)`" }.joined(separator: ", "))\(files.count > 10 ? ", …" : "")).\n"
                text += """

                    Nothing was pushed. To pick it by hand:

                    ```
                    git fetch origin
                    git switch -c \(job.branch) origin/\(t)
                    \(job.source.commits.map { "git cherry-pick -x \($0)" }.joined(separator: "\n"))
                    # resolve the conflicts, then: git cherry-pick --continue
                    git push origin \(job.branch)
                    ```

                    Then open the pull request: https://github.com/\(repo)/compare/\(t)...\(job.branch)?expand=1 with the title `[\(t)] \(job.title)`.
                    """
                actions.append(reply(text, state: "conflict"))
                if let c = settings.conflictLabel { labels.append(c) }
            case .missingTarget:
                actions.append(reply("\(who) cannot cherry-pick to `\(t)`: \(pull.repo.fullName) has no such branch.", state: "missing"))
            case .failed(let why):
                actions.append(reply("\(who) cherry-picking to `\(t)` failed: \(why) It will be retried when GitHub redelivers the event; comment `/cherry-pick \(t)` to try again now.", state: "failed"))
            }
        }
        var seen = Set<String>()
        let unique = labels.filter { seen.insert($0).inserted }
        if !unique.isEmpty { actions.append(.addLabels(issue: pull, labels: unique)) }
        return actions
    }

    /// The sticky note on an open PR listing what will be picked at merge.
    public static func pendingBody(_ requests: [Request]) -> String {
        if requests.isEmpty { return "No cherry-picks are pending for this pull request." }
        let list = requests.map { "- `\($0.target)` (asked by @\($0.requester))" }.joined(separator: "\n")
        return "Will cherry-pick this pull request once it is merged:\n\n\(list)\n\nComment `/cherry-pick cancel <branch>` to withdraw one."
    }

    /// The body of the backport PR: a link to the original and its release-note block, quoted.
    public static func pullBody(original: IssueRef, title: String, body: String?, requester: String) -> String {
        var text = "Automated cherry-pick of #\(original.number) (\(title)) to this branch, requested by @\(requester).\n"
        if let body, let note = releaseNote(body) {
            text += "\n```release-note\n\(note)\n```\n"
        }
        return text
    }

    /// The content of a ```` ```release-note ```` block, if any.
    public static func releaseNote(_ body: String) -> String? {
        let lines = body.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
        guard let start = lines.firstIndex(where: { $0.trimmingCharacters() == "```release-note" }) else { return nil }
        guard let end = lines[(start + 1)...].firstIndex(where: { $0.trimmingCharacters() == "```" }) else { return nil }
        return lines[(start + 1)..<end].joined(separator: "\n")
    }
}

extension StringProtocol {
    func trimmingCharacters() -> String {
        var s = Substring(self).drop { $0 == " " || $0 == "\t" || $0 == "\r" }
        while let l = s.last, l == " " || l == "\t" || l == "\r" { s = s.dropLast() }
        return String(s)
    }
}
