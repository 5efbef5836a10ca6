import Foundation
import Testing
import SwitchyardCore
import SwitchyardRuntime
import SwitchyardTesting

/// Every function binary, fed every sample event, calls only routes GitHub has.
@Suite("Every function against the emulator", .serialized)
struct FunctionContractTests {
    static let functions: [String] = {
        ((try? FileManager.default.contentsOfDirectory(atPath: Support.packageRoot + "/functions")) ?? []).sorted()
    }()

    static let events: [String] = {
        ((try? FileManager.default.contentsOfDirectory(atPath: Support.packageRoot + "/events/github")) ?? [])
            .filter { $0.hasSuffix(".json") }.sorted()
    }()

    @Test func thereAreFunctionsAndEvents() {
        #expect(Self.functions.contains("update-branch"))
        #expect(!Self.events.isEmpty)
    }

    @Test("only GitHub's routes", arguments: functions)
    func onlyRealRoutes(_ function: String) throws {
        let (gh, url) = try Support.world()
        for file in Self.events {
            let name = String(file.split(separator: ".")[0])
            let payload = Array(FileManager.default.contents(atPath: Support.packageRoot + "/events/github/" + file)!)
            let delivery = WebhookDelivery(event: name, payload: payload, secret: "contract-secret")
            let r = try delivery.pipe(to: Support.binary(function), environment: [
                "GITHUB_API_URL": url, "GITHUB_TOKEN": Support.token(of: gh), "GITHUB_WEBHOOK_SECRET": "contract-secret",
                "PATH": "/usr/bin:/bin"])
            let response = try? JSON.parse(r.stdout)
            #expect(response != nil, "\(function) answered \(file) with no JSON")
            // The samples name PRs this world lacks, so failures are fine; crashes and silence are not.
            #expect(r.status < 4, "\(function) exited \(r.status) on \(file)")
            #expect(response?["outcome"]?.string != nil, "\(function) gave no outcome for \(file)")
        }
        #expect(gh.contractViolations.isEmpty, "\(function): \(gh.contractViolations)")
    }

    @Test func deliveriesOverHTTPAreSignedLikeGitHub() throws {
        let secret = "delivery-secret"
        final class Seen: @unchecked Sendable { var ok = false; var event = "" }
        let seen = Seen()
        let server = try HTTPServer { r in
            do {
                try Verification.verifyGitHub(signature: r.header("x-hub-signature-256"), body: r.body, secrets: [secret])
                seen.ok = true
                seen.event = r.header("x-github-event") ?? ""
                return .json(200, ["ok": true])
            } catch { return .json(401, ["ok": false]) }
        }
        defer { server.stop() }
        let d = WebhookDelivery(event: "ping", payload: Support.corpusFile("github-webhooks/ping.json"), secret: secret)
        let r = try d.post(to: server.baseURL + "/hook")
        #expect(r.status == 200)
        #expect(seen.ok)
        #expect(seen.event == "ping")
        let forged = WebhookDelivery(event: "ping", payload: d.payload, secret: "wrong")
        #expect(try forged.post(to: server.baseURL + "/hook").status == 401)
    }
}
