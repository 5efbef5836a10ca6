import SwitchyardCore
import SwitchyardGitHub

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The process environment as a value: read once at the edge, passed down, built from a
/// dictionary literal in tests. Secrets come from `NAME`, from the file named by `NAME_FILE`, or on AWS
/// Lambda from Secrets Manager or Parameter Store through `NAME_FROM` (see `AWSSecrets`).
public struct Environment: Sendable {
    public var values: [String: String]

    public init(_ values: [String: String]) { self.values = values }

    /// The current process environment.
    public static func process() -> Environment {
        var values: [String: String] = [:]
        var p = environ
        while let entry = p.pointee {
            let s = String(cString: entry)
            if let eq = s.firstIndex(of: "=") {
                values[String(s[..<eq])] = String(s[s.index(after: eq)...])
            }
            p += 1
        }
        return Environment(values)
    }

    public subscript(name: String) -> String? {
        guard let v = values[name], !v.isEmpty else { return nil }
        return v
    }

    /// A secret from `name`, from the file at `name_FILE` (trailing newline removed), or from the
    /// reference in `name_FROM`. Throws `misconfigured` when the file or reference cannot be read.
    public func secret(_ name: String) throws -> String? {
        if let v = self[name] { return v }
        guard let path = self[name + "_FILE"] else {
            guard let reference = self[name + "_FROM"] else { return nil }
            let v = try AWSSecrets.resolve(reference, variable: name, environment: values)
            return v.isEmpty ? nil : v
        }
        guard let bytes = Files.read(path, limit: 1 << 16) else {
            throw SwitchyardError.misconfigured("\(name)_FILE names a file that cannot be read")
        }
        var s = String(decoding: bytes, as: UTF8.self)
        while let l = s.last, l == "\n" || l == "\r" { s.removeLast() }
        return s.isEmpty ? nil : s
    }

    /// A comma-separated list of secrets (for rotation), from `name` or `name_FILE`.
    public func secrets(_ name: String) throws -> [String] {
        guard let v = try secret(name) else { return [] }
        return v.split(whereSeparator: { $0 == "," || $0 == "\n" }).map { String($0).trimmed() }.filter { !$0.isEmpty }
    }

    public func flag(_ name: String) -> Bool {
        guard let v = self[name]?.lowercased() else { return false }
        return ["1", "true", "yes", "on"].contains(v)
    }

    public func int(_ name: String) -> Int? { self[name].flatMap { Int($0) } }
}

extension String {
    func trimmed() -> String {
        var s = Substring(self).drop { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" }
        while let l = s.last, l == " " || l == "\t" || l == "\r" || l == "\n" { s = s.dropLast() }
        return String(s)
    }
}
