import Foundation
import Testing
import SwitchyardCore
import SwitchyardTesting

/// The deploy/ packaging: OpenFaaS stack consistency (the Lambda package has its own suite).
@Suite("Packaging", .serialized)
struct PackagingTests {
    @Test func openFaaSStackNamesEveryFunction() throws {
        let stack = try String(contentsOfFile: Support.packageRoot + "/deploy/openfaas/stack.yml", encoding: .utf8)
        let functions = try FileManager.default.contentsOfDirectory(atPath: Support.packageRoot + "/functions")
        for f in functions {
            #expect(stack.contains("\n  \(f):\n"), "stack.yml lacks \(f)")
            #expect(stack.contains("fprocess: /opt/switchyard/bin/\(f)"), "stack.yml has no fprocess for \(f)")
        }
    }
}
