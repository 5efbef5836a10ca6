import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
import SwitchyardCore
import SwitchyardTesting
import LabelDeploy

/// The provisioner emulator and the label-deploy client held to the facts recorded from
/// mattermost-cloud's source (`shared/corpus/provisioner/README.md`), so the two cannot agree on a
/// reading of the provisioner that the provisioner does not share.
@Suite("provisioner contract")
struct ProvisionerContractTests {
    static let facts: String = String(decoding: Support.corpusFile("provisioner/README.md"), as: UTF8.self)

    /// The backticked values in the CreateInstallationRequest table's row for `field`, up to the first
    /// full stop after the list ("Also `provisionerXL…`" is a pattern, not a value).
    static func values(_ field: String) throws -> Set<String> {
        let row = try #require(facts.split(separator: "\n").first { $0.hasPrefix("| `\(field)` |") })
        var cell = String(row.split(separator: "|")[1])
        if let stop = cell.range(of: ". Also") { cell = String(cell[..<stop.lowerBound]) }
        let parts = cell.split(separator: "`", omittingEmptySubsequences: false)
        return Set(stride(from: 1, to: parts.count, by: 2).map { String(parts[$0]) })
    }

    @Test func enumerationsMatchTheSource() throws {
        let sizes = try Self.values("Size")
        #expect(ProvisionerEmulator.sizes == sizes, "\(sizes)")
        #expect(LabelDeploy.provisionerSizes == ProvisionerEmulator.sizes)
        #expect(ProvisionerEmulator.affinities == (try Self.values("Affinity")))
        #expect(ProvisionerEmulator.databases == (try Self.values("Database")))
        #expect(ProvisionerEmulator.filestores == (try Self.values("Filestore")))
        // The client's defaults are values the provisioner accepts, and what the bots send.
        for p in [LabelDeploy.Placement.spinwick, .cloudPlugin] {
            #expect(ProvisionerEmulator.affinities.contains(p.affinity ?? ""))
            #expect(ProvisionerEmulator.databases.contains(p.database ?? ""))
            #expect(ProvisionerEmulator.filestores.contains(p.filestore ?? ""))
            #expect(p.annotations == ["multi-tenant"])
        }
        #expect(Self.facts.contains("`Image` | Default `\(ProvisionerEmulator.defaultImage)`"))
        #expect(Self.facts.contains(LabelDeploy.Placement.spinwick.image! + ":<sha7>"))
        #expect(LabelDeploy.Placement.spinwick.database == "aws-multitenant-rds-postgres-pgbouncer")
    }

    @Test func everyStateTheEmulatorReachesIsARealState() throws {
        let statesSection = try #require(Self.facts.range(of: "**States**"))
        let text = Self.facts[statesSection.upperBound...].prefix(3000)
        let parts = text.split(separator: "`", omittingEmptySubsequences: false)
        let known = Set(stride(from: 1, to: parts.count, by: 2).map { String(parts[$0]) })
        let prov = ProvisionerEmulator()
        let url = try prov.start()
        defer { prov.stop() }
        func call(_ method: String, _ path: String, _ body: JSON? = nil) throws -> (Int, JSON) {
            try Self.send(method, url + path, body)
        }
        var (status, created) = try call("POST", "/api/installations",
                                         ["OwnerID": "o1", "Name": "alpha", "DNSNames": ["alpha.example.com"], "Annotations": ["multi-tenant"]])
        #expect(status == 202)
        let id = try #require(created["ID"]?.string)
        #expect(id.count == 26 && id.allSatisfy { $0.isLetter || $0.isNumber })
        prov.settle()
        (status, _) = try call("PUT", "/api/installation/\(id)/mattermost", ["Version": "10.3.0"])
        prov.settle()
        _ = try call("POST", "/api/installation/\(id)/hibernate")
        prov.settle()
        _ = try call("POST", "/api/installation/\(id)/wakeup", [:])
        prov.settle()
        _ = try call("DELETE", "/api/installation/\(id)")
        prov.settle()
        var seen: Set<String> = []
        for e in prov.events {
            seen.insert(e.payload["new_state"]?.string ?? "")
            seen.insert(e.payload["old_state"]?.string ?? "")
            // The legacy webhook: snake_case, nanosecond timestamps, Name in extra_data and no DNS.
            if case .number(let ns)? = e.payload["timestamp"] { #expect(ns > 1.7e18) } else { Issue.record("no timestamp") }
            #expect(e.payload["extra_data"]?["Name"]?.string == "alpha" && e.payload["extra_data"]?["DNS"] == nil)
        }
        #expect(seen.isSubset(of: known), "\(seen.subtracting(known))")
        #expect(seen.contains("deletion-pending") && seen.contains("deleted") && seen.contains("hibernating"))
    }

    @Test func theEmulatorAnswersAsTheProvisionerDoes() throws {
        let prov = ProvisionerEmulator()
        let url = try prov.start()
        defer { prov.stop() }
        func create(_ extra: [String: JSON], name: String) throws -> (Int, JSON) {
            var o: [String: JSON] = ["OwnerID": "o", "Name": .string(name), "DNSNames": [.string("\(name).example.com")]]
            for (k, v) in extra { o[k] = v }
            return try Self.send("POST", url + "/api/installations", .object(o))
        }
        // Closed lists are 400s.
        #expect(try create(["Size": "bogus"], name: "s1").0 == 400)
        #expect(try create(["Affinity": "shared"], name: "s2").0 == 400)
        #expect(try create(["Database": "sqlite"], name: "s3").0 == 400)
        #expect(try create(["Filestore": "ftp"], name: "s4").0 == 400)
        #expect(try create([:], name: "s5").0 == 202)
        #expect(try create(["Size": "provisionerXL-3"], name: "s6").0 == 202)
        // The DNS name starts with the name.
        var (status, _) = try Self.send("POST", url + "/api/installations", ["OwnerID": "o", "Name": "abc", "DNSNames": ["xyz.example.com"]])
        #expect(status == 400)
        // An env entry without a value is refused on creation; `Value` is read as Go reads it, `value` is written.
        #expect(try create(["MattermostEnv": ["A": [:]]], name: "e1").0 == 400)
        let (s, body) = try create(["MattermostEnv": ["A": ["Value": "1"], "B": ["value": "2"]]], name: "e2")
        #expect(s == 202)
        #expect(body["MattermostEnv"]?["A"]?["value"]?.string == "1" && body["MattermostEnv"]?["B"]?["value"]?.string == "2")
        #expect(body["MattermostEnv"]?["A"]?["Value"] == nil)
        // Defaults as the provisioner fills them.
        #expect(body["Image"]?.string == "mattermost/mattermost-enterprise-edition" && body["Version"]?.string == "stable")
        #expect(body["Size"]?.string == "100users" && body["Affinity"]?.string == "isolated")
        // Annotations schedule: one no cluster carries keeps the installation waiting.
        let (_, waiting) = try create(["Annotations": ["multi-tenant", "notify-alan"]], name: "w1")
        let (_, placed) = try create(["Annotations": ["multi-tenant"]], name: "w2")
        prov.settle()
        #expect(prov.installation(waiting["ID"]!.string!)?.state == "creation-no-compatible-clusters")
        #expect(prov.installation(placed["ID"]!.string!)?.state == "stable")
        // A cluster that has the annotation appears: the waiting one is scheduled.
        prov.clusters = [["multi-tenant"], ["multi-tenant", "notify-alan"]]
        prov.settle()
        #expect(prov.installation(waiting["ID"]!.string!)?.state == "stable")
        // A name in deletion-pending stays reserved.
        (status, _) = try Self.send("DELETE", url + "/api/installation/\(placed["ID"]!.string!)", nil)
        #expect(status == 202)
        #expect(prov.installation(placed["ID"]!.string!)?.state == "deletion-pending-requested")
        #expect(try create([:], name: "w2").0 == 409)
        // Webhook registration: lower-case header keys, 202.
        (status, _) = try Self.send("POST", url + "/api/webhooks", ["OwnerID": "x", "URL": "https://hooks.example.com/p",
                                                                   "Headers": [["key": "X-Token", "value": "t"]]])
        #expect(status == 202)
        (status, _) = try Self.send("POST", url + "/api/webhooks", ["OwnerID": "x", "URL": "ftp://hooks.example.com/p"])
        #expect(status == 400)
    }

    static func send(_ method: String, _ url: String, _ body: JSON?) throws -> (Int, JSON) {
        var req = URLRequest(url: URL(string: url)!)
        req.httpMethod = method
        if let body { req.httpBody = Data(body.encoded().utf8); req.setValue("application/json", forHTTPHeaderField: "Content-Type") }
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: (Int, JSON) = (0, .null)
        URLSession.shared.dataTask(with: req) { data, response, _ in
            let status = (response as? HTTPURLResponse)?.statusCode ?? 0
            result = (status, data.flatMap { try? JSON.parse(Array($0)) } ?? .null)
            done.signal()
        }.resume()
        _ = done.wait(timeout: .now() + 10)
        return result
    }
}
