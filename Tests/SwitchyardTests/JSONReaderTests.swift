import Foundation
import Testing
import SwitchyardCore

/// The byte-level JSON reader and the decoder over it, held to Foundation's JSONDecoder (which they
/// replace) on the corpus and on malformed input.
@Suite("JSON reader against Foundation")
struct JSONReaderTests {
    static func foundation(_ bytes: [UInt8]) -> JSON? { try? JSONDecoder().decode(JSON.self, from: Data(bytes)) }

    @Test func everyCorpusDocumentReadsAlike() throws {
        var files = (try FileManager.default.contentsOfDirectory(atPath: Support.corpus + "/github-webhooks")).map { "github-webhooks/" + $0 }
        files += ["github-rest-bodies.json", "signature-vectors.json", "github-webhook-delivery-headers.json"]
        for lambda in (try? FileManager.default.contentsOfDirectory(atPath: Support.corpus + "/lambda")) ?? [] where lambda.hasSuffix(".json") {
            files.append("lambda/" + lambda)
        }
        #expect(files.count > 40)
        for f in files {
            let bytes = Support.corpusFile(f)
            #expect(try JSONReader.parse(bytes) == Self.foundation(bytes), "\(f)")
        }
    }

    @Test func everyWebhookModelDecodesAlike() throws {
        let foundation = JSONDecoder()
        foundation.keyDecodingStrategy = .convertFromSnakeCase
        let ours = JSONValueDecoder()
        for f in try FileManager.default.contentsOfDirectory(atPath: Support.corpus + "/github-webhooks") {
            let body = Data(Support.corpusFile("github-webhooks/" + f))
            switch f.split(separator: ".")[0] {
            case "pull_request": #expect(try ours.decode(PullRequestEvent.self, from: Array(body)) == foundation.decode(PullRequestEvent.self, from: body), "\(f)")
            case "issue_comment": #expect(try ours.decode(IssueCommentEvent.self, from: Array(body)) == foundation.decode(IssueCommentEvent.self, from: body), "\(f)")
            case "pull_request_review": #expect(try ours.decode(PullRequestReviewEvent.self, from: Array(body)) == foundation.decode(PullRequestReviewEvent.self, from: body), "\(f)")
            case "ping": #expect(try ours.decode(PingEvent.self, from: Array(body)) == foundation.decode(PingEvent.self, from: body), "\(f)")
            case "installation": #expect(try ours.decode(InstallationEvent.self, from: Array(body)) == foundation.decode(InstallationEvent.self, from: body), "\(f)")
            default: continue
            }
        }
    }

    /// The field-by-field readers of the webhook models against their Codable conformances.
    @Test func theFieldReadersDecodeWhatCodableDecodes() throws {
        let foundation = JSONDecoder()
        foundation.keyDecodingStrategy = .convertFromSnakeCase
        for f in try FileManager.default.contentsOfDirectory(atPath: Support.corpus + "/github-webhooks") {
            let bytes = Support.corpusFile("github-webhooks/" + f)
            let name = String(f.split(separator: ".")[0])
            let event = try WebhookEvent.decode(name: name, body: bytes)
            let body = Data(bytes)
            switch event {
            case .pullRequest(let e): #expect(e == (try foundation.decode(PullRequestEvent.self, from: body)), "\(f)")
            case .issueComment(let e): #expect(e == (try foundation.decode(IssueCommentEvent.self, from: body)), "\(f)")
            case .pullRequestReview(let e): #expect(e == (try foundation.decode(PullRequestReviewEvent.self, from: body)), "\(f)")
            case .pullRequestReviewComment(let e): #expect(e == (try foundation.decode(PullRequestReviewCommentEvent.self, from: body)), "\(f)")
            case .ping(let e): #expect(e == (try foundation.decode(PingEvent.self, from: body)), "\(f)")
            case .installation(let e): #expect(e == (try foundation.decode(InstallationEvent.self, from: body)), "\(f)")
            case .other: break
            }
        }
        // Broken payloads fail with the same words: a missing field, a wrong type, a null.
        var pr = try JSON.parse(Support.corpusFile("github-webhooks/pull_request.opened.json"))
        func breaking(_ change: (inout [String: JSON]) -> Void) throws -> String {
            guard case .object(var o) = pr, case .object(var inner)? = o["pull_request"] else { return "" }
            change(&inner); o["pull_request"] = .object(inner)
            do { _ = try WebhookEvent.decode(name: "pull_request", body: Array(JSON.object(o).encoded().utf8)); return "" }
            catch { return SwitchyardError.from(error).message }
        }
        #expect(try breaking { $0["user"] = nil } == "the pull_request payload lacks `pull_request.user`")
        #expect(try breaking { $0["number"] = "12" } == "the pull_request payload has a wrong type at `pull_request.number`")
        #expect(try breaking { $0["head"] = .null } == "the pull_request payload has null at `pull_request.head`")
        #expect(try breaking { $0["labels"] = [["color": "red"]] } == "the pull_request payload lacks `pull_request.labels.[0].name`")
        pr = .null
    }

    @Test func malformedInputIsRefusedAsFoundationRefusesIt() {
        let cases = ["", " ", "{", "}", "{\"a\" 1}", "{a:1}", "01", "-", "1.", ".5", "1e", "+1", "NaN", "Infinity",
                     "\"\\ud800\"", "\"\\udc00\"", "\"\\u12\"", "\"\\x\"", "\"a\nb\"", "tru", "nulll", "[1 2]", "\"abc", "[\"a\"]]", "{\"a\":}",
                     "1 2", "\"\\uD83D\\u0041\""]
        for c in cases {
            let bytes = Array(c.utf8)
            #expect((try? JSONReader.parse(bytes)) == nil, "\(c.debugDescription) was read")
            #expect(Self.foundation(bytes) == nil, "Foundation reads \(c.debugDescription)")
        }
        // Trailing commas: Foundation lets them pass; the reader keeps to RFC 8259.
        for c in ["[1,]", "{\"a\":1,}"] { #expect((try? JSONReader.parse(Array(c.utf8))) == nil, "\(c)") }
        // Invalid UTF-8 inside a string.
        #expect((try? JSONReader.parse([0x22, 0xC3, 0x28, 0x22])) == nil)
        // Nesting is bounded, not a stack overflow.
        #expect((try? JSONReader.parse(Array((String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)).utf8))) == nil)
    }

    @Test func valuesFoundationAgreesOn() throws {
        for c in ["0", "-0", "1e3", "-12.5e-2", "9007199254740993", "123456789012345678901234567890", "\"\\u00e9\\ud83d\\ude00\\/\\t\"",
                  "{\"a\":{\"b\":[true,false,null,1.5]}}", "  [ ]  ", "{\"dup\":1,\"dup\":2}", "\"\u{1F600} é\""] {
            let bytes = Array(c.utf8)
            #expect(try JSONReader.parse(bytes) == Self.foundation(bytes), "\(c)")
        }
        #expect(JSONValueDecoder.camelCaseForTests("head_sha") == "headSha")
        #expect(JSONValueDecoder.camelCaseForTests("_private_key_") == "_privateKey_")
        #expect(JSONValueDecoder.camelCaseForTests("node_ID") == "nodeId")
        #expect(JSONValueDecoder.camelCaseForTests("plain") == "plain")
    }

    /// Strings are scanned eight bytes at a time: every special byte (quote, backslash, control
    /// character, a multi-byte scalar) at every offset within and across words, escaped and raw, reads
    /// as Foundation reads it, and a raw control character is refused wherever it falls.
    @Test func stringsReadAlikeAtEveryOffset() throws {
        var rng = SystemRandomNumberGenerator()
        let pieces = ["a", "\\\"", "\\\\", "\\n", "\\u00e9", "\\ud83d\\ude00", "é", "\u{1F600}", "\\/", "\\t", "x", "~", "\u{7F}"]
        for length in 0..<40 {
            for _ in 0..<25 {
                let text = (0..<length).map { _ in Bool.random(using: &rng) ? "z" : pieces.randomElement(using: &rng)! }.joined()
                let document = Array("{\"k\":\"\(text)\",\"\(text)\":[\"\(text)\"]}".utf8)
                let ours = try JSONReader.parse(document)
                #expect(ours == Self.foundation(document), "\(text.debugDescription)")
            }
            for position in 0...length {
                var raw = Array(String(repeating: "y", count: length).utf8)
                raw.insert(0x01, at: position)
                #expect((try? JSONReader.parse([0x22] + raw + [0x22])) == nil, "control byte at \(position) of \(length)")
            }
        }
    }

    /// The fast UTF-8 check refuses exactly what `String(validating:as:)` refuses: random bytes biased
    /// toward the lead and continuation bytes where the edge cases are (overlong forms, surrogates,
    /// truncated and over-long sequences, U+FFFD itself).
    @Test func utf8CheckAgreesWithTheStandardLibrary() {
        var rng = SystemRandomNumberGenerator()
        let interesting: [UInt8] = [0x41, 0x7F, 0x80, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xED, 0xEF, 0xBD, 0xF0, 0xF4, 0xF5, 0xFF, 0xA0, 0x9F, 0x90, 0x8F]
        for _ in 0..<20_000 {
            let length = Int.random(in: 0...12, using: &rng)
            let bytes = (0..<length).map { _ in interesting.randomElement(using: &rng)! }
            let reference = String(validating: bytes, as: UTF8.self)
            let ours = bytes.withUnsafeBufferPointer { UTF8Text.string($0) }
            #expect(ours == reference, "\(bytes)")
        }
    }
}
