import Foundation

/// A bare git repository on disk, driven with the git CLI. The emulator's git data is real git.
public final class GitRepository: @unchecked Sendable {
    public let path: String

    public struct Failure: Error, CustomStringConvertible {
        public var arguments: [String]
        public var status: Int32
        public var output: String
        public var description: String { "git \(arguments.joined(separator: " ")) exited \(status): \(output)" }
    }

    /// Creates an empty bare repository at `path`.
    public init(creatingAt path: String, defaultBranch: String = "main") throws {
        self.path = path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        _ = try run(["init", "--bare", "--quiet", "--initial-branch=\(defaultBranch)", path], inRepo: false)
    }

    /// Runs git; returns stdout (trailing newline removed). Throws `Failure` on a non-zero exit
    /// unless `allowFailure`, in which case the status is returned through `status`.
    @discardableResult
    public func run(_ args: [String], input: [UInt8]? = nil, environment: [String: String] = [:],
                    inRepo: Bool = true, allowedStatuses: Set<Int32> = [0]) throws -> (out: String, status: Int32) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/git")
        p.arguments = (inRepo ? ["--git-dir", path] : []) + args
        var env = ProcessInfo.processInfo.environment
        env["GIT_CONFIG_NOSYSTEM"] = "1"
        env["GIT_CONFIG_GLOBAL"] = "/dev/null"
        env["GIT_AUTHOR_NAME"] = env["GIT_AUTHOR_NAME"] ?? "Emulator"
        env["GIT_AUTHOR_EMAIL"] = env["GIT_AUTHOR_EMAIL"] ?? "emulator@example.invalid"
        env["GIT_COMMITTER_NAME"] = "GitHub"
        env["GIT_COMMITTER_EMAIL"] = "noreply@github.com"
        for (k, v) in environment { env[k] = v }
        p.environment = env
        let out = Pipe(), err = Pipe(), inp = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = inp
        try p.run()
        if let input { inp.fileHandleForWriting.write(Data(input)) }
        try? inp.fileHandleForWriting.close()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        var text = String(decoding: data, as: UTF8.self)
        if text.hasSuffix("\n") { text.removeLast() }
        guard allowedStatuses.contains(p.terminationStatus) else {
            throw Failure(arguments: args, status: p.terminationStatus, output: text + String(decoding: errData, as: UTF8.self))
        }
        return (text, p.terminationStatus)
    }

    public func git(_ args: String...) throws -> String { try run(args).out }

    /// The commit a ref points at, or nil.
    public func resolve(_ ref: String) -> String? {
        guard let r = try? run(["rev-parse", "--verify", "--quiet", ref + "^{commit}"], allowedStatuses: [0, 1]), r.status == 0 else { return nil }
        return r.out
    }

    /// Writes a commit whose tree is `parent`'s tree with `files` changed (nil content deletes a file).
    public func commit(files: [String: String?], message: String, parents: [String],
                       author: (name: String, email: String, date: String?) = ("Emulator", "emulator@example.invalid", nil)) throws -> String {
        let index = NSTemporaryDirectory() + "idx-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: index) }
        let env = ["GIT_INDEX_FILE": index]
        if let first = parents.first { try run(["read-tree", first], environment: env) }
        else { try run(["read-tree", "--empty"], environment: env) }
        for (file, content) in files.sorted(by: { $0.key < $1.key }) {
            if let content {
                let blob = try run(["hash-object", "-w", "--stdin"], input: Array(content.utf8)).out
                try run(["update-index", "--add", "--cacheinfo", "100644,\(blob),\(file)"], environment: env)
            } else {
                try run(["update-index", "--force-remove", file], environment: env)
            }
        }
        let tree = try run(["write-tree"], environment: env).out
        // Committed locally: the committer is the author, as with `git commit`.
        return try commitTree(tree, parents: parents, message: message, author: author, committer: (author.name, author.email, author.date))
    }

    public func commitTree(_ tree: String, parents: [String], message: String,
                           author: (name: String, email: String, date: String?),
                           committer: (name: String, email: String, date: String?)? = nil) throws -> String {
        var env = ["GIT_AUTHOR_NAME": author.name, "GIT_AUTHOR_EMAIL": author.email]
        if let d = author.date { env["GIT_AUTHOR_DATE"] = d }
        if let c = committer {
            env["GIT_COMMITTER_NAME"] = c.name; env["GIT_COMMITTER_EMAIL"] = c.email
            if let d = c.date { env["GIT_COMMITTER_DATE"] = d }
        }
        return try run(["commit-tree", tree] + parents.flatMap { ["-p", $0] } + ["-m", message], environment: env).out
    }

    /// The tree that applying `commit`'s own change (against its first parent) to `onto` gives, or nil on
    /// conflict. Like `git cherry-pick`, by merging `commit` into a sibling of its parent that has `onto`'s tree.
    public func cherryPickTree(_ commit: String, onto: String) throws -> String? {
        let parent = try run(["rev-parse", commit + "^"]).out
        let tree = try run(["rev-parse", onto + "^{tree}"]).out
        let sibling = try commitTree(tree, parents: [parent], message: "sibling", author: ("Emulator", "emulator@example.invalid", nil))
        return try mergeTree(sibling, commit).tree
    }

    public func setRef(_ ref: String, to sha: String) throws { try run(["update-ref", ref, sha]) }

    /// File contents at a commit, or nil when absent.
    public func file(_ path: String, at rev: String) -> String? {
        guard let r = try? run(["show", "\(rev):\(path)"], allowedStatuses: [0, 128]), r.status == 0 else { return nil }
        return r.out
    }

    public func isAncestor(_ a: String, of b: String) -> Bool {
        (try? run(["merge-base", "--is-ancestor", a, b], allowedStatuses: [0, 1]).status) == 0
    }

    /// `git merge-tree --write-tree`: the merged tree, or nil on conflict (with the conflicted files).
    public func mergeTree(_ ours: String, _ theirs: String) throws -> (tree: String?, conflicts: [String]) {
        let args = ["merge-tree", "--write-tree", "--name-only", "--no-messages"]
        let r = try run(args + [ours, theirs], allowedStatuses: [0, 1])
        let lines = r.out.split(separator: "\n").map(String.init)
        if r.status == 0 { return (lines.first, []) }
        return (nil, Array(lines.dropFirst()))
    }
}
