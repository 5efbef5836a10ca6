/// Performs plans against GitHub. The effects sit behind `PlanPerforming`; the runner adds the rules
/// every capability shares: marker comments are posted once, sticky comments are edited in place,
/// and a failing action switches to the plan's matching fallback.
public protocol PlanPerforming: CommentReading {
    /// Creates a comment and returns its id.
    func createComment(on issue: IssueRef, body: String) throws -> Int
    func editComment(in repo: RepoRef, id: Int, body: String) throws
    func deleteComment(in repo: RepoRef, id: Int) throws
    func addReaction(in repo: RepoRef, commentID: Int, content: String) throws
    func addLabels(_ labels: [String], to issue: IssueRef) throws
    /// Removes a label; a label that is not there is not an error.
    func removeLabel(_ label: String, from issue: IssueRef) throws
    func createStatus(in repo: RepoRef, sha: String, state: String, context: String, description: String, targetURL: String?) throws
    func updateBranch(_ pull: IssueRef, expectedHeadSHA: String) throws
    func merge(_ pull: IssueRef, sha: String, method: String) throws
    @discardableResult
    func requestReviews(_ pull: IssueRef, users: [String], teams: [String]) throws -> [String]
}

public struct RunResult: Sendable, Equatable {
    public var outcome: Outcome
    public var message: String
    /// Actions performed, as they were performed (after fallbacks).
    public var performed: [Action]
    /// Actions skipped because their effect was already there (replays).
    public var skipped: [Action]
    public var denied: Bool
    /// Extra response fields, carried from the plan.
    public var response: [String: JSON] = [:]

    public init(outcome: Outcome, message: String, performed: [Action], skipped: [Action], denied: Bool = false) {
        self.outcome = outcome; self.message = message; self.performed = performed; self.skipped = skipped
        self.denied = denied
    }
}

public struct PlanRunner {
    let github: any PlanPerforming

    public init(github: any PlanPerforming) { self.github = github }

    /// Performs `plan`. With `dryRun`, performs nothing and reports the plan as `planned`.
    /// Throws when an action fails and no fallback matches.
    public func run(_ plan: Plan, dryRun: Bool) throws -> RunResult {
        var result = try runActions(plan, dryRun: dryRun)
        result.response = plan.response
        return result
    }

    func runActions(_ plan: Plan, dryRun: Bool) throws -> RunResult {
        if dryRun {
            return RunResult(outcome: plan.actions.isEmpty || plan.outcome != .done ? plan.outcome : .planned,
                             message: plan.actions.isEmpty ? plan.message : "dry run, nothing performed: \(plan.message)", performed: plan.actions, skipped: [], denied: plan.denied)
        }
        var performed: [Action] = []
        var skipped: [Action] = []
        for action in plan.actions {
            do {
                if try perform(action) { performed.append(action) } else { skipped.append(action) }
            } catch {
                guard let upstream = error as? any UpstreamStatusError,
                      let fallback = plan.fallbacks.first(where: { $0.matches(status: upstream.status, message: upstream.message) }) else {
                    throw error
                }
                for a in fallback.actions {
                    if try perform(a) { performed.append(a) } else { skipped.append(a) }
                }
                return RunResult(outcome: fallback.outcome, message: fallback.message, performed: performed, skipped: skipped)
            }
        }
        let outcome: Outcome = plan.outcome == .done && performed.isEmpty && !skipped.isEmpty ? .ignored : plan.outcome
        let message = outcome == .ignored && plan.outcome == .done ? "already done: \(plan.message)" : plan.message
        return RunResult(outcome: outcome, message: message, performed: performed, skipped: skipped, denied: plan.denied)
    }

    /// Returns false when the action's effect was already present.
    func perform(_ action: Action) throws -> Bool {
        switch action {
        case .comment(let issue, let body, let marker):
            if try github.comment(on: issue, marked: marker) != nil { return false }
            _ = try github.createComment(on: issue, body: Self.withMarker(body, marker))
        case .upsertComment(let issue, let body, let marker):
            let full = Self.withMarker(body, marker)
            if let existing = try github.comment(on: issue, marked: marker) {
                if existing.body == full { return false }
                try github.editComment(in: issue.repo, id: existing.id, body: full)
            } else {
                _ = try github.createComment(on: issue, body: full)
            }
        case .deleteComment(let issue, let marker):
            guard let existing = try github.comment(on: issue, marked: marker) else { return false }
            try github.deleteComment(in: issue.repo, id: existing.id)
        case .addReaction(let repo, let id, let content):
            try github.addReaction(in: repo, commentID: id, content: content)
        case .addLabels(let issue, let labels):
            try github.addLabels(labels, to: issue)
        case .removeLabel(let issue, let label):
            try github.removeLabel(label, from: issue)
        case .setStatus(let repo, let sha, let state, let context, let description, let url):
            try github.createStatus(in: repo, sha: sha, state: state, context: context,
                                    description: String(description.prefix(140)), targetURL: url)
        case .updateBranch(let pull, let sha):
            try github.updateBranch(pull, expectedHeadSHA: sha)
        case .merge(let pull, let sha, let method):
            try github.merge(pull, sha: sha, method: method)
        case .requestReviews(let pull, let users, let teams):
            try github.requestReviews(pull, users: users, teams: teams)
        }
        return true
    }

    /// The body as written to GitHub: redacted of every known secret, with the marker (and its state) last.
    public static func withMarker(_ body: String, _ marker: Marker) -> String {
        let text = Redactor.shared.redact(body)
        return text.hasSuffix("\n") ? text + marker.html : text + "\n\n" + marker.html
    }
}
