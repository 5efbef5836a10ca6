import Foundation
import SwitchyardCore
import SwitchyardTesting

/// Serves the GitHub emulator on loopback until interrupted.
/// Usage: github-emulator [--port N] [--fixture FILE.json | --demo]
var port = 0
var fixture: JSON? = nil
var args = CommandLine.arguments.dropFirst().makeIterator()
func fail(_ m: String) -> Never {
    FileHandle.standardError.write(Data("github-emulator: \(m)\nUsage: github-emulator [--port N] [--fixture FILE.json | --demo]\n".utf8))
    exit(2)
}
while let a = args.next() {
    switch a {
    case "--port": guard let p = args.next().flatMap(Int.init) else { fail("--port needs a number") }; port = p
    case "--fixture":
        guard let path = args.next(), let data = FileManager.default.contents(atPath: path) else { fail("--fixture needs a readable file") }
        do { fixture = try JSON.parse(Array(data)) } catch { fail("\(path) is not JSON") }
    case "--demo": fixture = Fixture.demo
    case "--help", "-h": fail("serves a local GitHub REST API backed by real git")
    default: fail("unknown option \(a)")
    }
}
do {
    let gh = try GitHubEmulator()
    if let fixture { try Fixture.load(fixture, into: gh) }
    let url = try gh.start(port: port)
    var banner = "GitHub emulator listening on \(url)\n"
    if fixture != nil { banner += "Tokens: \(fixture?["tokens"]?.object?.keys.sorted().joined(separator: ", ") ?? "none")\n" }
    FileHandle.standardOutput.write(Data(banner.utf8))
    signal(SIGINT, SIG_DFL)
    while true { sleep(3600) }
} catch {
    fail("\(error)")
}
