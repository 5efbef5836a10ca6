import Foundation
import Testing
import SwitchyardCore

/// Every `sh` block in README.md and functions/*/README.md runs as written, offline, from the
/// repository root after `swift build`, unless the line before it says why it is not run here
/// (`<!-- not run … -->`, or CI running it itself). A block passes when it exits 0 and no function in
/// it answers `failed`.
@Suite("README examples", .serialized)
struct ReadmeExamplesTests {
    struct Block: CustomTestStringConvertible, Sendable {
        var file: String
        var line: Int
        var marker: String?
        var script: String
        var testDescription: String { "\(file):\(line)" }
    }

    static let blocks: [Block] = {
        let root = Support.packageRoot
        var files = ["README.md"]
        for f in ((try? FileManager.default.contentsOfDirectory(atPath: root + "/functions")) ?? []).sorted() {
            files.append("functions/\(f)/README.md")
        }
        var out: [Block] = []
        for file in files {
            guard let text = try? String(contentsOfFile: root + "/" + file, encoding: .utf8) else { continue }
            let lines = text.components(separatedBy: "\n")
            var i = 0
            while i < lines.count {
                if lines[i].hasPrefix("```sh") {
                    let start = i
                    var body: [String] = []
                    i += 1
                    while i < lines.count, !lines[i].hasPrefix("```") { body.append(lines[i]); i += 1 }
                    let before = lines[..<start].last { !$0.trimmingCharacters(in: .whitespaces).isEmpty } ?? ""
                    let marker = before.hasPrefix("<!--") ? before : nil
                    out.append(Block(file: file, line: start + 1, marker: marker, script: body.joined(separator: "\n")))
                }
                i += 1
            }
        }
        return out
    }()

    @Test func everyBlockIsRunOrSaysWhyNot() {
        #expect(Self.blocks.count >= 5)
        for b in Self.blocks where b.marker != nil {
            let m = b.marker!
            #expect(m.contains("not run") && m.count > 30, "\(b.file):\(b.line): a skipped block must say why: \(m)")
        }
    }

    /// Processes in session `sid` (field 6 of /proc/PID/stat).
    static func session(_ sid: Int32) -> [(pid: Int32, command: String)] {
        var out: [(Int32, String)] = []
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(entry), let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            // fields: state ppid pgrp session ...
            guard fields.count > 3, Int32(fields[3]) == sid, fields[0] != "Z" else { continue }
            let cmd = (try? String(contentsOfFile: "/proc/\(entry)/cmdline", encoding: .utf8))?
                .replacingOccurrences(of: "\0", with: " ") ?? entry
            out.append((pid, cmd))
        }
        return out
    }

    @Test(arguments: blocks.filter { $0.marker == nil })
    func runsAsWritten(_ block: Block) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("readme-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let p = Process()
        // Its own session, so whatever the block starts can be found afterwards; signals as a user's
        // shell has them (the test runner blocks SIGTERM, and `kill %1` would then do nothing).
        p.executableURL = URL(fileURLWithPath: "/usr/bin/setsid")
        p.arguments = ["-f", "-w", "/usr/bin/env", "--default-signal", "/bin/bash", "-euo", "pipefail", "-c",
                       "printf %s $$ > \(dir)/sid\n" + block.script]
        p.currentDirectoryURL = URL(fileURLWithPath: Support.packageRoot)
        // A new user's shell: no Switchyard variables from the test's own environment.
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("SWITCHYARD_") && !$0.key.hasPrefix("GITHUB_") }
        env["NO_COLOR"] = "1"
        p.environment = env
        // Files, not pipes: a process the block leaves behind cannot hold the test's read open.
        FileManager.default.createFile(atPath: dir + "/out", contents: nil)
        FileManager.default.createFile(atPath: dir + "/err", contents: nil)
        p.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: dir + "/out"))
        p.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: dir + "/err"))
        try p.run()
        let deadline = Date().addingTimeInterval(120)
        while p.isRunning && Date() < deadline { usleep(50_000) }
        let timedOut = p.isRunning
        let sid = Int32((try? String(contentsOfFile: dir + "/sid", encoding: .utf8)) ?? "") ?? 0
        usleep(200_000)
        let leftovers = sid > 0 ? Self.session(sid) : []
        for l in leftovers { kill(l.pid, SIGKILL) }
        if timedOut { kill(p.processIdentifier, SIGKILL) }
        p.waitUntilExit()
        let stdout = (try? String(contentsOfFile: dir + "/out", encoding: .utf8)) ?? ""
        let stderr = (try? String(contentsOfFile: dir + "/err", encoding: .utf8)) ?? ""
        #expect(!timedOut, "\(block.file):\(block.line) still running after 120 s")
        #expect(leftovers.isEmpty, "\(block.file):\(block.line) left running: \(leftovers.map(\.command))")
        #expect(p.terminationStatus == 0, "\(block.file):\(block.line) exited \(p.terminationStatus)\n\(stdout)\n\(stderr.suffix(2000))")
        let answers = stdout.split(separator: "\n").compactMap { try? JSON.parse(Array($0.utf8)) }
        #expect(!answers.isEmpty, "\(block.file):\(block.line) printed no function answer")
        for a in answers { #expect(a["outcome"]?.string != "failed", "\(block.file):\(block.line): \(a.encoded())") }
    }
}
