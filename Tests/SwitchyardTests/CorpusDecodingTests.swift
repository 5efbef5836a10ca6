import Foundation
import Testing
import SwitchyardCore
import SwitchyardRuntime

@Suite("Corpus decoding")
struct CorpusDecodingTests {
    static let webhookFiles: [String] = {
        (try? FileManager.default.contentsOfDirectory(atPath: Support.corpus + "/github-webhooks"))?.sorted() ?? []
    }()

    @Test func corpusIsPresent() { #expect(Self.webhookFiles.count >= 40) }

    @Test("every webhook payload decodes", arguments: webhookFiles)
    func webhook(_ file: String) throws {
        let name = String(file.split(separator: ".")[0])
        let body = Support.corpusFile("github-webhooks/" + file)
        let event = try WebhookEvent.decode(name: name, body: body)
        #expect(event.name == name)
        if let inferred = WebhookEvent.inferName(from: try JSON.parse(body)) {
            #expect(inferred == name)
        }
        switch event {
        case .pullRequest(let e): #expect(e.pullRequest.number > 0)
        case .issueComment(let e): #expect(e.comment.id > 0)
        case .ping(let e): #expect(e.zen != nil)
        default: break
        }
    }

    @Test func unknownActionAndExtraFieldsDecode() throws {
        let body = Array(#"{"action":"teleported","number":1,"brand_new":{"x":1},"pull_request":{"number":1,"state":"open","title":"t","user":{"login":"u"},"head":{"ref":"a","sha":"1"},"base":{"ref":"b","sha":"2"}},"repository":{"name":"r","full_name":"o/r","owner":{"login":"o"}},"sender":{"login":"u"}}"#.utf8)
        guard case .pullRequest(let e) = try WebhookEvent.decode(name: "pull_request", body: body) else { Issue.record("not a PR"); return }
        #expect(e.action == .other("teleported"))
    }

    @Test func missingFieldIsNamed() {
        do {
            _ = try WebhookEvent.decode(name: "issue_comment", body: Array(#"{"action":"created"}"#.utf8))
            Issue.record("decoded")
        } catch let e as SwitchyardError {
            #expect(e.kind == .badRequest)
            #expect(e.message.contains("issue"))
        } catch { Issue.record("\(error)") }
    }

    @Test func commentNormalization() throws {
        let merged = try WebhookEvent.decode(name: "pull_request_review_comment", body: Support.corpusFile("github-webhooks/pull_request_review_comment.created.json"))
        let c = try #require(CommentTrigger(merged))
        #expect(c.kind == .reviewComment)
        #expect(c.isPullRequest)
        let issue = try WebhookEvent.decode(name: "issue_comment", body: Support.corpusFile("github-webhooks/issue_comment.created.json"))
        #expect(CommentTrigger(issue)?.isPullRequest == false)
        let opened = try WebhookEvent.decode(name: "pull_request", body: Support.corpusFile("github-webhooks/pull_request.opened.json"))
        if let t = CommentTrigger(opened) { #expect(t.kind == .pullRequestBody) }
        let nullBody = try WebhookEvent.decode(name: "pull_request", body: Support.corpusFile("github-webhooks/pull_request.opened.3.json"))
        #expect(CommentTrigger(nullBody) == nil)
    }

    @Test func slashCommandsDecode() throws {
        let mm = try JSON.parse(Support.corpusFile("slash-commands/mattermost.custom-slash-command.json"))
        let raw = try #require(mm["documented_example"]?["raw_body"]?.string)
        let form = try FormFields(parsing: Array(raw.utf8))
        let chat = try ChatCommand(platform: .mattermost, form: form)
        #expect(chat.command == "/weather")
        #expect(chat.text == "toronto week")
        #expect(chat.userName == "alan")
        #expect(chat.responseURL == "http://localhost:8066/hooks/commands/i11f6nnfgfyk8eg56x9omc6dpa")

        let slack = try JSON.parse(Support.corpusFile("signature-vectors.json"))["slack_v0_signature"]!["body"]!.string!
        let s = try ChatCommand(platform: .slack, form: try FormFields(parsing: Array(slack.utf8)))
        #expect(s.command == "/webhook-collect")
        #expect(s.userName == "roadrunner")

        let slackFile = try JSON.parse(Support.corpusFile("slash-commands/slack.slash-command.json"))
        var bodies: [String] = []
        func collect(_ j: JSON) {
            if let o = j.object { for (k, v) in o { if (k == "raw_body" || k == "body"), let s = v.string, s.contains("command=") { bodies.append(s) } else { collect(v) } } }
            if let a = j.array { a.forEach(collect) }
        }
        collect(slackFile)
        for b in bodies {
            let cmd = try ChatCommand(platform: .slack, form: try FormFields(parsing: Array(b.utf8)))
            #expect(cmd.command.hasPrefix("/"))
        }
    }

    @Test func brokenFormsAreBadRequests() {
        #expect(throws: SwitchyardError.self) { try FormFields(parsing: Array("a=%zz".utf8)) }
        #expect(throws: SwitchyardError.self) { try FormFields(parsing: Array("a=%".utf8)) }
        #expect(throws: SwitchyardError.self) { try FormFields(parsing: [0x61, 0x3D, 0xFF]) }
        #expect(throws: SwitchyardError.self) { try ChatCommand(platform: .slack, form: try FormFields(parsing: Array("text=x".utf8))) }
    }

    static let lambdaFiles: [String] = {
        ((try? FileManager.default.contentsOfDirectory(atPath: Support.corpus + "/lambda")) ?? []).filter { !$0.contains("response") }.sorted()
    }()

    @Test("every Lambda request event is an envelope", arguments: lambdaFiles)
    func lambdaEnvelope(_ file: String) throws {
        let json = try JSON.parse(Support.corpusFile("lambda/" + file))
        let request = try #require(try IncomingRequest.envelope(json))
        #expect(!request.method.isEmpty)
        if json["isBase64Encoded"]?.bool == true, let text = json["body"]?.string {
            #expect(request.body == Array(Data(base64Encoded: text)!))
        }
    }
}
