import Foundation
import SwitchyardCore
import SwitchyardRuntime
import SwitchyardTesting

/// Paths, processes and signed requests shared by the tests.
enum Support {
    /// The folder holding the built products (the test bundle's own folder).
    static let productsDirectory: String = {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var dir = (exe as NSString).deletingLastPathComponent
        if dir.hasSuffix(".xctest") || dir.contains(".xctest/") {
            while dir.contains(".xctest") { dir = (dir as NSString).deletingLastPathComponent }
        }
        return dir
    }()

    static let packageRoot: String = {
        var dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        dir.deleteLastPathComponent(); dir.deleteLastPathComponent()
        return dir.path
    }()

    static let corpus = packageRoot + "/../shared/corpus"

    static func corpusFile(_ name: String) -> [UInt8] {
        Array(FileManager.default.contents(atPath: corpus + "/" + name) ?? Data())
    }

    static func binary(_ name: String) -> String { productsDirectory + "/" + name }

    /// Writes a config file for one test and returns its path.
    static func writeConfig(_ yaml: String) throws -> String {
        let path = NSTemporaryDirectory() + "switchyard-config-\(UUID().uuidString).yaml"
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
        var json: JSON? { try? JSON.parse(Array(stdout.utf8)) }
    }

    /// Runs a built function with exactly `environment` (plus PATH), feeding `stdin`.
    /// A child that exits before reading all of its input must not kill the test process.
    static let ignoreSIGPIPE: Void = { signal(SIGPIPE, SIG_IGN); return () }()

    static func run(_ name: String, arguments: [String] = [], environment: [String: String] = [:],
                    stdin: [UInt8] = [], closeStdin: Bool = true, timeout: TimeInterval = 30) throws -> Run {
        _ = ignoreSIGPIPE
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary(name))
        p.arguments = arguments
        var env = ["PATH": "/usr/bin:/bin", "TMPDIR": NSTemporaryDirectory()]
        for (k, v) in environment { env[k] = v }
        p.environment = env
        let out = Pipe(), err = Pipe(), inp = Pipe()
        p.standardOutput = out; p.standardError = err; p.standardInput = inp
        try p.run()
        let writer = Thread {
            try? inp.fileHandleForWriting.write(contentsOf: Data(stdin))
            if closeStdin { try? inp.fileHandleForWriting.close() }
        }
        writer.start()
        let killer = DispatchWorkItem { if p.isRunning { p.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: killer)
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        killer.cancel()
        if !closeStdin { try? inp.fileHandleForWriting.close() }
        return Run(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }

    static func sign(_ body: [UInt8], secret: String) -> String {
        "sha256=" + Verification.hmacHex(secret: secret, body: body)
    }

    /// A signed GitHub delivery as an HTTP envelope (the pipe and Lambda Function URL shape).
    static func envelope(event: String, body: [UInt8], secret: String?, delivery: String = UUID().uuidString,
                         extraHeaders: [String: String] = [:], base64: Bool = false) -> [UInt8] {
        var headers: [String: JSON] = ["content-type": "application/json", "x-github-event": .string(event),
                                       "x-github-delivery": .string(delivery), "user-agent": "GitHub-Hookshot/044aadd"]
        if let secret { headers["x-hub-signature-256"] = .string(sign(body, secret: secret)) }
        for (k, v) in extraHeaders { headers[k] = .string(v) }
        let text = base64 ? Data(body).base64EncodedString() : String(decoding: body, as: UTF8.self)
        let env: JSON = ["headers": .object(headers), "body": .string(text), "isBase64Encoded": .bool(base64),
                         "requestContext": ["http": ["method": "POST", "path": "/"]]]
        return Array(env.encoded().utf8)
    }

    /// An `issue_comment.created` payload on a pull request.
    static func commentPayload(repo: String, number: Int, body: String, user: String, commentID: Int = 9001,
                               isPull: Bool = true, action: String = "created", userType: String = "User",
                               issueAuthor: String = "octo-contributor", association: String? = nil) -> [UInt8] {
        let parts = repo.split(separator: "/").map(String.init)
        var issue: [String: JSON] = ["number": .int(number), "title": "A change", "state": "open",
                                     "user": ["login": .string(issueAuthor), "id": 2001, "type": "User"], "body": "text"]
        if isPull { issue["pull_request"] = ["url": .string("https://api.github.com/repos/\(repo)/pulls/\(number)")] }
        let payload: JSON = [
            "action": .string(action),
            "issue": .object(issue),
            "comment": ["id": .int(commentID), "body": .string(body), "user": ["login": .string(user), "id": 1, "type": .string(userType)],
                        "created_at": "2026-11-20T10:00:00Z", "updated_at": "2026-11-20T10:00:00Z",
                        "author_association": .string(association ?? (user == "maint-mona" ? "MEMBER" : "NONE"))],
            "repository": ["id": 1, "name": .string(parts[1]), "full_name": .string(repo),
                           "owner": ["login": .string(parts[0]), "id": 2, "type": "Organization"], "default_branch": "main"],
            "sender": ["login": .string(user), "id": 1, "type": .string(userType)],
            "installation": ["id": 4242],
        ]
        return Array(payload.encoded().utf8)
    }

    /// The standard world: org `acme` with member `maint-mona`, outside contributor `octo-contributor`,
    /// repo `acme/widgets` with PR #1 behind `main`.
    static func world() throws -> (GitHubEmulator, String) {
        let gh = try GitHubEmulator(corpus: corpus)
        precondition(gh.checksContract, "the emulator must check the route list")
        gh.addOrg("acme", members: ["maint-mona"])
        gh.addTeam(org: "acme", slug: "reviewers", members: ["maint-mona"])
        gh.addUser("octo-contributor")
        gh.addUser("random-rita")
        gh.addUser("dependabot[bot]", type: "Bot")
        try gh.addRepo("acme/widgets", files: ["README.md": "widgets\n", "src/a.txt": "one\ntwo\nthree\n"])
        gh.addToken("test-token-\(UUID().uuidString.prefix(8))-with-any-shape", for: "switchyard[bot]")
        try gh.commit("acme/widgets", branch: "feature", files: ["src/b.txt": "new file\n"], message: "Add b")
        try gh.commit("acme/widgets", branch: "main", files: ["README.md": "widgets, updated\n"], message: "Update readme")
        try gh.openPull("acme/widgets", title: "Add b", author: "octo-contributor", head: "feature")
        let url = try gh.start()
        return (gh, url)
    }

    static func token(of gh: GitHubEmulator) -> String {
        gh.tokenFor("switchyard[bot]")!
    }
}
