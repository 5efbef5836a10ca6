import CDigest
import SwitchyardCore
import SwitchyardGitHub

/// Where a request came from, decided from its headers and form before anything is decoded.
public enum RequestSource: String, Sendable {
    case github, slack, mattermost, gitlab
    /// A Mattermost Cloud provisioner webhook (`event_id`, `new_state`, …), authenticated by a static
    /// header set when the webhook was registered.
    case provisioner
}

/// Request authentication: GitHub HMAC-SHA256, Slack v0 signatures, Mattermost tokens.
/// Comparisons are constant-time; several secrets may be configured for rotation.
public enum Verification {
    /// Classifies a request. GitHub deliveries carry `X-GitHub-Event`; Slack signs with `X-Slack-*`;
    /// any other form post is taken for Mattermost.
    public static func source(of request: IncomingRequest) -> RequestSource {
        if request.header("x-github-event") != nil || request.header("x-hub-signature-256") != nil
            || request.header("x-github-delivery") != nil { return .github }
        if request.header("x-slack-signature") != nil || request.header("x-slack-request-timestamp") != nil { return .slack }
        if request.header("x-gitlab-event") != nil { return .gitlab }
        if request.header(provisionerHeader) != nil || looksLikeProvisionerWebhook(request.body) { return .provisioner }
        if request.mediaType == "application/x-www-form-urlencoded" { return .mattermost }
        return .github
    }

    /// HMAC-SHA256 of `body` with `secret`, lower-case hex.
    public static func hmacHex(secret: String, body: some Sequence<UInt8>) -> String {
        hmacHex(key: Array(secret.utf8), body: body)
    }

    /// HMAC-SHA256 with a raw key, lower-case hex.
    public static func hmacHex(key: [UInt8], body: some Sequence<UInt8>) -> String {
        let mac = body.withContiguousStorageIfAvailable { hmac(key: key, message: $0) }
            ?? Array(body).withUnsafeBufferPointer { hmac(key: key, message: $0) }
        return hex(mac)
    }

    /// SHA-256 of `bytes`, lower-case hex.
    public static func sha256Hex(_ bytes: [UInt8]) -> String {
        let digest = [UInt8](unsafeUninitializedCapacity: 32) { out, count in
            bytes.withUnsafeBufferPointer { cdigest_sha256($0.baseAddress, $0.count, out.baseAddress!) }
            count = 32
        }
        return hex(digest)
    }

    /// HMAC-SHA256 of contiguous bytes, in one pass over them without a copy (OpenSSL's SHA-256; the
    /// generic `HMAC<SHA256>` costs a cold process more in type metadata than the hashing itself).
    static func hmac(key: [UInt8], message: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: 32) { out, count in
            key.withUnsafeBufferPointer { k in
                cdigest_hmac_sha256(k.baseAddress, k.count, message.baseAddress, message.count, out.baseAddress!)
            }
            count = 32
        }
    }

    /// Checks `X-Hub-Signature-256: sha256=<hex>` against any of `secrets`.
    public static func verifyGitHub(signature: String?, body: [UInt8], secrets: [String]) throws(SwitchyardError) {
        guard let signature, !signature.isEmpty else {
            throw .unauthenticated("the X-Hub-Signature-256 header is missing; the webhook must be configured with a secret")
        }
        guard signature.hasPrefix("sha256="), signature.utf8.count == 71 else {
            throw .unauthenticated("the X-Hub-Signature-256 header is not of the form sha256=<64 hex digits>")
        }
        let given = Array(signature.utf8.dropFirst(7)).map { $0 | 0x20 }   // hex digits, case-folded
        var ok = false
        for secret in secrets {
            let expected = Array(hmacHex(secret: secret, body: body).utf8)
            ok = constantTimeEqual(given, expected) || ok
        }
        guard ok else { throw .unauthenticated("the webhook signature does not match") }
    }

    /// Checks Slack's `X-Slack-Signature: v0=<hex>` over `v0:<timestamp>:<body>`, refusing timestamps
    /// more than 5 minutes from `nowSeconds`.
    public static func verifySlack(signature: String?, timestamp: String?, body: [UInt8], secrets: [String],
                                   nowSeconds: Int64) throws(SwitchyardError) {
        guard let signature, let timestamp else {
            throw .unauthenticated("the X-Slack-Signature or X-Slack-Request-Timestamp header is missing")
        }
        guard let ts = Int64(timestamp.trimmed()) else { throw .unauthenticated("the X-Slack-Request-Timestamp header is not a number") }
        // Total: no timestamp, however extreme, can overflow the comparison.
        let difference = nowSeconds.subtractingReportingOverflow(ts)
        guard !difference.overflow, difference.partialValue.magnitude <= 300 else {
            throw .unauthenticated("the Slack request timestamp is more than 5 minutes off; refusing a possible replay")
        }
        guard signature.hasPrefix("v0=") else { throw .unauthenticated("the X-Slack-Signature header is not a v0 signature") }
        let given = Array(signature.utf8.dropFirst(3)).map { $0 | 0x20 }
        let base = Array("v0:\(timestamp.trimmed()):".utf8) + body
        var ok = false
        for secret in secrets {
            ok = constantTimeEqual(given, Array(hmacHex(secret: secret, body: base).utf8)) || ok
        }
        guard ok else { throw .unauthenticated("the Slack signature does not match") }
    }

    /// Checks a Mattermost command token from `Authorization: Token …` or the `token` field.
    public static func verifyMattermost(authorization: String?, formToken: String?, tokens: [String]) throws(SwitchyardError) {
        var presented: String? = nil
        if let a = authorization?.trimmed() {
            let lower = a.lowercased()
            if lower.hasPrefix("token ") { presented = String(a.dropFirst(6)).trimmed() }
            else if lower.hasPrefix("bearer ") { presented = String(a.dropFirst(7)).trimmed() }
        }
        if presented == nil { presented = formToken }
        guard let p = presented, !p.isEmpty else { throw .unauthenticated("the Mattermost command token is missing") }
        var ok = false
        for t in tokens { ok = constantTimeEqual(Array(p.utf8), Array(t.utf8)) || ok }
        guard ok else { throw .unauthenticated("the Mattermost command token does not match") }
    }

    /// The header a provisioner webhook carries its static token in (set with the webhook's `Headers`).
    public static let provisionerHeader = "x-provisioner-token"

    /// A JSON body with the provisioner's `event_id` and `new_state` keys near its start: classified so
    /// that a missing token answers 401 rather than "not a GitHub event".
    static func looksLikeProvisionerWebhook(_ body: [UInt8]) -> Bool {
        let head = body.prefix(2_048)
        guard head.first == UInt8(ascii: "{") else { return false }
        return contains(head, Array("\"event_id\"".utf8)) && contains(head, Array("\"new_state\"".utf8))
    }

    static func contains(_ haystack: ArraySlice<UInt8>, _ needle: [UInt8]) -> Bool {
        guard needle.count <= haystack.count else { return false }
        var i = haystack.startIndex
        while i <= haystack.endIndex - needle.count {
            if haystack[i] == needle[0], haystack[i..<(i + needle.count)].elementsEqual(needle) { return true }
            i += 1
        }
        return false
    }

    /// Checks a shared-secret header (GitLab's `X-Gitlab-Token`, the provisioner's `X-Provisioner-Token`).
    public static func verifyStaticToken(_ token: String?, header: String, sender: String, tokens: [String]) throws(SwitchyardError) {
        let name = header.split(separator: "-").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined(separator: "-")
        guard let token, !token.isEmpty else { throw .unauthenticated("the \(name) header is missing") }
        var ok = false
        for t in tokens { ok = constantTimeEqual(Array(token.utf8), Array(t.utf8)) || ok }
        guard ok else { throw .unauthenticated("the \(sender) webhook token does not match") }
    }

    /// Compares in time that depends only on the lengths, never on where the bytes differ.
    public static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var diff = UInt8(a.count == b.count ? 0 : 1)
        let n = max(a.count, b.count)
        for i in 0..<n {
            let x = i < a.count ? a[i] : 0
            let y = i < b.count ? b[i] : 0xFF
            diff |= x ^ y
        }
        return diff == 0
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for b in bytes { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }
}
