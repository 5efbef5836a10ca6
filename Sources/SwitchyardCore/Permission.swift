/// Who may run a command. A command's policy is a list of these; any one that holds admits the user.
public enum PermissionLevel: Sendable, Hashable, CustomStringConvertible {
    case anyone
    /// The author of the pull request or issue.
    case author
    /// A member of the repository's organization.
    case member
    /// A member of the named team in the repository's organization.
    case team(String)
    /// A collaborator with at least this repository role.
    case collaborator(RepoRole)

    /// Parses `anyone`, `author`, `member`, `team:<slug>`, `triage`, `write`, `maintain`, `admin`
    /// (also `collaborator:<role>`).
    public init?(_ text: String) {
        let t = text.lowercased()
        switch t {
        case "anyone", "everyone": self = .anyone
        case "author": self = .author
        case "member", "org-member", "members": self = .member
        default:
            if t.hasPrefix("team:"), t.count > 5 { self = .team(String(t.dropFirst(5))); return }
            let role = t.hasPrefix("collaborator:") ? String(t.dropFirst(13)) : t
            guard let r = RepoRole(rawValue: role) else { return nil }
            self = .collaborator(r)
        }
    }

    public var description: String {
        switch self {
        case .anyone: "anyone"
        case .author: "the author"
        case .member: "organization members"
        case .team(let t): "members of team \(t)"
        case .collaborator(let r): "collaborators with \(r.rawValue) access"
        }
    }
}

/// Repository roles in GitHub's order of power.
public enum RepoRole: String, Sendable, Hashable, Comparable, CaseIterable {
    case none, read, triage, write, maintain, admin

    var rank: Int { Self.allCases.firstIndex(of: self)! }
    public static func < (a: RepoRole, b: RepoRole) -> Bool { a.rank < b.rank }

    /// From the collaborator-permission answer: `role_name` when present, else `permission`.
    public init(permission: String?, roleName: String?) {
        if let r = roleName.flatMap({ RepoRole(rawValue: $0) }) { self = r; return }
        switch permission {
        case "admin": self = .admin
        case "maintain": self = .maintain
        case "write": self = .write
        case "triage": self = .triage
        case "read": self = .read
        default: self = .none
        }
    }
}

/// Renders a policy for a refusal: "the author, organization members or collaborators with write access".
public func describePolicy(_ levels: [PermissionLevel]) -> String {
    let parts = levels.map(\.description)
    switch parts.count {
    case 0: return "nobody"
    case 1: return parts[0]
    default: return parts.dropLast().joined(separator: ", ") + " or " + parts.last!
    }
}
