import Foundation
import Testing
import SwitchyardCore
import SwitchyardTesting

/// The tools a new user runs first: the playground under a policy of their own, and the playground and
/// load-test leaving nothing running however they end (normally, Ctrl-C, SIGTERM, an error).
@Suite("Playground and load-test", .serialized)
struct ToolsTests {
    /// A tool run with its own TMPDIR, so that every server it starts can be found by that folder.
    final class Tool {
        let process = Process()
        let tmp: String
        let output = Pipe()
        let input = Pipe()
        var text = ""

        init(_ name: String, _ arguments: [String] = [], environment: [String: String] = [:]) throws {
            tmp = NSTemporaryDirectory() + "tool-\(UUID().uuidString.prefix(8))"
            try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
            chmod(tmp, 0o755)
            process.executableURL = URL(fileURLWithPath: Support.binary(name))
            process.arguments = arguments
            var env = ProcessInfo.processInfo.environment
            env["TMPDIR"] = tmp + "/"
            env["NO_COLOR"] = "1"
            for (k, v) in environment { env[k] = v }
            process.environment = env
            process.standardOutput = output
            process.standardError = output
            process.standardInput = input
            try process.run()
        }

        /// Reads the output until `marker` appears (or the tool ends, or 120 s pass).
        func wait(for marker: String) -> Bool {
            let until = Date().addingTimeInterval(120)
            let fd = output.fileHandleForReading.fileDescriptor
            while Date() < until {
                if text.contains(marker) { return true }
                var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                guard poll(&pfd, 1, 500) >= 0 else { return false }
                if pfd.revents & Int16(POLLIN | POLLHUP) != 0 {
                    var buffer = [UInt8](repeating: 0, count: 65536)
                    let n = read(fd, &buffer, buffer.count)
                    if n <= 0 { return text.contains(marker) }
                    text += String(decoding: buffer[0..<n], as: UTF8.self)
                }
            }
            return text.contains(marker)
        }

        func finish() -> Int32 {
            _ = wait(for: "\u{0}never")
            process.waitUntilExit()
            return process.terminationStatus
        }

        /// Processes still running whose command line names this tool's temporary folder (nginx -p,
        /// lighttpd -f, fcgiwrap's socket, the activator) or that descend from one.
        func leftovers() -> [String] {
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
            return entries.compactMap { name -> String? in
                guard Int32(name) != nil, ProcessReaper.alive(Int32(name)!),
                      let raw = FileManager.default.contents(atPath: "/proc/\(name)/cmdline") else { return nil }
                let cmd = String(decoding: raw.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self)
                return cmd.contains(tmp) ? "\(name): \(cmd)" : nil
            }
        }
    }

    static let hosted = CGIHost.available(.nginx)

    @Test(.enabled(if: hosted), arguments: [SIGINT, SIGTERM])
    func theInteractivePlaygroundStopsEverythingOnASignal(_ sig: Int32) throws {
        let tool = try Tool("playground", ["--interactive"])
        #expect(tool.wait(for: "Type a command"), "\(tool.text)")
        #expect(!tool.leftovers().isEmpty, "the playground's servers were not found by their folder")
        kill(tool.process.processIdentifier, sig)
        tool.process.waitUntilExit()
        #expect(tool.process.terminationStatus == 128 + sig)
        usleep(300_000)
        #expect(tool.leftovers().isEmpty, "\(tool.leftovers())")
    }

    @Test(.enabled(if: hosted)) func theInteractivePlaygroundShowsCommentsAndReachesTheProvisionerFromChat() throws {
        let tool = try Tool("playground", ["--interactive"])
        #expect(tool.wait(for: "Type a command"))
        tool.input.fileHandleForWriting.write(Data("comment maint-mona 1 Please update.\\n/update-branch\nchat alan deploy list\ntimeline 1\n".utf8))
        try tool.input.fileHandleForWriting.close()
        #expect(tool.finish() == 0)
        let after = tool.text.components(separatedBy: "Type a command").last ?? ""
        // The comment's result in the step format, each routed function named; chat reaches label-deploy
        // and its provisioner (no "PROVISIONER_URL is not set"); the timeline shows the command line.
        #expect(after.contains("▶ maint-mona comments on #1: Please update.\\n/update-branch"), "\(after)")
        #expect(after.contains("update-branch →"), "\(after)")
        #expect(!after.contains("\"outcome\""), "raw JSON printed: \(after)")
        #expect(after.contains("▶ alan: /switchyard deploy list"))
        #expect(!after.contains("PROVISIONER_URL"), "\(after)")
        #expect(after.contains("⌘ /update-branch"))
        #expect(tool.leftovers().isEmpty, "\(tool.leftovers())")
    }

    @Test func thePlaygroundHonoursYourPolicyOnEveryPath() throws {
        let policy = NSTemporaryDirectory() + "policy-\(UUID().uuidString.prefix(6)).yaml"
        try """
            defaults:
              cla: { signers: { list: [maint-mona, octo-contributor] } }
              commands:
                update-branch: { allow: [admin] }
            """.write(toFile: policy, atomically: true, encoding: .utf8)
        let tool = try Tool("playground", environment: ["SWITCHYARD_CONFIG": policy])
        let status = tool.finish()
        #expect(status == 0, "\(tool.text)")
        #expect(tool.text.contains("Your policy: \(policy)"))
        // maint-mona is a member, not an admin: refused in the dry run and for real alike (the CGI path included).
        let dry = tool.text.components(separatedBy: "▶ 2.").last?.components(separatedBy: "▶ 3.").first ?? ""
        let real = tool.text.components(separatedBy: "▶ 3.").last?.components(separatedBy: "▶ 4.").first ?? ""
        #expect(dry.contains("rejected"), "\(dry)")
        #expect(real.contains("rejected") && !real.contains("→ done: updated"), "\(real)")
        #expect(tool.leftovers().isEmpty, "\(tool.leftovers())")
    }

    @Test(.enabled(if: hosted)) func aPlaygroundThatFailsStopsItsServersToo() throws {
        let policy = NSTemporaryDirectory() + "broken-\(UUID().uuidString.prefix(6)).yaml"
        try "defaults:\n  commands: [\n".write(toFile: policy, atomically: true, encoding: .utf8)
        let tool = try Tool("playground", environment: ["SWITCHYARD_CONFIG": policy])
        #expect(tool.finish() == 1)
        #expect(tool.text.contains(policy) && tool.text.contains("line"), "\(tool.text)")
        usleep(300_000)
        #expect(tool.leftovers().isEmpty, "\(tool.leftovers())")
    }

    @Test(.enabled(if: hosted && FileManager.default.isExecutableFile(atPath: "/usr/bin/wrk")))
    func loadTestLeavesNothingRunning() throws {
        let tool = try Tool("load-test", ["--seconds", "1", "--connections", "4"])
        #expect(tool.wait(for: "installation tokens minted"), "\(tool.text)")
        _ = tool.finish()
        usleep(300_000)
        #expect(tool.leftovers().isEmpty, "\(tool.leftovers())")
        // And on SIGTERM mid-run.
        let again = try Tool("load-test", ["--seconds", "5", "--connections", "4"])
        usleep(2_500_000)
        kill(again.process.processIdentifier, SIGTERM)
        again.process.waitUntilExit()
        usleep(300_000)
        #expect(again.leftovers().isEmpty, "\(again.leftovers())")
    }
}
