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
            let ref = IssueRef(repo: e.repository.ref, number: e.pullRequest.number)
            // Labels and milestone as they are now, not as the payload saw them.
            let pull = try context.github().pullRequest(ref)
            return try pick(pull: pull, repo: ref.repo, only: nil, merger: e.sender.login, context: context)
        case .pullRequest(let e) where e.action == .labeled || e.action == .unlabeled:
            let settings = Settings(config: context.config, repo: e.repository.ref)
            guard let label = e.label?.name, label.hasPrefix(settings.labelPrefix) || label == settings.approvedLabel else {
                return .ignore("label \(e.label?.name ?? "?") does not ask for a cherry-pick")
            }
            let ref = IssueRef(repo: e.repository.ref, number: e.pullRequest.number)
            if e.action == .labeled {
                // GitHub lets anyone with triage apply labels; the labeller must also be allowed to cherry-pick.
                switch try context.admits(e.sender.login, isBot: e.sender.isBot, command: Self.name, default: Self.defaultPolicy, repo: ref.repo) {
                case .allowed: break
                case .ignored(let why):
                    return .perform([.removeLabel(issue: ref, label: label)], message: "the `\(label)` label was removed: \(why)")
                case .denied(let policy):
                    let text = "@\(e.sender.login) only \(describePolicy(policy)) can request cherry-picks, so the `\(label)` label was removed."
                    return .deny(text, reply: [.comment(issue: ref, body: text, marker: Marker(function: Self.name, "label-denied", label)),
                                               .removeLabel(issue: ref, label: label)])
                }
            }
            let pull = try context.github().pullRequest(ref)
            if e.action == .labeled, pull.merged == true {
                let target: String? = label.hasPrefix(settings.labelPrefix) ? String(label.dropFirst(settings.labelPrefix.count))
                    : pull.milestone.flatMap { settings.branch(forMilestone: $0.title) }
                guard let target else { return .ignore("\(label) without a milestone that maps to a branch") }
                let milestone = label == settings.approvedLabel ? pull.milestone?.number : nil
                return try pick(pull: pull, repo: ref.repo, only: [Request(target: target, requester: e.sender.login, milestone: milestone)],
                                merger: nil, context: context)
            }
            guard pull.state == "open" else { return .ignore("#\(ref.number) is closed") }
            return try acknowledge(pull: pull, ref: ref, context: context)
        case .issueComment, .pullRequestReviewComment, .pullRequestReview:
            guard let c = CommentTrigger(event) else { return .ignore("no comment") }
            let commands: [Command]
            switch try context.commands(in: c, named: [Self.name]) {
            case .ignore(let reason): return .ignore(reason)
            case .refuse(let plan): return plan
            case .run(let cmds): commands = cmds
            }
            guard c.isPullRequest else { return .ignore("/cherry-pick works on pull requests; #\(c.number) is an issue") }
            let cmds = Self.commands(commands)
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
            switch try context.admits(c.author.login, command: Self.name, default: Self.defaultPolicy, repo: ref.repo,
                                      association: c.authorAssociation) {
            case .allowed: break
            case .ignored(let why): return .ignore(why)
            case .denied(let policy):
                let text = "@\(c.author.login) only \(describePolicy(policy)) can run `/cherry-pick` here."
                return .deny(text, reply: [.comment(issue: ref, body: text, marker: reply)])
            }
            let pull = try context.github().pullRequest(ref)
            if pull.merged == true {
                let wanted = cmds.filter { !$0.cancel }.flatMap(\.targets)
                guard !wanted.isEmpty else { return .ignore("#\(ref.number) is merged; nothing pending to cancel") }
                return try pick(pull: pull, repo: ref.repo, only: wanted.map { Request(target: $0, requester: c.author.login) },
                                merger: nil, context: context)
            }
            guard pull.state == "open" else {
                let text = "@\(c.author.login) #\(ref.number) was closed without being merged, so there is nothing to cherry-pick."
                return .reject(text, reply: [.comment(issue: ref, body: text, marker: reply)])
            }
            return try acknowledge(pull: pull, ref: ref, context: context)
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
        guard args.count - 1 <= context.requestLimit(in: ref.repo) else {
            return .reject("At most \(context.requestLimit(in: ref.repo)) branches at once.")
        }
        guard let login = context.githubLogin(for: chat) else {
            return .deny("Your chat account is not linked to a GitHub login; ask an operator to add you under `chat.users`.")
        }
        switch try context.admits(login, command: Self.name, default: Self.defaultPolicy, repo: ref.repo) {
        case .allowed: break
        case .ignored(let why): return .ignore(why)
        case .denied(let policy): return .deny("Only \(describePolicy(policy)) can cherry-pick in \(ref.repo.fullName).")
        }
        let pull: GitHub.PullRequest
        do { pull = try context.github().pullRequest(ref) } catch let e as GitHubError where e.status == 404 {
            return .reject("\(ref) does not exist, or Switchyard cannot see it.")
        }
        guard pull.merged == true else { return .reject("\(ref) is not merged yet; comment `/cherry-pick` on it to pick it at merge.") }
        return try pick(pull: pull, repo: ref.repo, only: args.dropFirst().map { Request(target: $0, requester: login) }, merger: nil,
                        context: context)
    }

    /// Edits the one sticky note on an open PR: what will be picked when it merges.
    func acknowledge(pull: GitHub.PullRequest, ref: IssueRef, context: CapabilityContext) throws -> Plan {
        let settings = Settings(config: context.config, repo: ref.repo)
        let requests = try requestsFromGitHub(pull: pull, ref: ref, merger: nil, settings: settings, context: context)
        return .perform([.upsertComment(issue: ref, body: Self.pendingBody(requests), marker: Self.pendingMarker)],
                        message: requests.isEmpty ? "no cherry-picks pending" : "will cherry-pick to \(requests.map(\.target).joined(separator: ", ")) once merged")
    }

    /// Every pending request, rebuilt from the PR's comments and labels, each requester admitted now
    /// (a requester blocked or no longer permitted since asking is dropped).
    func requestsFromGitHub(pull: GitHub.PullRequest, ref: IssueRef, merger: String?, settings: Settings,
                            context: CapabilityContext) throws -> [Request] {
        let github = try context.github()
        return try Self.pendingRequests(comments: try github.comments(on: ref), labels: pull.labels?.map(\.name) ?? [],
                                        milestone: pull.milestone, settings: settings,
                                        admitted: { login in
                                            try context.admits(login, command: Self.name, default: Self.defaultPolicy, repo: ref.repo) == .allowed
                                        },
                                        labeller: { label in try github.lastLabeller(of: ref, label: label) ?? merger })
    }

    /// Picks a merged PR to its pending targets (or to `only`), skipping targets already done.
    func pick(pull: GitHub.PullRequest, repo: RepoRef, only: [Request]?, merger: String?, context: CapabilityContext) throws -> Plan {
        let ref = IssueRef(repo: repo, number: pull.number)
        let github = try context.github()
        let settings = Settings(config: context.config, repo: repo)
        var requests = try only ?? requestsFromGitHub(pull: pull, ref: ref, merger: merger, settings: settings, context: context)
        // What each target's reply says so far (its hidden state): a target done needs nothing more, so a
        // replayed event creates nothing new.
        let mine = try github.ownComments(on: ref)
        var said: [String: JSON] = [:]
        for c in mine {
            for m in Marker.all(in: c.body ?? "") where m.key.hasPrefix(Self.targetMarker("").key) {
                if let state = m.state, let target = state["target"]?.string { said[target] = state }
            }
        }
        requests.removeAll { said[$0.target]?["outcome"]?.string == "done" }
        let hasNote = mine.contains { Self.pendingMarker.found(in: $0.body) != nil }
        guard !requests.isEmpty else {
            // Everything was done, but a run cut short may not have finished the bookkeeping after it.
            var catchUp: [Action] = []
            if let d = settings.doneLabel, said.values.contains(where: { $0["outcome"]?.string == "done" }),
               !(pull.labels ?? []).contains(where: { $0.name == d }) {
                catchUp.append(.addLabels(issue: ref, labels: [d]))
            }
            if hasNote { catchUp.append(Self.note(ref, said)) }
            if settings.removeApproved, !said.isEmpty, said.values.allSatisfy({ $0["outcome"]?.string == "done" }),
               (pull.labels ?? []).contains(where: { $0.name == settings.approvedLabel }) {
                catchUp.append(.removeLabel(issue: ref, label: settings.approvedLabel))
            }
            return catchUp.isEmpty ? .ignore("nothing left to cherry-pick for #\(pull.number)")
                : .perform(catchUp, message: "nothing left to cherry-pick for #\(pull.number); its labels and note are current")
        }
        if context.dryRun {
            return Plan(outcome: .planned, actions: [], message: "would cherry-pick #\(pull.number) to "
                        + requests.map { "\($0.target) as \(Self.branchName(pr: pull.number, target: $0.target))" }.joined(separator: ", "))
        }
        let source: Source
        do { source = try self.source(of: pull, repo: repo, github: github) } catch {
            // Nothing could be read to pick from: every target says so, and the platform is told to retry.
            let message = SwitchyardError.from(error).message
            let why = message.hasSuffix(".") ? message : message + "."
            let jobs = requests.map { Job(pull: ref, title: pull.title, body: "", source: .squash(""), request: $0) }
            return Plan(outcome: .failed, actions: replies(pull: ref, results: jobs.map { ($0, .failed(why), []) }, settings: settings),
                        message: "could not read what #\(pull.number) merged: \(why)")
        }
        // Whose review to ask is a nicety: a read that fails leaves the backports without one.
        let reviewers: [String]
        do { reviewers = try backportReviewers(pull, ref: ref, settings: settings, github: github) } catch {
            context.logger.warning("could not decide whose review the backports ask for", ["error": .string(SwitchyardError.from(error).message)])
            reviewers = []
        }
        let jobs = requests.map {
            var job = Job(pull: ref, title: pull.title, body: Self.pullBody(original: ref, title: pull.title, body: pull.body, requester: $0.requester),
                          source: source, request: $0)
            job.reviewers = settings.reviewFrom == "requester" ? [$0.requester] : reviewers
            return job
        }
        let lease = settings.leaseSeconds ?? Int64((context.settings?.deadlineMilliseconds ?? 9_000) / 1000 + 2)
        let writer = Writer(login: try github.botLogin())
        let results = jobs.map { job -> (Job, Outcome, skipped: [String]) in
            let (outcome, skipped) = perform(job, settings: settings, github: github, writer: writer, lease: lease)
            return (job, outcome, skipped)
        }
        let summary = results.map { Self.summary($0.0.request.target, $0.1) }.joined(separator: "; ")
        let failed = results.contains { if case .failed = $0.1 { true } else { false } }
        let busy = results.contains { $0.1 == .inProgress }
        var actions = replies(pull: ref, results: results, settings: settings)
        // The note written while the PR was open now says what happened, every target included.
        if !failed, !busy, hasNote {
            for (job, outcome, _) in results { said[job.request.target] = Self.replyState(job.request.target, outcome) }
            actions.append(Self.note(ref, said))
        }
        // Every pick done, this run's and every earlier one's: the approval has been acted on, so its
        // label goes (the done label stays). A target that failed earlier and waits for its retry keeps it.
        var outcomes = said
        for (job, outcome, _) in results { outcomes[job.request.target] = Self.replyState(job.request.target, outcome) }
        let allDone = !failed && !busy && outcomes.values.allSatisfy { $0["outcome"]?.string == "done" }
        if settings.removeApproved, allDone, (pull.labels ?? []).contains(where: { $0.name == settings.approvedLabel }) {
            actions.append(.removeLabel(issue: ref, label: settings.approvedLabel))
        }
        return Plan(outcome: failed ? .failed : .done, actions: actions, message: summary)
    }

    /// Whose review the backport PRs ask for, by `review-from`.
    func backportReviewers(_ pull: GitHub.PullRequest, ref: IssueRef, settings: Settings, github: some CherryPickGitHub) throws -> [String] {
        let author = pull.user.login
        func approvers() throws -> [String] {
            let reviews = try github.reviews(ref, maxPages: 3).filter(\.isTrusted)
            let decisions = GitHub.Review.latestDecisions(reviews)
            // Oldest first in the list; the latest approver last.
            return reviews.map(\.user.login).reduce(into: [String]()) { out, login in
                if decisions[login] == "APPROVED", login.lowercased() != author.lowercased() { out.removeAll { $0 == login }; out.append(login) }
            }
        }
        switch settings.reviewFrom {
        case "none", "requester": return []
        case "author": return pull.user.isBot ? [] : [author]
        case "approvers": return try approvers()
        default:
            let association = pull.authorAssociation?.uppercased()
            let member = try association == "MEMBER" || association == "OWNER" || github.isOrgMember(org: ref.repo.owner, login: author)
            if member, !pull.user.isBot { return [author] }
            return try approvers().suffix(1)
        }
    }

    /// The note on a merged PR: every target's outcome, in the order of the targets' names.
    static func note(_ ref: IssueRef, _ said: [String: JSON]) -> Action {
        let lines = said.keys.sorted().compactMap { said[$0]?["summary"]?.string }
        return .upsertComment(issue: ref, body: "Cherry-picks after merge: " + lines.joined(separator: "; ") + ".", marker: pendingMarker)
    }
}
