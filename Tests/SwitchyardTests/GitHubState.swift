import Foundation
import SwitchyardCore
import SwitchyardTesting

/// What a person sees on GitHub, as text two runs can be compared by: Switchyard's comments (their
/// hidden state decoded), labels, pull requests with assignees and milestones, the latest status of
/// each context on each head, reactions, every branch with its tree, workflow runs and deployments.
/// Commit ids and numeric ids depend on how many objects a run made, not on what a person sees, so
/// they are folded; trees are content and are kept.
enum GitHubState {
    static func snapshot(_ gh: GitHubEmulator, repo full: String = "acme/widgets", issues: ClosedRange<Int> = 1...6) throws -> String {
        gh.settle()
        guard let repo = gh.repo(full) else { return "" }
        var lines: [String] = []
        for n in issues {
            let comments = gh.comments(full, issue: n)
            for c in comments where c.user == "switchyard[bot]" { lines.append("comment #\(n) \(readable(c.body))") }
            for c in comments {
                for r in gh.reactions(commentID: c.id) where r.user == "switchyard[bot]" { lines.append("reaction #\(n) \(r.content) on \(c.user)'s") }
            }
            let labels = gh.labels(full, issue: n)
            if !labels.isEmpty { lines.append("labels #\(n) \(labels.sorted())") }
            if let p = gh.pull(full, n) {
                lines.append("pull #\(n) \(p.title) \(p.headRef)->\(p.baseRef) \(p.state) merged=\(p.merged) \(p.assignees.sorted()) \(p.milestone ?? "-")")
                if let head = gh.headSHA(full, n) {
                    var latest: [String: String] = [:]
                    for s in gh.statuses(full, sha: head) { latest[s.context] = "\(s.state) \(s.description ?? "")" }
                    if !latest.isEmpty { lines.append("statuses #\(n) \(latest.sorted { $0.key < $1.key })") }
                }
            }
        }
        lines.append("runs \(gh.workflowRuns(full).map { "\($0.workflow):\($0.status):\($0.conclusion ?? "-")" })")
        lines += gh.deployments(full).map { "deployment \($0.environment) \($0.statuses.map(\.state))" }
        let text = lines.joined(separator: "\n")
            .replacing(/[0-9a-f]{40}/, with: "SHA").replacing(/\b[0-9a-f]{7}\b/, with: "SHA").replacing(/[0-9]{4,}/, with: "N")
        // Branches by their trees: what a branch holds, whatever commits got it there.
        let refs = try repo.git.git("for-each-ref", "--format=%(refname) %(objectname)^{tree}", "refs/heads")
            .split(separator: "\n").map { line -> String in
                let parts = line.split(separator: " ")
                let tree = (try? repo.git.git("rev-parse", String(parts[1]))) ?? "?"
                return "ref \(parts[0]) tree \(tree)"
            }
        return ([text] + refs).joined(separator: "\n")
    }

    /// A body with each marker's state decoded, so that the ids in it are folded like the rest.
    static func readable(_ body: String) -> String {
        var text = body
        for m in Marker.all(in: body) { text += "\nstate \(m.key) \(m.state.map(normalized)?.encoded() ?? "-")" }
        return text.replacing(/\ state=[A-Za-z0-9_-]+\ -->/, with: " -->")
    }

    /// Times recorded in state (when a run was asked for) differ between runs: they are folded too.
    static func normalized(_ j: JSON) -> JSON {
        switch j {
        case .object(let o):
            var r: [String: JSON] = [:]
            for (k, v) in o { r[k] = k == "requested_at" ? "T" : normalized(v) }
            return .object(r)
        case .array(let a): return .array(a.map(normalized))
        default: return j
        }
    }

    /// The first line that differs, for a readable failure.
    static func firstDifference(_ a: String, _ b: String) -> String {
        let x = a.split(separator: "\n"), y = b.split(separator: "\n")
        for (l, r) in zip(x, y) where l != r { return "expected «\(l.prefix(200))», got «\(r.prefix(200))»" }
        return "\(x.count) vs \(y.count) lines: \(x.count > y.count ? "missing «\(x[y.count].prefix(200))»" : "extra «\(y[x.count].prefix(200))»")"
    }
}
