import SwitchyardCore
import SwitchyardGitHub
import SwitchyardRuntime

extension Housekeeping: Capability {
    public var name: String { Self.name }
    public var events: Set<String>? { ["pull_request", "issues", "issue_comment", "pull_request_review", "status", "check_suite", "schedule"] }

    public func plan(event: WebhookEvent, context: CapabilityContext) throws -> Plan {
        switch event {
        case .pullRequest(let e):
            return try pullRequest(e, context: context)
        case .issueComment(let e):
            if let c = CommentTrigger(event), !CommandGrammar.scan(c.body, keeping: ["autoassign"]).commands.isEmpty {
                return try autoassign(c, context: context)
            }
            // Activity on a stale PR lifts the stale label.
            let s = Settings(config: context.config, repo: e.repository.ref)
            guard e.action == .created, e.issue.pullRequest != nil, !e.sender.isBot,
                  e.issue.labels?.contains(where: { $0.name == s.staleLabel }) == true else { return .ignore("no housekeeping for this comment") }
            return .perform([.removeLabel(issue: IssueRef(repo: e.repository.ref, number: e.issue.number), label: s.staleLabel)],
                            message: "activity: removed \(s.staleLabel)")
        case .pullRequestReview(let e):
            // A review given, or one dismissed (a "changes requested" taken back), may let an auto-merge go.
            guard e.action == .submitted || e.action == .dismissed else { return .ignore("review \(e.action)") }
            return try autoMerge(IssueRef(repo: e.repository.ref, number: e.pullRequest.number), context: context, announce: false)
        case .other(let name, let payload):
            return try other(name, payload, context: context)
        default:
            return .ignore("\(event.name) needs no housekeeping")
        }
    }

    func pullRequest(_ e: PullRequestEvent, context: CapabilityContext) throws -> Plan {
        let repo = e.repository.ref
        let ref = IssueRef(repo: repo, number: e.pullRequest.number)
        let s = Settings(config: context.config, repo: repo)
        if e.action.rawValue == "review_request_removed" {
            // A reviewer no longer asked may be what an auto-merge PR waited for.
            return try autoMerge(ref, context: context, announce: false)
        }
        let handled: [EventAction] = [.opened, .reopened, .synchronize, .readyForReview, .labeled, .unlabeled, .closed]
        guard handled.contains(e.action) else { return .ignore("pull_request.\(e.action) needs no housekeeping") }
        // A mistake in the rules or the welcome must not quietly widen them: say so, do nothing of them.
        if let problem = s.problems.first {
            throw SwitchyardError.misconfigured("housekeeping for \(repo.fullName): \(problem)")
        }
        if e.action == .labeled || e.action == .unlabeled, context.isBlocked(e.sender.login, in: repo) {
            return .ignore("\(e.sender.login) is on the block list")
        }
        // Deliveries arrive late and out of order: labels, head and state are read now, and the payload
        // only says where to look. A status computed from the payload's labels would be wrong after a
        // reordered labeled/unlabeled pair.
        let pr = try context.github().pullRequest(ref)
        let labels = pr.labels?.map(\.name) ?? []
        var actions: [Action] = []
        var notes: [String] = []
        if pr.state == "open", e.action != .closed, let status = Self.blockStatus(labels: labels, head: pr.head.sha, repo: repo, settings: s) {
            actions.append(status)
            notes.append("merge-block status on \(pr.head.sha.prefix(7))")
        }
        if e.action == .labeled, let label = e.label?.name, labels.contains(label) {
            if let message = Self.labelMessage(label: label, issue: ref, author: pr.user.login, eventID: "\(e.pullRequest.updatedAt ?? "")", settings: s) {
                actions.append(message)
                notes.append("message for \(label)")
            }
            if label == s.autoMergeLabel {
                let merge = try autoMerge(ref, context: context, announce: true)
                return .perform(actions + merge.actions, message: (notes + [merge.message]).joined(separator: "; "), fallbacks: merge.fallbacks)
            }
        }
        if e.action == .synchronize, labels.contains(s.staleLabel) {
            actions.append(.removeLabel(issue: ref, label: s.staleLabel))
            notes.append("activity: removed \(s.staleLabel)")
        }
        if e.action == .closed, pr.state != "open" {
            for l in s.cleanupLabels where labels.contains(l) { actions.append(.removeLabel(issue: ref, label: l)) }
            if !actions.isEmpty { notes.append("clean-up on close") }
        }
        if e.action == .opened, pr.state == "open", s.welcome, try welcomes(pr, repo: repo, settings: s, context: context) {
            if let welcome = s.welcomeMessage {
                actions.append(.comment(issue: ref, body: Self.fill(welcome, ["author": "@\(pr.user.login)"]), marker: Marker(function: name, "welcome")))
            }
            if !s.welcomeLabels.isEmpty { actions.append(.addLabels(issue: ref, labels: s.welcomeLabels.filter { !labels.contains($0) })) }
            if let team = s.welcomeTeam, !(pr.requestedTeams ?? []).contains(where: { $0.slug.lowercased() == team.lowercased() }) {
                actions.append(.requestReviews(pull: ref, users: [], teams: [team]))
            }
            notes.append(s.welcomeWho == "first-time" ? "welcomed a first-time contributor" : "welcomed a contributor from outside the organization")
        }
        if pr.state == "open", !s.rules.isEmpty {
            let (ruleActions, ruleNotes) = try rules(pr, ref: ref, action: e.action.rawValue, labels: labels, settings: s, context: context)
            actions += ruleActions
            notes += ruleNotes
        }
        actions.removeAll { if case .addLabels(_, let l) = $0 { l.isEmpty } else { false } }
        return actions.isEmpty ? .ignore("pull_request.\(e.action) needs no housekeeping") : .perform(actions, message: notes.joined(separator: "; "))
    }

    func other(_ name: String, _ p: JSON, context: CapabilityContext) throws -> Plan {
        switch name {
        case "issues":
            guard let full = p["repository"]?["full_name"]?.string, let repo = RepoRef(Substring(full)),
                  let n = p["issue"]?["number"]?.int else { return .ignore("issues event without an issue") }
            let s = Settings(config: context.config, repo: repo)
            let ref = IssueRef(repo: repo, number: n)
            let labels = p["issue"]?["labels"]?.array?.compactMap { $0["name"]?.string } ?? []
            if p["action"]?.string == "labeled", let label = p["label"]?["name"]?.string,
               let m = Self.labelMessage(label: label, issue: ref, author: p["issue"]?["user"]?["login"]?.string ?? "",
                                         eventID: p["issue"]?["updated_at"]?.string ?? "", settings: s) {
                return .perform([m], message: "message for \(label)")
            }
            if p["action"]?.string == "closed" {
                let remove = s.cleanupLabels.filter(labels.contains).map { Action.removeLabel(issue: ref, label: $0) }
                return remove.isEmpty ? .ignore("nothing to clean up") : .perform(remove, message: "clean-up on close")
            }
            return .ignore("issues.\(p["action"]?.string ?? "?") needs no housekeeping")
        case "status":
            guard p["state"]?.string == "success", let sha = p["sha"]?.string, let full = p["repository"]?["full_name"]?.string,
                  let repo = RepoRef(Substring(full)) else { return .ignore("status \(p["state"]?.string ?? "?") changes nothing to merge") }
            let s = Settings(config: context.config, repo: repo)
            let github = try context.github()
            let candidates = try github.openPullsByUpdate(repo, page: 1, perPage: 100)
                .filter { $0.head.sha == sha && $0.labels?.contains(where: { $0.name == s.autoMergeLabel }) == true }
            return try mergeAll(candidates.map { IssueRef(repo: repo, number: $0.number) }, context: context)
        case "check_suite":
            guard p["action"]?.string == "completed", let full = p["repository"]?["full_name"]?.string,
                  let repo = RepoRef(Substring(full)) else { return .ignore("check_suite \(p["action"]?.string ?? "?")") }
            let numbers = p["check_suite"]?["pull_requests"]?.array?.compactMap { $0["number"]?.int } ?? []
            return try mergeAll(numbers.map { IssueRef(repo: repo, number: $0) }, context: context)
        case "schedule":
            guard p["schedule"]?.string == "stale" else { return .ignore("unknown schedule \(p["schedule"]?.string ?? "?")") }
            guard let full = p["repository"]?.string, let repo = RepoRef(Substring(full)) else {
                throw SwitchyardError.badRequest("a stale schedule needs \"repository\": \"owner/name\"")
            }
            return try stale(repo, context: context)
        default:
            return .ignore("\(name) needs no housekeeping")
        }
    }

    func mergeAll(_ pulls: [IssueRef], context: CapabilityContext) throws -> Plan {
        var actions: [Action] = [], notes: [String] = [], fallbacks: [Fallback] = []
        for ref in pulls {
            let p = try autoMerge(ref, context: context, announce: false)
            actions += p.actions; fallbacks += p.fallbacks; notes.append(p.message)
        }
        return actions.isEmpty ? .ignore(notes.isEmpty ? "no auto-merge pull request for this commit" : notes.joined(separator: "; "))
            : .perform(actions, message: notes.joined(separator: "; "), fallbacks: fallbacks)
    }

    /// Merges a PR carrying the auto-merge label once it is mergeable with green checks, pinned to its head.
    /// Says once that it will merge when ready, and once why when it cannot.
    func autoMerge(_ ref: IssueRef, context: CapabilityContext, announce: Bool) throws -> Plan {
        let s = Settings(config: context.config, repo: ref.repo)
        let github = try context.github()
        let pr = try github.pullRequest(ref)
        guard pr.state == "open", pr.labels?.contains(where: { $0.name == s.autoMergeLabel }) == true else {
            return .ignore("#\(ref.number) is not waiting to auto-merge")
        }
        let waiting = Action.comment(issue: ref, body: "This pull request will be merged (\(s.autoMergeMethod)) as soon as it is mergeable and its checks are green.",
                                     marker: Marker(function: name, "automerge", "waiting"))
        if pr.draft == true { return .perform(announce ? [waiting] : [], message: "#\(ref.number) is a draft") }
        switch pr.mergeableState ?? "unknown" {
        case "clean":
            guard try github.combinedStatus(ref.repo, sha: pr.head.sha) == "success" else {
                return .perform(announce ? [waiting] : [], message: "#\(ref.number) waits for green checks")
            }
            // Reviews still asked for, changes requested, or too few approvals: not yet (Mattermod waits
            // for every requested reviewer; a branch without protection would otherwise merge at once).
            if let pending = try Self.pendingReviews(pr, ref: ref, github: github, settings: s) {
                return .perform(announce ? [waiting] : [], message: "#\(ref.number) waits for reviews: \(pending)")
            }
            let why = "Auto-merge could not merge `\(pr.head.sha.prefix(7))`; GitHub refused it. Merge it by hand, or push again to retry."
            return .perform([.merge(pull: ref, sha: pr.head.sha, method: s.autoMergeMethod)], message: "merged #\(ref.number)",
                            fallbacks: [Fallback(status: 405, actions: [.comment(issue: ref, body: why, marker: Marker(function: name, "automerge", "refused", pr.head.sha))], message: "GitHub refused to merge #\(ref.number)"),
                                        Fallback(status: 409, outcome: .ignored, actions: [], message: "#\(ref.number) moved while merging; the next event retries")])
        case "dirty":
            let why = "@\(pr.user.login) auto-merge is waiting: this branch conflicts with `\(pr.base.ref)`. Resolve the conflicts and it will merge."
            return .perform([waiting, .comment(issue: ref, body: why, marker: Marker(function: name, "automerge", "conflict", pr.head.sha))],
                            message: "#\(ref.number) has conflicts")
        default:
            return .perform(announce ? [waiting] : [], message: "#\(ref.number) is \(pr.mergeableState ?? "not yet mergeable"); waiting")
        }
    }

    /// One bounded pass over open PRs, least recently updated first. Labelling a PR updates it, so
    /// it moves to the back of that order and the next run resumes where this one stopped.
    func stale(_ repo: RepoRef, context: CapabilityContext) throws -> Plan {
        let s = Settings(config: context.config, repo: repo)
        let github = try context.github()
        let checker = PermissionChecker(reader: github)
        let now = Deadline.epochMillis() / 1000
        var actions: [Action] = []
        var scanned = 0
        var complete = false
        for page in 1...s.stalePages {
            guard context.deadline.remainingMilliseconds > 2_000 else { break }
            let prs = try github.openPullsByUpdate(repo, page: page, perPage: s.stalePerPage)
            scanned += prs.count
            for pr in prs {
                guard let updated = pr.updatedAt.flatMap(ISO8601.parse), now - updated >= Int64(s.staleDays) * 86_400 else { complete = true; break }
                let member = try checker.allows([.member], login: pr.user.login, author: nil, repo: repo, association: pr.authorAssociation)
                guard Self.isStale(pr, now: now, settings: s, isMember: member) else { continue }
                let ref = IssueRef(repo: repo, number: pr.number)
                actions.append(.addLabels(issue: ref, labels: [s.staleLabel]))
                actions.append(.comment(issue: ref, body: Self.fill(s.staleMessage, ["author": "@\(pr.user.login)", "days": "\(s.staleDays)"]),
                                        marker: Marker(function: name, "stale", pr.updatedAt ?? "")))
            }
            if complete || prs.count < s.stalePerPage { complete = true; break }
        }
        let marked = actions.count / 2
        return actions.isEmpty ? .ignore("no stale pull requests among \(scanned) scanned")
            : .perform(actions, message: "marked \(marked) stale pull request\(marked == 1 ? "" : "s") (\(scanned) scanned\(complete ? "" : "; the next run continues"))")
    }
}
