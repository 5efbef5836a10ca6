import Foundation
import Testing
import SwitchyardCore
import SwitchyardTesting

/// The function binaries under real web servers, configured from deploy/cgi/, against the emulator.
@Suite("CGI under real servers", .serialized)
struct CGIServerTests {
    let secret = "cgi-hook-secret-\(UUID().uuidString.prefix(6))"

    static let servers: [CGIHost.Server] = [.nginx, .lighttpd].filter(CGIHost.available)

    @Test func serversAreInstalledInCI() {
        if ProcessInfo.processInfo.environment["CI"] != nil { #expect(Self.servers.count == 2, "CI must install nginx, fcgiwrap and lighttpd") }
    }

    @Test("signed webhooks through the server", arguments: servers)
    func throughTheServer(_ server: CGIHost.Server) throws {
        let (gh, url) = try Support.world()
        let host = try CGIHost(server, deployDirectory: Support.packageRoot + "/deploy/cgi", binDirectory: Support.productsDirectory,
                               functionsDirectory: Support.packageRoot + "/functions", githubAPI: url,
                               secrets: ["github-webhook-secret": secret, "github-token": Support.token(of: gh),
                                         "mattermost-token": "mm-\(secret)", "slack-signing-secret": "slack-\(secret)"],
                               maxBody: "1m", functionMaxBody: 65_536)
        defer { host.stop() }

        // A good signature: the command runs, through the server, against the emulator.
        let id = gh.addComment("acme/widgets", issue: 1, user: "maint-mona", body: "/update-branch")
        let good = WebhookDelivery(event: "issue_comment", payload: gh.commentEvent("acme/widgets", commentID: id), secret: secret)
        var r = try good.post(to: host.url("update-branch"))
        #expect(r.status == 200, "\(String(decoding: r.body, as: UTF8.self)) \(host.errorLog)")
        #expect((try? JSON.parse(r.body))?["outcome"]?.string == "done")
        #expect(gh.requests.filter { $0.method == "PUT" }.count == 1)

        // Through slash-dispatch too.
        let ping = WebhookDelivery(event: "ping", payload: Support.corpusFile("github-webhooks/ping.json"), secret: secret)
        r = try ping.post(to: host.url("slash-dispatch"))
        #expect(r.status == 200)

        // A bad signature.
        r = try WebhookDelivery(event: "ping", payload: ping.payload, secret: "forged").post(to: host.url("update-branch"))
        #expect(r.status == 401)
        #expect((try? JSON.parse(r.body))?["message"]?.string?.contains("signature") == true)

        // A missing body.
        r = try LoopbackHTTP.send(host.url("update-branch"), headers: [("Content-Type", "application/json"), ("X-GitHub-Event", "ping")], body: nil)
        #expect(r.status == 400 || r.status == 411, "\(r.status)")

        // Over the function's limit: its own 413.
        let big = Array(("{\"zen\":\"" + String(repeating: "x", count: 100_000) + "\",\"hook_id\":1}").utf8)
        r = try WebhookDelivery(event: "ping", payload: big, secret: secret).post(to: host.url("update-branch"))
        #expect(r.status == 413)
        #expect((try? JSON.parse(r.body))?["error"]?.string == "payloadTooLarge")

        // Over the server's limit: refused before any process starts.
        let huge = [UInt8](repeating: 0x20, count: 2 << 20)
        r = try WebhookDelivery(event: "ping", payload: huge, secret: secret).post(to: host.url("update-branch"))
        #expect(r.status == 413)

        // Only function names reach a program.
        r = try LoopbackHTTP.send(host.baseURL + "/hooks/../../etc/passwd", body: [1])
        #expect(r.status >= 400 && r.status < 500)
        #expect(gh.contractViolations.isEmpty)
    }
}
