import SwitchyardCore
import SwitchyardGitHub
import SwitchyardRuntime

extension SlaCheck: Capability {
    public var name: String { Self.name }
    public var events: Set<String>? { ["pull_request", "issue_comment", "pull_request_review_comment", "pull_request_review", "merge_group"] }
    static let commands: Set<String> = ["check-cla", "check-sla"]

    public func plan(event: WebhookEvent, context: CapabilityContext) throws -> Plan {
        switch event {
        case .pullRequest(let e):
            let handled: [EventAction] = [.opened, .reopened, .synchronize, .readyForReview]
            guard handled.contains(e.action) else { return .ignore("pull_request.\(e.action) needs no CLA check") }
            let ref = IssueRef(repo: e.repository.ref, number: e.pullRequest.number)
            if context.isBlocked(e.sender.login, in: ref.repo) { return .ignore("\(e.sender.login) is on the block list") }
            // The payload says which pull request; its head and labels now are GitHub's, not the payload's
            // (a late delivery of an older push must not check, or leave pending, a head that moved on).
            let pr = try context.github().pullRequest(ref)
            guard pr.state == "open" else { return .ignore("\(ref) is closed") }
            return try check(Trigger(pull: ref, headSHA: pr.head.sha, labels: pr.labels?.map(\.name) ?? []), pull: pr, context: context)
        case .issueComment, .pullRequestReviewComment, .pullRequestReview:
            guard let c = CommentTrigger(event) else { return .ignore("no comment") }
            switch try context.commands(in: c, named: Self.commands) {
            case .ignore(let reason): return .ignore(reason)
            case .refuse(let plan): return plan
            case .run: break
            }
            guard c.isPullRequest else { return .ignore("/check-cla works on pull requests; #\(c.number) is an issue") }
            let ref = IssueRef(repo: c.repository, number: c.number)
            let github = try context.github()
            let pr = try github.pullRequest(ref)
            guard pr.state == "open" else { return .ignore("\(ref) is closed") }
            let settings = try Settings(config: context.config, repo: ref.repo)
            // Anyone may ask, but not more than once per interval per head, so it cannot be used to spam.
            if settings.checkIntervalSeconds > 0, let last = try github.latestStatus(ref.repo, sha: pr.head.sha, context: settings.context),
               try github.isBot(last.creator), let at = ISO8601.parse(last.createdAt) {
                let age = Deadline.epochMillis() / 1000 - at
                if age >= 0 && age < Int64(settings.checkIntervalSeconds) {
                    return .ignore("the CLA was checked \(age) s ago; /check-cla works again in \(Int64(settings.checkIntervalSeconds) - age) s")
                }
            }
            return try check(Trigger(pull: ref, headSHA: pr.head.sha, labels: pr.labels?.map(\.name) ?? []), pull: pr, context: context)
        case .other(let name, let payload) where name == "merge_group":
            guard payload["action"]?.string == "checks_requested", let sha = payload["merge_group"]?["head_sha"]?.string,
                  let full = payload["repository"]?["full_name"]?.string, let repo = RepoRef(Substring(full)) else {
                return .ignore("merge_group.\(payload["action"]?.string ?? "?") needs no CLA status")
            }
            let settings = try Settings(config: context.config, repo: repo)
            // Every pull request in the queue passed this check to enter it.
            return .perform([.setStatus(repo: repo, sha: sha, state: "success", context: settings.context,
                                        description: "Merge queue: each pull request was checked", targetURL: settings.signURL)],
                            message: "merge-queue commit marked checked")
        default:
            return .ignore("\(event.name) needs no CLA check")
        }
    }

    /// `/switchyard check-cla owner/repo#123` from chat: anyone may run it.
    public func plan(chat: ChatCommand, command: Command, context: CapabilityContext) throws -> Plan {
        guard Self.commands.contains(command.name), let ref = command.arguments.first.flatMap(IssueRef.init) else {
            return .reject("Usage: `\(chat.command) check-cla owner/repo#123`")
        }
        if let login = context.githubLogin(for: chat), context.isBlocked(login, in: ref.repo) { return .ignore("\(login) is on the block list") }
        let pr = try context.github().pullRequest(ref)
        return try check(Trigger(pull: ref, headSHA: pr.head.sha, labels: pr.labels?.map(\.name) ?? []), pull: pr, context: context)
    }

    /// Posts `pending`, gathers, and plans the result. If gathering fails, the status becomes
    /// `error` before the failure is reported, so it never sticks at pending.
    func check(_ trigger: Trigger, pull: GitHub.PullRequest, context: CapabilityContext) throws -> Plan {
        let settings = try Settings(config: context.config, repo: trigger.pull.repo)
        let github = try context.github()
        try context.performNow([.setStatus(repo: trigger.pull.repo, sha: trigger.headSHA, state: "pending", context: settings.context,
                                           description: "Checking that every contributor has signed the CLA", targetURL: settings.signURL)])
        do {
            let facts = try gather(trigger, pull: pull, settings: settings, github: github, deadline: context.deadline)
            return plan(trigger, facts: facts, settings: settings)
        } catch {
            try? context.performNow([.setStatus(repo: trigger.pull.repo, sha: trigger.headSHA, state: "error", context: settings.context,
                                                description: "The CLA check could not finish; comment /check-cla to retry", targetURL: settings.signURL)])
            throw error
        }
    }

    func gather(_ t: Trigger, pull: GitHub.PullRequest, settings s: Settings, github: some SlaCheckGitHub, deadline: Deadline) throws -> Facts {
        // GitHub lists at most 250 commits of a PR; longer PRs are read through compare.
        let listed: (commits: [GitHub.Commit], complete: Bool)
        if let n = pull.commits, n > 250 {
            listed = try github.compareCommits(t.pull.repo, base: pull.base.sha, head: t.headSHA, maxPages: s.maxComparePages)
        } else {
            listed = try github.pullCommits(t.pull, maxPages: 3)
        }
        let contributors = Identities.contributors(of: listed.commits)
        let signers: Result<Signers, SwitchyardError> = s.source.map { loader.load($0, github: github, deadline: deadline) }
            ?? .failure(.misconfigured("no `cla.signers` source is configured"))
        var exempt = Set<String>()
        if case .success(let signed) = signers, !(s.exemptOrgs.isEmpty && s.exemptTeams.isEmpty) {
            for c in contributors where c.kind == .login && !signed.hasSigned(c) && !Identities.isBot(c) {
                for org in s.exemptOrgs where try github.isOrgMember(org: org, login: c.display) { exempt.insert(c.key) }
                for team in s.exemptTeams {
                    let parts = team.split(separator: "/").map(String.init)
                    if parts.count == 2, try github.isTeamMember(org: parts[0], team: parts[1], login: c.display) { exempt.insert(c.key) }
                }
            }
        }
        let hasComment = try github.comment(on: t.pull, marked: Self.marker) != nil
        return Facts(contributors: contributors, commitCount: listed.commits.count, complete: listed.complete,
                     signers: signers, exemptMembers: exempt, hasComment: hasComment)
    }
}
