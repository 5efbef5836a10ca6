/// Narrow, read-only views of GitHub that capabilities gather facts through.
/// The real client conforms to all of them; tests may use in-memory fakes.

/// Reads who someone is to a repository.
public protocol PermissionReading {
    func isOrgMember(org: String, login: String) throws -> Bool
    func isTeamMember(org: String, team: String, login: String) throws -> Bool
    func repoRole(_ repo: RepoRef, login: String) throws -> RepoRole
}

/// Reads an issue's or pull request's comments, and knows whose comments are Switchyard's own.
public protocol CommentReading {
    /// Comments on an issue or PR, oldest first (all pages up to the client's bound).
    func comments(on issue: IssueRef) throws -> [GitHub.Comment]
    /// The login Switchyard writes as: the App's `<slug>[bot]`, the token's user, or the configured
    /// `SWITCHYARD_BOT_LOGIN`. Nil when it cannot be known (anonymous calls): then nothing is Switchyard's.
    func botLogin() throws -> String?
}

extension CommentReading {
    /// Switchyard's own comments: written by its identity. Bot state is read only from these.
    public func ownComments(on issue: IssueRef) throws -> [GitHub.Comment] {
        guard let bot = try botLogin()?.lowercased() else { return [] }
        return try comments(on: issue).filter { $0.user.login.lowercased() == bot }
    }

    /// Switchyard's own comment carrying `marker` (by key), if any. A comment by anyone else that
    /// carries the same marker is ordinary text and is never returned.
    public func comment(on issue: IssueRef, marked marker: Marker) throws -> GitHub.Comment? {
        try ownComment(on: issue, marked: marker)?.comment
    }

    /// Switchyard's own comment carrying `marker`, with the marker as found (its state block included).
    public func ownComment(on issue: IssueRef, marked marker: Marker) throws -> (comment: GitHub.Comment, marker: Marker)? {
        for c in try ownComments(on: issue) {
            if let found = marker.found(in: c.body) { return (c, found) }
        }
        return nil
    }

    /// True when `login` is Switchyard itself.
    public func isBot(_ login: String) throws -> Bool {
        guard let bot = try botLogin() else { return false }
        return bot.lowercased() == login.lowercased()
    }
}

/// An error that carries the status and message of an upstream answer, so fallbacks can match it.
public protocol UpstreamStatusError: Error {
    var status: Int { get }
    var message: String { get }
}

/// Decides whether a login satisfies a command's policy. Each API check is made at most once.
public final class PermissionChecker {
    let reader: any PermissionReading
    var memberCache: [String: Bool] = [:]
    var roleCache: [String: RepoRole] = [:]
    var teamCache: [String: Bool] = [:]

    public init(reader: any PermissionReading) { self.reader = reader }

    /// True when `login` may act under `levels` on `repo`, where `author` wrote the PR or issue.
    /// `association` is the `author_association` GitHub put in the (verified) payload: `OWNER` or `MEMBER`
    /// settle organization membership without an API call.
    public func allows(_ levels: [PermissionLevel], login: String, author: String?, repo: RepoRef,
                       association: String? = nil) throws -> Bool {
        let l = login.lowercased()
        // Cheap checks first, then one API call per kind at most.
        if levels.contains(.anyone) { return true }
        if levels.contains(.author), let author, author.lowercased() == l { return true }
        if levels.contains(.member), let a = association?.uppercased(), a == "MEMBER" || a == "OWNER" { return true }
        for level in levels {
            switch level {
            case .member:
                if try member(repo.owner, l) { return true }
            case .team(let slug):
                let key = "\(repo.owner)/\(slug)/\(l)"
                if teamCache[key] == nil { teamCache[key] = try reader.isTeamMember(org: repo.owner, team: slug, login: login) }
                if teamCache[key]! { return true }
            case .collaborator(let needed):
                if try role(repo, l, login) >= needed { return true }
            case .anyone, .author:
                continue
            }
        }
        return false
    }

    func member(_ org: String, _ l: String) throws -> Bool {
        let key = "\(org.lowercased())/\(l)"
        if let v = memberCache[key] { return v }
        let v = try reader.isOrgMember(org: org, login: l)
        memberCache[key] = v
        return v
    }

    func role(_ repo: RepoRef, _ l: String, _ login: String) throws -> RepoRole {
        let key = "\(repo.fullName.lowercased())/\(l)"
        if let v = roleCache[key] { return v }
        let v = try reader.repoRole(repo, login: login)
        roleCache[key] = v
        return v
    }
}
