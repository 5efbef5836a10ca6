import SwitchyardCore
import SwitchyardGitHub
import SwitchyardRuntime

extension CherryPick: Capability {
    public var name: String { Self.name }
    public var events: Set<String>? { ["issue_comment", "pull_request_review_comment", "pull_request_review", "pull_request"] }

    public func plan(event: WebhookEvent, context: CapabilityContext) throws -> Plan {
        switch event {
        case .pullRequest(let e) where e.action == .closed:
            guard e.pullRequest.merged == true else { return .ignore("#\(e.pullRequest.number) was closed without merging") }
            return try pick(pull: e.pullRequest, repo: e.repository.ref, only: nil, labeller: e.sender.login, context: context)
        case .pullRequest(let e) where e.action == .labeled:
            let settings = Settings(config: context.config, repo: e.repository.ref)
            guard let label = e.label?.name, label.hasPrefix(settings.labelPrefix) || label == settings.approvedLabel else {
                return .ignore("label \(e.label?.name ?? "?") does not ask for a cherry-pick")
            }
            let ref = IssueRef(repo: e.repository.ref, number: e.pullRequest.number)
            let github = try context.github()
            // GitHub lets anyone with triage apply labels; the labeller must also be allowed to cherry-pick.
            let policy = context.config.allowed(Self.name, in: ref.repo, default: Self.defaultPolicy)
            guard try PermissionChecker(reader: github).allows(policy, login: e.sender.login, author: nil, repo: ref.repo) else {
                let text = "@\(e.sender.login) only \(describePolicy(policy)) can request cherry-picks; the `\(label)` label was ignored."
                return .deny(text, reply: [.comment(issue: ref, body: text, marker: Marker(function: Self.name, "label-denied", label))])
            }
            if e.pullRequest.merged == true {
                let target: String? = label.hasPrefix(settings.labelPrefix) ? String(label.dropFirst(settings.labelPrefix.count))
                    : e.pullRequest.milestone.flatMap { settings.branch(forMilestone: $0.title) }
                guard let target else { return .ignore("\(label) without a milestone that maps to a branch") }
                return try pick(pull: e.pullRequest, repo: ref.repo, only: [target], labeller: e.sender.login, context: context)
            }
            guard e.pullRequest.state == "open" else { return .ignore("#\(ref.number) is closed") }
            return try acknowledge(pull: e.pullRequest, ref: ref, labeller: e.sender.login, context: context)
        case .issueComment, .pullRequestReviewComment, .pullRequestReview:
            guard let c = CommentTrigger(event) else { return .ignore("no comment") }
            guard c.isNew else { return .ignore("\(c.action) comments are ignored") }
            if c.author.isBot || c.sender.isBot { return .ignore("comments by bots never trigger commands") }
            if c.body.contains(Marker.prefix) { return .ignore("Switchyard's own comments never trigger commands") }
            let cmds = Self.commands(in: c.body)
            guard !cmds.isEmpty else { return .ignore("no /cherry-pick command in the comment") }
            guard c.isPullRequest else { return .ignore("/cherry-pick works on pull requests; #\(c.number) is an issue") }
            let ref = IssueRef(repo: c.repository, number: c.number)
            let reply = Marker(function: Self.name, "reply", "\(c.commentID ?? 0)")
            let targets = cmds.flatMap(\.targets)
            if targets.isEmpty {
                let text = "@\(c.author.login) name the branch: `/cherry-pick release-8.0` (several allowed), or `/cherry-pick cancel release-8.0`."
                return .reject(text, reply: [.comment(issue: ref, body: text, marker: reply)])
            }
            if let bad = targets.first(where: { !Self.isValidBranch($0) }) {
                let text = "@\(c.author.login) `\(bad)` is not a branch name."
                return .reject(text, reply: [.comment(issue: ref, body: text, marker: reply)])
            }
            let github = try context.github()
            let policy = context.config.allowed(Self.name, in: ref.repo, default: Self.defaultPolicy)
            guard try PermissionChecker(reader: github).allows(policy, login: c.author.login, author: nil, repo: ref.repo,
                                                               association: c.authorAssociation) else {
                let text = "@\(c.author.login) only \(describePolicy(policy)) can run `/cherry-pick` here."
                return .deny(text, reply: [.comment(issue: ref, body: text, marker: reply)])
            }
            let pull = try github.pullRequest(ref)
            if pull.merged == true {
                let wanted = cmds.filter { !$0.cancel }.flatMap(\.targets)
                guard !wanted.isEmpty else { return .ignore("#\(ref.number) is merged; nothing pending to cancel") }
                return try pick(pull: pull, repo: ref.repo, only: wanted, requester: c.author.login, labeller: nil, context: context)
            }
            guard pull.state == "open" else {
                let text = "@\(c.author.login) #\(ref.number) was closed without being merged, so there is nothing to cherry-pick."
                return .reject(text, reply: [.comment(issue: ref, body: text, marker: reply)])
            }
            return try acknowledge(pull: pull, ref: ref, labeller: nil, context: context)
        default:
            return .ignore("\(event.name)\(event.action.map { "." + $0 } ?? "") does not trigger cherry-picks")
        }
    }

    /// `/switchyard cherry-pick owner/repo#123 release-8.0` from chat, as the mapped GitHub login.
    public func plan(chat: ChatCommand, command: Command, context: CapabilityContext) throws -> Plan {
        let args = command.arguments
        guard args.count >= 2, let ref = IssueRef(args[0]), args.dropFirst().allSatisfy(Self.isValidBranch) else {
            return .reject("Usage: `\(chat.command) cherry-pick owner/repo#123 release-8.0 [more branches]`")
        }
        guard let login = context.githubLogin(for: chat) else {
            return .deny("Your chat account is not linked to a GitHub login; ask an operator to add you under `chat.users`.")
        }
        let github = try context.github()
        let policy = context.config.allowed(Self.name, in: ref.repo, default: Self.defaultPolicy)
        guard try PermissionChecker(reader: github).allows(policy, login: login, author: nil, repo: ref.repo) else {
            return .deny("Only \(describePolicy(policy)) can cherry-pick in \(ref.repo.fullName).")
        }
        let pull = try github.pullRequest(ref)
        guard pull.merged == true else { return .reject("\(ref) is not merged yet; comment `/cherry-pick` on it to pick it at merge.") }
        return try pick(pull: pull, repo: ref.repo, only: Array(args.dropFirst()), requester: login, labeller: nil, context: context)
    }

    /// Edits the one sticky note on an open PR: what will be picked when it merges.
    func acknowledge(pull: GitHub.PullRequest, ref: IssueRef, labeller: String?, context: CapabilityContext) throws -> Plan {
        let github = try context.github()
        let settings = Settings(config: context.config, repo: ref.repo)
        let requests = try requestsFromGitHub(pull: pull, ref: ref, labeller: labeller, settings: settings, github: github, context: context)
        return .perform([.upsertComment(issue: ref, body: Self.pendingBody(requests), marker: Self.pendingMarker)],
                        message: requests.isEmpty ? "no cherry-picks pending" : "will cherry-pick to \(requests.map(\.target).joined(separator: ", ")) once merged")
    }

    func requestsFromGitHub(pull: GitHub.PullRequest, ref: IssueRef, labeller: String?, settings: Settings,
                            github: GitHubClient, context: CapabilityContext) throws -> [Request] {
        let policy = context.config.allowed(Self.name, in: ref.repo, default: Self.defaultPolicy)
        let checker = PermissionChecker(reader: github)
        return try Self.pendingRequests(comments: try github.comments(on: ref), labels: pull.labels?.map(\.name) ?? [],
                                        labeller: labeller, milestone: pull.milestone, settings: settings) {
            try checker.allows(policy, login: $0, author: nil, repo: ref.repo)
        }
    }

    /// Picks a merged PR to its pending targets (or to `only`), skipping targets already done.
    func pick(pull: GitHub.PullRequest, repo: RepoRef, only: [String]?, requester: String? = nil, labeller: String?,
              context: CapabilityContext) throws -> Plan {
        let ref = IssueRef(repo: repo, number: pull.number)
        let github = try context.github()
        let settings = Settings(config: context.config, repo: repo)
        var requests: [Request]
        if let only {
            let known = try requestsFromLabels(pull: pull, labeller: labeller, settings: settings)
            requests = only.map { t in known.first { $0.target == t } ?? Request(target: t, requester: requester ?? labeller ?? "github-actions") }
        } else {
            requests = try requestsFromGitHub(pull: pull, ref: ref, labeller: labeller, settings: settings, github: github, context: context)
        }
        // Done targets carry a reply marker: a replayed event creates nothing new.
        let comments = try github.comments(on: ref)
        requests.removeAll { r in comments.contains { $0.body?.contains(Self.doneMarker(r.target).html) == true } }
        guard !requests.isEmpty else { return .ignore("nothing left to cherry-pick for #\(pull.number)") }
        let source = try self.source(of: pull, repo: repo, github: github)
        let jobs = requests.map {
            Job(pull: ref, title: pull.title, body: Self.pullBody(original: ref, title: pull.title, body: pull.body, requester: $0.requester),
                source: source, request: $0)
        }
        if context.dryRun {
            return Plan(outcome: .planned, actions: [], message: "would cherry-pick \(source.commits.map { String($0.prefix(10)) }.joined(separator: ", ")) to "
                        + jobs.map { "\($0.request.target) as \($0.branch)" }.joined(separator: ", "))
        }
        let stale = Int64((context.settings?.deadlineMilliseconds ?? 9_000) / 1000 + 2)
        let results = jobs.map { ($0, perform($0, settings: settings, github: github, staleAfter: stale)) }
        let summary = results.map { job, outcome -> String in
            switch outcome {
            case .created(let n, _): "\(job.request.target): #\(n)"
            case .existing(let n, _): "\(job.request.target): already #\(n)"
            case .inProgress: "\(job.request.target): in progress elsewhere"
            case .conflict: "\(job.request.target): conflict"
            case .missingTarget: "\(job.request.target): no such branch"
            case .failed(let why): "\(job.request.target): failed (\(why))"
            }
        }.joined(separator: "; ")
        let failed = results.contains { if case .failed = $0.1 { true } else { false } }
        var actions = replies(pull: ref, results: results, settings: settings)
        // The note written while the PR was open now says what happened.
        if comments.contains(where: { $0.body?.contains(Self.pendingMarker.html) == true }) {
            actions.append(.upsertComment(issue: ref, body: "Cherry-picks after merge: " + summary + ".", marker: Self.pendingMarker))
        }
        return Plan(outcome: failed ? .failed : .done, actions: actions, message: summary)
    }

    func requestsFromLabels(pull: GitHub.PullRequest, labeller: String?, settings: Settings) throws -> [Request] {
        Self.pendingRequests(comments: [], labels: pull.labels?.map(\.name) ?? [], labeller: labeller, milestone: pull.milestone,
                             settings: settings) { _ in true }
    }
}
