/// Every comment-bearing event folded into one shape (issue comment, review comment,
/// review body, PR body on open), so that capabilities parse commands in one place.
public struct CommentTrigger: Sendable, Equatable {
    /// The events that carry a comment (and so may carry commands).
    public static let eventNames: Set<String> = ["issue_comment", "pull_request_review_comment", "pull_request_review"]
    public enum Kind: String, Sendable, Codable { case issueComment, reviewComment, reviewBody, pullRequestBody }

    public var kind: Kind
    /// `created`, `edited`, `deleted`, `submitted` or `opened`.
    public var action: String
    public var repository: RepoRef
    public var number: Int
    public var isPullRequest: Bool
    /// The comment or review id; nil for a PR body.
    public var commentID: Int?
    public var body: String
    public var author: GitHub.User
    public var sender: GitHub.User
    /// Login of the issue or pull request author.
    public var issueAuthor: String
    public var createdAt: String?
    public var installationID: Int?
    /// GitHub's `author_association` for the comment's author (`OWNER`, `MEMBER`, `COLLABORATOR`, …).
    public var authorAssociation: String?

    public init(kind: Kind, action: String, repository: RepoRef, number: Int, isPullRequest: Bool,
                commentID: Int?, body: String, author: GitHub.User, sender: GitHub.User, issueAuthor: String,
                createdAt: String? = nil, installationID: Int? = nil) {
        self.kind = kind; self.action = action; self.repository = repository; self.number = number
        self.isPullRequest = isPullRequest; self.commentID = commentID; self.body = body
        self.author = author; self.sender = sender; self.issueAuthor = issueAuthor
        self.createdAt = createdAt; self.installationID = installationID
    }


    /// True for a newly written comment (not an edit or deletion).
    public var isNew: Bool { ["created", "submitted", "opened"].contains(action) }

    /// Normalizes an event; nil when the event carries no comment.
    public init?(_ event: WebhookEvent) {
        switch event {
        case .issueComment(let e):
            self.init(kind: .issueComment, action: e.action.rawValue, repository: e.repository.ref,
                      number: e.issue.number, isPullRequest: e.issue.pullRequest != nil,
                      commentID: e.comment.id, body: e.comment.body ?? "", author: e.comment.user,
                      sender: e.sender, issueAuthor: e.issue.user.login, createdAt: e.comment.createdAt,
                      installationID: e.installation?.id)
            authorAssociation = e.comment.authorAssociation
        case .pullRequestReviewComment(let e):
            self.init(kind: .reviewComment, action: e.action.rawValue, repository: e.repository.ref,
                      number: e.pullRequest.number, isPullRequest: true, commentID: e.comment.id,
                      body: e.comment.body ?? "", author: e.comment.user, sender: e.sender,
                      issueAuthor: e.pullRequest.user.login, createdAt: e.comment.createdAt,
                      installationID: e.installation?.id)
            authorAssociation = e.comment.authorAssociation
        case .pullRequestReview(let e):
            guard let body = e.review.body, !body.isEmpty else { return nil }
            self.init(kind: .reviewBody, action: e.action.rawValue, repository: e.repository.ref,
                      number: e.pullRequest.number, isPullRequest: true, commentID: e.review.id, body: body,
                      author: e.review.user, sender: e.sender, issueAuthor: e.pullRequest.user.login,
                      createdAt: e.review.submittedAt, installationID: e.installation?.id)
            authorAssociation = e.review.authorAssociation
        case .pullRequest(let e):
            guard e.action == .opened, let body = e.pullRequest.body, !body.isEmpty else { return nil }
            self.init(kind: .pullRequestBody, action: "opened", repository: e.repository.ref,
                      number: e.pullRequest.number, isPullRequest: true, commentID: nil, body: body,
                      author: e.pullRequest.user, sender: e.sender, issueAuthor: e.pullRequest.user.login,
                      installationID: e.installation?.id)
        default:
            return nil
        }
    }
}
