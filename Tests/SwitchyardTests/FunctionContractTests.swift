import Foundation
import Testing
import SwitchyardCore
import SwitchyardRuntime
import SwitchyardTesting
import UpdateBranch
import SlaCheck
import CherryPick
import E2ETrigger
import Housekeeping
import LabelDeploy

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

    /// A function answers events outside its manifest without decoding them, so its declared set must
    /// cover every event its manifest lists.
    @Test func declaredEventsCoverTheManifests() throws {
        let capabilities: [any Capability] = [UpdateBranch(), SlaCheck(), CherryPick(), E2ETrigger(), Housekeeping(), LabelDeploy()]
        #expect(capabilities.count == Self.functions.count - 1, "every function but slash-dispatch declares its events")
        for c in capabilities {
            let text = try String(contentsOfFile: Support.packageRoot + "/functions/\(c.name)/function.yaml", encoding: .utf8)
            let manifest = try FunctionManifest(yaml: text)
            let declared = try #require(c.events, "\(c.name) declares no events")
            for t in manifest.github where t.event != "ping" {
                #expect(declared.contains(t.event), "\(c.name)'s manifest lists \(t.event), which it would ignore")
            }
        }
    }

    /// slash-dispatch reads only the `triggers` section for every event: that reading agrees with the
    /// whole manifest's, for every function and for a manifest written with CRLFs, comments, a key that
    /// starts like `triggers`, and the sections in another order.
    @Test func triggersOnlyReadingAgreesWithTheWholeManifest() throws {
        func summary(_ m: FunctionManifest) -> [String] {
            [m.name] + m.github.map { "\($0.event) \($0.actions) \($0.commands)" } + ["chat \(m.chatCommands)"]
        }
        var texts = try Self.functions.map { try String(contentsOfFile: Support.packageRoot + "/functions/\($0)/function.yaml", encoding: .utf8) }
        texts.append("# a manifest\r\ncommands:\r\n  go:\r\n    summary: x\r\ntriggersx: 1\r\ntriggers:\r\n  github:\r\n"
                     + "    - event: issue_comment   # comments\r\n      commands: [go]\r\n  chat:\r\n    commands: [go]\r\nname: odd\r\n")
        texts.append("name: flow\ntriggers: {github: [{event: push}, {event: pull_request, actions: [opened]}]}\ndescription: d\n")
        for text in texts {
            let whole = try FunctionManifest(yaml: text), triggers = try FunctionManifest(yaml: text, sections: ["triggers"])
            #expect(summary(whole) == summary(triggers))
            #expect(!whole.github.isEmpty)
        }
    }

    @Test func unhandledEventsAreVerifiedThenIgnoredUndecoded() throws {
        // Not JSON at all: only a function that decodes it would notice.
        let body = Array("not json, never decoded".utf8)
        var r = try Support.run("update-branch", environment: ["GITHUB_WEBHOOK_SECRET": "s"],
                                stdin: Support.envelope(event: "pull_request", body: body, secret: "s"))
        #expect(r.json?["outcome"]?.string == "ignored", "\(r.stdout)")
        #expect(r.json?["message"]?.string == "update-branch does not handle pull_request events")
        r = try Support.run("update-branch", environment: ["GITHUB_WEBHOOK_SECRET": "s"],
                            stdin: Support.envelope(event: "pull_request", body: body, secret: "wrong"))
        #expect(r.json?["status"]?.int == 401, "verification comes first: \(r.stdout)")
        r = try Support.run("update-branch", environment: ["GITHUB_WEBHOOK_SECRET": "s"],
                            stdin: Support.envelope(event: "issue_comment", body: body, secret: "s"))
        #expect(r.json?["status"]?.int == 400, "a handled event is decoded: \(r.stdout)")
    }
}
