import SwitchyardCore
import SwitchyardGitHub

/// The GitHub calls sla-check makes, and no others.
public protocol SlaCheckGitHub: PermissionReading, CommentReading {
    func pullRequest(_ pull: IssueRef) throws -> GitHub.PullRequest
    func pullCommits(_ pull: IssueRef, maxPages: Int) throws -> (commits: [GitHub.Commit], complete: Bool)
    func compareCommits(_ repo: RepoRef, base: String, head: String, maxPages: Int) throws -> (commits: [GitHub.Commit], complete: Bool)
    func latestStatus(_ repo: RepoRef, sha: String, context: String) throws -> (state: String, createdAt: String, creator: String)?
    func fileContents(_ repo: RepoRef, path: String, ref: String?) throws -> [UInt8]
}

extension GitHubClient: SlaCheckGitHub {}

/// Contributor licence agreement check: a commit status on the head, one sticky comment that says
/// exactly who must act and how, and optional labels.
public struct SlaCheck: Sendable {
    public static let name = "sla-check"
    public static let marker = Marker(function: "sla-check", "status")
    public let loader: SignerLoader

    public init(loader: SignerLoader = SignerLoader()) { self.loader = loader }

    /// The `cla:` section of the config for one repository, with defaults.
    public struct Settings: Sendable, Equatable {
        public var context = "cla/switchyard"
        public var signURL = "https://cla-assistant.io/"
        public var source: SignerSource? = nil
        public var exempt: [String] = []
        public var exemptOrgs: [String] = []
        public var exemptTeams: [String] = []
        public var deleteCommentWhenSigned = false
        public var signedLabel: String? = nil
        public var missingLabel: String? = nil
        public var checkIntervalSeconds = 60
        /// Compare pages read for PRs over 250 commits (100 commits a page).
        public var maxComparePages = 30

        public init() {}

        public init(config: Config, repo: RepoRef) throws(SwitchyardError) {
            func v(_ k: String...) -> YAML? { config.value(["cla"] + k, for: repo) }
            if let c = v("context")?.string { context = c }
            if let u = v("sign-url")?.string { signURL = u }
            if let s = v("signers") {
                if let url = s["url"]?.string { source = .url(url) }
                else if let r = s["repo"]?.string {
                    guard let repoRef = RepoRef(Substring(r)), let path = s["path"]?.string else {
                        throw .misconfigured("config line \(s.line): `cla.signers` needs `repo: owner/name` and `path`")
                    }
                    source = .repoFile(repo: repoRef, path: path, ref: s["ref"]?.string)
                } else if let list = s["list"]?.strings { source = .list(list) }
                else if let list = s.strings { source = .list(list) }
                else { throw .misconfigured("config line \(s.line): `cla.signers` needs `url`, `repo` and `path`, or `list`") }
            }
            exempt = v("exempt")?.strings ?? []
            exemptOrgs = v("exempt-orgs")?.strings ?? []
            exemptTeams = v("exempt-teams")?.strings ?? []
            if let w = v("when-signed")?.string {
                guard w == "update" || w == "delete" else { throw .misconfigured("config line \(v("when-signed")!.line): `cla.when-signed` is `update` or `delete`") }
                deleteCommentWhenSigned = w == "delete"
            }
            signedLabel = v("labels", "signed")?.string
            missingLabel = v("labels", "missing")?.string
            if let i = v("check-interval")?.int { checkIntervalSeconds = max(0, i) }
        }
    }

    /// The pull request to check.
    public struct Trigger: Sendable, Equatable {
        public var pull: IssueRef
        public var headSHA: String
        public var labels: [String]
        public init(pull: IssueRef, headSHA: String, labels: [String]) { self.pull = pull; self.headSHA = headSHA; self.labels = labels }
    }

    public struct Facts: Sendable, Equatable {
        public var contributors: [Contributor]
        public var commitCount: Int
        public var complete: Bool
        public var signers: Result<Signers, SwitchyardError>
        /// Logins exempt through an organization or team (corporate agreements).
        public var exemptMembers: Set<String>
        public var hasComment: Bool
        public init(contributors: [Contributor], commitCount: Int, complete: Bool, signers: Result<Signers, SwitchyardError>,
                    exemptMembers: Set<String> = [], hasComment: Bool) {
            self.contributors = contributors; self.commitCount = commitCount; self.complete = complete
            self.signers = signers; self.exemptMembers = exemptMembers; self.hasComment = hasComment
        }
    }

    /// Contributors who still must sign, after bots and exemptions.
    public static func missing(_ facts: Facts, settings: Settings, signers: Signers) -> [Contributor] {
        facts.contributors.filter { c in
            if Identities.isBot(c) { return false }
            if settings.exempt.contains(where: { Identities.matches($0, c.key) }) { return false }
            if c.kind == .login && facts.exemptMembers.contains(c.key) { return false }
            return !signers.hasSigned(c)
        }
    }

    // MARK: Plan

    public func plan(_ t: Trigger, facts: Facts, settings s: Settings) -> Plan {
        let repo = t.pull.repo
        guard case .success(let signers) = facts.signers else {
            let reason: String
            if case .failure(let e) = facts.signers { reason = e.message } else { reason = "" }
            return Plan(outcome: .failed, actions: [
                .setStatus(repo: repo, sha: t.headSHA, state: "error", context: s.context,
                           description: "Could not read the CLA signatures; comment /check-cla to retry", targetURL: s.signURL),
            ], message: "could not read the signatures: \(reason)")
        }
        let missing = Self.missing(facts, settings: s, signers: signers)
        let partial = facts.complete ? "" : " (first \(facts.commitCount) commits only)"
        var actions: [Action] = []
        if missing.isEmpty {
            actions.append(.setStatus(repo: repo, sha: t.headSHA, state: "success", context: s.context,
                                      description: "All contributors have signed the CLA\(partial)", targetURL: s.signURL))
            if facts.hasComment {
                actions.append(s.deleteCommentWhenSigned
                    ? .deleteComment(issue: t.pull, marker: Self.marker)
                    : .upsertComment(issue: t.pull, body: Self.signedBody(), marker: Self.marker))
            }
            actions += labels(add: s.signedLabel, remove: s.missingLabel, on: t)
            let people = facts.contributors.filter { !Identities.isBot($0) }.count
            return .perform(actions, message: "all \(people) contributor\(people == 1 ? " has" : "s have") signed\(partial)")
        }
        let names = missing.map { $0.kind == .login ? $0.display : ($0.name ?? $0.display) }
        var description = "\(missing.count) contributor\(missing.count == 1 ? " has" : "s have") not signed the CLA: " + names.joined(separator: ", ")
        if description.count > 140 { description = String(description.prefix(137)) + "..." }
        actions.append(.setStatus(repo: repo, sha: t.headSHA, state: "failure", context: s.context, description: description, targetURL: s.signURL))
        actions.append(.upsertComment(issue: t.pull, body: Self.missingBody(missing, settings: s, partial: !facts.complete), marker: Self.marker))
        actions += labels(add: s.missingLabel, remove: s.signedLabel, on: t)
        return .perform(actions, message: "not signed: " + names.joined(separator: ", "))
    }

    func labels(add: String?, remove: String?, on t: Trigger) -> [Action] {
        var a: [Action] = []
        if let add, !t.labels.contains(add) { a.append(.addLabels(issue: t.pull, labels: [add])) }
        if let remove, t.labels.contains(remove) { a.append(.removeLabel(issue: t.pull, label: remove)) }
        return a
    }

    static func signedBody() -> String {
        "### Contributor License Agreement\n\n✅ Everyone who contributed to this pull request has signed the CLA. Thank you!"
    }

    static func missingBody(_ missing: [Contributor], settings s: Settings, partial: Bool) -> String {
        var lines = [
            "### Contributor License Agreement",
            "",
            "Thank you for your pull request! Before it can be merged, everyone who contributed to it needs to sign our [Contributor License Agreement](\(s.signURL)).",
            "",
        ]
        for c in missing {
            let shas = c.commits.prefix(3).map { String($0.prefix(7)) }.joined(separator: ", ") + (c.commits.count > 3 ? ", …" : "")
            switch c.kind {
            case .login:
                lines.append("- @\(c.display): please [sign the CLA](\(s.signURL)).")
            case .email:
                lines.append("- `\(c.display)`\(c.name.map { " (\($0))" } ?? ""), author of \(shas): this email is not linked to any GitHub account, so we cannot tell who signed. If it is yours, [add it to your GitHub account](https://github.com/settings/emails) and sign; otherwise set the right author with `git commit --amend --reset-author` (or `git rebase -i` for older commits) and push again.")
            case .coAuthor:
                lines.append("- Co-author \(c.name.map { "\($0) " } ?? "")`<\(c.display)>`, named in \(shas): they need to sign as well (with a GitHub account that has this email), or remove the `Co-authored-by` line.")
            }
        }
        lines += ["", "Once everyone has signed, comment `/check-cla` to check again."]
        if partial { lines.append("\n_This pull request has more commits than could be checked; only the first ones were examined._") }
        return lines.joined(separator: "\n")
    }
}
