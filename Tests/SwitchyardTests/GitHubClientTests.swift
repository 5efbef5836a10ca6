import Foundation
import Testing
import Crypto
import _CryptoExtras
import SwitchyardCore
import SwitchyardGitHub
import SwitchyardTesting

/// The GitHub client over real HTTP on loopback, against the emulator with injected faults.
@Suite("GitHub client", .serialized)
struct GitHubClientTests {
    final class Lines: @unchecked Sendable {
        let lock = NSLock()
        var all: [String] = []
        func add(_ l: String) { lock.lock(); all.append(l); lock.unlock() }
        var json: [JSON] { lock.lock(); defer { lock.unlock() }; return all.compactMap { try? JSON.parse(Array($0.utf8)) } }
    }

    func client(_ gh: GitHubEmulator, _ url: String, deadlineMs: Int = 8_000, lines: Lines = Lines()) -> GitHubClient {
        let logger = Logger(function: "test", minimum: .debug, sink: { lines.add($0) })
        return GitHubClient(baseURL: url, credentials: TokenCredentials(token: Support.token(of: gh)),
                            deadline: Deadline(millisecondsFromNow: deadlineMs), logger: logger)
    }

    let issue = IssueRef(repo: RepoRef(owner: "acme", name: "widgets"), number: 1)

    @Test func linkPaginationCollectsEverything() throws {
        let (gh, url) = try Support.world()
        for i in 0..<250 { gh.addComment("acme/widgets", issue: 1, user: "maint-mona", body: "comment \(i)") }
        let c = client(gh, url)
        let all = try c.paginateRaw(GitHub.Comment.self, "/repos/acme/widgets/issues/1/comments")
        #expect(all.items.count == 250)
        #expect(all.complete)
        #expect(all.items.last?.body == "comment 249")
        #expect(gh.requests.count == 3)
        #expect(gh.requests.map(\.query).contains { $0.contains("page=3") })
        let bounded = try c.paginateRaw(GitHub.Comment.self, "/repos/acme/widgets/issues/1/comments", maxPages: 2)
        #expect(bounded.items.count == 200)
        #expect(bounded.complete == false)
    }

    @Test func nextLinkParsing() {
        let h = #"<https://api.github.com/x?page=2>; rel="next", <https://api.github.com/x?page=5>; rel="last""#
        #expect(GitHubClient.nextLink(h) == "https://api.github.com/x?page=2")
        #expect(GitHubClient.nextLink(#"<https://api.github.com/x?page=1>; rel="prev""#) == nil)
    }

    @Test func serverErrorsAreRetriedAndLogged() throws {
        let (gh, url) = try Support.world()
        gh.inject(.init(method: "GET", pathContains: "/pulls/1", times: 2, kind: .status(502, "Server Error")))
        let lines = Lines()
        let pull = try client(gh, url, lines: lines).pullRequest(issue)
        #expect(pull.number == 1)
        let requests = lines.json.filter { $0["message"]?.string == "github request" }
        #expect(requests.compactMap { $0["attempt"]?.int } == [1, 2, 3])
        #expect(requests.compactMap { $0["status"]?.int } == [502, 502, 200])
        #expect(lines.json.filter { $0["message"]?.string == "github 5xx; retrying" }.count == 2)
    }

    @Test func connectionResetAndSlowAnswersAreRetried() throws {
        let (gh, url) = try Support.world()
        gh.inject(.init(method: "GET", pathContains: "/pulls/1", times: 1, kind: .reset))
        var pull = try client(gh, url).pullRequest(issue)
        #expect(pull.number == 1)
        gh.clearFaults()
        gh.inject(.init(method: "GET", pathContains: "/pulls/1", times: 1, kind: .slow(milliseconds: 1_500)))
        let c = client(gh, url)
        c.requestTimeoutMilliseconds = 500
        pull = try c.pullRequest(issue)
        #expect(pull.number == 1)
    }

    @Test func secondaryRateLimitWaitsWithinTheDeadline() throws {
        let (gh, url) = try Support.world()
        gh.inject(.init(pathContains: "/pulls/1", times: 1, kind: .secondaryRateLimit(retryAfter: 1)))
        let lines = Lines()
        let started = Date()
        _ = try client(gh, url, lines: lines).pullRequest(issue)
        #expect(Date().timeIntervalSince(started) >= 0.9)
        #expect(lines.json.contains { $0["message"]?.string == "github rate limited; waiting" })

        gh.clearFaults()
        gh.inject(.init(pathContains: "/pulls/1", times: 1, kind: .primaryRateLimit(resetIn: 1)))
        _ = try client(gh, url).pullRequest(issue)
    }

    @Test func rateLimitBeyondTheDeadlineFailsClearly() throws {
        let (gh, url) = try Support.world()
        gh.inject(.init(pathContains: "/pulls/1", times: 1, kind: .tooManyRequests(retryAfter: 120)))
        let started = Date()
        do {
            _ = try client(gh, url, deadlineMs: 3_000).pullRequest(issue)
            Issue.record("no error")
        } catch let e as SwitchyardError {
            #expect(e.kind == .rateLimited)
            #expect(e.httpStatus == 503)
            #expect(e.message.contains("rate limit"))
            #expect(e.message.contains("UTC"))
        }
        #expect(Date().timeIntervalSince(started) < 1)
    }

    @Test func theDeadlineBoundsEverything() throws {
        let (gh, url) = try Support.world()
        gh.inject(.init(pathContains: "/pulls/1", times: 10, kind: .slow(milliseconds: 3_000)))
        let started = Date()
        #expect(throws: SwitchyardError.self) { try client(gh, url, deadlineMs: 1_000).pullRequest(issue) }
        #expect(Date().timeIntervalSince(started) < 2)
    }

    @Test func aPostWhoseAnswerWasLostIsCheckedBeforeRetrying() throws {
        let (gh, url) = try Support.world()
        gh.inject(.init(method: "POST", pathContains: "/issues/1/comments", times: 1, kind: .lostResponse))
        let lines = Lines()
        _ = try client(gh, url, lines: lines).createComment(on: issue, body: "exactly once")
        #expect(gh.comments("acme/widgets", issue: 1).filter { $0.body == "exactly once" }.count == 1)

        // The answer never came and the comment did not land: checking first, then retrying.
        gh.clearFaults()
        gh.inject(.init(method: "POST", pathContains: "/issues/1/comments", times: 1, kind: .status(502, "bad gateway")))
        _ = try client(gh, url).createComment(on: issue, body: "also once")
        #expect(gh.comments("acme/widgets", issue: 1).filter { $0.body == "also once" }.count == 1)
    }

    @Test func errorBodiesAreSurfaced() throws {
        let (gh, url) = try Support.world()
        do {
            _ = try client(gh, url).pullRequest(IssueRef(repo: issue.repo, number: 99))
            Issue.record("no error")
        } catch let e as GitHubError {
            #expect(e.status == 404)
            #expect(e.message == "Not Found")
            #expect(e.switchyardError.message.contains("404") || e.switchyardError.kind == .notFound)
        }
        let bad = GitHubClient(baseURL: url, credentials: TokenCredentials(token: "not-a-token"),
                               deadline: Deadline(millisecondsFromNow: 5_000), logger: Logger(function: "t", sink: { _ in }))
        do { _ = try bad.pullRequest(issue); Issue.record("no error") }
        catch let e as GitHubError { #expect(e.status == 401); #expect(e.switchyardError.kind == .misconfigured) }
    }

    @Test func conditionalRequestsUseETags() throws {
        let (gh, url) = try Support.world()
        // A first read starts GitHub's mergeability computation (its answer says "unknown").
        _ = try client(gh, url).pullRequest(issue)
        let c = client(gh, url)
        let first = try c.pullRequest(issue)
        let second = try c.pullRequest(issue)
        #expect(first == second)
        #expect(gh.notModifiedCount == 1)
    }

    @Test func routesGitHubDoesNotHaveAreCaught() throws {
        let (gh, url) = try Support.world()
        #expect(throws: GitHubError.self) { try client(gh, url).sendRaw("GET", "/repos/acme/widgets/made-up-route") }
        #expect(gh.contractViolations.count == 1)
        // A required body field missing is caught too.
        #expect(throws: GitHubError.self) { try client(gh, url).sendRaw("POST", "/repos/acme/widgets/issues/1/comments", json: ["text": "x"]) }
        #expect(gh.contractViolations.last?.contains("body") == true)
    }

    @Test func requestLogsCarryNoSecrets() throws {
        let (gh, url) = try Support.world()
        let lines = Lines()
        _ = try client(gh, url, lines: lines).pullRequest(issue)
        #expect(!lines.all.isEmpty)
        #expect(!lines.all.joined().contains(Support.token(of: gh)))
        let line = try #require(lines.json.first { $0["message"]?.string == "github request" })
        #expect(line["method"]?.string == "GET")
        #expect(line["status"]?.int == 200)
        #expect(line["ms"]?.int != nil)
    }
}
