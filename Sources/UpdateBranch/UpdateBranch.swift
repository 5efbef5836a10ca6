import SwitchyardCore
import SwitchyardGitHub

/// The GitHub calls update-branch makes, and no others.
public protocol UpdateBranchGitHub: PermissionReading, CommentReading {
    func pullRequest(_ pull: IssueRef) throws -> GitHub.PullRequest
    func gitCommit(_ repo: RepoRef, _ sha: String) throws -> GitHub.GitCommit
}

extension GitHubClient: UpdateBranchGitHub {}

/// `/update-branch` (or `/update_branch`): merges the base branch into a pull request's branch through
/// `PUT /repos/{o}/{r}/pulls/{n}/update-branch`, pinned to the head it saw.
///
/// On a pull request the reply is written first ("updating", with the head it pinned in its hidden
/// state) and then edited to the outcome, so that a run cut short anywhere is finished by the next
/// delivery from what GitHub shows: a head whose first parent is the pinned one is this request's merge.
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

    /// The reply's hidden state: the head the update was pinned to, and whether the outcome is final.
    public struct ReplyState: Sendable, Equatable {
        public var head: String
        public var final: Bool
        public init(head: String, final: Bool) { self.head = head; self.final = final }
        var json: JSON { ["head": .string(head), "final": .bool(final)] }
        init?(_ json: JSON?) {
            guard let head = json?["head"]?.string, let final = json?["final"]?.bool else { return nil }
            self.head = head; self.final = final
        }
    }

    /// What the plan needs to know, gathered through `UpdateBranchGitHub`.
    public struct Facts: Sendable, Equatable {
        /// The reply already on the PR, if any (`final`: a replay; not final: a run to finish).
        public var reply: ReplyState?
        public var allowed: Bool
        public var policy: [PermissionLevel]
        public var pull: GitHub.PullRequest?
        /// The head now is the merge this request asked for (its first parent is the pinned head).
        public var mergedByRequest: Bool
        public init(reply: ReplyState? = nil, allowed: Bool, policy: [PermissionLevel], pull: GitHub.PullRequest?, mergedByRequest: Bool = false) {
            self.reply = reply; self.allowed = allowed; self.policy = policy; self.pull = pull; self.mergedByRequest = mergedByRequest
        }
    }

    // MARK: Gather

    /// Reads only what the plan needs, stopping early: a replay costs one request, a refusal two.
    /// `admit` answers whether the requester may run the command (the shared gate).
    public func gather(_ trigger: Trigger, github: some UpdateBranchGitHub, policy: [PermissionLevel],
                       admit: (_ author: String) throws -> Bool) throws -> Facts {
        var reply: ReplyState? = nil
        if trigger.replyOnPR, let found = try github.ownComment(on: trigger.pull, marked: trigger.marker) {
            reply = ReplyState(found.marker.state) ?? ReplyState(head: "", final: true)
            if reply!.final { return Facts(reply: reply, allowed: false, policy: policy, pull: nil) }
        }
        let pull = try github.pullRequest(trigger.pull)
        // An unfinished reply means the requester was admitted by the run that wrote it.
        let allowed = reply != nil ? true : try admit(pull.user.login)
        var merged = false
        if let pending = reply, pull.head.sha != pending.head, let head = try? github.gitCommit(trigger.pull.repo, pull.head.sha) {
            merged = head.parents.count == 2 && head.parents.first?.sha.lowercased() == pending.head.lowercased()
        }
        return Facts(reply: reply, allowed: allowed, policy: policy, pull: allowed ? pull : nil, mergedByRequest: merged)
    }

    // MARK: Plan

    /// The pure decision. Replies are distinct for success, up to date, conflict, a moved head,
    /// a fork that does not allow maintainer edits, a closed PR and a refusal; each is the one reply,
    /// edited from "updating" to the outcome.
    public func plan(_ trigger: Trigger, facts: Facts) -> Plan {
        let who = "@\(trigger.requester)"
        func reply(_ text: String, head: String = "") -> [Action] {
            trigger.replyOnPR ? [.upsertComment(issue: trigger.pull, body: text, marker: trigger.marker.with(state: ReplyState(head: head, final: true).json))] : []
        }
        if let r = facts.reply, r.final {
            return .ignore("already answered this /update-branch request (delivery replayed)")
        }
        guard facts.allowed, let pull = facts.pull else {
            let text = "\(who) only \(describePolicy(facts.policy)) can run `/update-branch` on \(trigger.pull)."
            return .deny(text, reply: reply(text))
        }
        let base = pull.base.ref
        let done = "\(who) updated `\(pull.head.ref)` with the latest `\(base)`; checks will run on the new head."
        if facts.mergedByRequest, let pending = facts.reply {
            // An earlier delivery's update landed but its reply was never finished.
            return .perform(reply(done, head: pending.head), message: "updated \(pull.head.ref) from \(base) (finishing an earlier delivery)")
        }
        if pull.state != "open" {
            let text = "\(who) \(trigger.pull) is \(pull.merged == true ? "merged" : "closed"), so there is no branch to update."
            return Plan(outcome: .ignored, actions: reply(text), message: text)
        }
        let moved = "\(who) the branch changed while it was being updated (new commits arrived). Comment `/update-branch` again if it is still behind."
        if let pending = facts.reply, pending.head != pull.head.sha {
            return Plan(outcome: .ignored, actions: reply(moved, head: pending.head), message: "the head moved during the update")
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
        let head = pull.head.sha
        let upToDate = "\(who) `\(pull.head.ref)` is already up to date with `\(base)`; nothing to do."
        let conflict = """
            \(who) `\(base)` cannot be merged into `\(pull.head.ref)` automatically: there are conflicts. Please resolve them locally:

            ```
            git fetch origin \(base)
            git merge origin/\(base)   # resolve the conflicts, then commit
            git push
            ```
            """
        let pullRef = trigger.pull
        // The reply goes first, pinned to the head: a run cut short after the update is finished by the next.
        let updating: [Action] = trigger.replyOnPR
            ? [.upsertComment(issue: pullRef, body: "\(who) updating `\(pull.head.ref)` with the latest `\(base)`…",
                              marker: trigger.marker.with(state: ReplyState(head: head, final: false).json))]
            : []
        return .perform(
            updating + [.updateBranch(pull: pullRef, expectedHeadSHA: head)] + reply(done, head: head),
            message: "updated \(pull.head.ref) from \(base)",
            fallbacks: [
                Fallback(status: 422, messageContains: "no new commits", outcome: .ignored, actions: reply(upToDate, head: head), message: "already up to date with \(base)"),
                Fallback(status: 422, messageContains: "expected head sha", outcome: .ignored, actions: reply(moved, head: head), message: "the head moved during the update"),
                Fallback(status: 422, messageContains: "conflict", outcome: .rejected, actions: reply(conflict, head: head), message: "merge conflict with \(base)"),
                Fallback(status: 422, actions: reply(conflict, head: head), message: "GitHub could not update the branch (merge conflict or protected branch)"),
            ])
    }
}
