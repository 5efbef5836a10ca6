import Foundation
import Testing
import SwitchyardCore
import SwitchyardTesting

/// The function binaries under real web servers, configured from deploy/cgi/, against the emulator.
/// As root (CI), each server starts as Debian packages and starts it (see `CGIHost`): the workers and
/// the functions as www-data, fcgiwrap's socket as its systemd unit makes it.
@Suite("CGI under real servers", .serialized)
struct CGIServerTests {
    let secret = "cgi-hook-secret-\(UUID().uuidString.prefix(6))"

    static let servers: [CGIHost.Server] = CGIHost.Server.allCases.filter(CGIHost.available)

    @Test func serversAreInstalledInCI() {
        if ProcessInfo.processInfo.environment["CI"] != nil {
            #expect(Self.servers.count == 3, "CI must install nginx, fcgiwrap, lighttpd, lighttpd-modules-lua and apache2")
            #expect(getuid() == 0, "CI runs as root, so that the servers start as their packages start them")
        }
    }

    /// A CGI folder as deploy/cgi/README.md lays one out: a symlink per function to the multi-call
    /// `switchyard` binary, plus `probe`, a program that records each start in `log`.
    static func binFolder(log: String) throws -> String {
        let dir = NSTemporaryDirectory() + "cgi-bin-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        chmod(dir, 0o755)
        for f in try FileManager.default.contentsOfDirectory(atPath: Support.packageRoot + "/functions") {
            try FileManager.default.createSymbolicLink(atPath: dir + "/" + f, withDestinationPath: Support.binary("switchyard"))
        }
        let probe = "#!/bin/sh\necho \"$REQUEST_METHOD ${CONTENT_LENGTH:-0}\" >> \(log)\ncat > /dev/null\n"
            + "printf 'Status: 200 OK\\r\\nContent-Type: application/json\\r\\n\\r\\n{\"function\":\"probe\"}\\n'\n"
        try probe.write(toFile: dir + "/probe", atomically: true, encoding: .utf8)
        chmod(dir + "/probe", 0o755)
        return dir
    }

    @Test("signed webhooks through the server", arguments: servers)
    func throughTheServer(_ server: CGIHost.Server) throws {
        let (gh, url) = try Support.world()
        let probeLog = NSTemporaryDirectory() + "probe-\(UUID().uuidString.prefix(8)).log"
        _ = FileManager.default.createFile(atPath: probeLog, contents: nil)
        chmod(probeLog, 0o666)
        func starts() -> [String] { ((try? String(contentsOfFile: probeLog, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init) }
        let host = try CGIHost(server, deployDirectory: Support.packageRoot + "/deploy/cgi", binDirectory: try Self.binFolder(log: probeLog),
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
        #expect((try? JSON.parse(r.body))?["outcome"]?.string == "done", "\(gh.requests.map { "\($0.method) \($0.path)" })")
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

        // Anything but POST: the server's 405, no program started.
        r = try LoopbackHTTP.send(host.url("probe"), body: [0x7b, 0x7d])
        #expect(r.status == 200 && starts() == ["POST 2"], "the probe did not run: \(starts()) \(host.errorLog)")
        for method in ["GET", "DELETE", "PUT"] {
            r = try LoopbackHTTP.send(method: method, host.url("update-branch"), body: method == "GET" ? nil : [0x7b, 0x7d])
            #expect(r.status == 405, "\(method) \(r.status) \(String(decoding: r.body, as: UTF8.self))")
            #expect((try? JSON.parse(r.body))?["function"] == nil, "\(method) reached the function")
            r = try LoopbackHTTP.send(method: method, host.url("probe"), body: method == "GET" ? nil : [0x7b, 0x7d])
            #expect(r.status == 405)
        }
        #expect(starts() == ["POST 2"], "a program started for a method other than POST: \(starts())")

        // Over the function's limit: its own 413.
        let big = Array(("{\"zen\":\"" + String(repeating: "x", count: 100_000) + "\",\"hook_id\":1}").utf8)
        r = try WebhookDelivery(event: "ping", payload: big, secret: secret).post(to: host.url("update-branch"))
        #expect(r.status == 413)
        #expect((try? JSON.parse(r.body))?["error"]?.string == "payloadTooLarge")
        #expect((try? JSON.parse(r.body))?["function"]?.string == "update-branch")

        // Over the server's limit: its own 413, before any process starts.
        let huge = [UInt8](repeating: 0x20, count: 2 << 20)
        r = try WebhookDelivery(event: "ping", payload: huge, secret: secret).post(to: host.url("update-branch"))
        #expect(r.status == 413)
        #expect((try? JSON.parse(r.body))?["function"] == nil, "the oversized body reached the function")
        r = try LoopbackHTTP.send(host.url("probe"), body: huge)
        #expect(r.status == 413)
        #expect(starts() == ["POST 2"], "a program started for an oversized body: \(starts())")

        // Mattermost's `Authorization: Token …` reaches the function: a command whose form carries no
        // token is verified by the header alone.
        let form = "channel_id=c1&channel_name=town-square&command=%2Fswitchyard&team_domain=acme&team_id=t1&text=help&trigger_id=x&user_id=u1&user_name=alan"
        r = try LoopbackHTTP.send(host.url("slash-dispatch"), headers: [("Content-Type", "application/x-www-form-urlencoded"),
                                                                          ("Authorization", "Token mm-\(secret)")], body: Array(form.utf8))
        #expect(r.status == 200, "\(String(decoding: r.body, as: UTF8.self)) \(host.errorLog)")
        r = try LoopbackHTTP.send(host.url("slash-dispatch"), headers: [("Content-Type", "application/x-www-form-urlencoded"),
                                                                          ("Authorization", "Token wrong")], body: Array(form.utf8))
        #expect(r.status == 401)

        // The functions ran as the service user, never as root: what they cached is theirs.
        let cached = try FileManager.default.contentsOfDirectory(atPath: host.cacheDirectory)
        #expect(!cached.isEmpty, "the functions cached nothing in \(host.cacheDirectory)")
        let expected = host.packaged ? getpwnam(CGIHost.serviceUser)!.pointee.pw_uid : getuid()
        for name in cached {
            let owner = try FileManager.default.attributesOfItem(atPath: host.cacheDirectory + "/" + name)[.ownerAccountID] as? UInt32
            #expect(owner == expected, "\(name) is owned by \(owner.map(String.init) ?? "?")")
            if host.packaged { #expect(owner != 0) }
        }

        // Only function names reach a program.
        r = try LoopbackHTTP.send(host.baseURL + "/hooks/../../etc/passwd", body: [1])
        #expect(r.status >= 400 && r.status < 500)
        #expect(gh.contractViolations.isEmpty)
    }
}
