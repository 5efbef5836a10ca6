import Synchronization

/// Every secret value the process knows (webhook secrets, tokens, keys, derived installation and OAuth
/// tokens, each line of a PEM), replaced by `[redacted]` in log lines, responses and comment bodies.
///
/// Redaction works on raw values, before any encoding, so a secret that contains `"` or `\` is found
/// whatever the output format escapes it to.
public final class Redactor: Sendable {
    /// The process's redactor: one list for logs, responses and comments.
    public static let shared = Redactor()

    private let secrets = Mutex<[String]>([])

    public init() {}

    /// Registers values. Short values (under 4 characters) are ignored: they would blank ordinary text.
    /// A multi-line value (a PEM key) is registered whole and line by line, armour lines excepted.
    public func add(_ values: [String]) {
        var new: [String] = []
        for v in values where v.utf8.count >= 4 {
            new.append(v)
            if v.utf8.contains(UInt8(ascii: "\n")) {
                for line in v.split(whereSeparator: \.isNewline) {
                    let l = String(line).trimmingASCIISpaces()
                    if l.utf8.count >= 16, !l.hasPrefix("-----") { new.append(l) }
                }
            }
        }
        guard !new.isEmpty else { return }
        secrets.withLock { list in
            for v in new where !list.contains(v) { list.append(v) }
            // Longest first, so that a secret containing another is replaced whole.
            list.sort { $0.utf8.count > $1.utf8.count }
        }
    }

    public var isEmpty: Bool { secrets.withLock { $0.isEmpty } }

    /// The text with every registered secret replaced.
    public func redact(_ text: String) -> String {
        let list = secrets.withLock { $0 }
        guard !list.isEmpty else { return text }
        var out = text
        for s in list where out.contains(s) { out = out.replacing(s, with: "[redacted]") }
        return out
    }

    /// A JSON value with every string (keys included) redacted.
    public func redact(_ value: JSON) -> JSON {
        let list = secrets.withLock { $0 }
        guard !list.isEmpty else { return value }
        return Self.redact(value, list)
    }

    static func redact(_ value: JSON, _ list: [String]) -> JSON {
        func text(_ s: String) -> String {
            var out = s
            for secret in list where out.contains(secret) { out = out.replacing(secret, with: "[redacted]") }
            return out
        }
        switch value {
        case .string(let s): return .string(text(s))
        case .array(let a): return .array(a.map { redact($0, list) })
        case .object(let o):
            var r: [String: JSON] = [:]
            for (k, v) in o { r[text(k)] = redact(v, list) }
            return .object(r)
        default: return value
        }
    }
}

extension String {
    func trimmingASCIISpaces() -> String {
        var s = Substring(self).drop { $0 == " " || $0 == "\t" || $0 == "\r" }
        while let l = s.last, l == " " || l == "\t" || l == "\r" { s = s.dropLast() }
        return String(s)
    }
}
