import Crypto
import Foundation
import Testing
import SwitchyardCore
import SwitchyardRuntime

@Suite("Request signatures")
struct SignatureTests {
    let vectors = try! JSON.parse(Support.corpusFile("signature-vectors.json"))

    @Test func githubVector() throws {
        let v = try #require(vectors["github_x_hub_signature_256"])
        let body = Array(v["payload"]!.string!.utf8)
        #expect(Verification.hmacHex(secret: v["secret"]!.string!, body: body) == v["expected_hex"]!.string!)
        try Verification.verifyGitHub(signature: v["expected_header"]!.string!, body: body, secrets: [v["secret"]!.string!])
        // Upper-case hex is the same signature.
        try Verification.verifyGitHub(signature: "sha256=" + v["expected_hex"]!.string!.uppercased(), body: body, secrets: [v["secret"]!.string!])
        // Rotation: any configured secret may match.
        try Verification.verifyGitHub(signature: v["expected_header"]!.string!, body: body, secrets: ["old", v["secret"]!.string!])
        #expect(throws: SwitchyardError.self) {
            try Verification.verifyGitHub(signature: v["expected_header"]!.string!, body: body + [0x20], secrets: [v["secret"]!.string!])
        }
        #expect(throws: SwitchyardError.self) {
            try Verification.verifyGitHub(signature: v["expected_header"]!.string!, body: body, secrets: ["wrong"])
        }
    }

    @Test func legacySha1HeaderIsNotAccepted() throws {
        let v = try #require(vectors["github_x_hub_signature_sha1_derived"])
        #expect(throws: SwitchyardError.self) {
            try Verification.verifyGitHub(signature: v["expected_header"]!.string!, body: Array(v["payload"]!.string!.utf8), secrets: [v["secret"]!.string!])
        }
        #expect(throws: SwitchyardError.self) {
            try Verification.verifyGitHub(signature: nil, body: [1], secrets: ["s"])
        }
    }

    @Test func slackVector() throws {
        let v = try #require(vectors["slack_v0_signature"])
        let body = Array(v["body"]!.string!.utf8)
        let ts = v["timestamp"]!.string!
        try Verification.verifySlack(signature: v["expected_signature"]!.string!, timestamp: ts, body: body,
                                     secrets: [v["signing_secret"]!.string!], nowSeconds: Int64(ts)! + 10)
        // A stale timestamp is refused even with a valid signature.
        #expect(throws: SwitchyardError.self) {
            try Verification.verifySlack(signature: v["expected_signature"]!.string!, timestamp: ts, body: body,
                                         secrets: [v["signing_secret"]!.string!], nowSeconds: Int64(ts)! + 301)
        }
        #expect(throws: SwitchyardError.self) {
            try Verification.verifySlack(signature: v["expected_signature"]!.string!, timestamp: ts, body: body + [0x26],
                                         secrets: [v["signing_secret"]!.string!], nowSeconds: Int64(ts)!)
        }
    }

    @Test func rfc4231Vectors() throws {
        let cases = try #require(vectors["rfc4231_hmac_sha256"]?["cases"]?.array)
        #expect(cases.count == 6)
        for c in cases {
            let key = hex(c["key_hex"]!.string!)
            let data = c["data_hex"]?.string.map(hex) ?? Array(c["data_text"]!.string!.utf8)
            #expect(Verification.hmacHex(key: key, body: data) == c["expected_hex"]!.string!, "case \(c["case"]!.int!)")
        }
    }

    /// The one-call HMAC over OpenSSL's SHA-256 agrees with swift-crypto's `HMAC<SHA256>` around every
    /// boundary that matters: keys shorter than, equal to and longer than the 64-byte block (hashed
    /// first), empty messages, messages across block edges, and sequences that are not contiguous.
    @Test func hmacAgreesWithSwiftCrypto() {
        var rng = SystemRandomNumberGenerator()
        for keyLength in [0, 1, 31, 32, 63, 64, 65, 127, 128, 131, 200] {
            for messageLength in [0, 1, 55, 56, 63, 64, 65, 119, 120, 1_000, 25_600, 100_003] {
                let key = (0..<keyLength).map { _ in UInt8.random(in: 0...255, using: &rng) }
                let message = (0..<messageLength).map { _ in UInt8.random(in: 0...255, using: &rng) }
                let reference = HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key))
                let expected = reference.map { String(format: "%02x", $0) }.joined()
                #expect(Verification.hmacHex(key: key, body: message) == expected, "key \(keyLength), message \(messageLength)")
                #expect(Verification.hmacHex(key: key, body: message.lazy.map { $0 }) == expected, "non-contiguous, key \(keyLength)")
            }
        }
    }

    @Test func mattermostToken() throws {
        let v = try #require(vectors["mattermost_slash_command_token"]?["example"])
        let token = v["token_field"]!.string!
        try Verification.verifyMattermost(authorization: v["authorization_header"]!.string!, formToken: nil, tokens: [token])
        try Verification.verifyMattermost(authorization: nil, formToken: token, tokens: ["other", token])
        #expect(throws: SwitchyardError.self) {
            try Verification.verifyMattermost(authorization: "Token nope", formToken: token, tokens: [token])
        }
        #expect(throws: SwitchyardError.self) { try Verification.verifyMattermost(authorization: nil, formToken: nil, tokens: [token]) }
    }

    @Test func constantTimeEquality() {
        #expect(Verification.constantTimeEqual([1, 2, 3], [1, 2, 3]))
        #expect(!Verification.constantTimeEqual([1, 2, 3], [1, 2, 4]))
        #expect(!Verification.constantTimeEqual([1, 2], [1, 2, 0]))
        #expect(!Verification.constantTimeEqual([], [0xFF]))
    }

    func hex(_ s: String) -> [UInt8] {
        var out: [UInt8] = []
        var it = s.makeIterator()
        while let a = it.next(), let b = it.next() { out.append(UInt8(String([a, b]), radix: 16)!) }
        return out
    }
}
