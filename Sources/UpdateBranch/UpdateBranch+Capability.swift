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
        guard comment.isNew else { return .ignore("\(comment.action) comments are ignored; post a new comment to run a command") }
        if comment.author.isBot || comment.sender.isBot { return .ignore("comments by bots never trigger commands") }
        if comment.body.contains(Marker.prefix) { return .ignore("Switchyard's own comments never trigger commands") }
        let blocked = context.config.blockedUsers(in: comment.repository).map { $0.lowercased() }
        if blocked.contains(comment.author.login.lowercased()) { return .ignore("\(comment.author.login) is on the block list") }
        guard CommandGrammar.commands(inComment: comment.body).contains(where: { $0.name == Self.name }) else {
            return .ignore("no /update-branch command in the comment")
        }
        guard comment.isPullRequest else { return .ignore("/update-branch works on pull requests; #\(comment.number) is an issue") }
        var trigger = Trigger(pull: IssueRef(repo: comment.repository, number: comment.number),
                              requester: comment.author.login, commentID: comment.commentID, replyOnPR: true)
        trigger.association = comment.authorAssociation
        let facts = try gather(trigger, github: try context.github(), config: context.config)
        return plan(trigger, facts: facts)
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
        let trigger = Trigger(pull: target, requester: login, commentID: nil, replyOnPR: false)
        let facts = try gather(trigger, github: try context.github(), config: context.config)
        return plan(trigger, facts: facts)
    }
}
