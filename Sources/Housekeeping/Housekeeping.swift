import SwitchyardCore
import SwitchyardGitHub

/// The GitHub calls housekeeping makes, and no others.
public protocol HousekeepingGitHub: PermissionReading, CommentReading {
    func pullRequest(_ pull: IssueRef) throws -> GitHub.PullRequest
    func openPullsByUpdate(_ repo: RepoRef, page: Int, perPage: Int) throws -> [GitHub.PullRequest]
    func combinedStatus(_ repo: RepoRef, sha: String) throws -> String
    func reviews(_ pull: IssueRef, maxPages: Int) throws -> [GitHub.Review]
    func pullFiles(_ pull: IssueRef, maxPages: Int) throws -> (files: [GitHub.PullFile], complete: Bool)
    func fileContents(_ repo: RepoRef, path: String, ref: String?) throws -> [UInt8]
    func labelRemovedByOthers(_ issue: IssueRef, label: String, bot: String?) throws -> Bool
    func isCollaborator(_ repo: RepoRef, login: String) throws -> Bool
}

extension GitHubClient: HousekeepingGitHub {}

/// The label and lifecycle chores of a repository bot, each idempotent with GitHub as the state.
public struct Housekeeping: Sendable {
    public static let name = "housekeeping"
    public init() {}

    /// The `housekeeping:` section for one repository, with defaults.
    public struct Settings: Sendable, Equatable {
        public struct LabelMessage: Sendable, Equatable { public var label: String; public var message: String; public var repeatOnReAdd: Bool }
        public var labelMessages: [LabelMessage] = []
        public var cleanupLabels: [String] = []
        public var blockingLabels = ["Do Not Merge", "Work In Progress"]
        public var blockContext = "merge/blocked"
        /// On when the config has a `welcome:` section.
        public var welcome = false
        /// `non-members` (Mattermod: every author outside the organization) or `first-time` (GitHub's signal).
        public var welcomeWho = "non-members"
        public var welcomeMessage: String? = nil
        public var welcomeLabels: [String] = ["Contributor"]
        public var welcomeTeam: String? = nil
        /// Authors never welcomed (CLA exclusions, service accounts); bots never are.
        public var welcomeExempt: [String] = []
        public var staleDays = 30
        public var staleLabel = "lifecycle/stale"
        public var staleMessage = "@{author} this pull request has had no activity for {days} days. It will be looked at again when it is updated."
        public var staleExempt: [String] = ["pinned", "security"]
        public var stalePages = 2
        public var stalePerPage = 100
        public var autoMergeLabel = "AutoMerge"
        public var autoMergeMethod = "squash"
        /// Approvals needed on top of GitHub's own rules (0: branch protection decides alone).
        public var autoMergeApprovals = 0
        /// `/autoassign`: how many reviewers a PR should have, from the owners file or the pool.
        public var autoassignCount = 2
        public static let defaultOwnersFile = ".github/CODEOWNERS"
        public var autoassignOwnersFile: String? = defaultOwnersFile
        public var autoassignPool: [String] = []
        /// A team whose review is requested when neither the owners file nor the pool names anyone
        /// (Mattermod's way: GitHub's team auto-assignment then picks the people).
        public var autoassignTeam: String? = nil
        public var rules: [Rule] = []
        /// Mistakes in the section, each naming where; a rule set with mistakes is not applied.
        public var problems: [String] = []

        public init() {}

        public init(config: Config, repo: RepoRef) {
            func v(_ k: String...) -> YAML? { config.value(["housekeeping"] + k, for: repo) }
            for item in v("label-messages")?.items ?? [] {
                guard let label = item["label"]?.string, let message = item["message"]?.string else { continue }
                labelMessages.append(LabelMessage(label: label, message: message, repeatOnReAdd: item["repeat"]?.bool ?? false))
            }
            if let x = v("cleanup-labels")?.strings { cleanupLabels = x }
            if let x = v("blocking-labels")?.strings { blockingLabels = x }
            if let x = v("block-context")?.string { blockContext = x }
            welcome = v("welcome") != nil && v("welcome")?.bool != false
            if let x = v("welcome", "who")?.string {
                if ["non-members", "first-time"].contains(x) { welcomeWho = x } else { problems.append("welcome.who: `\(x)` is neither non-members nor first-time") }
            }
            welcomeMessage = v("welcome", "message")?.string
            if let x = v("welcome", "labels")?.strings { welcomeLabels = x }
            welcomeTeam = v("welcome", "team")?.string
            welcomeExempt = v("welcome", "exempt")?.strings ?? []
            if let x = v("stale", "days")?.int { staleDays = x }
            if let x = v("stale", "label")?.string { staleLabel = x }
            if let x = v("stale", "message")?.string { staleMessage = x }
            if let x = v("stale", "exempt-labels")?.strings { staleExempt = x }
            if let x = v("stale", "pages")?.int { stalePages = max(1, x) }
            if let x = v("stale", "per-page")?.int { stalePerPage = min(100, max(1, x)) }
            if let x = v("auto-merge", "label")?.string { autoMergeLabel = x }
            if let x = v("auto-merge", "method")?.string { autoMergeMethod = x }
            if let x = v("auto-merge", "required-approvals")?.int { autoMergeApprovals = max(0, x) }
            if let x = v("autoassign", "reviewers")?.int { autoassignCount = min(10, max(1, x)) }
            if let x = v("autoassign", "owners-file")?.string { autoassignOwnersFile = x.isEmpty ? nil : x }
            if let x = v("autoassign", "pool")?.strings { autoassignPool = x }
            autoassignTeam = v("autoassign", "team")?.string
            var names = Set<String>()
            for (i, item) in (v("rules")?.items ?? []).enumerated() {
                switch Rule.parse(item, index: i) {
                case .success(let r):
                    if !names.insert(r.name).inserted { problems.append("rules[\(i)]: the name `\(r.name)` is used twice; each rule's notice is found again by its name") }
                    rules.append(r)
                case .failure(let why): problems.append(why.text)
                }
            }
            if v("rules") != nil, v("rules")?.items == nil { problems.append("rules: a list of rules is expected") }
        }
    }

    /// Fills `{author}`, `{label}`, `{days}`, `{number}`.
    public static func fill(_ template: String, _ values: [String: String]) -> String {
        var out = template
        for (k, v) in values { out = out.replacing("{\(k)}", with: v) }
        return out
    }

    // MARK: Pure decisions

    /// The merge-block status for a PR's current labels, on its head.
    public static func blockStatus(labels: [String], head: String, repo: RepoRef, settings s: Settings) -> Action? {
        guard !s.blockingLabels.isEmpty else { return nil }
        let blocking = labels.filter { s.blockingLabels.contains($0) }
        return blocking.isEmpty
            ? .setStatus(repo: repo, sha: head, state: "success", context: s.blockContext, description: "No blocking labels", targetURL: nil)
            : .setStatus(repo: repo, sha: head, state: "failure", context: s.blockContext,
                         description: "Blocked by label: " + blocking.joined(separator: ", "), targetURL: nil)
    }

    /// The message for a label, posted once (or once per addition with `repeat`).
    public static func labelMessage(label: String, issue: IssueRef, author: String, eventID: String, settings s: Settings) -> Action? {
        guard let m = s.labelMessages.first(where: { $0.label == label }) else { return nil }
        let key = m.repeatOnReAdd ? "\(label):\(eventID)" : label
        return .comment(issue: issue, body: fill(m.message, ["author": "@\(author)", "label": label, "number": "\(issue.number)"]),
                        marker: Marker(function: name, "label", key))
    }

    /// Is a PR stale? Not updated for `days`, by a non-member, without exempt labels or the stale label.
    public static func isStale(_ pr: GitHub.PullRequest, now: Int64, settings s: Settings, isMember: Bool) -> Bool {
        guard let updated = pr.updatedAt.flatMap(ISO8601.parse) else { return false }
        let labels = pr.labels?.map(\.name) ?? []
        if labels.contains(s.staleLabel) || labels.contains(where: s.staleExempt.contains) || isMember || pr.draft == true { return false }
        return now - updated >= Int64(s.staleDays) * 86_400
    }
}
