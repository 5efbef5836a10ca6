import Foundation
import SwitchyardCore

extension GitHubEmulator {
    public struct User: Sendable { public var login: String; public var id: Int; public var type: String }

    public final class Repo: @unchecked Sendable {
        public let owner: String
        public let name: String
        public let id: Int
        public var defaultBranch: String
        public var collaborators: [String: RepoRole] = [:]
        public let git: GitRepository
        public var labels: Set<String> = []
        init(owner: String, name: String, id: Int, defaultBranch: String, git: GitRepository) {
            self.owner = owner; self.name = name; self.id = id; self.defaultBranch = defaultBranch; self.git = git
        }
        public var fullName: String { "\(owner)/\(name)" }
    }

    public struct Pull: Sendable {
        public var number: Int
        public var title: String
        public var body: String?
        public var author: String
        public var headRef: String
        /// `owner/name` of the head repository (a fork when it differs from the base).
        public var headRepo: String
        public var baseRef: String
        public var state = "open"
        public var merged = false
        public var mergeCommitSHA: String? = nil
        public var maintainerCanModify = false
        public var draft = false
        public var labels: [String] = []
        public var milestone: String? = nil
        public var assignees: [String] = []
        public var requestedTeams: [String] = []
        /// Reviews asked of people and not yet given; a review removes its author from these, as on GitHub.
        public var requestedReviewers: [String] = []
        /// Submitted reviews, oldest first.
        public var reviews: [Review] = []
        /// The author's first contribution to the repository (GitHub's FIRST_TIME_CONTRIBUTOR).
        public var firstTime = false
        /// Base and head at merge time, so a merged PR keeps listing its own commits.
        public var mergedRange: (base: String, head: String)? = nil
        /// The head and base mergeability was last computed for (it is computed after the first read).
        public var mergeabilityKnownFor: String? = nil
        public var updatedAt: String
        public var createdAt = ""
    }

    public struct Review: Sendable {
        public var id: Int
        public var user: String
        /// `APPROVED`, `CHANGES_REQUESTED`, `COMMENTED` or `DISMISSED`.
        public var state: String
        public var commitID: String
        public var submittedAt: String
    }

    public struct Issue: Sendable {
        public var number: Int
        public var title: String
        public var author: String
        public var state = "open"
        public var labels: [String] = []
    }

    public struct Comment: Sendable {
        public var id: Int
        public var repo: String
        public var issue: Int
        public var body: String
        public var user: String
        public var createdAt: String
        public var updatedAt: String
    }

    public struct Status: Sendable {
        public var id: Int
        public var repo: String
        public var sha: String
        public var state: String
        public var context: String
        public var description: String?
        public var targetURL: String?
        public var creator: String
        public var createdAt: String
    }

    /// A labeled or unlabeled event on an issue or pull request (`GET …/issues/{n}/events`).
    public struct IssueEvent: Sendable {
        public var id: Int
        public var repo: String
        public var issue: Int
        public var event: String
        public var actor: String
        public var label: String
        public var createdAt: String
    }

    public struct Reaction: Sendable {
        public var id: Int
        public var commentID: Int
        public var user: String
        public var content: String
    }

    /// One request as the emulator saw it.
    public struct LoggedRequest: Sendable, CustomStringConvertible {
        public var method: String
        public var path: String
        public var query: String
        public var body: JSON?
        public var rawBody: String
        /// Who the credentials belong to (`switchyard[bot]`, a user, `app:<id>`), or nil when anonymous.
        public var identity: String?
        public var status: Int
        public var description: String { "\(method) \(path)\(query.isEmpty ? "" : "?" + query) -> \(status)" }
    }

    /// An injected failure.
    public struct Fault: Sendable {
        public enum Kind: Sendable {
            case status(Int, String)
            case reset
            case slow(milliseconds: Int)
            /// 403 with `Retry-After` and GitHub's secondary-rate-limit message.
            case secondaryRateLimit(retryAfter: Int)
            case tooManyRequests(retryAfter: Int)
            /// 403 with `X-RateLimit-Remaining: 0` and a reset `seconds` ahead.
            case primaryRateLimit(resetIn: Int)
            /// The request is carried out, then the connection is reset: the caller cannot know it landed.
            case lostResponse
            /// The request is carried out, then answered with this status instead (a 5xx after the work).
            case appliedThenStatus(Int)
            /// The request is carried out, then the connection is closed without an answer.
            case appliedThenDrop
        }
        public var method: String?
        public var pathContains: String
        /// Matching calls to let through before the fault fires.
        public var skip: Int
        /// How many times it fires.
        public var times: Int
        public var kind: Kind
        public init(method: String? = nil, pathContains: String, skip: Int = 0, times: Int = 1, kind: Kind) {
            self.method = method; self.pathContains = pathContains; self.skip = skip; self.times = times; self.kind = kind
        }
    }
}

extension GitHubEmulator {
    // MARK: Seeding (Swift API; `Fixture` loads the same from JSON)

    /// Adds a user; `emails` are the verified addresses that link commits to the account.
    public func addUser(_ login: String, type: String = "User", emails: [String] = []) {
        lock.withLock {
            users[login.lowercased()] = User(login: login, id: nextID(), type: type)
            for e in emails { self.emails[e.lowercased()] = login }
        }
    }

    public func addOrg(_ org: String, members: [String]) {
        lock.withLock {
            orgMembers[org.lowercased()] = Set(members.map { $0.lowercased() })
            if users[org.lowercased()] == nil { users[org.lowercased()] = User(login: org, id: nextID(), type: "Organization") }
        }
        members.forEach { if user($0) == nil { addUser($0) } }
    }

    /// Publishes a release of `fullName` (the repository must exist).
    public func addRelease(_ fullName: String, tag: String, prerelease: Bool = false) {
        lock.withLock { releases[fullName.lowercased(), default: []].append((tag, prerelease)) }
    }

    public func addTeam(org: String, slug: String, members: [String]) {
        lock.withLock { teams["\(org.lowercased())/\(slug.lowercased())"] = Set(members.map { $0.lowercased() }) }
    }

    /// Creates a repository whose default branch holds `files` in one commit.
    @discardableResult
    public func addRepo(_ fullName: String, defaultBranch: String = "main", files: [String: String] = ["README.md": "hello\n"],
                        collaborators: [String: RepoRole] = [:]) throws -> Repo {
        let parts = fullName.split(separator: "/").map(String.init)
        let git = try GitRepository(creatingAt: "\(root)/\(fullName).git", defaultBranch: defaultBranch)
        let repo = Repo(owner: parts[0], name: parts[1], id: lock.withLock { nextID() }, defaultBranch: defaultBranch, git: git)
        repo.collaborators = collaborators
        let sha = try git.commit(files: files, message: "Initial commit", parents: [])
        try git.setRef("refs/heads/\(defaultBranch)", to: sha)
        lock.withLock { repos[fullName.lowercased()] = repo }
        if user(parts[0]) == nil { addUser(parts[0], type: "Organization") }
        return repo
    }

    public func repo(_ fullName: String) -> Repo? { lock.withLock { repos[fullName.lowercased()] } }
    public func user(_ login: String) -> User? { lock.withLock { users[login.lowercased()] } }

    /// Adds a commit on `branch` (created from `from` when missing) and returns its sha.
    @discardableResult
    public func commit(_ fullName: String, branch: String, from: String? = nil, files: [String: String?],
                       message: String, author: (name: String, email: String) = ("Dev", "dev@example.com")) throws -> String {
        guard let repo = repo(fullName) else { throw EmulatorError("no repository \(fullName)") }
        let parent = repo.git.resolve("refs/heads/\(branch)") ?? repo.git.resolve("refs/heads/\(from ?? repo.defaultBranch)")
        let sha = try repo.git.commit(files: files, message: message, parents: parent.map { [$0] } ?? [],
                                      author: (author.name, author.email, nil))
        try repo.git.setRef("refs/heads/\(branch)", to: sha)
        return sha
    }

    /// Opens a pull request from `head` (a branch of `headRepo`, default the same repository) into `base`.
    @discardableResult
    public func openPull(_ fullName: String, title: String, author: String, head: String, base: String? = nil,
                         body: String? = nil, headRepo: String? = nil, maintainerCanModify: Bool = false,
                         labels: [String] = []) throws -> Int {
        guard let repo = repo(fullName) else { throw EmulatorError("no repository \(fullName)") }
        if let fork = headRepo, fork.lowercased() != fullName.lowercased() {
            // The fork's branch is mirrored as refs/pull/N/head in the base repository, as on GitHub.
            guard let forkRepo = self.repo(fork), let sha = forkRepo.git.resolve("refs/heads/\(head)") else {
                throw EmulatorError("no branch \(head) in \(fork)")
            }
            try repo.git.run(["fetch", "--quiet", forkRepo.git.path, "refs/heads/\(head):refs/forks/\(fork)/\(head)"])
            _ = sha
        }
        return lock.withLock {
            let n = nextNumber(fullName)
            var p = Pull(
                number: n, title: title, body: body, author: author, headRef: head, headRepo: headRepo ?? fullName,
                baseRef: base ?? repo.defaultBranch, maintainerCanModify: maintainerCanModify, labels: labels,
                updatedAt: now())
            p.createdAt = p.updatedAt
            pulls[fullName.lowercased(), default: [:]][n] = p
            return n
        }
    }

    public func openIssue(_ fullName: String, title: String, author: String) -> Int {
        lock.withLock {
            let n = nextNumber(fullName)
            issues[fullName.lowercased(), default: [:]][n] = Issue(number: n, title: title, author: author)
            return n
        }
    }

    public func pull(_ fullName: String, _ number: Int) -> Pull? { lock.withLock { pulls[fullName.lowercased()]?[number] } }

    /// `user` submits a review on the PR's current head; they are no longer a requested reviewer.
    public func addReview(_ fullName: String, _ number: Int, user: String, state: String) {
        let head = repo(fullName).flatMap { r in pull(fullName, number).flatMap { headSHA(repo: r, pull: $0) } } ?? ""
        lock.withLock {
            guard var p = pulls[fullName.lowercased()]?[number] else { return }
            p.reviews.append(Review(id: nextID(), user: user, state: state, commitID: head, submittedAt: now()))
            p.requestedReviewers.removeAll { $0.lowercased() == user.lowercased() }
            pulls[fullName.lowercased()]![number] = p
        }
    }

    /// Adds or removes labels as `actor` would through the UI, leaving the issue events GitHub records.
    public func relabel(_ fullName: String, _ number: Int, add: [String] = [], remove: [String] = [], by actor: String) {
        _ = mutateLabels(fullName, number, actor: actor) { ls in
            ls.removeAll { remove.contains($0) }
            for l in add where !ls.contains(l) { ls.append(l) }
        }
    }

    public func updatePull(_ fullName: String, _ number: Int, _ change: (inout Pull) -> Void) {
        lock.withLock { if var p = pulls[fullName.lowercased()]?[number] { change(&p); pulls[fullName.lowercased()]![number] = p } }
    }

    /// The commit at the head of a pull request.
    public func headSHA(_ fullName: String, _ number: Int) -> String? {
        guard let p = pull(fullName, number), let repo = repo(fullName) else { return nil }
        return headSHA(repo: repo, pull: p)
    }

    func headSHA(repo: Repo, pull p: Pull) -> String? {
        if p.headRepo.lowercased() != repo.fullName.lowercased() {
            return repo.git.resolve("refs/forks/\(p.headRepo)/\(p.headRef)")
        }
        return repo.git.resolve("refs/heads/\(p.headRef)")
    }

    /// Adds a comment as if a person wrote it in the web UI.
    @discardableResult
    /// The next issue or pull request of `fullName` gets `number` (fixtures that match recorded events).
    public func reserveNumbers(_ fullName: String, next number: Int) {
        lock.withLock { numbers[fullName.lowercased()] = max(numbers[fullName.lowercased()] ?? 0, number - 1) }
    }

    public func addComment(_ fullName: String, issue: Int, user: String, body: String, id fixed: Int? = nil) -> Int {
        lock.withLock {
            let id = fixed ?? nextID()
            if let fixed { idCounter = max(idCounter, fixed) }
            comments.append(Comment(id: id, repo: fullName.lowercased(), issue: issue, body: body, user: user, createdAt: now(), updatedAt: now()))
            return id
        }
    }

    public func comments(_ fullName: String, issue: Int) -> [Comment] {
        lock.withLock { comments.filter { $0.repo == fullName.lowercased() && $0.issue == issue } }
    }

    /// Adds a status as another integration (a CI system) would.
    public func addStatus(_ fullName: String, sha: String, state: String, context: String, creator: String = "ci-system") {
        lock.withLock {
            statuses.append(Status(id: nextID(), repo: fullName.lowercased(), sha: sha, state: state, context: context,
                                   description: nil, targetURL: nil, creator: creator, createdAt: now()))
        }
    }

    public func statuses(_ fullName: String, sha: String) -> [Status] {
        lock.withLock { statuses.filter { $0.repo == fullName.lowercased() && $0.sha == sha } }
    }

    public func reactions(commentID: Int) -> [Reaction] { lock.withLock { reactions.filter { $0.commentID == commentID } } }

    /// Adds a reaction as `user` would in the web UI.
    public func addReaction(commentID: Int, user: String, content: String) {
        lock.withLock { reactions.append(Reaction(id: nextID(), commentID: commentID, user: user, content: content)) }
    }

    /// Sets a pull request's or issue's labels as `actor` would in the web UI, recording labeled and
    /// unlabeled events.
    public func setLabels(_ fullName: String, issue: Int, _ labels: [String], by actor: String) {
        _ = mutateLabels(fullName, issue, actor: actor) { $0 = labels }
    }

    public func labels(_ fullName: String, issue: Int) -> [String] {
        lock.withLock { pulls[fullName.lowercased()]?[issue]?.labels ?? issues[fullName.lowercased()]?[issue]?.labels ?? [] }
    }

    // MARK: Credentials

    /// A token that authenticates as `login` (a personal access token of any shape).
    public func addToken(_ token: String, for login: String) { lock.withLock { tokens[token] = login } }

    /// Registers a GitHub App by its public key (PEM) with installations.
    public func addApp(id: Int, slug: String, publicKeyPEM: String, installations: [Int]) {
        lock.withLock { apps[id] = App(id: id, slug: slug, publicKeyPEM: publicKeyPEM, installations: Set(installations)) }
    }

    // MARK: Observing

    public var requests: [LoggedRequest] { lock.withLock { log } }
    public var contractViolations: [String] { lock.withLock { violations } }
    public func clearLog() { lock.withLock { log.removeAll() } }
    public var mintedTokenCount: Int { lock.withLock { minted } }
    /// How many GETs were answered 304 Not Modified.
    public var notModifiedCount: Int { lock.withLock { notModified } }

    public func inject(_ fault: Fault) { lock.withLock { faults.append(fault) } }
    /// How many injected faults have fired so far.
    public var faultsFired: Int { lock.withLock { fired } }

    /// How long background work (an update-branch merge) waits before it runs, as on GitHub.
    public var backgroundDelayMilliseconds: Int {
        get { lock.withLock { backgroundDelay } }
        set { lock.withLock { backgroundDelay = newValue } }
    }

    /// Runs `work` after the background delay, off the request that asked for it.
    func background(_ work: @escaping @Sendable () -> Void) {
        let delay = lock.withLock { () -> Int in pendingJobs += 1; return backgroundDelay }
        DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(delay)) { [self] in
            work()
            lock.withLock { pendingJobs -= 1 }
        }
    }

    /// Waits until every background job has run (tests call this before reading the result of an
    /// update-branch, as a person would wait for GitHub).
    public func settle(timeout: TimeInterval = 10) {
        let until = Date().addingTimeInterval(timeout)
        while lock.withLock({ pendingJobs }) > 0 && Date() < until { usleep(5_000) }
    }
    public func clearFaults() { lock.withLock { faults.removeAll() } }

    // MARK: Helpers (call with the lock held)

    func nextID() -> Int { idCounter += 1; return idCounter }
    func nextNumber(_ fullName: String) -> Int {
        let k = fullName.lowercased()
        numbers[k, default: 0] += 1
        return numbers[k]!
    }
}

public struct EmulatorError: Error, CustomStringConvertible {
    public var description: String
    public init(_ d: String) { description = d }
}

func now() -> String {
    let f = ISO8601DateFormatter()
    f.formatOptions = [.withInternetDateTime]
    return f.string(from: Date())
}

extension GitHubEmulator {
    /// A token registered for `login`, if any.
    public func tokenFor(_ login: String) -> String? { lock.withLock { tokens.first { $0.value == login }?.key } }
}

extension GitHubEmulator {
    /// A `pull_request` webhook payload for the current state of a pull request, as GitHub would send it.
    public func pullRequestEvent(_ fullName: String, _ number: Int, action: String, sender: String? = nil,
                                 label: String? = nil, installation: Int = 4242) -> JSON {
        guard let repo = repo(fullName), let p = pull(fullName, number) else { return .null }
        var o: [String: JSON] = [
            "action": .string(action), "number": .int(number), "pull_request": pullJSON(repo, p),
            "repository": repoJSON(fullName), "sender": userJSON(sender ?? p.author), "installation": ["id": .int(installation)],
        ]
        if let label { o["label"] = labelJSON(label) }
        return .object(o)
    }

    /// A `pull_request_review` payload for the PR's latest review.
    public func reviewEvent(_ fullName: String, _ number: Int, action: String = "submitted", installation: Int = 4242) -> JSON {
        guard let repo = repo(fullName), let p = pull(fullName, number), let v = p.reviews.last else { return .null }
        return ["action": .string(action), "pull_request": pullJSON(repo, p), "repository": repoJSON(fullName),
                "review": ["id": .int(v.id), "user": userJSON(v.user), "state": .string(v.state.lowercased()), "commit_id": .string(v.commitID),
                           "submitted_at": .string(v.submittedAt), "body": .null, "author_association": .string(association(v.user, repo: fullName))],
                "sender": userJSON(v.user), "installation": ["id": .int(installation)]]
    }

    /// An `issue_comment.created` payload for a comment that already exists in the emulator.
    public func commentEvent(_ fullName: String, commentID: Int, action: String = "created", installation: Int = 4242) -> JSON {
        guard let repo = repo(fullName), let c = comments(fullName, issue: lock.withLock({ comments.first { $0.id == commentID }?.issue }) ?? 0).first(where: { $0.id == commentID }) else { return .null }
        let p = pull(fullName, c.issue)
        var issue: [String: JSON] = ["number": .int(c.issue), "title": .string(p?.title ?? "Issue"), "state": .string(p?.state ?? "open"),
                                     "user": userJSON(p?.author ?? "ghost"), "labels": .array((p?.labels ?? []).map { labelJSON($0) })]
        if p != nil { issue["pull_request"] = ["url": .string("\(baseURL)/repos/\(repo.fullName)/pulls/\(c.issue)")] }
        return ["action": .string(action), "issue": .object(issue), "comment": commentJSON(c), "repository": repoJSON(fullName),
                "sender": userJSON(c.user), "installation": ["id": .int(installation)]]
    }
}
