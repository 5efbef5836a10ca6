import SwitchyardCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// JSON-lines logger on stderr, in the shape log platforms read without a parse step: `timestamp`
/// (RFC 3339, milliseconds, UTC), `level` (`DEBUG`, `INFO`, `WARN`, `ERROR`), `message`, `function`,
/// plus the invocation's context (`delivery`, `event`, …) and the line's own fields.
///
/// Every registered secret is replaced by `[redacted]` in each value before the line is encoded,
/// so a secret that JSON would escape is still found.
public final class Logger: @unchecked Sendable {
    public enum Level: Int, Sendable, Comparable {
        case debug, info, warning, error
        public static func < (a: Level, b: Level) -> Bool { a.rawValue < b.rawValue }
        /// The names AWS Lambda's JSON log format and most log pipelines filter on.
        public var name: String { ["DEBUG", "INFO", "WARN", "ERROR"][rawValue] }
        public init?(name: String) {
            switch name.lowercased() {
            case "debug", "trace": self = .debug
            case "info", "": self = .info
            case "warning", "warn": self = .warning
            case "error", "fatal": self = .error
            default: return nil
            }
        }
    }

    /// The level asked for: `SWITCHYARD_LOG_LEVEL`, else Lambda's application log level
    /// (`AWS_LAMBDA_LOG_LEVEL`, set when the function's logging config says JSON), else info.
    public static func minimum(from environment: (String) -> String?) -> Level {
        (environment("SWITCHYARD_LOG_LEVEL") ?? environment("AWS_LAMBDA_LOG_LEVEL")).flatMap(Level.init(name:)) ?? .info
    }

    public let minimum: Level
    public var function: String
    private let lock = Mutex()
    private var context: [String: JSON] = [:]
    private let sink: @Sendable (String) -> Void
    let redactor: Redactor

    public init(function: String, minimum: Level = .info, redactor: Redactor = .shared, sink: (@Sendable (String) -> Void)? = nil) {
        self.function = function
        self.minimum = minimum
        self.redactor = redactor
        self.sink = sink ?? { line in FileDescriptor.standardError.write(Array((line + "\n").utf8)) }
    }

    /// Values that must never be written: webhook secrets, tokens, keys (each line of a PEM too).
    public func redact(_ values: [String]) { redactor.add(values) }

    /// Adds a field to every later line (e.g. `delivery`, `event`).
    public func set(_ key: String, _ value: JSON) { lock.withLock { context[key] = value } }

    public func isEnabled(_ level: Level) -> Bool { level >= minimum }

    public func log(_ level: Level, _ message: String, _ fields: [String: JSON] = [:]) {
        guard level >= minimum else { return }
        var object: [String: JSON] = lock.withLock { context }
        for (k, v) in fields { object[k] = v }
        object["level"] = .string(level.name)
        object["function"] = .string(function)
        object["message"] = .string(message)
        object["timestamp"] = .string(Self.timestamp(Deadline.epochMillis()))
        sink(redactor.redact(JSON.object(object)).encoded())
    }

    public func debug(_ m: String, _ f: [String: JSON] = [:]) { log(.debug, m, f) }
    public func info(_ m: String, _ f: [String: JSON] = [:]) { log(.info, m, f) }
    public func warning(_ m: String, _ f: [String: JSON] = [:]) { log(.warning, m, f) }
    public func error(_ m: String, _ f: [String: JSON] = [:]) { log(.error, m, f) }

    /// `2026-11-30T01:54:01.123Z`.
    public static func timestamp(_ epochMillis: Int64) -> String {
        let seconds = epochMillis >= 0 ? epochMillis / 1000 : (epochMillis - 999) / 1000
        let ms = Int(epochMillis - seconds * 1000)
        var text = ISO8601.format(seconds)
        text.removeLast()   // "Z"
        return text + "." + (ms < 10 ? "00" : ms < 100 ? "0" : "") + "\(ms)Z"
    }
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
