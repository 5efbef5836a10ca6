import Foundation
import Testing
import SwitchyardCore
import SwitchyardRuntime

/// The YAML reader against PyYAML (libyaml underneath, as here) over realistic files: every file in
/// Tests/yaml/valid (comments and `#` in quotes, every escape, block scalars with every indicator,
/// flow collections over several lines, anchors, aliases and merge keys, a BOM, CRLF, tabs in content,
/// document markers), every manifest and sample config, the OpenFaaS stack. Scalars compare as text.
/// Tests/yaml/invalid holds what must be refused, each with the words its error must carry.
@Suite("YAML against PyYAML")
struct YAMLDifferentialTests {
    static let root = Support.packageRoot

    static func files(_ dir: String, _ ext: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: root + "/" + dir)) ?? []).filter { $0.hasSuffix(ext) }.sorted().map { dir + "/" + $0 }
    }

    static func pyyaml(_ paths: [String]) throws -> JSON {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", root + "/Tests/yaml/pyyaml.py"] + paths
        p.currentDirectoryURL = URL(fileURLWithPath: root)
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return try JSON.parse(Array(data))
    }

    /// Ours, as the reference prints it: mappings as objects, scalars as text.
    static func plain(_ y: YAML) -> JSON {
        switch y {
        case .scalar(let s, _): .string(s)
        case .sequence(let items, _): .array(items.map(plain))
        case .mapping(let entries, _):
            .object(Dictionary(entries.map { ($0.key, plain($0.value)) }, uniquingKeysWith: { _, last in last }))
        }
    }

    @Test func everyValidFileReadsAsPyYAMLReadsIt() throws {
        var paths = Self.files("Tests/yaml/valid", ".yaml") + Self.files("deploy/openfaas", ".yml")
        for f in Self.files("functions", "") {
            paths += Self.files(f, ".yaml")
        }
        #expect(paths.count >= 20)
        let reference = try Self.pyyaml(paths)
        // Only the tab file needs libyaml's reading; every other file is compared with pure-Python PyYAML.
        #expect(reference["__libyaml__"]?.array == ["Tests/yaml/valid/tabs-in-content.yaml"], "\(reference["__libyaml__"] ?? nil)")
        for path in paths {
            let text = try String(contentsOfFile: Self.root + "/" + path, encoding: .utf8)
            let expected = try #require(reference[path], "\(path)")
            #expect(expected["__error__"] == nil, "PyYAML refuses \(path): \(expected)")
            do {
                let ours = Self.plain(try YAML.parse(text))
                #expect(ours == expected, "\(path):\nours   \(ours.encoded())\npyyaml \(expected.encoded())")
            } catch {
                Issue.record("\(path): \(error.message)")
            }
        }
    }

    @Test func invalidFilesAreRefusedWithWhereAndWhat() throws {
        let paths = Self.files("Tests/yaml/invalid", ".yaml")
        #expect(paths.count >= 6)
        let reference = try Self.pyyaml(paths)
        for path in paths {
            let text = try String(contentsOfFile: Self.root + "/" + path, encoding: .utf8)
            let expect = try String(contentsOfFile: Self.root + "/" + path.replacingOccurrences(of: ".yaml", with: ".expect"), encoding: .utf8)
                .split(separator: "\n").map(String.init)
            do {
                _ = try YAML.parse(text)
                Issue.record("\(path) was accepted")
            } catch {
                for words in expect { #expect(error.message.contains(words), "\(path): \(error.message) lacks \(words)") }
            }
            // PyYAML accepts duplicate keys (the last wins); Switchyard refuses them in every mapping,
            // block or flow: a repeated key is a mistake that silently drops a setting.
            if path.contains("duplicate") { #expect(reference[path]?["__error__"] == nil) }
            else { #expect(reference[path]?["__error__"] != nil, "PyYAML accepts \(path)") }
        }
    }

    @Test func aConfigErrorNamesTheFileTheLineTheColumnAndTheKeyPath() throws {
        let path = NSTemporaryDirectory() + "bad-\(UUID().uuidString.prefix(6)).yaml"
        try "defaults:\n  housekeeping:\n    welcome:\n      message: Note: read the guide\n".write(toFile: path, atomically: true, encoding: .utf8)
        let settings = try Settings(function: "housekeeping", environment: Environment(["SWITCHYARD_CONFIG": path]))
        do {
            _ = try settings.loadConfig()
            Issue.record("accepted")
        } catch {
            #expect(error.message.contains(path))
            #expect(error.message.contains("line 4, column 20"), "\(error.message)")
            #expect(error.message.contains("defaults.housekeeping.welcome"), "\(error.message)")
        }
    }
}
