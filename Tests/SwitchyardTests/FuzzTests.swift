import Foundation
import Testing
import SwitchyardCore
import SwitchyardTesting

/// A bounded process-level fuzz run over every function in every mode (bench/fuzz.sh runs long ones).
@Suite("Process fuzzing")
struct FuzzTests {
    static let functions = ((try? FileManager.default.contentsOfDirectory(atPath: Support.packageRoot + "/functions")) ?? []).sorted()

    @Test("malformed and hostile requests", arguments: functions)
    func fuzz(_ function: String) throws {
        let dir = Support.corpus + "/github-webhooks"
        let corpus = try FileManager.default.contentsOfDirectory(atPath: dir).map {
            (String($0.split(separator: ".")[0]), Array(FileManager.default.contents(atPath: dir + "/" + $0)!))
        }
        let count = Int(ProcessInfo.processInfo.environment["SWITCHYARD_FUZZ_COUNT"] ?? "") ?? 30
        var fuzzer = ProcessFuzzer(binary: Support.binary(function), secret: "fuzz-secret", corpus: corpus, seed: UInt64(function.utf8.count * 7919))
        let (tried, failures) = fuzzer.run(count: count)
        #expect(tried == count * 3)
        #expect(failures.isEmpty, "\(failures.prefix(5))")
    }
}
