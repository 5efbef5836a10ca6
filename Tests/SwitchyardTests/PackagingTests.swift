import Foundation
import Testing
import SwitchyardCore
import SwitchyardTesting

/// The deploy/ packaging: Lambda zips exercised against the Runtime API, OpenFaaS stack consistency.
@Suite("Packaging", .serialized)
struct PackagingTests {
    static let zipDir = Support.packageRoot + "/.build-release/lambda"
    static var zipsBuilt: Bool { FileManager.default.fileExists(atPath: zipDir + "/update-branch.zip") }

    @Test func ciBuildsTheZips() {
        if ProcessInfo.processInfo.environment["CI"] != nil { #expect(Self.zipsBuilt, "CI runs deploy/lambda/build.sh before the tests") }
    }

    @Test(.enabled(if: zipsBuilt)) func lambdaZipBootstrapAnswersTheRuntimeAPI() throws {
        let functions = try FileManager.default.contentsOfDirectory(atPath: Support.packageRoot + "/functions").sorted()
        let (gh, url) = try Support.world()
        for f in functions {
            let dir = NSTemporaryDirectory() + "zip-\(f)-\(UUID().uuidString.prefix(6))"
            let unzip = Process()
            unzip.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
            unzip.arguments = ["-c", "import sys, zipfile, os; z = zipfile.ZipFile(sys.argv[1]); z.extractall(sys.argv[2]); " +
                               "[os.chmod(os.path.join(sys.argv[2], i.filename), i.external_attr >> 16) for i in z.infolist()]",
                               "\(Self.zipDir)/\(f).zip", dir]
            try unzip.run(); unzip.waitUntilExit()
            #expect(unzip.terminationStatus == 0)
            #expect(FileManager.default.isExecutableFile(atPath: dir + "/bootstrap"), "\(f).zip has no executable bootstrap")
            #expect(FileManager.default.fileExists(atPath: dir + "/functions/\(f)/function.yaml"))

            let api = LambdaRuntimeAPI()
            let address = try api.start()
            let p = Process()
            p.executableURL = URL(fileURLWithPath: dir + "/bootstrap")
            p.currentDirectoryURL = URL(fileURLWithPath: dir)
            p.environment = ["AWS_LAMBDA_RUNTIME_API": address, "GITHUB_WEBHOOK_SECRET": "zip-secret", "GITHUB_API_URL": url,
                             "GITHUB_TOKEN": Support.token(of: gh), "SWITCHYARD_FUNCTIONS_DIR": dir + "/functions", "PATH": "/usr/bin:/bin"]
            p.standardError = FileHandle.nullDevice
            p.standardOutput = FileHandle.nullDevice
            try p.run()
            let ping = api.enqueue(Support.envelope(event: "ping", body: Support.corpusFile("github-webhooks/ping.json"), secret: "zip-secret", base64: true))
            let r = api.result(ping)
            #expect(r?.kind == "response", "\(f)")
            #expect(r?.body?["statusCode"]?.int == 200, "\(f)")
            let forged = api.enqueue(Support.envelope(event: "ping", body: Support.corpusFile("github-webhooks/ping.json"), secret: "nope"))
            #expect(api.result(forged)?.body?["statusCode"]?.int == 401, "\(f)")
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            api.stop()
        }
    }

    @Test func openFaaSStackNamesEveryFunction() throws {
        let stack = try String(contentsOfFile: Support.packageRoot + "/deploy/openfaas/stack.yml", encoding: .utf8)
        let functions = try FileManager.default.contentsOfDirectory(atPath: Support.packageRoot + "/functions")
        for f in functions {
            #expect(stack.contains("\n  \(f):\n"), "stack.yml lacks \(f)")
            #expect(stack.contains("fprocess: /opt/switchyard/bin/\(f)"), "stack.yml has no fprocess for \(f)")
        }
    }

    @Test func lambdaTemplateNamesEveryFunction() throws {
        let template = try String(contentsOfFile: Support.packageRoot + "/deploy/lambda/template.yaml", encoding: .utf8)
        for f in try FileManager.default.contentsOfDirectory(atPath: Support.packageRoot + "/functions") {
            #expect(template.contains("lambda/\(f).zip"), "template.yaml lacks \(f)")
        }
    }
}
