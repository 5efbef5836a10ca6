/// GitHub objects as they appear in webhook payloads and REST answers.
/// Only the fields Switchyard reads are modelled; extra fields are ignored and most are optional,
/// so that new or missing fields never break decoding. Decode with `GitHubDecoder.make()`.
public enum GitHub {
    public struct User: Codable, Sendable, Equatable {
        public var login: String
        public var id: Int?
        public var type: String?
        public init(login: String, id: Int? = nil, type: String? = nil) {
            self.login = login; self.id = id; self.type = type
        }
        /// GitHub Apps and other bots: `type == "Bot"` or a `[bot]` login.
        public var isBot: Bool { type == "Bot" || login.lowercased().hasSuffix("[bot]") }
    }

    public struct Repository: Codable, Sendable, Equatable {
        public var name: String
        public var fullName: String
        public var owner: User
        public var htmlUrl: String?
        public var defaultBranch: String?
        public var fork: Bool?
        public var `private`: Bool?
        public var ref: RepoRef { RepoRef(owner: owner.login, name: name) }
    }

    public struct Label: Codable, Sendable, Equatable {
        public var name: String
        public var color: String?
    }

    public struct Installation: Codable, Sendable, Equatable {
        public var id: Int
        public var account: User?
    }

    public struct Branch: Codable, Sendable, Equatable {
        public var ref: String
        public var sha: String
        public var label: String?
        /// Null when the fork behind a PR was deleted.
        public var repo: Repository?
        public var user: User?
    }

    public struct Milestone: Codable, Sendable, Equatable {
        public var number: Int?
        public var title: String
    }

    public struct PullRequest: Codable, Sendable, Equatable {
        public var number: Int
        public var state: String
        public var title: String
        public var body: String?
        public var user: User
        public var head: Branch
        public var base: Branch
        public var merged: Bool?
        public var mergedAt: String?
        public var mergeCommitSha: String?
        public var draft: Bool?
        public var labels: [Label]?
        public var maintainerCanModify: Bool?
        public var htmlUrl: String?
        public var milestone: Milestone?
        public var mergeableState: String?
        public var authorAssociation: String?
        /// How many commits the pull request has (webhook payloads and `GET /pulls/{n}`).
        public var commits: Int?
        public var updatedAt: String?
        public var mergeable: Bool?
        public var assignees: [User]?
        public var createdAt: String?
        /// Reviews asked for and not yet given (GitHub drops a reviewer from these once they review).
        public var requestedReviewers: [User]?
        public var requestedTeams: [Team]?
        /// True when the head branch lives in another repository than the base.
        public var isFromFork: Bool {
            guard let headRepo = head.repo, let baseRepo = base.repo else { return head.repo == nil }
            return headRepo.fullName.lowercased() != baseRepo.fullName.lowercased()
        }
    }

    public struct Team: Codable, Sendable, Equatable {
        public var slug: String
    }

    /// A file a pull request changes, with its line counts.
    public struct PullFile: Codable, Sendable, Equatable {
        public var filename: String
        public var status: String?
        public var changes: Int?
        public var previousFilename: String?
        /// The unified diff of the file (absent for binary and very large files).
        public var patch: String?
        public init(filename: String, status: String? = nil, changes: Int? = nil, previousFilename: String? = nil, patch: String? = nil) {
            self.filename = filename; self.status = status; self.changes = changes; self.previousFilename = previousFilename; self.patch = patch
        }
    }

    public struct IssuePullRequestLink: Codable, Sendable, Equatable {
        public var url: String?
    }

    public struct Issue: Codable, Sendable, Equatable {
        public var number: Int
        public var title: String
        public var body: String?
        public var user: User
        public var state: String
        public var labels: [Label]?
        /// Present only when the issue is a pull request.
        public var pullRequest: IssuePullRequestLink?
        public var htmlUrl: String?
        public var authorAssociation: String?
    }

    public struct Comment: Codable, Sendable, Equatable {
        public var id: Int
        public var body: String?
        public var user: User
        public var htmlUrl: String?
        public var createdAt: String?
        public var updatedAt: String?
        public var authorAssociation: String?
        public var performedViaGithubApp: JSON?
    }

    public struct Review: Codable, Sendable, Equatable {
        public var id: Int
        public var body: String?
        public var user: User
        public var state: String?
        public var htmlUrl: String?
        public var submittedAt: String?
        public var authorAssociation: String?
        public var commitId: String?
    }
}

/// `owner/name` of a repository.
public struct RepoRef: Sendable, Hashable, Codable, CustomStringConvertible {
    public var owner: String
    public var name: String
    public init(owner: String, name: String) { self.owner = owner; self.name = name }
    public var fullName: String { "\(owner)/\(name)" }
    public var description: String { fullName }

    /// Parses `owner/name`.
    public init?(_ text: Substring) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2 else { return nil }
        self.init(owner: parts[0], name: parts[1])
    }

    /// Owner and repository names as GitHub allows them, never `.` or `..`.
    public init?(owner: Substring, name: Substring) {
        guard Self.isValidOwner(owner), Self.isValidName(name) else { return nil }
        self.owner = String(owner); self.name = String(name)
    }

    /// An account or organization: letters, digits, `-` (and `_`, which Enterprise Managed Users carry),
    /// not starting with `-`, at most 39 characters.
    public static func isValidOwner(_ s: Substring) -> Bool {
        let u = s.utf8
        guard !u.isEmpty, u.count <= 39, u.first != UInt8(ascii: "-") else { return false }
        return u.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") }
    }

    /// A repository: letters, digits, `-`, `_` and `.`, at most 100 characters, never `.` or `..`.
    public static func isValidName(_ s: Substring) -> Bool {
        let u = s.utf8
        guard !u.isEmpty, u.count <= 100, s != ".", s != ".." else { return false }
        return u.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") }
    }

    public static func isAlphanumeric(_ b: UInt8) -> Bool {
        (b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122)
    }
}

/// `owner/name#123`: the target of a chat command.
public struct IssueRef: Sendable, Hashable, Codable, CustomStringConvertible {
    public var repo: RepoRef
    public var number: Int
    public init(repo: RepoRef, number: Int) { self.repo = repo; self.number = number }
    public var description: String { "\(repo.fullName)#\(number)" }

    /// Parses `owner/name#123` or a pull request or issue URL.
    public init?(_ text: some StringProtocol) {
        var t = Substring(text)
        for prefix in ["https://github.com/", "http://github.com/"] where t.hasPrefix(prefix) {
            // owner/name/pull/123
            let parts = t.dropFirst(prefix.count).split(separator: "/")
            guard parts.count >= 4, parts[2] == "pull" || parts[2] == "issues",
                  let n = Int(parts[3]), n > 0, let repo = RepoRef(Substring("\(parts[0])/\(parts[1])")) else { return nil }
            self.init(repo: repo, number: n)
            return
        }
        guard let hash = t.lastIndex(of: "#"), let n = Int(t[t.index(after: hash)...]), n > 0,
              let repo = RepoRef(t[..<hash]) else { return nil }
        t = t[..<hash]
        self.init(repo: repo, number: n)
    }
}

/// A JSON decoder for GitHub's snake_case wire format.
public enum GitHubDecoder {
    public static func make() -> JSONDecoder {
        let d = JSONDecoder()
        d.keyDecodingStrategy = .convertFromSnakeCase
        return d
    }
    public static func decode<T: Decodable>(_ type: T.Type, from bytes: some Collection<UInt8>) throws -> T {
        try JSONValueDecoder().decode(type, from: bytes)
    }
}

/// A JSON encoder for GitHub's snake_case wire format.
public enum GitHubEncoder {
    public static func make() -> JSONEncoder {
        let e = JSONEncoder()
        e.keyEncodingStrategy = .convertToSnakeCase
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }
}

extension GitHub {
    /// A commit as the REST commit listings return it (`/pulls/{n}/commits`, `/compare`).
    public struct Commit: Codable, Sendable, Equatable {
        public struct Person: Codable, Sendable, Equatable {
            public var name: String?
            public var email: String?
            public var date: String?
            public init(name: String?, email: String?, date: String? = nil) { self.name = name; self.email = email; self.date = date }
        }
        public struct Detail: Codable, Sendable, Equatable {
            public var message: String
            public var author: Person?
            public var committer: Person?
            public init(message: String, author: Person?, committer: Person?) {
                self.message = message; self.author = author; self.committer = committer
            }
        }
        public var sha: String
        public var commit: Detail
        /// The GitHub account linked to the author's email, if any.
        public var author: User?
        public var committer: User?
        public init(sha: String, commit: Detail, author: User?, committer: User?) {
            self.sha = sha; self.commit = commit; self.author = author; self.committer = committer
        }
    }
}

extension GitHub {
    /// A git commit object (`/git/commits`).
    public struct GitCommit: Codable, Sendable, Equatable {
        public struct Ref: Codable, Sendable, Equatable { public var sha: String }
        public var sha: String
        public var tree: Ref
        public var parents: [Ref]
        public var message: String
        public var author: Commit.Person?
        public var committer: Commit.Person?
    }
}
