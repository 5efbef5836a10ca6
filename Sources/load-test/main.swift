import Foundation
import Crypto
import _CryptoExtras
import SwitchyardCore
import SwitchyardTesting

/// Load under a real CGI server: wrk against nginx + fcgiwrap hosting update-branch (signed webhooks
/// it plans in dry-run, with GitHub App auth against the emulator) and, in the same run, a C CGI
/// program that reads the body and writes a line (the floor for this architecture).
/// Usage: load-test [--seconds N] [--connections N] [--bin DIR] [--all]
/// With `--all`, every function also takes a signed `pull_request.edited` (decoded by the functions
/// that act on pull requests, ignored by the others) for `seconds / 2`, against the same floor.
var seconds = 10, connections = 32, everyFunction = false
let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
var binDir = (exe as NSString).deletingLastPathComponent
var args = CommandLine.arguments.dropFirst().makeIterator()
while let a = args.next() {
    switch a {
    case "--seconds": seconds = min(60, max(1, Int(args.next() ?? "") ?? seconds))
    case "--connections": connections = min(256, max(1, Int(args.next() ?? "") ?? connections))
    case "--bin":   // links to the binaries are made elsewhere, so a relative folder is made absolute
        binDir = URL(fileURLWithPath: args.next() ?? binDir, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath)).standardized.path
    case "--all": everyFunction = true
    default: print("usage: load-test [--seconds N] [--connections N] [--bin DIR] [--all]"); exit(2)
    }
}
func say(_ s: String) { FileHandle.standardOutput.write(Data((s + "\n").utf8)) }
// nginx, fcgiwrap and their children stop however this ends: at exit(), on Ctrl-C or SIGTERM.
ProcessReaper.installHandlers()
let source = URL(fileURLWithPath: (exe as NSString).deletingLastPathComponent).appendingPathComponent("../../..").standardized.path
guard FileManager.default.isExecutableFile(atPath: "/usr/bin/wrk"), CGIHost.available(.nginx) else {
    say("load-test needs wrk, nginx and fcgiwrap (apt-get install wrk nginx fcgiwrap)"); exit(2)
}

// The world, an App, and a bin folder holding the function and the C floor.
let gh = try GitHubEmulator()
try Fixture.load(Fixture.demo, into: gh)
let api = try gh.start()
let key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
gh.addApp(id: 77, slug: "switchyard", publicKeyPEM: key.publicKey.pemRepresentation, installations: [4242])
let work = NSTemporaryDirectory() + "load-\(getpid())"
let bin = work + "/bin"
try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
let functionNames = ["cherry-pick", "e2e-trigger", "housekeeping", "label-deploy", "sla-check", "slash-dispatch", "update-branch"]
for f in functionNames where f == "update-branch" || everyFunction {
    try FileManager.default.createSymbolicLink(atPath: bin + "/" + f, withDestinationPath: binDir + "/" + f)
}
let cc = Process()
cc.executableURL = URL(fileURLWithPath: "/usr/bin/cc")
cc.arguments = ["-O2", "-o", work + "/floor.linked", source + "/bench/floor.c"]
try cc.run(); cc.waitUntilExit()
guard cc.terminationStatus == 0 else { say("cannot build bench/floor.c"); exit(1) }
// Installed as the functions are (bench/run-all.sh): a linker's output sits in the page cache in large
// folios, which makes a fresh process of it fault less than a copy written by install(1).
let install = Process()
install.executableURL = URL(fileURLWithPath: "/usr/bin/install")
install.arguments = ["-m", "0755", work + "/floor.linked", bin + "/floor"]
try install.run(); install.waitUntilExit()
guard install.terminationStatus == 0 else { say("cannot install the floor"); exit(1) }

let secret = "load-secret"
let cache = work + "/cache"
let host = try CGIHost(.nginx, deployDirectory: source + "/deploy/cgi", binDirectory: bin, functionsDirectory: source + "/functions",
                       githubAPI: api, secrets: ["github-webhook-secret": secret, "github-token": "unused", "mattermost-token": "m",
                                                 "slack-signing-secret": "s", "github-app-private-key": key.pkcs8PEMRepresentation],
                       extraEnvironment: ["GITHUB_APP_ID": "77", "GITHUB_APP_PRIVATE_KEY_FILE": "\(work)/secrets-link/github-app-private-key",
                                          "SWITCHYARD_DRY_RUN": "1", "SWITCHYARD_LOG_LEVEL": "error"])
try FileManager.default.createSymbolicLink(atPath: work + "/secrets-link", withDestinationPath: host.prefix + "/secrets")
/// Stops the servers and removes the work folder; every exit goes through here.
func finish(_ status: Int32) -> Never {
    host.stop()
    try? FileManager.default.removeItem(atPath: work)
    exit(status)
}
_ = cache

// A signed /update-branch comment, planned in dry-run: reads GitHub (App token, cache), writes nothing.
let commentID = gh.addComment("acme/widgets", issue: 1, user: "maint-mona", body: "/update-branch")
let body = gh.commentEvent("acme/widgets", commentID: commentID).encoded()
/// `X-Hub-Signature-256` for a body.
func sign(_ body: String) -> String {
    "sha256=" + HMAC<SHA256>.authenticationCode(for: Array(body.utf8), using: SymmetricKey(data: Array(secret.utf8)))
        .map { String(format: "%02x", $0) }.joined()
}
func script(_ name: String, event: String, body: String) throws -> String {
    let sig = sign(body)
    let escaped = body.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
    let path = work + "/\(name).lua"
    try """
        wrk.method = "POST"
        wrk.body = "\(escaped)"
        wrk.headers["Content-Type"] = "application/json"
        wrk.headers["X-GitHub-Event"] = "\(event)"
        wrk.headers["X-GitHub-Delivery"] = "load"
        wrk.headers["X-Hub-Signature-256"] = "\(sig)"
        """.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}
// The throughput workload: a signed PR event update-branch verifies and ignores (it acts on comments only, so it
// answers without decoding the payload; no GitHub call).
let ignored = try script("ignored", event: "pull_request", body: gh.pullRequestEvent("acme/widgets", 1, action: "opened").encoded())
// The concurrency workload: a planned /update-branch that reads GitHub with App auth and the shared token cache.
let planned = try script("planned", event: "issue_comment", body: body)

struct Result { var rps: Double; var p99: String; var non2xx: Int; var requests: Int }
@MainActor func wrk(_ path: String, _ lua: String, seconds: Int) throws -> Result {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/wrk")
    p.arguments = ["-t2", "-c\(connections)", "-d\(seconds)s", "--timeout", "20s", "--latency", "-s", lua, host.baseURL + path]
    let out = Pipe()
    p.standardOutput = out
    try p.run()
    ProcessReaper.register(p.processIdentifier)
    let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    p.waitUntilExit()
    ProcessReaper.unregister(p.processIdentifier)
    func field(_ prefix: String) -> String? {
        text.split(separator: "\n").first { $0.trimmingCharacters(in: .whitespaces).hasPrefix(prefix) }
            .map { $0.trimmingCharacters(in: .whitespaces).dropFirst(prefix.count).trimmingCharacters(in: .whitespaces) }
    }
    let requests = text.split(separator: "\n").first { $0.contains("requests in") }.flatMap { Int($0.trimmingCharacters(in: .whitespaces).split(separator: " ")[0]) } ?? 0
    return Result(rps: Double(field("Requests/sec:") ?? "0") ?? 0, p99: field("99%") ?? "?",
                  non2xx: Int(field("Non-2xx or 3xx responses:") ?? "0") ?? 0, requests: requests)
}

/// Zombies the load could leave: exited CGI programs (the function, the floor) or children of the web
/// server, fcgiwrap or this process that nobody reaped. A process is briefly a zombie between its
/// exit and its parent's wait, so only one seen in every sample over two seconds counts as leaked.
func zombies() -> Set<Int> {
    func stat(_ pid: String) -> (comm: String, state: Substring, ppid: Int)? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let open = text.firstIndex(of: "("), let close = text.lastIndex(of: ")") else { return nil }
        let rest = text[text.index(after: close)...].split(separator: " ")
        guard rest.count > 1 else { return nil }
        return (String(text[text.index(after: open)..<close]), rest[0], Int(rest[1]) ?? 0)
    }
    let pids = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).filter { Int($0) != nil }
    var comms: [Int: String] = [:]
    for p in pids { if let s = stat(p) { comms[Int(p)!] = s.comm } }
    let me = Int(getpid())
    var out = Set<Int>()
    for p in pids {
        guard let s = stat(p), s.state == "Z" else { continue }
        let parent = comms[s.ppid] ?? ""
        if (functionNames + ["floor"]).contains(s.comm) || ["fcgiwrap", "nginx"].contains(parent) || s.ppid == me { out.insert(Int(p)!) }
    }
    return out
}

/// One request before the load, so that a setup that fails says why instead of counting non-2xx.
func probe(_ path: String, event: String, body: String) {
    let sig = sign(body)
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
    p.arguments = ["-s", "-o", "-", "-w", "\n%{http_code}", "-X", "POST", "-H", "Content-Type: application/json", "-H", "X-GitHub-Event: \(event)",
                   "-H", "X-GitHub-Delivery: probe", "-H", "X-Hub-Signature-256: \(sig)", "--data-binary", "@-", host.baseURL + path]
    let input = Pipe(), out = Pipe()
    p.standardInput = input
    p.standardOutput = out
    guard (try? p.run()) != nil else { return }
    input.fileHandleForWriting.write(Data(body.utf8))
    try? input.fileHandleForWriting.close()
    let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    p.waitUntilExit()
    let status = text.split(separator: "\n").last.map(String.init) ?? "?"
    guard status.hasPrefix("2") else {
        say("\(path) answered \(status) to a probe before the load: \(text.split(separator: "\n").dropLast().joined(separator: " ").prefix(400))")
        finish(1)
    }
}
probe("/hooks/update-branch", event: "pull_request", body: gh.pullRequestEvent("acme/widgets", 1, action: "opened").encoded())

let zombiesBefore = zombies()
@MainActor func load(_ path: String, _ lua: String, seconds: Int) -> Result {
    do { return try wrk(path, lua, seconds: seconds) } catch {
        say("wrk failed: \(error)")
        finish(1)
    }
}
let floor = load("/hooks/floor", ignored, seconds: seconds)
let function = load("/hooks/update-branch", ignored, seconds: seconds)
let reads = load("/hooks/update-branch", planned, seconds: max(2, seconds / 2))
// Every function on an event the pull-request functions decode (no GitHub call: they ignore `edited`).
let decoded = try script("edited", event: "pull_request", body: gh.pullRequestEvent("acme/widgets", 1, action: "edited").encoded())
// Each function runs next to a floor run of the same length, and is compared with that one: the
// machine's speed drifts over a minute, and a floor measured once at the start would carry the drift.
// Which of the two goes first alternates, so that an order effect falls on both sides.
let each: [(String, Result, floor: Result)] = everyFunction ? functionNames.enumerated().map { k, name in
    let half = max(2, seconds / 2)
    if k % 2 == 0 {
        let nearFloor = load("/hooks/floor", decoded, seconds: half)
        return (name, load("/hooks/\(name)", decoded, seconds: half), nearFloor)
    }
    let r = load("/hooks/\(name)", decoded, seconds: half)
    return (name, r, load("/hooks/floor", decoded, seconds: half))
} : []
var leaked = zombies().subtracting(zombiesBefore)
for _ in 0..<8 where !leaked.isEmpty {
    usleep(250_000)
    leaked.formIntersection(zombies())
}
let zombiesLeft = leaked.count
// The installation token's cache file (beside it, the bot identity read once with the App's JWT).
let cacheFiles = ((try? FileManager.default.contentsOfDirectory(atPath: host.cacheDirectory)) ?? [])
    .filter { $0.hasSuffix(".json") && !$0.hasPrefix("identity-") && !$0.hasPrefix("routes-") }
let cacheOK = cacheFiles.count == 1 && (try? JSON.parse(Array(FileManager.default.contents(atPath: host.cacheDirectory + "/" + cacheFiles[0]) ?? Data())))?["token"] != nil

say("CGI load, nginx + fcgiwrap, \(connections) connections, \(seconds) s each (wrk)")
say(String(format: "  %-34@ %9.1f req/s   p99 %8@   non-2xx %d of %d", "C CGI floor (reads body, writes a line)" as NSString, floor.rps, floor.p99 as NSString, floor.non2xx, floor.requests))
say(String(format: "  %-34@ %9.1f req/s   p99 %8@   non-2xx %d of %d", "update-branch, signed, ignored" as NSString, function.rps, function.p99 as NSString, function.non2xx, function.requests))
say(String(format: "  %-34@ %9.1f req/s   p99 %8@   non-2xx %d of %d", "update-branch, planned (GitHub reads)" as NSString, reads.rps, reads.p99 as NSString, reads.non2xx, reads.requests))
say(String(format: "  throughput ratio to the floor: %.0f%% (target ≥ 50%% with release binaries)", floor.rps > 0 ? function.rps / floor.rps * 100 : 0))
if !each.isEmpty { say("  every function on a signed pull_request.edited, each against a floor run next to it (\(max(2, seconds / 2)) s each):") }
for (name, r, near) in each {
    say(String(format: "  %-34@ %9.1f req/s   p99 %8@   non-2xx %d of %d   %3.0f%% of the floor (%.1f req/s)", "\(name), pull_request.edited" as NSString,
               r.rps, r.p99 as NSString, r.non2xx, r.requests, near.rps > 0 ? r.rps / near.rps * 100 : 0, near.rps))
}
say("  installation tokens minted: \(gh.mintedTokenCount); token cache intact: \(cacheOK); zombies left: \(zombiesLeft)")
let ok = function.non2xx == 0 && floor.non2xx == 0 && reads.non2xx == 0 && function.requests > 0 && reads.requests > 0
    && cacheOK && zombiesLeft == 0 && each.allSatisfy { $0.1.non2xx == 0 && $0.1.requests > 0 && $0.floor.non2xx == 0 && $0.floor.requests > 0 }
say(ok ? "  load: ok" : "  load: FAILED")
finish(ok ? 0 : 1)
