import Foundation
import Testing
import SwitchyardTesting

/// Every saved crash and every corpus file, through the libFuzzer entry points: none may crash.
@Suite("Fuzz regressions")
struct FuzzRegressionTests {
    @Test("replay", arguments: FuzzTargets.all)
    func replay(_ target: String) throws {
        var inputs: [[UInt8]] = []
        let saved = Support.packageRoot + "/fuzz/regressions/" + target
        for f in (try? FileManager.default.contentsOfDirectory(atPath: saved)) ?? [] {
            inputs.append(Array(FileManager.default.contents(atPath: saved + "/" + f) ?? Data()))
        }
        for dir in [Support.corpus + "/github-webhooks", Support.corpus + "/lambda", Support.packageRoot + "/events/github", Support.packageRoot + "/events/provisioner"] {
            for f in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] {
                let bytes = Array(FileManager.default.contents(atPath: dir + "/" + f) ?? Data())
                inputs.append(bytes)
                inputs.append([1] + bytes)
                inputs.append(Array(bytes.prefix(bytes.count / 2)))
            }
        }
        for input in inputs { FuzzTargets.run(target, input) }
        #expect(inputs.count > 100)
    }
}
