/// One effect a capability asks for. Plans are lists of these, so they compare as data in tests
/// and print as data in dry-run.
public enum Action: Sendable, Equatable {
    /// Posts a comment once: skipped when a comment carrying `marker` already exists.
    case comment(issue: IssueRef, body: String, marker: Marker)
    /// Edits the sticky comment carrying `marker`, or creates it.
    case upsertComment(issue: IssueRef, body: String, marker: Marker)
    /// Deletes the comment carrying `marker`, if there is one.
    case deleteComment(issue: IssueRef, marker: Marker)
    /// Adds a reaction (`eyes`, `+1`, …) to an issue comment.
    case addReaction(repo: RepoRef, commentID: Int, content: String)
    case addLabels(issue: IssueRef, labels: [String])
    case removeLabel(issue: IssueRef, label: String)
    /// Sets a commit status; `description` is cut to GitHub's 140 characters.
    case setStatus(repo: RepoRef, sha: String, state: String, context: String, description: String, targetURL: String?)
    /// `PUT /repos/{o}/{r}/pulls/{n}/update-branch` pinned to the head we saw.
    case updateBranch(pull: IssueRef, expectedHeadSHA: String)
    /// `PUT /repos/{o}/{r}/pulls/{n}/merge` pinned to the head we saw.
    case merge(pull: IssueRef, sha: String, method: String)
    /// Requests reviews from people and teams (asking again is harmless).
    case requestReviews(pull: IssueRef, users: [String], teams: [String])

    /// A one-line record in the style of a recording fake: `acme/api#42 +label deploy`.
    public var summary: String {
        switch self {
        case .comment(let i, _, let m): "\(i) comment \(m.key)"
        case .upsertComment(let i, _, let m): "\(i) sticky comment \(m.key)"
        case .deleteComment(let i, let m): "\(i) delete comment \(m.key)"
        case .addReaction(let r, let id, let c): "\(r) comment \(id) +reaction \(c)"
        case .addLabels(let i, let ls): "\(i) +label \(ls.joined(separator: ", "))"
        case .removeLabel(let i, let l): "\(i) -label \(l)"
        case .setStatus(let r, let sha, let state, let ctx, _, _): "\(r)@\(sha.prefix(7)) status \(ctx)=\(state)"
        case .updateBranch(let p, let sha): "\(p) update-branch from \(sha.prefix(7))"
        case .merge(let p, let sha, let m): "\(p) merge \(sha.prefix(7)) by \(m)"
        case .requestReviews(let p, let u, let t): "\(p) review from \((u.map { "@" + $0 } + t).joined(separator: ", "))"
        }
    }

    /// The action as JSON for responses and dry-run output.
    public var json: JSON {
        switch self {
        case .comment(let i, let body, let m):
            ["type": "comment", "issue": .string(i.description), "body": .string(body), "marker": .string(m.key)]
        case .upsertComment(let i, let body, let m):
            ["type": "upsert-comment", "issue": .string(i.description), "body": .string(body), "marker": .string(m.key)]
        case .deleteComment(let i, let m):
            ["type": "delete-comment", "issue": .string(i.description), "marker": .string(m.key)]
        case .addReaction(let r, let id, let c):
            ["type": "add-reaction", "repository": .string(r.fullName), "comment_id": .int(id), "content": .string(c)]
        case .addLabels(let i, let ls):
            ["type": "add-labels", "issue": .string(i.description), "labels": .array(ls.map(JSON.string))]
        case .removeLabel(let i, let l):
            ["type": "remove-label", "issue": .string(i.description), "label": .string(l)]
        case .setStatus(let r, let sha, let state, let ctx, let desc, let url):
            ["type": "set-status", "repository": .string(r.fullName), "sha": .string(sha), "state": .string(state),
             "context": .string(ctx), "description": .string(desc), "target_url": url.map(JSON.string) ?? .null]
        case .updateBranch(let p, let sha):
            ["type": "update-branch", "pull": .string(p.description), "expected_head_sha": .string(sha)]
        case .merge(let p, let sha, let m):
            ["type": "merge", "pull": .string(p.description), "sha": .string(sha), "method": .string(m)]
        case .requestReviews(let p, let u, let t):
            ["type": "request-reviews", "pull": .string(p.description), "users": .array(u.map(JSON.string)), "teams": .array(t.map(JSON.string))]
        }
    }
}

/// A hidden marker in a bot comment: `<!-- switchyard:update-branch:reply:123 -->`, optionally with a
/// state block (`<!-- switchyard:e2e-trigger:status state=eyJ… -->`, base64url JSON).
///
/// It is how Switchyard finds its own comments again, with GitHub as the only state. A marker counts
/// only in a comment written by Switchyard's own identity (see `CommentReading.comment(on:marked:)`);
/// in anyone else's comment it is ordinary text.
public struct Marker: Sendable, Hashable, Codable {
    /// `function:part:part`, each part percent-encoded so that no text can end the HTML comment.
    public var key: String
    /// Hidden state carried with the marker (for example the runs e2e-trigger started).
    public var state: JSON?

    public init(function: String, _ parts: String...) {
        key = ([function] + parts).map(Self.encodePart).joined(separator: ":")
    }
    public init(key: String, state: JSON? = nil) { self.key = key; self.state = state }

    /// The same marker carrying `state`.
    public func with(state: JSON?) -> Marker { Marker(key: key, state: state) }

    /// The HTML comment written into the body.
    public var html: String {
        guard let state else { return "<!-- switchyard:\(key) -->" }
        return "<!-- switchyard:\(key) state=\(Self.base64url(Array(state.encoded().utf8))) -->"
    }
    /// Every marker starts with this.
    public static let prefix = "<!-- switchyard:"

    /// Every marker in a body, in order. Malformed ones are skipped.
    public static func all(in body: String) -> [Marker] {
        var out: [Marker] = []
        var rest = Substring(body)
        while let open = rest.firstRange(of: prefix) {
            let after = rest[open.upperBound...]
            guard let close = after.firstRange(of: " -->") else { break }
            let inner = after[..<close.lowerBound]
            rest = after[close.upperBound...]
            let parts = inner.split(separator: " ", maxSplits: 1)
            guard let key = parts.first, !key.isEmpty, key.utf8.allSatisfy(Self.isKeyByte) else { continue }
            var state: JSON? = nil
            if parts.count == 2 {
                guard parts[1].hasPrefix("state="), let bytes = Self.unbase64url(parts[1].dropFirst(6)),
                      let json = try? JSON.parse(bytes) else { continue }
                state = json
            }
            out.append(Marker(key: String(key), state: state))
        }
        return out
    }

    /// The marker with this key in `body`, if any.
    public func found(in body: String?) -> Marker? {
        guard let body, body.contains(Self.prefix + key) else { return nil }
        return Self.all(in: body).last { $0.key == key }
    }

    static func isKeyByte(_ b: UInt8) -> Bool {
        (b >= 48 && b <= 58) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || b == UInt8(ascii: "-") || b == UInt8(ascii: "_")
            || b == UInt8(ascii: ".") || b == UInt8(ascii: "~") || b == UInt8(ascii: "%")
    }

    static func encodePart(_ s: String) -> String {
        var out = ""
        let hex = Array("0123456789ABCDEF")
        for b in s.utf8 {
            if (b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || b == UInt8(ascii: "-") || b == UInt8(ascii: "_")
                || b == UInt8(ascii: ".") || b == UInt8(ascii: "~") {
                out.unicodeScalars.append(UnicodeScalar(b))
            } else {
                out.append("%"); out.append(hex[Int(b >> 4)]); out.append(hex[Int(b & 15)])
            }
        }
        return out
    }

    static func base64url(_ bytes: [UInt8]) -> String {
        String(Data(bytes).base64EncodedString().compactMap { c -> Character? in
            switch c { case "+": "-"; case "/": "_"; case "=": nil; default: c }
        })
    }

    static func unbase64url(_ text: Substring) -> [UInt8]? {
        var s = String(text.map { c -> Character in
            switch c { case "-": "+"; case "_": "/"; default: c }
        })
        while s.utf8.count % 4 != 0 { s += "=" }
        return Data(base64Encoded: s).map(Array.init)
    }
}
