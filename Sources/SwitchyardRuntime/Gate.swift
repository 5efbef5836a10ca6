import SwitchyardCore
import SwitchyardGitHub

/// Whether a requester may have what they asked for.
public enum Admission: Sendable, Equatable {
    case allowed
    /// A bot account or a login on `blocked-users`/`bots`: ignored without a reply.
    case ignored(String)
    /// Not permitted by the command's policy: refused with a reply naming who may.
    case denied(policy: [PermissionLevel])
}

/// The commands a comment asks for, after the rules every function shares.
public enum CommentCommands: Sendable {
    /// Nothing to run, and why.
    case ignore(String)
    /// Refused as a whole (too many requests): this plan replies once and does nothing else.
    case refuse(Plan)
    /// The commands to run, in order.
    case run([Command])
}

/// The one place requests are admitted. Every trigger goes through here: a comment's commands, a
/// label, a chat command, and deferred work when it finally runs (a pick at merge re-checks its
/// requester). The order is always: bots, blocked users, the request cap, then the command's policy.
extension CapabilityContext {
    /// The most requests one comment may make: each command counts once per argument (a cherry-pick to
    /// three branches is three). `limits.requests-per-comment`, default 10.
    public func requestLimit(in repo: RepoRef) -> Int {
        max(1, config.value(["limits", "requests-per-comment"], for: repo)?.int ?? 10)
    }

    /// Logins never acted for, beyond GitHub's own bot accounts: `blocked-users` and `bots`.
    public func isBlocked(_ login: String, in repo: RepoRef) -> Bool {
        config.blockedUsers(in: repo).contains { $0.lowercased() == login.lowercased() }
    }

    /// May `login` run `command` in `repo`? Policy from the config, else `fallback` (the manifest's).
    /// `author` is the pull request's author, `association` the verified payload's `author_association`.
    public func admits(_ login: String, isBot: Bool = false, command: String, default fallback: [PermissionLevel], repo: RepoRef,
                       author: String? = nil, association: String? = nil) throws -> Admission {
        if isBot || login.lowercased().hasSuffix("[bot]") { return .ignored("\(login) is a bot account; bots never trigger \(command)") }
        if isBlocked(login, in: repo) { return .ignored("\(login) is on the block list") }
        let policy = config.allowed(command, in: repo, default: fallback)
        let allowed = try permissionChecker().allows(policy, login: login, author: author, repo: repo, association: association)
        return allowed ? .allowed : .denied(policy: policy)
    }

    /// The commands of a comment among `names`, after the shared rules: new comments only (an edit
    /// runs only commands that opt in with `commands.<name>.edited: true`), never from bots, never
    /// from Switchyard itself, never from blocked users, and at most `requestLimit` requests (counted
    /// over every command in the comment, so that functions deployed side by side agree).
    public func commands(in comment: CommentTrigger, named names: Set<String>) throws -> CommentCommands {
        let scanned = CommandGrammar.scan(comment.body, keeping: Set(names.map(CommandGrammar.normalize)))
        let mine = scanned.commands
        guard !mine.isEmpty else { return .ignore("no \(names.sorted().map { "/" + $0 }.joined(separator: " or ")) command in the comment") }
        if comment.author.isBot || comment.sender.isBot { return .ignore("comments by bots never trigger commands") }
        // Switchyard's own comments carry markers; a marker in anyone else's comment is ordinary text.
        if comment.body.contains(Marker.prefix), let client = try? github(), (try? client.isBot(comment.author.login)) == true {
            return .ignore("Switchyard's own comments never trigger commands")
        }
        if isBlocked(comment.author.login, in: comment.repository) { return .ignore("\(comment.author.login) is on the block list") }
        var commands = mine
        if !comment.isNew {
            commands = mine.filter { config.value(["commands", $0.name, "edited"], for: comment.repository)?.bool == true }
            guard !commands.isEmpty else {
                return .ignore("\(comment.action) comments are ignored; post a new comment to run a command (or opt in with `edited: true`)")
            }
        }
        let limit = requestLimit(in: comment.repository)
        let requests = scanned.requests
        if requests > limit {
            let issue = IssueRef(repo: comment.repository, number: comment.number)
            let text = "@\(comment.author.login) this comment asks for \(requests) things at once; at most \(limit) are taken from one comment, so none of them was run. Split it into smaller comments."
            // One marker for every function: side by side, they post one refusal between them.
            let marker = Marker(function: "switchyard", "too-many", "\(comment.commentID ?? 0)")
            return .refuse(.reject(text, reply: comment.isPullRequest || comment.kind == .issueComment
                                   ? [.comment(issue: issue, body: text, marker: marker)] : []))
        }
        return .run(commands)
    }

    func permissionChecker() throws -> PermissionChecker {
        if let checker = permissionCheckerCache { return checker }
        let checker = PermissionChecker(reader: try github())
        permissionCheckerCache = checker
        return checker
    }
}
