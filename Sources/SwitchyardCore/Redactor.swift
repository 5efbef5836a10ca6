import Synchronization

/// Every secret value the process knows (webhook secrets, tokens, keys, derived installation and OAuth
/// tokens, each line of a PEM), replaced by `[redacted]` in log lines, responses and comment bodies.
///
/// Redaction works on raw values, before any encoding, so a secret that contains `"` or `\` is found
/// whatever the output format escapes it to.
public final class Redactor: Sendable {
    /// The process's redactor: one list for logs, responses and comments.
    public static let shared = Redactor()

    /// The values as UTF-8, longest first, so that a secret containing another is replaced whole.
    private let secrets = Mutex<[[UInt8]]>([])
    private static let replacement = Array("[redacted]".utf8)

    public init() {}

    /// Registers values. Short values (under 4 bytes) are ignored: they would blank ordinary text.
    /// A multi-line value (a PEM key) is registered whole and line by line, armour lines excepted.
    public func add(_ values: [String]) {
        var new: [[UInt8]] = []
        for v in values where v.utf8.count >= 4 {
            new.append(Array(v.utf8))
            if v.utf8.contains(UInt8(ascii: "\n")) {
                for line in v.split(whereSeparator: \.isNewline) {
                    let l = String(line).trimmingASCIISpaces()
                    if l.utf8.count >= 16, !l.hasPrefix("-----") { new.append(Array(l.utf8)) }
                }
            }
        }
        guard !new.isEmpty else { return }
        secrets.withLock { list in
            for v in new where !list.contains(v) { list.append(v) }
            list.sort { $0.count > $1.count }
        }
    }

    public var isEmpty: Bool { secrets.withLock { $0.isEmpty } }

    /// The text with every registered secret replaced.
    public func redact(_ text: String) -> String {
        let list = secrets.withLock { $0 }
        guard !list.isEmpty else { return text }
        return Self.replaced(text, list)
    }

    /// A JSON value with every string (keys included) redacted.
    public func redact(_ value: JSON) -> JSON {
        let list = secrets.withLock { $0 }
        guard !list.isEmpty else { return value }
        return Self.redact(value, list)
    }

    static func redact(_ value: JSON, _ list: [[UInt8]]) -> JSON {
        switch value {
        case .string(let s): return .string(replaced(s, list))
        case .array(let a): return .array(a.map { redact($0, list) })
        case .object(let o):
            var r: [String: JSON] = [:]
            r.reserveCapacity(o.count)
            for (k, v) in o { r[replaced(k, list)] = redact(v, list) }
            return .object(r)
        default: return value
        }
    }

    /// `text` with each occurrence of each value replaced, compared as UTF-8 bytes (a byte search: the
    /// values are opaque, and no Unicode normalisation may make a secret match or miss).
    static func replaced(_ text: String, _ list: [[UInt8]]) -> String {
        var bytes: [UInt8]? = nil
        var s = text
        for secret in list {
            let found: [UInt8]? = s.utf8.withContiguousStorageIfAvailable { hay in
                guard let first = firstIndex(of: secret, in: hay) else { return nil }
                return replacingAll(secret, in: hay, from: first)
            } ?? {
                let hay = Array(s.utf8)
                return hay.withUnsafeBufferPointer { buffer in
                    guard let first = firstIndex(of: secret, in: buffer) else { return nil }
                    return replacingAll(secret, in: buffer, from: first)
                }
            }()
            if let found {
                bytes = found
                s = String(decoding: found, as: UTF8.self)
            }
        }
        return bytes == nil ? text : s
    }

    static func firstIndex(of needle: [UInt8], in hay: UnsafeBufferPointer<UInt8>, from start: Int = 0) -> Int? {
        let n = needle.count
        guard n > 0, hay.count >= n else { return nil }
        let first = needle[0]
        var i = start
        let last = hay.count - n
        while i <= last {
            if hay[i] == first {
                var j = 1
                while j < n && hay[i + j] == needle[j] { j += 1 }
                if j == n { return i }
            }
            i += 1
        }
        return nil
    }

    static func replacingAll(_ needle: [UInt8], in hay: UnsafeBufferPointer<UInt8>, from first: Int) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(hay.count)
        var at = 0
        var next: Int? = first
        while let i = next {
            out.append(contentsOf: hay[at..<i])
            out.append(contentsOf: replacement)
            at = i + needle.count
            next = firstIndex(of: needle, in: hay, from: at)
        }
        out.append(contentsOf: hay[at...])
        return out
    }
}

extension String {
    func trimmingASCIISpaces() -> String {
        var s = Substring(self).drop { $0 == " " || $0 == "\t" || $0 == "\r" }
        while let l = s.last, l == " " || l == "\t" || l == "\r" { s = s.dropLast() }
        return String(s)
    }
}
