/// The webhook models read straight from `JSON`, field by field, with no `Codable` machinery: in a
/// fresh process every `Decodable` type's first use makes the runtime build generic metadata and look
/// conformances up, and for an event's dozen nested types that was most of its decoding time. These
/// readers fail with the same `DecodingError`s, paths included, as the `Codable` conformances (which
/// remain for everything else), and a test holds the two to each other over the corpus.
struct Fields {
    let o: [String: JSON]
    let path: [AnyKey]

    init(_ v: JSON, _ path: [AnyKey]) throws {
        guard case .object(let o) = v else { throw Convert.mismatch([String: JSON].self, path, v) }
        self.o = o; self.path = path
    }

    func at(_ k: String) -> [AnyKey] { path + [AnyKey(stringValue: k)] }
    func need(_ k: String) throws -> JSON {
        guard let v = o[k] else {
            throw DecodingError.keyNotFound(AnyKey(stringValue: k), .init(codingPath: path, debugDescription: "no value for \(k)"))
        }
        return v
    }
    /// The value under `k`, nil when absent or null (`JSON` takes `nil` literals, so this is spelled out).
    func present(_ k: String) -> JSON? {
        guard let v = o[k], v != .null else { return Optional<JSON>.none }
        return v
    }

    func string(_ k: String) throws -> String { try Convert.string(need(k), at(k)) }
    func string(ifPresent k: String) throws -> String? { try present(k).map { try Convert.string($0, at(k)) } }
    func int(_ k: String) throws -> Int { try Convert.integer(Int.self, need(k), at(k)) }
    func int(ifPresent k: String) throws -> Int? { try present(k).map { try Convert.integer(Int.self, $0, at(k)) } }
    func bool(ifPresent k: String) throws -> Bool? { try present(k).map { try Convert.bool($0, at(k)) } }
    func model<T>(_ k: String, _ make: (JSON, [AnyKey]) throws -> T) throws -> T { try make(need(k), at(k)) }
    func model<T>(ifPresent k: String, _ make: (JSON, [AnyKey]) throws -> T) throws -> T? { try present(k).map { try make($0, at(k)) } }
    func list<T>(ifPresent k: String, _ make: (JSON, [AnyKey]) throws -> T) throws -> [T]? {
        guard let v = present(k) else { return nil }
        guard case .array(let a) = v else { throw Convert.mismatch([JSON].self, at(k), v) }
        return try a.enumerated().map { try make($0.element, at(k) + [AnyKey(intValue: $0.offset)]) }
    }
}

extension GitHub.User {
    init(json v: JSON, path: [AnyKey]) throws {
        let f = try Fields(v, path)
        self.init(login: try f.string("login"), id: try f.int(ifPresent: "id"), type: try f.string(ifPresent: "type"))
    }
}

extension GitHub.Repository {
    init(json v: JSON, path: [AnyKey]) throws {
        let f = try Fields(v, path)
        name = try f.string("name")
        fullName = try f.string("full_name")
        owner = try f.model("owner", GitHub.User.init(json:path:))
        htmlUrl = try f.string(ifPresent: "html_url")
        defaultBranch = try f.string(ifPresent: "default_branch")
        fork = try f.bool(ifPresent: "fork")
        `private` = try f.bool(ifPresent: "private")
    }
}

extension GitHub.Label {
    init(json v: JSON, path: [AnyKey]) throws {
        let f = try Fields(v, path)
        name = try f.string("name")
        color = try f.string(ifPresent: "color")
    }
}

extension GitHub.Installation {
    init(json v: JSON, path: [AnyKey]) throws {
        let f = try Fields(v, path)
        id = try f.int("id")
        account = try f.model(ifPresent: "account", GitHub.User.init(json:path:))
    }
}

extension GitHub.Branch {
    init(json v: JSON, path: [AnyKey]) throws {
        let f = try Fields(v, path)
        ref = try f.string("ref")
        sha = try f.string("sha")
        label = try f.string(ifPresent: "label")
        repo = try f.model(ifPresent: "repo", GitHub.Repository.init(json:path:))
        user = try f.model(ifPresent: "user", GitHub.User.init(json:path:))
    }
}

extension GitHub.Milestone {
    init(json v: JSON, path: [AnyKey]) throws {
        let f = try Fields(v, path)
        number = try f.int(ifPresent: "number")
        title = try f.string("title")
    }
}

extension GitHub.Team {
    init(json v: JSON, path: [AnyKey]) throws {
        slug = try Fields(v, path).string("slug")
    }
}

extension GitHub.PullRequest {
    /// A pull request as the REST API or a payload has it, read without `Codable`.
    public init(json v: JSON) throws { try self.init(json: v, path: []) }

    init(json v: JSON, path: [AnyKey]) throws {
        let f = try Fields(v, path)
        number = try f.int("number")
        state = try f.string("state")
        title = try f.string("title")
        body = try f.string(ifPresent: "body")
        user = try f.model("user", GitHub.User.init(json:path:))
        head = try f.model("head", GitHub.Branch.init(json:path:))
        base = try f.model("base", GitHub.Branch.init(json:path:))
        merged = try f.bool(ifPresent: "merged")
        mergedAt = try f.string(ifPresent: "merged_at")
        mergeCommitSha = try f.string(ifPresent: "merge_commit_sha")
        draft = try f.bool(ifPresent: "draft")
        labels = try f.list(ifPresent: "labels", GitHub.Label.init(json:path:))
        maintainerCanModify = try f.bool(ifPresent: "maintainer_can_modify")
        htmlUrl = try f.string(ifPresent: "html_url")
        milestone = try f.model(ifPresent: "milestone", GitHub.Milestone.init(json:path:))
        mergeableState = try f.string(ifPresent: "mergeable_state")
        authorAssociation = try f.string(ifPresent: "author_association")
        commits = try f.int(ifPresent: "commits")
        updatedAt = try f.string(ifPresent: "updated_at")
        mergeable = try f.bool(ifPresent: "mergeable")
        assignees = try f.list(ifPresent: "assignees", GitHub.User.init(json:path:))
        createdAt = try f.string(ifPresent: "created_at")
        requestedReviewers = try f.list(ifPresent: "requested_reviewers", GitHub.User.init(json:path:))
        requestedTeams = try f.list(ifPresent: "requested_teams", GitHub.Team.init(json:path:))
    }
}

extension GitHub.IssuePullRequestLink {
    init(json v: JSON, path: [AnyKey]) throws {
        url = try Fields(v, path).string(ifPresent: "url")
    }
}

extension GitHub.Issue {
    init(json v: JSON, path: [AnyKey]) throws {
        let f = try Fields(v, path)
        number = try f.int("number")
        title = try f.string("title")
        body = try f.string(ifPresent: "body")
        user = try f.model("user", GitHub.User.init(json:path:))
        state = try f.string("state")
        labels = try f.list(ifPresent: "labels", GitHub.Label.init(json:path:))
        pullRequest = try f.model(ifPresent: "pull_request", GitHub.IssuePullRequestLink.init(json:path:))
        htmlUrl = try f.string(ifPresent: "html_url")
        authorAssociation = try f.string(ifPresent: "author_association")
    }
}

extension GitHub.Comment {
    init(json v: JSON, path: [AnyKey]) throws {
        let f = try Fields(v, path)
        id = try f.int("id")
        body = try f.string(ifPresent: "body")
        user = try f.model("user", GitHub.User.init(json:path:))
        htmlUrl = try f.string(ifPresent: "html_url")
        createdAt = try f.string(ifPresent: "created_at")
        updatedAt = try f.string(ifPresent: "updated_at")
        authorAssociation = try f.string(ifPresent: "author_association")
        performedViaGithubApp = f.present("performed_via_github_app")
    }
}

extension GitHub.Review {
    init(json v: JSON, path: [AnyKey]) throws {
        let f = try Fields(v, path)
        id = try f.int("id")
        body = try f.string(ifPresent: "body")
        user = try f.model("user", GitHub.User.init(json:path:))
        state = try f.string(ifPresent: "state")
        htmlUrl = try f.string(ifPresent: "html_url")
        submittedAt = try f.string(ifPresent: "submitted_at")
        authorAssociation = try f.string(ifPresent: "author_association")
        commitId = try f.string(ifPresent: "commit_id")
    }
}

extension EventAction {
    init(json v: JSON, path: [AnyKey]) throws { self.init(try Convert.string(v, path)) }
}

extension PullRequestEvent {
    init(json v: JSON) throws {
        let f = try Fields(v, [])
        action = try f.model("action", EventAction.init(json:path:))
        number = try f.int(ifPresent: "number")
        pullRequest = try f.model("pull_request", GitHub.PullRequest.init(json:path:))
        repository = try f.model("repository", GitHub.Repository.init(json:path:))
        sender = try f.model("sender", GitHub.User.init(json:path:))
        installation = try f.model(ifPresent: "installation", GitHub.Installation.init(json:path:))
        label = try f.model(ifPresent: "label", GitHub.Label.init(json:path:))
        before = try f.string(ifPresent: "before")
        after = try f.string(ifPresent: "after")
    }
}

extension IssueCommentEvent {
    init(json v: JSON) throws {
        let f = try Fields(v, [])
        action = try f.model("action", EventAction.init(json:path:))
        issue = try f.model("issue", GitHub.Issue.init(json:path:))
        comment = try f.model("comment", GitHub.Comment.init(json:path:))
        repository = try f.model("repository", GitHub.Repository.init(json:path:))
        sender = try f.model("sender", GitHub.User.init(json:path:))
        installation = try f.model(ifPresent: "installation", GitHub.Installation.init(json:path:))
    }
}

extension PullRequestReviewEvent {
    init(json v: JSON) throws {
        let f = try Fields(v, [])
        action = try f.model("action", EventAction.init(json:path:))
        review = try f.model("review", GitHub.Review.init(json:path:))
        pullRequest = try f.model("pull_request", GitHub.PullRequest.init(json:path:))
        repository = try f.model("repository", GitHub.Repository.init(json:path:))
        sender = try f.model("sender", GitHub.User.init(json:path:))
        installation = try f.model(ifPresent: "installation", GitHub.Installation.init(json:path:))
    }
}

extension PullRequestReviewCommentEvent {
    init(json v: JSON) throws {
        let f = try Fields(v, [])
        action = try f.model("action", EventAction.init(json:path:))
        comment = try f.model("comment", GitHub.Comment.init(json:path:))
        pullRequest = try f.model("pull_request", GitHub.PullRequest.init(json:path:))
        repository = try f.model("repository", GitHub.Repository.init(json:path:))
        sender = try f.model("sender", GitHub.User.init(json:path:))
        installation = try f.model(ifPresent: "installation", GitHub.Installation.init(json:path:))
    }
}

extension PingEvent {
    init(json v: JSON) throws {
        let f = try Fields(v, [])
        zen = try f.string(ifPresent: "zen")
        hookId = try f.int(ifPresent: "hook_id")
        repository = try f.model(ifPresent: "repository", GitHub.Repository.init(json:path:))
        sender = try f.model(ifPresent: "sender", GitHub.User.init(json:path:))
    }
}

extension InstallationEvent {
    init(json v: JSON) throws {
        let f = try Fields(v, [])
        action = try f.model("action", EventAction.init(json:path:))
        installation = try f.model("installation", GitHub.Installation.init(json:path:))
        sender = try f.model(ifPresent: "sender", GitHub.User.init(json:path:))
    }
}
