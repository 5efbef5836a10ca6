import SwitchyardCore

/// Someone who contributed to a pull request and may need to have signed the agreement.
public struct Contributor: Sendable, Hashable, Comparable {
    public enum Kind: String, Sendable, Hashable, Comparable {
        case login, email, coAuthor
        public static func < (a: Kind, b: Kind) -> Bool { a.rawValue < b.rawValue }
    }
    public var kind: Kind
    /// A login, or an email address (lower-cased for matching; `display` keeps the original).
    public var key: String
    public var display: String
    public var name: String?
    public var commits: [String]

    public static func < (a: Contributor, b: Contributor) -> Bool { (a.kind, a.key) < (b.kind, b.key) }
}

/// The identity rules: who must have signed, from a PR's commits.
public enum Identities {
    /// Everyone a set of commits names: the author (login when the commit is linked to an account,
    /// else the email), the committer unless it is GitHub's web-flow, and every `Co-authored-by:`.
    public static func contributors(of commits: [GitHub.Commit]) -> [Contributor] {
        var byKey: [String: Contributor] = [:]
        func add(_ kind: Contributor.Kind, _ display: String, name: String?, sha: String) {
            let key = display.lowercased()
            let id = "\(kind == .login ? "login" : "email"):\(key)"
            if var existing = byKey[id] {
                if !existing.commits.contains(sha) { existing.commits.append(sha) }
                // A person named as author wins over the same email as co-author.
                if kind != .coAuthor && existing.kind == .coAuthor { existing.kind = kind }
                byKey[id] = existing
            } else {
                byKey[id] = Contributor(kind: kind, key: key, display: display, name: name, commits: [sha])
            }
        }
        for c in commits {
            if let login = c.author?.login { add(.login, login, name: c.commit.author?.name, sha: c.sha) }
            else if let email = c.commit.author?.email, !email.isEmpty { add(.email, email, name: c.commit.author?.name, sha: c.sha) }
            if !isWebFlow(c) {
                if let login = c.committer?.login { add(.login, login, name: c.commit.committer?.name, sha: c.sha) }
                else if let email = c.commit.committer?.email, !email.isEmpty { add(.email, email, name: c.commit.committer?.name, sha: c.sha) }
            }
            for (name, email) in coAuthors(c.commit.message) {
                if let login = noreplyLogin(email) { add(.login, login, name: name, sha: c.sha) }
                else { add(.coAuthor, email, name: name, sha: c.sha) }
            }
        }
        return byKey.values.sorted()
    }

    /// GitHub's web-flow committer (commits made in the web UI or by merges GitHub performs).
    public static func isWebFlow(_ c: GitHub.Commit) -> Bool {
        c.committer?.login == "web-flow" || c.commit.committer?.email?.lowercased() == "noreply@github.com"
    }

    /// `Co-authored-by: Name <email>` trailers, case-insensitive.
    public static func coAuthors(_ message: String) -> [(name: String, email: String)] {
        var out: [(String, String)] = []
        for line in message.split(whereSeparator: \.isNewline) {
            let t = line.drop { $0 == " " }
            guard t.lowercased().hasPrefix("co-authored-by:") else { continue }
            let value = t.dropFirst("co-authored-by:".count)
            guard let lt = value.firstIndex(of: "<"), let gt = value.lastIndex(of: ">"), lt < gt else { continue }
            let name = String(value[..<lt]).trimmingCharacters()
            let email = String(value[value.index(after: lt)..<gt]).trimmingCharacters()
            if email.contains("@") { out.append((name, email)) }
        }
        return out
    }

    /// The login in a GitHub noreply address: `123+octo@users.noreply.github.com` → `octo`.
    public static func noreplyLogin(_ email: String) -> String? {
        let e = email.lowercased()
        guard e.hasSuffix("@users.noreply.github.com") else { return nil }
        let local = e.dropLast("@users.noreply.github.com".count)
        return local.split(separator: "+").last.map(String.init)
    }

    /// Bots never sign: `[bot]` logins and bot noreply addresses.
    public static func isBot(_ c: Contributor) -> Bool {
        c.key.hasSuffix("[bot]") || c.key.contains("[bot]@") || c.key == "web-flow" || c.key == "noreply@github.com"
    }

    /// `*` wildcard match, case-insensitive.
    public static func matches(_ pattern: String, _ value: String) -> Bool {
        let p = Array(pattern.lowercased()), v = Array(value.lowercased())
        var pi = 0, vi = 0, star = -1, mark = 0
        while vi < v.count {
            if pi < p.count && (p[pi] == v[vi]) { pi += 1; vi += 1 }
            else if pi < p.count && p[pi] == "*" { star = pi; mark = vi; pi += 1 }
            else if star >= 0 { pi = star + 1; mark += 1; vi = mark }
            else { return false }
        }
        while pi < p.count && p[pi] == "*" { pi += 1 }
        return pi == p.count
    }
}

extension StringProtocol {
    func trimmingCharacters() -> String {
        var s = Substring(self).drop { $0 == " " || $0 == "\t" || $0 == "\r" }
        while let l = s.last, l == " " || l == "\t" || l == "\r" { s = s.dropLast() }
        return String(s)
    }
}
