import Foundation
import Testing
import SwitchyardCore
import SwitchyardTesting

/// The OpenFaaS stack and the image it builds: `stack.yml` read as faas-cli reads it, the repository's
/// Dockerfile and .dockerignore as its build context, and each function run under the classic
/// watchdog's request handling with the stack's own environment.
@Suite("OpenFaaS stack", .serialized)
struct PackagingTests {
    static let root = Support.packageRoot
    static let functions = (try? FileManager.default.contentsOfDirectory(atPath: root + "/functions").sorted()) ?? []

    static func stack() throws -> YAML {
        try YAML.parse(String(contentsOfFile: root + "/deploy/openfaas/stack.yml", encoding: .utf8))
    }

    @Test func theStackBuildsOneImageFromTheRepository() throws {
        let stack = try Self.stack()
        let entries = try #require(stack["functions"]?.entries)
        #expect(entries.map(\.key).sorted() == Self.functions)
        let images = Set(entries.compactMap { $0.value["image"]?.string })
        #expect(images.count == 1, "one image for every function: \(images)")
        // faas-cli builds a `dockerfile` function with `docker build .` inside its handler folder:
        // the Dockerfile must be there, and .dockerignore keeps the build folders out of the context.
        #expect(entries.filter { $0.value["skip_build"]?.string != "true" }.count == 1)
        for (name, f) in entries {
            #expect(f["lang"]?.string == "dockerfile", "\(name)")
            let handler = try #require(f["handler"]?.string)
            #expect(FileManager.default.fileExists(atPath: Self.root + "/" + handler + "/Dockerfile"), "\(name): no Dockerfile in \(handler)")
            #expect(f["environment"]?["combine_output"]?.string == "false", "\(name): logs would precede the JSON in the body")
            #expect(f["environment"]?["fprocess"]?.string == "/opt/switchyard/bin/\(name)", "\(name)")
        }
        let ignore = try String(contentsOfFile: Self.root + "/.dockerignore", encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(ignore.contains(".build*") && ignore.contains(".git"))
    }

    @Test func theImageUsesTheProjectsSwiftAndShipsEveryFunction() throws {
        let dockerfile = try String(contentsOfFile: Self.root + "/Dockerfile", encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["swift", "--version"]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run(); p.waitUntilExit()
        let version = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let number = try #require(version.firstMatch(of: /Swift version (\d+\.\d+(\.\d+)?)/)?.1)
        #expect(dockerfile.contains("FROM swift:\(number)-"), "the image builds with another Swift than \(number)")
        #expect(dockerfile.contains("--product switchyard"))
        #expect(dockerfile.contains("for f in functions/*/"))
        // The last stage (the default target, which faas-cli builds) is the OpenFaaS one.
        let stages = dockerfile.split(separator: "\n").filter { $0.hasPrefix("FROM ") }
        #expect(stages.last?.hasSuffix("AS openfaas") == true)
        #expect(dockerfile.contains("AS kubernetes"))
    }

    /// The image's /opt/switchyard, laid out by the Dockerfile's build stage, from the built binary.
    static func imageLayout() throws -> String {
        let dir = NSTemporaryDirectory() + "opt-switchyard-\(UUID().uuidString.prefix(8))"
        let fm = FileManager.default
        try fm.createDirectory(atPath: dir + "/bin", withIntermediateDirectories: true)
        try fm.copyItem(atPath: Support.binary("switchyard"), toPath: dir + "/switchyard")
        for f in functions {
            try fm.createSymbolicLink(atPath: dir + "/bin/" + f, withDestinationPath: "../switchyard")
            try fm.createDirectory(atPath: dir + "/functions/" + f, withIntermediateDirectories: true)
            try fm.copyItem(atPath: root + "/functions/\(f)/function.yaml", toPath: dir + "/functions/\(f)/function.yaml")
        }
        return dir
    }

    @Test func everyFunctionAnswersUnderTheWatchdogWithTheStacksSettings() throws {
        let opt = try Self.imageLayout()
        let secrets = NSTemporaryDirectory() + "openfaas-secrets-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: secrets, withIntermediateDirectories: true)
        let secret = "faas-\(UUID().uuidString.prefix(8))"
        try secret.write(toFile: secrets + "/github-webhook-secret", atomically: true, encoding: .utf8)
        let stack = try Self.stack()
        let ping = Support.corpusFile("github-webhooks/ping.json")
        for (name, f) in try #require(stack["functions"]?.entries) {
            // The container's environment: the stack's, with the image's and OpenFaaS's paths relocated here.
            var env = ["PATH": "/usr/bin:/bin", "HOME": NSTemporaryDirectory()]
            for (k, v) in f["environment"]?.entries ?? [] {
                env[k] = (v.string ?? "").replacingOccurrences(of: "/opt/switchyard", with: opt)
                    .replacingOccurrences(of: "/var/openfaas/secrets", with: secrets)
            }
            // Only the secrets created exist; the others are not mounted.
            for k in Array(env.keys) where k.hasSuffix("_FILE") && !FileManager.default.fileExists(atPath: env[k]!) { env.removeValue(forKey: k) }
            let fprocess = try #require(env["fprocess"])
            let timeout = Double(env["exec_timeout"]?.dropLast() ?? "12") ?? 12
            let headers = [("Content-Type", "application/json"), ("X-GitHub-Event", "ping"), ("X-GitHub-Delivery", "faas-\(name)"),
                           ("X-Hub-Signature-256", Support.sign(ping, secret: secret)), ("User-Agent", "GitHub-Hookshot/044aadd")]
            var r = try ClassicWatchdog.invoke(fprocess: fprocess, environment: env, combineOutput: env["combine_output"] == "true",
                                               contentType: env["content_type"], execTimeout: timeout, path: "/function/\(name)",
                                               headers: headers, body: ping)
            #expect(r.status == 200, "\(name): \(String(decoding: r.body, as: UTF8.self))")
            let json = try? JSON.parse(r.body)
            #expect(json?["function"]?.string == name, "\(name): the body is not the function's JSON alone: \(String(decoding: r.body, as: UTF8.self))")
            #expect(json?["delivery"]?.string == "faas-\(name)")
            #expect(r.contentType == "application/json")
            #expect(r.logged.contains("\"message\":\"handled\""), "\(name): the log line went nowhere")
            // A forged signature: the watchdog's 500, `exit status 3`, then the function's JSON.
            let forged = headers.map { $0.0 == "X-Hub-Signature-256" ? ($0.0, "sha256=" + String(repeating: "0", count: 64)) : $0 }
            r = try ClassicWatchdog.invoke(fprocess: fprocess, environment: env, combineOutput: env["combine_output"] == "true",
                                           contentType: env["content_type"], execTimeout: timeout, headers: forged, body: ping)
            #expect(r.status == 500)
            let text = String(decoding: r.body, as: UTF8.self)
            #expect(text.hasPrefix("exit status 3\n"), "\(name): \(text)")
            #expect((try? JSON.parse(Array(text.dropFirst("exit status 3\n".count).utf8)))?["status"]?.int == 401, "\(name): \(text)")
        }
    }
}
