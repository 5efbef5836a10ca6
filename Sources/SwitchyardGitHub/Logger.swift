import SwitchyardCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// JSON-lines logger on stderr: one object per line, with the delivery id. Every registered secret
/// is replaced by `[redacted]` before a line is written, as a last line of defence.
public final class Logger: @unchecked Sendable {
    public enum Level: Int, Sendable, Comparable {
        case debug, info, warning, error
        public static func < (a: Level, b: Level) -> Bool { a.rawValue < b.rawValue }
        var name: String { ["debug", "info", "warning", "error"][rawValue] }
        public init?(name: String) {
            switch name.lowercased() {
            case "debug", "trace": self = .debug
            case "info", "": self = .info
            case "warning", "warn": self = .warning
            case "error": self = .error
            default: return nil
            }
        }
    }

    public let minimum: Level
    public var function: String
    private let lock = Mutex()
    private var secrets: [String] = []
    private var context: [String: JSON] = [:]
    private let sink: @Sendable (String) -> Void

    public init(function: String, minimum: Level = .info, sink: (@Sendable (String) -> Void)? = nil) {
        self.function = function
        self.minimum = minimum
        self.sink = sink ?? { line in FileDescriptor.standardError.write(Array((line + "\n").utf8)) }
    }

    /// Values that must never be written: webhook secrets, tokens, keys.
    public func redact(_ values: [String]) {
        lock.withLock { secrets += values.filter { $0.count >= 4 } }
    }

    /// Adds a field to every later line (e.g. `delivery`).
    public func set(_ key: String, _ value: JSON) { lock.withLock { context[key] = value } }

    public func log(_ level: Level, _ message: String, _ fields: [String: JSON] = [:]) {
        guard level >= minimum else { return }
        var object: [String: JSON] = lock.withLock { context }
        for (k, v) in fields { object[k] = v }
        object["level"] = .string(level.name)
        object["fn"] = .string(function)
        object["msg"] = .string(message)
        object["ts"] = .int(Int(Deadline.epochMillis()))
        var line = JSON.object(object).encoded()
        for s in lock.withLock({ secrets }) where line.contains(s) {
            line = line.replacing(s, with: "[redacted]")
        }
        sink(line)
    }

    public func debug(_ m: String, _ f: [String: JSON] = [:]) { log(.debug, m, f) }
    public func info(_ m: String, _ f: [String: JSON] = [:]) { log(.info, m, f) }
    public func warning(_ m: String, _ f: [String: JSON] = [:]) { log(.warning, m, f) }
    public func error(_ m: String, _ f: [String: JSON] = [:]) { log(.error, m, f) }
}

/// A small pthread mutex, for state shared across threads (the Lambda loop, emulators).
public final class Mutex: @unchecked Sendable {
    private var m = pthread_mutex_t()
    public init() { pthread_mutex_init(&m, nil) }
    deinit { pthread_mutex_destroy(&m) }
    public func withLock<R>(_ body: () throws -> R) rethrows -> R {
        pthread_mutex_lock(&m)
        defer { pthread_mutex_unlock(&m) }
        return try body()
    }
}

/// Raw writes to a file descriptor, retried on EINTR and short writes.
public struct FileDescriptor: Sendable {
    public let fd: Int32
    public init(_ fd: Int32) { self.fd = fd }
    public static let standardOutput = FileDescriptor(1)
    public static let standardError = FileDescriptor(2)

    @discardableResult
    public func write(_ bytes: [UInt8]) -> Bool {
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + written, $0.count - written) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return false }
            written += n
        }
        return true
    }
}
