import SwitchyardCore
import SwitchyardGitHub
import SwitchyardRuntime

extension UpdateBranch: Capability {
    public var name: String { Self.name }
    public var events: Set<String>? { ["issue_comment", "pull_request_review_comment", "pull_request_review"] }

    /// Comment events carrying `/update-branch` on a pull request; everything else is ignored with its reason.
    public func plan(event: WebhookEvent, context: CapabilityContext) throws -> Plan {
        guard let comment = CommentTrigger(event) else {
            return .ignore("\(event.name)\(event.action.map { "." + $0 } ?? "") carries no comment for update-branch")
        }
        guard comment.kind != .pullRequestBody else { return .ignore("commands in a pull request's description are not run") }
        switch try context.commands(in: comment, named: [Self.name]) {
        case .ignore(let reason): return .ignore(reason)
        case .refuse(let plan): return plan
        case .run: break
        }
        guard comment.isPullRequest else { return .ignore("/update-branch works on pull requests; #\(comment.number) is an issue") }
        var trigger = Trigger(pull: IssueRef(repo: comment.repository, number: comment.number),
                              requester: comment.author.login, commentID: comment.commentID, replyOnPR: true)
        trigger.association = comment.authorAssociation
        return try planFor(trigger, context: context)
    }

    /// `/switchyard update-branch owner/repo#123` from chat, as the chat user's mapped GitHub login.
    public func plan(chat: ChatCommand, command: Command, context: CapabilityContext) throws -> Plan {
        guard command.name == Self.name else {
            return .reject("Unknown command `\(command.name)`. Try `\(chat.command) update-branch owner/repo#123`.")
        }
        guard let target = command.arguments.first.flatMap(IssueRef.init) else {
            return .reject("Usage: `\(chat.command) update-branch owner/repo#123`")
        }
        guard let login = context.githubLogin(for: chat) else {
            return .deny("Your chat account is not linked to a GitHub login, so your permission cannot be checked. Ask an operator to add you under `chat.users` in the Switchyard config.")
        }
        if context.isBlocked(login, in: target.repo) { return .ignore("\(login) is on the block list") }
        return try planFor(Trigger(pull: target, requester: login, commentID: nil, replyOnPR: false), context: context)
    }

    func planFor(_ trigger: Trigger, context: CapabilityContext) throws -> Plan {
        let policy = context.config.allowed(Self.name, in: trigger.pull.repo, default: Self.defaultPolicy)
        let facts = try gather(trigger, github: try context.github(), policy: policy) { author in
            try context.admits(trigger.requester, command: Self.name, default: Self.defaultPolicy, repo: trigger.pull.repo,
                               author: author, association: trigger.association) == .allowed
        }
        return plan(trigger, facts: facts)
    }
}
