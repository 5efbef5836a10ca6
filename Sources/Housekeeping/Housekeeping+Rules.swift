import SwitchyardCore
import SwitchyardGitHub

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension Housekeeping {
    /// One entry of `housekeeping.rules`: when a pull request matches every condition under `when`,
    /// the effects under `then` are applied once. Mattermod's translation notice, logging review and
    /// Hacktoberfest label are three such rules (see the sample config).
    public struct Rule: Sendable, Equatable {
        public var name: String
        // when
        /// CODEOWNERS-style patterns; some changed file matches one (and no `exclude-paths` pattern).
        public var paths: [String] = []
        public var excludePaths: [String] = []
        /// Text an added line of the diff contains (for example `mlog.Error(`).
        public var addedLines: [String] = []
        /// `member` or `non-member` of the repository's organization.
        public var author: String? = nil
        /// GitHub's `author_association` values (`FIRST_TIME_CONTRIBUTOR`, `CONTRIBUTOR`, `NONE`, …).
        public var associations: [String] = []
        /// `MM-DD` bounds, inclusive, on the day the pull request was opened (UTC); `from` after `to` wraps the year.
        public var from: String? = nil
        public var to: String? = nil
        /// Labels the pull request must carry, all of them.
        public var labels: [String] = []
        /// `pull_request` actions the rule is looked at on.
        public var events: [String] = ["opened", "reopened", "synchronize", "ready_for_review", "labeled"]
        // then
        public var addLabels: [String] = []
        public var notice: String? = nil
        public var reviewers: [String] = []
        public var teamReviewers: [String] = []

        public init(name: String) { self.name = name }

        /// What is wrong with a rule, said in the words of the config.
        public struct Problem: Error, ExpressibleByStringInterpolation {
            public var text: String
            public init(stringLiteral value: String) { text = value }
        }

        static let whenKeys: Set<String> = ["paths", "exclude-paths", "added-lines", "author", "author-association", "from", "to", "labels", "events"]
        static let thenKeys: Set<String> = ["labels", "notice", "reviewers", "team-reviewers"]

        /// A rule from the config, or what is wrong with it: a typo must not widen a rule to every PR.
        static func parse(_ y: YAML, index: Int) -> Result<Rule, Problem> {
            let at = "rules[\(index)]"
            guard let name = y["name"]?.string, !name.isEmpty else {
                return .failure("\(at): every rule needs a `name` (its notice is found again by it)")
            }
            for (k, _) in y.entries ?? [] where !["name", "when", "then"].contains(k) { return .failure("\(at) (\(name)): unknown key `\(k)`") }
            let when = y["when"], then = y["then"]
            for (k, _) in when?.entries ?? [] where !whenKeys.contains(k) { return .failure("\(at) (\(name)): unknown condition `when.\(k)`") }
            for (k, _) in then?.entries ?? [] where !thenKeys.contains(k) { return .failure("\(at) (\(name)): unknown effect `then.\(k)`") }
            var r = Rule(name: name)
            r.paths = when?["paths"]?.strings ?? []
            r.excludePaths = when?["exclude-paths"]?.strings ?? []
            r.addedLines = when?["added-lines"]?.strings ?? []
            r.author = when?["author"]?.string
            if let a = r.author, a != "member", a != "non-member" { return .failure("\(at) (\(name)): `when.author` is member or non-member, not `\(a)`") }
            r.associations = (when?["author-association"]?.strings ?? []).map { $0.uppercased() }
            for (key, value) in [("from", when?["from"]?.string), ("to", when?["to"]?.string)] {
                guard let value else { continue }
                guard Self.isMonthDay(value) else { return .failure("\(at) (\(name)): `when.\(key)` is MM-DD (for example 10-01), not `\(value)`") }
            }
            r.from = when?["from"]?.string
            r.to = when?["to"]?.string
            r.labels = when?["labels"]?.strings ?? []
            if let e = when?["events"]?.strings {
                // Edits are not among them: routing every title or body edit to housekeeping would cost
                // every repository an invocation per edit for a rule few would write.
                let known: Set<String> = ["opened", "reopened", "synchronize", "ready_for_review", "labeled", "unlabeled"]
                if let bad = e.first(where: { !known.contains($0) }) { return .failure("\(at) (\(name)): `\(bad)` is not a pull_request action rules are looked at on") }
                r.events = e
            }
            r.addLabels = then?["labels"]?.strings ?? []
            r.notice = then?["notice"]?.string
            r.reviewers = then?["reviewers"]?.strings ?? []
            r.teamReviewers = then?["team-reviewers"]?.strings ?? []
            guard !(r.addLabels.isEmpty && r.notice == nil && r.reviewers.isEmpty && r.teamReviewers.isEmpty) else {
                return .failure("\(at) (\(name)): `then` does nothing")
            }
            return .success(r)
        }

        static func isMonthDay(_ s: String) -> Bool {
            let u = Array(s.utf8)
            guard u.count == 5, u[2] == UInt8(ascii: "-"), let m = Int(s.prefix(2)), let d = Int(s.suffix(2)) else { return false }
            return (1...12).contains(m) && (1...31).contains(d)
        }

        var needsFiles: Bool { !paths.isEmpty || !addedLines.isEmpty }

        /// Whether `monthDay` (`MM-DD`) lies in the rule's date range.
        func inRange(_ monthDay: String) -> Bool {
            switch (from, to) {
            case (nil, nil): true
            case (let f?, nil): monthDay >= f
            case (nil, let t?): monthDay <= t
            case (let f?, let t?): f <= t ? (monthDay >= f && monthDay <= t) : (monthDay >= f || monthDay <= t)
            }
        }
    }

    /// The parts of a pull request the rules look at, read once.
    struct RuleFacts {
        var labels: [String]
        var association: String
        var isMember: () throws -> Bool
        var files: () throws -> [GitHub.PullFile]
        var openedOn: String
    }

    /// Whether `rule` holds for a pull request.
    static func matches(_ rule: Rule, action: String, facts: RuleFacts) throws -> Bool {
        guard rule.events.contains(action), rule.inRange(facts.openedOn) else { return false }
        guard rule.labels.allSatisfy(facts.labels.contains) else { return false }
        if !rule.associations.isEmpty, !rule.associations.contains(facts.association) { return false }
        switch rule.author {
        case "member": if try !facts.isMember() { return false }
        case "non-member": if try facts.isMember() { return false }
        default: break
        }
        if rule.needsFiles {
            let files = try facts.files().filter { f in !rule.excludePaths.contains { Glob.matches($0, f.filename) } }
            let touched = rule.paths.isEmpty ? files : files.filter { f in rule.paths.contains { Glob.matches($0, f.filename) } }
            guard !touched.isEmpty else { return false }
            if !rule.addedLines.isEmpty {
                // GitHub leaves `patch` out of very large diffs: such a file may hold the text, so it counts.
                let added = touched.contains { f in
                    guard let patch = f.patch else { return true }
                    return patch.split(separator: "\n").contains { line in
                        line.hasPrefix("+") && rule.addedLines.contains { line.dropFirst().contains($0) }
                    }
                }
                guard added else { return false }
            }
        }
        return true
    }
}

/// CODEOWNERS (gitignore-style) patterns: `*` and `?` within one path segment, `**` across segments,
/// a leading `/` anchors to the root, a pattern with no inner `/` matches at any depth, and a pattern
/// naming a directory covers everything under it.
public enum Glob {
    public static func matches(_ pattern: String, _ path: String) -> Bool {
        var p = pattern
        guard !p.isEmpty else { return false }
        let anchored = p.hasPrefix("/") || p.dropLast().contains("/")
        if p.hasPrefix("/") { p.removeFirst() }
        if p.hasSuffix("/") { p += "**" }
        var segments = p.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        if !anchored { segments.insert("**", at: 0) }
        let parts = path.split(separator: "/").map(String.init)
        // A pattern that names a file or a directory: the directory's contents match too.
        // A pattern whose last segment is a plain name may name a directory: its contents match too
        // (`docs/*` covers only the files directly in docs/, as GitHub documents).
        let plain = segments.last.map { !$0.contains(where: { "*?[".contains($0) }) } ?? false
        return match(segments[...], parts[...]) || (plain && match((segments + ["**"])[...], parts[...]))
    }

    static func match(_ pattern: ArraySlice<String>, _ path: ArraySlice<String>) -> Bool {
        guard let first = pattern.first else { return path.isEmpty }
        if first == "**" {
            let rest = pattern.dropFirst()
            if rest.isEmpty { return !path.isEmpty }
            var p = path
            while true {
                if match(rest, p) { return true }
                guard !p.isEmpty else { return false }
                p = p.dropFirst()
            }
        }
        guard let segment = path.first, fnmatch(first, segment, 0) == 0 else { return false }
        return match(pattern.dropFirst(), path.dropFirst())
    }
}

/// A CODEOWNERS file: the last matching line names a path's owners.
public struct OwnersFile: Sendable {
    public struct Entry: Sendable { public var pattern: String; public var users: [String]; public var teams: [String] }
    public var entries: [Entry] = []

    /// Parses the file; `org` is the repository's owner (teams of other organizations are ignored).
    public init(text: String, org: String) {
        for raw in text.split(whereSeparator: \.isNewline) {
            var line = Substring(raw)
            if let hash = line.firstIndex(of: "#"), hash == line.startIndex || line[line.index(before: hash)] == " " { line = line[..<hash] }
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard let pattern = fields.first else { continue }
            var users: [String] = [], teams: [String] = []
            for owner in fields.dropFirst() where owner.hasPrefix("@") {
                let name = owner.dropFirst()
                if let slash = name.firstIndex(of: "/") {
                    if name[..<slash].lowercased() == org.lowercased() { teams.append(String(name[name.index(after: slash)...])) }
                } else if !name.isEmpty {
                    users.append(String(name))
                }
            }
            entries.append(Entry(pattern: pattern, users: users, teams: teams))
        }
    }

    /// The owners of `path`: the last entry that matches it (an entry with no owners unowns it).
    public func owners(of path: String) -> (users: [String], teams: [String]) {
        guard let e = entries.last(where: { Glob.matches($0.pattern, path) }) else { return ([], []) }
        return (e.users, e.teams)
    }
}

extension Housekeeping {
    /// Reviewer weights for a pull request's files, as Prow's blunderbuss weighs them: each file counts
    /// `⌊log10(changes)⌋ + 1` for every owner, so one large file does not outweigh many small ones.
    public static func ownerWeights(files: [GitHub.PullFile], owners: OwnersFile) -> [String: Int] {
        var weights: [String: Int] = [:]
        for f in files {
            let changes = max(1, f.changes ?? 1)
            var w = 1, n = changes
            while n >= 10 { n /= 10; w += 1 }
            for u in owners.owners(of: f.filename).users { weights[u, default: 0] += w }
        }
        return weights
    }

    /// Picks `count` reviewers from weighted candidates without replacement, at random but the same
    /// for the same `seed`: a redelivery asks the same people.
    public static func pick(_ count: Int, from weights: [String: Int], seed: String) -> [String] {
        var remaining = weights.filter { $0.value > 0 }.sorted { $0.key.lowercased() < $1.key.lowercased() }
        var state: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in seed.utf8 { state = (state ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        func next() -> UInt64 {
            // SplitMix64.
            state &+= 0x9e37_79b9_7f4a_7c15
            var z = state
            z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
            z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
            return z ^ (z >> 31)
        }
        var out: [String] = []
        while out.count < count, !remaining.isEmpty {
            let total = remaining.reduce(0) { $0 + UInt64($1.value) }
            var r = next() % total
            let i = remaining.firstIndex { e in
                if r < UInt64(e.value) { return true }
                r -= UInt64(e.value)
                return false
            } ?? 0
            out.append(remaining.remove(at: i).key)
        }
        return out
    }
}
