import SwitchyardCore
import SwitchyardGitHub

/// The GitHub calls update-branch makes, and no others.
public protocol UpdateBranchGitHub: PermissionReading, CommentReading {
    func pullRequest(_ pull: IssueRef) throws -> GitHub.PullRequest
}

extension GitHubClient: UpdateBranchGitHub {}

/// `/update-branch` (or `/update_branch`): merges the base branch into a pull request's branch through
/// `PUT /repos/{o}/{r}/pulls/{n}/update-branch`, pinned to the head it saw.
public struct UpdateBranch: Sendable {
    public static let name = "update-branch"
    public static let defaultPolicy: [PermissionLevel] = [.author, .member, .collaborator(.write)]

    public init() {}

    /// Who asked, about which pull request, and where to reply.
    public struct Trigger: Sendable, Equatable {
        public var pull: IssueRef
        public var requester: String
        /// The comment that asked; its id keys the reply marker, so a replay finds the reply.
        public var commentID: Int?
        /// Chat requests are answered in chat only; comments are answered on the PR.
        public var replyOnPR: Bool
        /// GitHub's `author_association` of the comment, from the verified payload.
        public var association: String? = nil
        public init(pull: IssueRef, requester: String, commentID: Int?, replyOnPR: Bool) {
            self.pull = pull; self.requester = requester; self.commentID = commentID; self.replyOnPR = replyOnPR
        }
        public var marker: Marker { Marker(function: UpdateBranch.name, "reply", commentID.map(String.init) ?? "chat") }
    }

    /// What the plan needs to know, gathered through `UpdateBranchGitHub`.
    public struct Facts: Sendable, Equatable {
        public var alreadyAnswered: Bool
        public var allowed: Bool
        public var policy: [PermissionLevel]
        public var pull: GitHub.PullRequest?
        public init(alreadyAnswered: Bool, allowed: Bool, policy: [PermissionLevel], pull: GitHub.PullRequest?) {
            self.alreadyAnswered = alreadyAnswered; self.allowed = allowed; self.policy = policy; self.pull = pull
        }
    }

    // MARK: Gather

    /// Reads only what the plan needs, stopping early: a replay costs one request, a refusal two.
    public func gather(_ trigger: Trigger, github: some UpdateBranchGitHub, config: Config) throws -> Facts {
        let policy = config.allowed(Self.name, in: trigger.pull.repo, default: Self.defaultPolicy)
        if trigger.replyOnPR, try github.comment(on: trigger.pull, marked: trigger.marker) != nil {
            return Facts(alreadyAnswered: true, allowed: false, policy: policy, pull: nil)
        }
        let pull = try github.pullRequest(trigger.pull)
        let allowed = try PermissionChecker(reader: github)
            .allows(policy, login: trigger.requester, author: pull.user.login, repo: trigger.pull.repo, association: trigger.association)
        return Facts(alreadyAnswered: false, allowed: allowed, policy: policy, pull: allowed ? pull : nil)
    }

    // MARK: Plan

    /// The pure decision. Replies are distinct for success, up to date, conflict, a moved head,
    /// a fork that does not allow maintainer edits, a closed PR and a refusal.
    public func plan(_ trigger: Trigger, facts: Facts) -> Plan {
        let who = "@\(trigger.requester)"
        func reply(_ text: String) -> [Action] {
            trigger.replyOnPR ? [.comment(issue: trigger.pull, body: text, marker: trigger.marker)] : []
        }
        if facts.alreadyAnswered {
            return .ignore("already answered this /update-branch request (delivery replayed)")
        }
        guard facts.allowed, let pull = facts.pull else {
            let text = "\(who) only \(describePolicy(facts.policy)) can run `/update-branch` on \(trigger.pull)."
            return .deny(text, reply: reply(text))
        }
        let base = pull.base.ref
        if pull.state != "open" {
            let text = "\(who) \(trigger.pull) is \(pull.merged == true ? "merged" : "closed"), so there is no branch to update."
            return Plan(outcome: .ignored, actions: reply(text), message: text)
        }
        if pull.isFromFork && pull.maintainerCanModify != true {
            let fork = pull.head.repo?.fullName ?? "a deleted fork"
            let text = """
                @\(pull.user.login) this branch lives in \(fork) and "Allow edits by maintainers" is off, so it cannot be updated from here. \
                Either tick **Allow edits and access to secrets by maintainers** in the pull request's sidebar and comment `/update-branch` again, \
                or bring it up to date yourself:

                ```
                git fetch https://github.com/\(trigger.pull.repo.fullName).git \(base)
                git merge FETCH_HEAD
                git push
                ```
                """
            return Plan(outcome: .rejected, actions: reply(text), message: "the fork does not allow edits by maintainers")
        }
        let done = "\(who) updated `\(pull.head.ref)` with the latest `\(base)`; checks will run on the new head."
        let upToDate = "\(who) `\(pull.head.ref)` is already up to date with `\(base)`; nothing to do."
        let conflict = """
            \(who) `\(base)` cannot be merged into `\(pull.head.ref)` automatically: there are conflicts. Please resolve them locally:

            ```
            git fetch origin \(base)
            git merge origin/\(base)   # resolve the conflicts, then commit
            git push
            ```
            """
        let moved = "\(who) the branch changed while it was being updated (new commits arrived). Comment `/update-branch` again if it is still behind."
        let pullRef = trigger.pull
        return .perform(
            [.updateBranch(pull: pullRef, expectedHeadSHA: pull.head.sha)] + reply(done),
            message: "updated \(pull.head.ref) from \(base)",
            fallbacks: [
                Fallback(status: 422, messageContains: "no new commits", outcome: .ignored, actions: reply(upToDate), message: "already up to date with \(base)"),
                Fallback(status: 422, messageContains: "expected head sha", outcome: .ignored, actions: reply(moved), message: "the head moved during the update"),
                Fallback(status: 422, messageContains: "conflict", outcome: .rejected, actions: reply(conflict), message: "merge conflict with \(base)"),
                Fallback(status: 422, actions: reply(conflict), message: "GitHub could not update the branch (merge conflict or protected branch)"),
            ])
    }
}
