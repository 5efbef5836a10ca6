import Foundation
import SwitchyardCore
import SwitchyardTesting

/// Process-level fuzzing of every function binary in every mode.
/// Usage: fuzz-functions [--count N-per-mode] [--seed S] [--function NAME …] [--corpus DIR]   (binaries beside this one)
var count = 1000
var only: [String] = []
var seed: UInt64 = 1
var corpusDir = GitHubEmulator.findCorpus() ?? "../shared/corpus"
var args = CommandLine.arguments.dropFirst().makeIterator()
while let a = args.next() {
    switch a {
    case "--count": count = Int(args.next() ?? "") ?? count
    case "--seed": seed = UInt64(args.next() ?? "") ?? seed
    case "--corpus": corpusDir = args.next() ?? corpusDir
    case "--function": only.append(args.next() ?? "")
    default: FileHandle.standardError.write(Data("usage: fuzz-functions [--count N] [--seed S] [--function NAME …] [--corpus DIR]\n".utf8)); exit(2)
    }
}
let binDir = ((try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]) as NSString
let functionsDir = URL(fileURLWithPath: binDir.deletingLastPathComponent).appendingPathComponent("../../../functions").standardized.path
let functions = ((try? FileManager.default.contentsOfDirectory(atPath: functionsDir)) ?? []).sorted().filter { only.isEmpty || only.contains($0) }
var corpus: [(event: String, body: [UInt8])] = []
for file in (try? FileManager.default.contentsOfDirectory(atPath: corpusDir + "/github-webhooks")) ?? [] {
    if let data = FileManager.default.contents(atPath: corpusDir + "/github-webhooks/" + file) {
        corpus.append((String(file.split(separator: ".")[0]), Array(data)))
    }
}
guard !corpus.isEmpty, !functions.isEmpty else { print("no corpus or no functions"); exit(2) }
var total = 0, failed = 0
for f in functions {
    var fuzzer = ProcessFuzzer(binary: binDir.deletingLastPathComponent + "/" + f, secret: "fuzz-secret", corpus: corpus, seed: seed)
    let started = Date()
    let (tried, failures) = fuzzer.run(count: count)
    total += tried; failed += failures.count
    print("\(f): \(tried) inputs, \(failures.count) failures, \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
    for x in failures.prefix(10) { print("  \(x)") }
}
print("\(total - failed) passed, \(failed) failed")
exit(failed == 0 ? 0 : 1)
