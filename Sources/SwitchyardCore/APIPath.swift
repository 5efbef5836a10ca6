/// A REST path built from typed, validated parts, each percent-encoded.
///
/// Literal segments are `StaticString`s, so a value from a payload, a config, a comment or bot state
/// can only enter a path through a typed part (`RepoRef`, `SHA`, `GitRef`, `Segment`, a number), each
/// of which refuses what its kind does not allow. A `.` or `..` segment can never be formed, so no
/// dot-segment collapsing (by an HTTP client or a proxy) can move a request to another resource.
///
/// ```swift
/// APIPath.repo(ref) / "pulls" / 42 / "update-branch"   // /repos/acme/widgets/pulls/42/update-branch
/// ```
public struct APIPath: Sendable, Hashable, CustomStringConvertible {
    /// The encoded path, starting with `/`.
    public private(set) var text: String

    /// A path of literal segments, e.g. `APIPath("/app/installations")`.
    public init(_ literal: StaticString) {
        text = ""
        append(literal)
    }

    public var description: String { text }

    /// `/repos/{owner}/{repo}`.
    public static func repo(_ r: RepoRef) -> APIPath {
        var p = APIPath("/repos")
        p.text += "/" + APIPath.encode(r.owner) + "/" + APIPath.encode(r.name)
        return p
    }

    mutating func append(_ literal: StaticString) {
        let s = literal.description
        for part in s.split(separator: "/") {
            precondition(part != "." && part != "..", "a literal path segment may not be a dot segment")
            text += "/" + APIPath.encode(String(part))
        }
    }

    public static func / (lhs: APIPath, rhs: StaticString) -> APIPath { var p = lhs; p.append(rhs); return p }
    public static func / (lhs: APIPath, rhs: Int) -> APIPath { var p = lhs; p.text += "/\(rhs)"; return p }
    public static func / (lhs: APIPath, rhs: SHA) -> APIPath { var p = lhs; p.text += "/" + rhs.value; return p }
    public static func / (lhs: APIPath, rhs: Segment) -> APIPath { var p = lhs; p.text += "/" + encode(rhs.value); return p }
    /// A ref or branch name: one encoded segment per `/`-separated component (git forbids dot components).
    public static func / (lhs: APIPath, rhs: GitRef) -> APIPath {
        var p = lhs
        for part in rhs.name.split(separator: "/") { p.text += "/" + encode(String(part)) }
        return p
    }
    /// A file path inside a repository: one encoded segment per component.
    public static func / (lhs: APIPath, rhs: FilePath) -> APIPath {
        var p = lhs
        for part in rhs.value.split(separator: "/") { p.text += "/" + encode(String(part)) }
        return p
    }

    /// `base...head` for the compare API, each side encoded.
    public static func / (lhs: APIPath, rhs: CompareSpec) -> APIPath {
        var p = lhs
        p.text += "/" + encode(rhs.base) + "..." + encode(rhs.head)
        return p
    }

    /// Percent-encodes one segment or query value: RFC 3986 unreserved characters stay, and a segment
    /// made only of dots is encoded whole so that it can never act as a dot segment.
    public static func encode(_ s: String) -> String {
        let allDots = !s.isEmpty && s.utf8.allSatisfy { $0 == UInt8(ascii: ".") }
        var out = ""
        out.reserveCapacity(s.utf8.count)
        let hex = Array("0123456789ABCDEF")
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(UnicodeScalar(b))
            case UInt8(ascii: ".") where !allDots:
                out.append(".")
            default:
                out.append("%"); out.append(hex[Int(b >> 4)]); out.append(hex[Int(b & 15)])
            }
        }
        return out
    }
}

/// One free-text path segment (a login, a label, a team slug, a workflow file, an installation id):
/// never empty, never `.` or `..`, at most 512 bytes, no control characters.
public struct Segment: Sendable, Hashable, CustomStringConvertible {
    public let value: String
    public init?(_ s: String) {
        guard !s.isEmpty, s.utf8.count <= 512, s != ".", s != "..",
              !s.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) else { return nil }
        value = s
    }
    public var description: String { value }
}

/// A commit id: 40 (SHA-1) or 64 (SHA-256) hexadecimal digits, lower-cased.
public struct SHA: Sendable, Hashable, Codable, CustomStringConvertible {
    public let value: String
    public init?(_ s: String) {
        let u = s.utf8
        guard u.count == 40 || u.count == 64, u.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) || ($0 >= 65 && $0 <= 70) }) else {
            return nil
        }
        value = s.lowercased()
    }
    public var description: String { value }
    public var short: String { String(value.prefix(7)) }
    public init(from decoder: Decoder) throws {
        let s = try decoder.singleValueContainer().decode(String.self)
        guard let v = SHA(s) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a commit sha"))
        }
        self = v
    }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(value)
    }
}

/// A branch or ref name that `git check-ref-format --branch` accepts: no `..`, no component that
/// starts with `.` or ends with `.lock`, no control characters, space, `~ ^ : ? * [ \`, no `@{`,
/// not `@`, no leading or trailing `/` and no `//`, not ending in `.`; at most 255 bytes.
public struct GitRef: Sendable, Hashable, CustomStringConvertible {
    public let name: String
    public init?(_ s: String) {
        guard Self.isValid(s) else { return nil }
        name = s
    }
    public var description: String { name }

    public static func isValid(_ s: String) -> Bool {
        let u = Array(s.utf8)
        guard !u.isEmpty, u.count <= 255, s != "@", u.first != UInt8(ascii: "/"), u.last != UInt8(ascii: "/"),
              u.last != UInt8(ascii: "."), u.first != UInt8(ascii: "-") else { return false }
        let forbidden: Set<UInt8> = [0x20, 0x7F, UInt8(ascii: "~"), UInt8(ascii: "^"), UInt8(ascii: ":"), UInt8(ascii: "?"),
                                     UInt8(ascii: "*"), UInt8(ascii: "["), UInt8(ascii: "\\")]
        for (i, b) in u.enumerated() {
            if b < 0x20 || forbidden.contains(b) { return false }
            if b == UInt8(ascii: "."), i + 1 < u.count, u[i + 1] == UInt8(ascii: ".") { return false }
            if b == UInt8(ascii: "@"), i + 1 < u.count, u[i + 1] == UInt8(ascii: "{") { return false }
            if b == UInt8(ascii: "/"), i + 1 < u.count, u[i + 1] == UInt8(ascii: "/") { return false }
        }
        for component in s.split(separator: "/") {
            if component.hasPrefix(".") || component.hasSuffix(".lock") { return false }
        }
        return true
    }
}

/// A path inside a repository (`docs/CLA.md`): relative, no empty, `.` or `..` component.
public struct FilePath: Sendable, Hashable, CustomStringConvertible {
    public let value: String
    public init?(_ s: String) {
        let parts = s.split(separator: "/", omittingEmptySubsequences: false)
        guard !s.isEmpty, s.utf8.count <= 4096, !parts.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }),
              !s.utf8.contains(where: { $0 < 0x20 }) else { return nil }
        value = s
    }
    public var description: String { value }
}

/// `base...head` of the compare API: two refs or shas.
public struct CompareSpec: Sendable, Hashable {
    public let base: String
    public let head: String
    public init?(base: String, head: String) {
        guard SHA(base) != nil || GitRef(base) != nil, SHA(head) != nil || GitRef(head) != nil else { return nil }
        self.base = base; self.head = head
    }
}
