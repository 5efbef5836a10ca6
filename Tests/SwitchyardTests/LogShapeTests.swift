import Foundation
import Testing
import SwitchyardCore
import SwitchyardTesting

/// Log lines as platforms read them without a parse step: every stderr line of a built function is
/// one JSON object with `timestamp` (RFC 3339, milliseconds, UTC), `level` (`DEBUG`, `INFO`, `WARN`,
/// `ERROR`), `message` and `function`; each invocation ends in one `handled` line with its outcome.
@Suite("log shape")
struct LogShapeTests {
    let secret = "whsec-log-\(UUID().uuidString.prefix(6))"

    static var timestamp: Regex<Substring> { #/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/# }

    func lines(_ stderr: String) throws -> [JSON] {
        try stderr.split(separator: "\n").map { line in
            let j = try JSON.parse(Array(line.utf8))
            let ts = try #require(j["timestamp"]?.string, "no timestamp: \(line)")
            #expect(ts.wholeMatch(of: Self.timestamp) != nil, "\(ts)")
            #expect(["DEBUG", "INFO", "WARN", "ERROR"].contains(j["level"]?.string ?? ""), "\(line)")
            #expect(j["message"]?.string?.isEmpty == false, "\(line)")
            for old in ["ts", "msg", "fn"] { #expect(j[old] == nil, "old field \(old): \(line)") }
            return j
        }
    }

    @Test func aHandledEventLogsEveryLineInTheSameShape() throws {
        let (gh, url) = try Support.world()
        let request = Support.envelope(event: "issue_comment",
                                       body: Support.commentPayload(repo: "acme/widgets", number: 1, body: "/update-branch", user: "maint-mona"),
                                       secret: secret)
        let r = try Support.run("update-branch", environment: ["GITHUB_API_URL": url, "GITHUB_TOKEN": Support.token(of: gh),
                                                                "GITHUB_WEBHOOK_SECRET": secret, "SWITCHYARD_LOG_LEVEL": "debug"],
                                stdin: request)
        #expect(r.status == 0, "\(r.stdout) \(r.stderr)")
        let logged = try lines(r.stderr)
        #expect(logged.contains { $0["level"]?.string == "DEBUG" })
        let handled = logged.filter { $0["message"]?.string == "handled" }
        #expect(handled.count == 1)
        #expect(handled.first?["level"]?.string == "INFO")
        #expect(handled.first?["function"]?.string == "update-branch")
        #expect(handled.first?["outcome"]?.string == "done")
        #expect(handled.first?["event"]?.string == "issue_comment")
        #expect(handled.first?["duration_ms"]?.int != nil)
        #expect(!r.stderr.contains(secret) && !r.stderr.contains(Support.token(of: gh)))
    }

    @Test func failuresAreErrorsAndTheLevelFollowsLambdasSetting() throws {
        // GitHub unreachable: the invocation fails, and says so at ERROR.
        let request = Support.envelope(event: "issue_comment",
                                       body: Support.commentPayload(repo: "acme/widgets", number: 1, body: "/update-branch", user: "maint-mona"),
                                       secret: secret)
        let env = ["GITHUB_API_URL": "http://127.0.0.1:9", "GITHUB_TOKEN": "t-\(UUID().uuidString)",
                   "GITHUB_WEBHOOK_SECRET": secret, "SWITCHYARD_DEADLINE_MS": "3000"]
        let failed = try Support.run("update-branch", environment: env, stdin: request)
        #expect(failed.status == 1, "\(failed.stdout) \(failed.stderr)")
        let logged = try lines(failed.stderr)
        #expect(logged.contains { $0["level"]?.string == "ERROR" }, "\(failed.stderr)")
        #expect(!logged.contains { $0["level"]?.string == "DEBUG" })

        // Lambda's ApplicationLogLevel arrives as AWS_LAMBDA_LOG_LEVEL; SWITCHYARD_LOG_LEVEL wins over it.
        var lambdaLevel = env
        lambdaLevel["AWS_LAMBDA_LOG_LEVEL"] = "ERROR"
        let quiet = try lines(try Support.run("update-branch", environment: lambdaLevel, stdin: request).stderr)
        #expect(!quiet.isEmpty && quiet.allSatisfy { $0["level"]?.string == "ERROR" }, "\(quiet)")
        lambdaLevel["AWS_LAMBDA_LOG_LEVEL"] = "DEBUG"
        #expect(try lines(try Support.run("update-branch", environment: lambdaLevel, stdin: request).stderr)
            .contains { $0["level"]?.string == "DEBUG" })
        lambdaLevel["SWITCHYARD_LOG_LEVEL"] = "warn"
        #expect(try lines(try Support.run("update-branch", environment: lambdaLevel, stdin: request).stderr)
            .allSatisfy { ["WARN", "ERROR"].contains($0["level"]?.string ?? "") })
    }
}
