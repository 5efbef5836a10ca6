import Foundation
import Testing
import SwitchyardCore

/// `JSON.encoded()` writes JSON itself; it must give JSONEncoder's text (sorted keys, slashes unescaped).
@Suite("JSON encoding")
struct JSONEncodingTests {
    static func reference(_ value: JSON) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(value)) ?? Data("null".utf8), as: UTF8.self)
    }

    @Test func matchesJSONEncoderOnTheCorpus() throws {
        var files: [String] = []
        for dir in ["github-webhooks", "lambda", "slash-commands"] {
            files += try FileManager.default.contentsOfDirectory(atPath: Support.corpus + "/" + dir).map { Support.corpus + "/\(dir)/" + $0 }
        }
        #expect(files.count > 40)
        for f in files {
            let value = try JSON.parse(Array(FileManager.default.contents(atPath: f)!))
            #expect(value.encoded() == Self.reference(value), "\(f)")
        }
    }

    @Test(arguments: [
        JSON.string("quote \" backslash \\ slash / newline \n tab \t bell \u{07} del \u{7F} é 😀"),
        ["b": 1, "a": [.number(1.5), .number(-0.25), .number(1e-7), .number(3e20), 12345678901234], "B": nil, "é": true, "aa": false],
        .number(.nan), .number(-0.0), .array([]), .object([:]),
    ] as [JSON])
    func matchesJSONEncoder(_ value: JSON) {
        #expect(value.encoded() == Self.reference(value))
    }
}
