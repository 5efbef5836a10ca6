/// A webhook `action`. Unknown actions decode to `.other` so that a new GitHub action never breaks decoding.
public enum EventAction: Sendable, Equatable, Hashable, Codable, CustomStringConvertible {
    case opened, reopened, closed, synchronize, edited, labeled, unlabeled, created, deleted
    case submitted, dismissed, readyForReview, convertedToDraft, completed, requested
    case other(String)

    static let known: [String: EventAction] = [
        "opened": .opened, "reopened": .reopened, "closed": .closed, "synchronize": .synchronize,
        "edited": .edited, "labeled": .labeled, "unlabeled": .unlabeled, "created": .created,
        "deleted": .deleted, "submitted": .submitted, "dismissed": .dismissed,
        "ready_for_review": .readyForReview, "converted_to_draft": .convertedToDraft,
        "completed": .completed, "requested": .requested,
    ]

    public init(_ raw: String) { self = Self.known[raw] ?? .other(raw) }

    public var rawValue: String {
        if case .other(let s) = self { return s }
        return Self.known.first { $0.value == self }!.key
    }
    public var description: String { rawValue }

    public init(from decoder: Decoder) throws { self.init(try decoder.singleValueContainer().decode(String.self)) }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rawValue)
    }
}

public struct PullRequestEvent: Codable, Sendable, Equatable {
    public var action: EventAction
    public var number: Int?
    public var pullRequest: GitHub.PullRequest
    public var repository: GitHub.Repository
    public var sender: GitHub.User
    public var installation: GitHub.Installation?
    public var label: GitHub.Label?
    public var before: String?
    public var after: String?
}

public struct IssueCommentEvent: Codable, Sendable, Equatable {
    public var action: EventAction
    public var issue: GitHub.Issue
    public var comment: GitHub.Comment
    public var repository: GitHub.Repository
    public var sender: GitHub.User
    public var installation: GitHub.Installation?
}

public struct PullRequestReviewEvent: Codable, Sendable, Equatable {
    public var action: EventAction
    public var review: GitHub.Review
    public var pullRequest: GitHub.PullRequest
    public var repository: GitHub.Repository
    public var sender: GitHub.User
    public var installation: GitHub.Installation?
}

public struct PullRequestReviewCommentEvent: Codable, Sendable, Equatable {
    public var action: EventAction
    public var comment: GitHub.Comment
    public var pullRequest: GitHub.PullRequest
    public var repository: GitHub.Repository
    public var sender: GitHub.User
    public var installation: GitHub.Installation?
}

public struct PingEvent: Codable, Sendable, Equatable {
    public var zen: String?
    public var hookId: Int?
    public var repository: GitHub.Repository?
    public var sender: GitHub.User?
}

public struct InstallationEvent: Codable, Sendable, Equatable {
    public var action: EventAction
    public var installation: GitHub.Installation
    public var sender: GitHub.User?
}

/// One decoded GitHub webhook.
public enum WebhookEvent: Sendable, Equatable {
    case pullRequest(PullRequestEvent)
    case issueComment(IssueCommentEvent)
    case pullRequestReview(PullRequestReviewEvent)
    case pullRequestReviewComment(PullRequestReviewCommentEvent)
    case ping(PingEvent)
    case installation(InstallationEvent)
    /// An event no model covers; kept as JSON so that a function can still say why it ignores it.
    case other(name: String, payload: JSON)

    /// Decodes `body` as the event `name` (the `X-GitHub-Event` header).
    /// Throws `SwitchyardError.badRequest` naming the first field that did not fit.
    public static func decode(name: String, body: some Collection<UInt8>) throws -> WebhookEvent {
        do {
            let json = try JSON.parse(body)
            switch name {
            case "pull_request": return .pullRequest(try PullRequestEvent(json: json))
            case "issue_comment": return .issueComment(try IssueCommentEvent(json: json))
            case "pull_request_review": return .pullRequestReview(try PullRequestReviewEvent(json: json))
            case "pull_request_review_comment": return .pullRequestReviewComment(try PullRequestReviewCommentEvent(json: json))
            case "ping": return .ping(try PingEvent(json: json))
            case "installation": return .installation(try InstallationEvent(json: json))
            default: return .other(name: name, payload: json)
            }
        } catch let e as SwitchyardError {
            throw e
        } catch let DecodingError.keyNotFound(key, ctx) {
            throw SwitchyardError.badRequest("the \(name) payload lacks `\(path(ctx.codingPath + [key]))`")
        } catch let DecodingError.typeMismatch(_, ctx) {
            throw SwitchyardError.badRequest("the \(name) payload has a wrong type at `\(path(ctx.codingPath))`")
        } catch let DecodingError.valueNotFound(_, ctx) {
            throw SwitchyardError.badRequest("the \(name) payload has null at `\(path(ctx.codingPath))`")
        } catch {
            throw SwitchyardError.badRequest("the body is not valid JSON")
        }
    }

    static func path(_ keys: [any CodingKey]) -> String {
        keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }

    /// Infers the event name from the payload's shape, for raw payloads piped without `--event`.
    /// Returns nil when the shape is ambiguous.
    /// The value of the payload's top-level `"action"` key, found by scanning the bytes (strings and
    /// nesting are skipped properly) without decoding. Nil when absent, not a plain string, or malformed.
    public static func topLevelAction(_ body: [UInt8]) -> String? {
        let quote = UInt8(ascii: "\""), backslash = UInt8(ascii: "\\")
        var depth = 0
        var i = 0
        var expectingKey = false
        let key = Array("action".utf8)
        func skipSpace() { while i < body.count, body[i] == 0x20 || body[i] == 0x0A || body[i] == 0x0D || body[i] == 0x09 { i += 1 } }
        /// Reads a string starting at the quote at `i`; returns its raw bytes, or nil if it has escapes or no end.
        func string() -> (bytes: ArraySlice<UInt8>, escaped: Bool)? {
            let start = i + 1
            var j = start
            var escaped = false
            while j < body.count, body[j] != quote {
                if body[j] == backslash { escaped = true; j += 1 }
                j += 1
            }
            guard j < body.count else { return nil }
            i = j + 1
            return (body[start..<j], escaped)
        }
        while i < body.count {
            let c = body[i]
            switch c {
            case UInt8(ascii: "{"): depth += 1; expectingKey = depth == 1; i += 1
            case UInt8(ascii: "["): depth += 1; expectingKey = false; i += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1; i += 1
            case UInt8(ascii: ","): expectingKey = depth == 1; i += 1
            case quote:
                guard let s = string() else { return nil }
                if depth == 1 && expectingKey {
                    expectingKey = false
                    guard !s.escaped, s.bytes.elementsEqual(key) else { continue }
                    skipSpace()
                    guard i < body.count, body[i] == UInt8(ascii: ":") else { return nil }
                    i += 1
                    skipSpace()
                    guard i < body.count, body[i] == quote, let v = string(), !v.escaped else { return nil }
                    return String(decoding: v.bytes, as: UTF8.self)
                }
            default: i += 1
            }
            if depth < 0 { return nil }
        }
        return nil
    }

    public static func inferName(from payload: JSON) -> String? {
        guard let o = payload.object else { return nil }
        let has = { (k: String) in o[k] != nil }
        if has("zen") && has("hook_id") { return "ping" }
        if has("schedule") && !has("action") { return "schedule" }
        if has("event_id") && has("new_state") && has("type") { return "provisioner" }
        if has("comment") && has("issue") { return "issue_comment" }
        if has("comment") && has("pull_request") { return "pull_request_review_comment" }
        if has("review") && has("pull_request") { return "pull_request_review" }
        if has("pull_request") && has("number") { return "pull_request" }
        if has("installation") && !has("repository") && has("action") && o["installation"]?["account"] != nil {
            return "installation"
        }
        return nil
    }

    public var name: String {
        switch self {
        case .pullRequest: "pull_request"
        case .issueComment: "issue_comment"
        case .pullRequestReview: "pull_request_review"
        case .pullRequestReviewComment: "pull_request_review_comment"
        case .ping: "ping"
        case .installation: "installation"
        case .other(let name, _): name
        }
    }

    public var action: String? {
        switch self {
        case .pullRequest(let e): e.action.rawValue
        case .issueComment(let e): e.action.rawValue
        case .pullRequestReview(let e): e.action.rawValue
        case .pullRequestReviewComment(let e): e.action.rawValue
        case .installation(let e): e.action.rawValue
        case .ping: nil
        case .other(_, let p): p["action"]?.string
        }
    }

    public var installationID: Int? {
        switch self {
        case .pullRequest(let e): e.installation?.id
        case .issueComment(let e): e.installation?.id
        case .pullRequestReview(let e): e.installation?.id
        case .pullRequestReviewComment(let e): e.installation?.id
        case .installation(let e): e.installation.id
        case .ping: nil
        case .other(_, let p): p["installation"]?["id"]?.int
        }
    }
}
