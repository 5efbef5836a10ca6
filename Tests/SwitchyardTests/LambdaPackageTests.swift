import Foundation
import Testing
import Crypto
import _CryptoExtras
import SwitchyardCore
import SwitchyardRuntime
import SwitchyardTesting

/// The Lambda package exactly as deploy/lambda/build.sh makes it and the template deploys it: one zip,
/// unpacked as Lambda unpacks it, its `bootstrap` run with the template's environment against a local
/// Runtime API; then the same package chrooted into other Debian releases' C libraries.
@Suite("Lambda package as deployed", .serialized)
struct LambdaPackageTests {
    static let zip = Support.packageRoot + "/.build-release/lambda/switchyard.zip"
    static var built: Bool { FileManager.default.fileExists(atPath: zip) }
    static let foreignRoots = Support.packageRoot + "/.build-release/foreign-libc"
    static var foreignPrepared: Bool { FileManager.default.fileExists(atPath: foreignRoots + "/debian-13/.complete") }
    static let functions = ["cherry-pick", "e2e-trigger", "housekeeping", "label-deploy", "sla-check", "slash-dispatch", "update-branch"]
    static let key = try! _RSA.Signing.PrivateKey(keySize: .bits2048)

    @Test func ciBuildsThePackageAndTheForeignRoots() {
        if ProcessInfo.processInfo.environment["CI"] != nil {
            #expect(Self.built, "CI runs deploy/lambda/build.sh before the tests")
            #expect(Self.foreignPrepared, "CI runs deploy/lambda/foreign-libc.sh before the tests")
        }
    }

    @Test func theTemplateDeploysThisPackageWithEverySecretReadAtRunTime() throws {
        let template = try String(contentsOfFile: Support.packageRoot + "/deploy/lambda/template.yaml", encoding: .utf8)
        #expect(template.contains("CodeUri: ../../.build-release/lambda/switchyard.zip"))
        let handlers = template.split(separator: "\n").compactMap { line -> String? in
            let t = line.trimmingCharacters(in: .whitespaces)
            return t.hasPrefix("Handler: ") ? String(t.dropFirst(9)) : nil
        }
        #expect(!handlers.isEmpty && handlers.allSatisfy(Self.functions.contains), "\(handlers)")
        #expect(handlers.contains("slash-dispatch"))
        // Each secret the functions read, only ever by reference: no plain value, no dynamic reference.
        let provisionerOAuth: Set = ["PROVISIONER_TOKEN", "PROVISIONER_CLIENT_SECRET"]
        for name in Settings.secretVariables where !provisionerOAuth.contains(name) {
            #expect(template.contains("\n        \(name)_FROM: "), "template.yaml does not read \(name) at run time")
            #expect(!template.contains("\n        \(name): "), "template.yaml sets \(name) in plain text")
        }
        #expect(!template.contains("{{resolve:"))
        #expect(template.contains("Type: Schedule") && template.contains(#"{"schedule": "stale""#))
    }

    /// Unzips the package into `dir` as Lambda does (modes from the zip).
    static func unpack(into dir: String) throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let unzip = Process()
        unzip.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        unzip.arguments = ["python3", "-c", "import sys, zipfile, os; z = zipfile.ZipFile(sys.argv[1]); z.extractall(sys.argv[2]); " +
                           "[os.chmod(os.path.join(sys.argv[2], i.filename), i.external_attr >> 16) for i in z.infolist()]", zip, dir]
        try unzip.run(); unzip.waitUntilExit()
        guard unzip.terminationStatus == 0 else { throw EmulatorError("cannot unzip \(zip)") }
    }

    /// A running bootstrap with its own Runtime API. `chroot`: run inside that root, the package at /var/task.
    final class Bootstrap {
        let api = LambdaRuntimeAPI()
        let process = Process()
        let stderr = Pipe()
        var stderrText = ""
        let root: String?

        init(task: String, handler: String, environment: [String: String], chroot root: String? = nil) throws {
            self.root = root
            let address = try api.start()
            let taskRoot = root == nil ? task : "/var/task"
            // What the template sets, plus what Lambda itself sets.
            var env = ["AWS_LAMBDA_RUNTIME_API": address, "_HANDLER": handler, "LAMBDA_TASK_ROOT": taskRoot,
                       "SWITCHYARD_CONFIG": taskRoot + "/switchyard.yaml", "SWITCHYARD_CACHE_DIR": "/tmp/switchyard-cache-\(UUID().uuidString.prefix(6))",
                       "PATH": "/usr/local/bin:/usr/bin:/bin", "TZ": ":UTC", "SWITCHYARD_LOG_LEVEL": "debug"]
            for (k, v) in environment { env[k] = v }
            process.environment = env
            if let root {
                process.executableURL = URL(fileURLWithPath: "/usr/sbin/chroot")
                process.arguments = [root, "/var/task/bootstrap"]
            } else {
                process.executableURL = URL(fileURLWithPath: task + "/bootstrap")
                process.currentDirectoryURL = URL(fileURLWithPath: task)
            }
            process.standardOutput = FileHandle.nullDevice
            process.standardError = stderr
            try process.run()
        }

        func invoke(_ event: [UInt8]) -> LambdaRuntimeAPI.Result? { api.result(api.enqueue(event)) }

        /// The shared objects the running process has mapped (none, for a static binary).
        func mappedLibraries() -> [String] {
            let maps = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/maps", encoding: .utf8)) ?? ""
            return Set(maps.split(separator: "\n").compactMap { line in
                line.split(separator: " ", omittingEmptySubsequences: true).last.map(String.init)
            }.filter { $0.contains(".so") }).sorted()
        }

        func stop() -> String {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            api.stop()
            stderrText = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            return stderrText
        }
    }

    static func unpacked() throws -> String {
        let dir = NSTemporaryDirectory() + "lambda-task-\(UUID().uuidString.prefix(8))"
        try unpack(into: dir)
        return dir
    }

    @Test(.enabled(if: built)) func thePackageHoldsOneStaticBootstrapAndEveryManifest() throws {
        let task = try Self.unpacked()
        #expect(FileManager.default.isExecutableFile(atPath: task + "/bootstrap"))
        for f in Self.functions { #expect(FileManager.default.fileExists(atPath: task + "/functions/\(f)/function.yaml"), "\(f)") }
        #expect(FileManager.default.fileExists(atPath: task + "/switchyard.yaml"))
        // No program interpreter and no dynamic section: nothing of the host's C library is needed.
        let elf = try Data(contentsOf: URL(fileURLWithPath: task + "/bootstrap"))
        #expect(ELF.programHeaderTypes(elf).contains(1))          // PT_LOAD
        #expect(!ELF.programHeaderTypes(elf).contains(3))         // PT_INTERP
        #expect(!ELF.programHeaderTypes(elf).contains(2))         // PT_DYNAMIC
    }

    @Test(.enabled(if: built)) func everyHandlerAnswersAndRefusesForgeries() throws {
        let task = try Self.unpacked()
        for f in Self.functions {
            let b = try Bootstrap(task: task, handler: f, environment: ["GITHUB_WEBHOOK_SECRET": "zip-secret", "GITHUB_API_URL": "http://127.0.0.1:9"])
            let ping = b.invoke(Support.envelope(event: "ping", body: Support.corpusFile("github-webhooks/ping.json"), secret: "zip-secret", base64: true))
            #expect(ping?.kind == "response", "\(f)")
            #expect(ping?.body?["statusCode"]?.int == 200, "\(f)")
            #expect((try? JSON.parse(Array((ping?.body?["body"]?.string ?? "").utf8)))?["function"]?.string == f, "\(f)")
            let forged = b.invoke(Support.envelope(event: "ping", body: Support.corpusFile("github-webhooks/ping.json"), secret: "nope"))
            #expect(forged?.body?["statusCode"]?.int == 401, "\(f)")
            _ = b.stop()
        }
    }

    @Test(.enabled(if: built)) func theOneURLReachesEveryFunctionInThePackage() throws {
        let task = try Self.unpacked()
        let (gh, url) = try Support.world()
        let b = try Bootstrap(task: task, handler: "slash-dispatch", environment: [
            "GITHUB_WEBHOOK_SECRET": "zip-secret", "GITHUB_API_URL": url, "GITHUB_TOKEN": Support.token(of: gh)])
        let id = gh.addComment("acme/widgets", issue: 1, user: "maint-mona", body: "/update-branch")
        let payload = Support.commentPayload(repo: "acme/widgets", number: 1, body: "/update-branch", user: "maint-mona", commentID: id)
        let r = b.invoke(Support.envelope(event: "issue_comment", body: payload, secret: "zip-secret"))
        let stderr = b.stop()
        let body = try #require(try? JSON.parse(Array((r?.body?["body"]?.string ?? "").utf8)), "\(String(describing: r)) \(stderr)")
        #expect(r?.body?["statusCode"]?.int == 200, "\(body) \(stderr)")
        #expect(body["routed"]?.array?.contains("update-branch") == true, "\(body)")
        #expect(body["results"]?["update-branch"]?["outcome"]?.string == "done", "\(body)")
        // The routed function did the work: the branch was updated through the API.
        #expect(gh.requests.contains { $0.method == "PUT" && $0.path.hasSuffix("/pulls/1/update-branch") })
    }

    @Test(.enabled(if: built)) func secretsAndThePolicyComeFromTheExtensionWhenTheFirstEventArrives() throws {
        let task = try Self.unpacked()
        let (gh, url) = try Support.world()
        let ext = SecretsExtensionEmulator()
        let port = try ext.start()
        defer { ext.stop() }
        ext.addSecret("switchyard", string: #"{"webhookSecret": "from-secrets-manager", "unused": "x"}"#)
        ext.addParameter("/switchyard/github-token", value: Support.token(of: gh))
        ext.addParameter("/switchyard/policy", value: "defaults:\n  commands:\n    update-branch: { allow: [admin] }\n", secure: false)
        let env = ["GITHUB_API_URL": url, "AWS_SESSION_TOKEN": ext.sessionToken, "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT": "\(port)",
                   "GITHUB_WEBHOOK_SECRET_FROM": "secretsmanager:switchyard#webhookSecret",
                   "GITHUB_TOKEN_FROM": "ssm:/switchyard/github-token", "SWITCHYARD_CONFIG": "",
                   // A key the secret does not have: that integration is simply not configured.
                   "SLACK_SIGNING_SECRET_FROM": "secretsmanager:switchyard#slackSigningSecret",
                   "SWITCHYARD_CONFIG_FROM": "ssm:/switchyard/policy"]
        let b = try Bootstrap(task: task, handler: "update-branch", environment: env)
        // Nothing is asked of the extension before an event (it does not answer during INIT).
        let started = Date()
        while b.api.nextCalls == 0, Date().timeIntervalSince(started) < 10 { usleep(20_000) }
        #expect(ext.requests.isEmpty)
        let payload = Support.commentPayload(repo: "acme/widgets", number: 1, body: "/update-branch", user: "maint-mona")
        let first = b.invoke(Support.envelope(event: "issue_comment", body: payload, secret: "from-secrets-manager"))
        let body = try JSON.parse(Array((first?.body?["body"]?.string ?? "").utf8))
        // Verified with the secret from Secrets Manager, done with the token from Parameter Store, under
        // the policy from Parameter Store (maint-mona is a member, not an admin: refused).
        #expect(first?.body?["statusCode"]?.int == 200, "\(body)")
        #expect(body["outcome"]?.string == "rejected", "\(body)")
        #expect(!gh.requests.contains { $0.method == "PUT" })
        let second = b.invoke(Support.envelope(event: "issue_comment", body: payload, secret: "wrong"))
        #expect(second?.body?["statusCode"]?.int == 401)
        let stderr = b.stop()
        // One read per value for the life of the environment, each with the session token.
        #expect(ext.requests.count == 3, "\(ext.requests)")
        #expect(ext.requests.contains("/systemsmanager/parameters/get?name=%2Fswitchyard%2Fgithub-token&withDecryption=true"))
        #expect(!stderr.contains("from-secrets-manager") && !stderr.contains(Support.token(of: gh)))
    }

    @Test(.enabled(if: built)) func anUnreadableSecretFailsTheEventAndTheNextEventTriesAgain() throws {
        let task = try Self.unpacked()
        let ext = SecretsExtensionEmulator()
        let port = try ext.start()
        defer { ext.stop() }
        let b = try Bootstrap(task: task, handler: "update-branch", environment: [
            "AWS_SESSION_TOKEN": ext.sessionToken, "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT": "\(port)",
            "GITHUB_WEBHOOK_SECRET_FROM": "secretsmanager:missing#webhookSecret", "GITHUB_API_URL": "http://127.0.0.1:9"])
        let ping = Support.envelope(event: "ping", body: Support.corpusFile("github-webhooks/ping.json"), secret: "later")
        let first = b.invoke(ping)
        #expect(first?.kind == "error")
        #expect(first?.body?["errorMessage"]?.string?.contains("GITHUB_WEBHOOK_SECRET_FROM") == true, "\(String(describing: first?.body))")
        ext.addSecret("missing", string: #"{"webhookSecret": "later"}"#)
        let second = b.invoke(ping)
        _ = b.stop()
        #expect(second?.body?["statusCode"]?.int == 200, "\(String(describing: second?.body))")
    }

    @Test(.enabled(if: built)) func theStaleScheduleRunsFromAnEventBridgeInput() throws {
        let task = try Self.unpacked()
        let (gh, url) = try Support.world()
        let policy = task + "/switchyard.yaml"
        try "defaults:\n  housekeeping:\n    stale:\n      days: 0\n      label: stale\n".write(toFile: policy, atomically: true, encoding: .utf8)
        let b = try Bootstrap(task: task, handler: "housekeeping", environment: [
            "GITHUB_WEBHOOK_SECRET": "zip-secret", "GITHUB_API_URL": url, "GITHUB_TOKEN": Support.token(of: gh)])
        // The rule's constant input, as EventBridge delivers it.
        let r = b.invoke(Array(#"{"schedule": "stale", "repository": "acme/widgets"}"#.utf8))
        // A rule without an input is refused with what to set.
        let bare = b.invoke(Array(#"{"version": "0", "id": "1", "detail-type": "Scheduled Event", "source": "aws.events", "detail": {}}"#.utf8))
        let stderr = b.stop()
        let body = try #require(try? JSON.parse(Array((r?.body?["body"]?.string ?? "").utf8)), "\(String(describing: r)) \(stderr)")
        #expect(r?.body?["statusCode"]?.int == 200, "\(body) \(stderr)")
        #expect(body["event"]?.string == "schedule", "\(body)")
        #expect(bare?.kind == "error")
        #expect(bare?.body?["errorMessage"]?.string?.contains("input") == true)
        _ = gh
    }

    /// Runs the package with App auth and a real HTTP call, inside `root` when given; returns what the
    /// process had mapped while it ran, and its answer.
    static func appAuthRun(root: String?) throws -> (libraries: [String], result: LambdaRuntimeAPI.Result?, stderr: String, gh: GitHubEmulator) {
        let (gh, url) = try Support.world()
        gh.addApp(id: 777, slug: "switchyard", publicKeyPEM: key.publicKey.pemRepresentation, installations: [4242])
        var task = try unpacked()
        if let root {
            let target = root + "/var/task"
            try? FileManager.default.removeItem(atPath: target)
            try FileManager.default.moveItem(atPath: task, toPath: target)
            task = target
        }
        let b = try Bootstrap(task: task, handler: "slash-dispatch", environment: [
            "GITHUB_WEBHOOK_SECRET": "zip-secret", "GITHUB_API_URL": url, "GITHUB_APP_ID": "777",
            "GITHUB_APP_PRIVATE_KEY": key.pkcs8PEMRepresentation], chroot: root)
        let id = gh.addComment("acme/widgets", issue: 1, user: "maint-mona", body: "/update-branch")
        let payload = Support.commentPayload(repo: "acme/widgets", number: 1, body: "/update-branch", user: "maint-mona", commentID: id)
        let r = b.invoke(Support.envelope(event: "issue_comment", body: payload, secret: "zip-secret"))
        let libraries = b.mappedLibraries()
        let stderr = b.stop()
        return (libraries, r, stderr, gh)
    }

    @Test(.enabled(if: built)) func appAuthWorksInLambdaModeWithNoSharedLibraryLoaded() throws {
        let run = try Self.appAuthRun(root: nil)
        let body = try #require(try? JSON.parse(Array((run.result?.body?["body"]?.string ?? "").utf8)), "\(String(describing: run.result)) \(run.stderr)")
        #expect(run.result?.body?["statusCode"]?.int == 200, "\(body) \(run.stderr)")
        #expect(body["results"]?["update-branch"]?["outcome"]?.string == "done", "\(body)")
        #expect(run.gh.requests.contains { $0.path.hasSuffix("/access_tokens") })
        #expect(run.libraries.isEmpty, "\(run.libraries)")
    }

    static var canChroot: Bool { foreignPrepared && getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/sbin/chroot") }

    /// /proc inside a root (the Swift runtime reads /proc/self/exe, as on Lambda, which has it).
    static func mountProc(_ root: String) -> Bool {
        if FileManager.default.fileExists(atPath: root + "/proc/self") { return true }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["mount", "-t", "proc", "proc", root + "/proc"]
        p.standardError = FileHandle.nullDevice
        try? p.run(); p.waitUntilExit()
        return p.terminationStatus == 0
    }

    static func unmountProc(_ root: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["umount", root + "/proc"]
        try? p.run(); p.waitUntilExit()
    }

    @Test(.enabled(if: built && canChroot), arguments: ["debian-13", "debian-11"])
    func theBootstrapRunsUnderAnotherCLibrary(_ release: String) throws {
        let root = Self.foreignRoots + "/" + release
        let libc = try #require(FileManager.default.enumerator(atPath: root)?.compactMap { $0 as? String }.first { $0.hasSuffix("libc.so.6") })
        let version = String(decoding: try Data(contentsOf: URL(fileURLWithPath: root + "/" + libc)), as: UTF8.self)
            .components(separatedBy: "GNU C Library").dropFirst().first?.prefix(60) ?? ""
        #expect(Self.mountProc(root), "mount -t proc failed: the chroot needs /proc")
        defer { Self.unmountProc(root) }
        let run = try Self.appAuthRun(root: root)
        let body = try #require(try? JSON.parse(Array((run.result?.body?["body"]?.string ?? "").utf8)), "\(String(describing: run.result)) \(run.stderr)")
        #expect(run.result?.body?["statusCode"]?.int == 200, "under\(version): \(body) \(run.stderr)")
        #expect(body["results"]?["update-branch"]?["outcome"]?.string == "done", "\(body)")
        #expect(run.gh.requests.contains { $0.path.hasSuffix("/access_tokens") })
        #expect(run.libraries.isEmpty, "\(run.libraries)")
    }
}

/// Just enough ELF reading to tell a static executable from a dynamic one.
enum ELF {
    /// The `p_type` of every program header of a 64-bit little-endian ELF file.
    static func programHeaderTypes(_ data: Data) -> [UInt32] {
        let bytes = [UInt8](data.prefix(1 << 16))
        guard bytes.count > 64, bytes[0] == 0x7f, bytes[1] == 0x45, bytes[4] == 2, bytes[5] == 1 else { return [] }
        func u64(_ at: Int) -> Int { (0..<8).reduce(0) { $0 | Int(bytes[at + $1]) << (8 * $1) } }
        func u16(_ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 }
        let phoff = u64(0x20), phentsize = u16(0x36), phnum = u16(0x38)
        return (0..<phnum).compactMap { i in
            let at = phoff + i * phentsize
            guard at + 4 <= bytes.count else { return nil }
            return UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24
        }
    }
}
