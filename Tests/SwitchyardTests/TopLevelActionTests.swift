import Foundation
import Testing
import SwitchyardCore

/// slash-dispatch ignores unrouted events from their name and top-level action, before decoding;
/// the byte scan must agree with a real JSON parse.
@Suite("Top-level action scan")
struct TopLevelActionTests {
    @Test(arguments: [
        (#"{"action":"edited","number":1}"#, "edited"),
        (#"{ "pull_request": {"action": "inner"}, "action" : "opened" }"#, "opened"),
        (#"{"a":"\"action\":\"fake\"","action":"real"}"#, "real"),
        (#"{"list":[{"action":"x"}],"action":"closed"}"#, "closed"),
        (#"{"zen":"keep it simple","hook_id":1}"#, nil),
        (#"{"action":1}"#, nil),
        (#"{"action":"unterminated"#, nil),
        (#"[{"action":"x"}]"#, nil),
        (#"{"act\u0069on":"escaped key"}"#, nil),
        ("", nil),
    ] as [(String, String?)])
    func scans(_ text: String, _ expected: String?) {
        #expect(WebhookEvent.topLevelAction(Array(text.utf8)) == expected, "\(text)")
    }

    @Test func agreesWithTheParserOnEveryCorpusWebhook() throws {
        let dir = Support.corpus + "/github-webhooks"
        let files = try FileManager.default.contentsOfDirectory(atPath: dir)
        #expect(files.count > 20)
        for f in files {
            let bytes = Array(FileManager.default.contents(atPath: dir + "/" + f)!)
            #expect(WebhookEvent.topLevelAction(bytes) == (try JSON.parse(bytes))["action"]?.string, "\(f)")
        }
    }
}
