/// The one error type that speaks to users. Its message is safe to show; `detail` goes only to the log.
///
/// `ErrorMapping` (in SwitchyardRuntime) turns it into an HTTP status, a chat reply and an exit code.
public struct SwitchyardError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, Codable {
        case badRequest          // 400
        case unauthenticated     // 401
        case forbidden           // 403
        case notFound            // 404
        case methodNotAllowed    // 405
        case payloadTooLarge     // 413
        case unsupportedMediaType // 415
        case unprocessable       // 422
        case misconfigured       // 500, operator must act
        case upstream            // 502, GitHub or another service failed
        case rateLimited         // 503 with a time
        case timeout             // 504
        case internalError       // 500, generic
    }

    public var kind: Kind
    /// User-safe message. Never holds a secret.
    public var message: String
    /// Extra detail for the log only.
    public var detail: String?

    public init(_ kind: Kind, _ message: String, detail: String? = nil) {
        self.kind = kind
        self.message = message
        self.detail = detail
    }

    public var description: String { "\(kind.rawValue): \(message)" }

    public static func badRequest(_ m: String) -> Self { .init(.badRequest, m) }
    public static func unauthenticated(_ m: String) -> Self { .init(.unauthenticated, m) }
    public static func forbidden(_ m: String) -> Self { .init(.forbidden, m) }
    public static func misconfigured(_ m: String) -> Self { .init(.misconfigured, m) }
    public static func upstream(_ m: String, detail: String? = nil) -> Self { .init(.upstream, m, detail: detail) }

    /// HTTP status for this error.
    public var httpStatus: Int {
        switch kind {
        case .badRequest: 400
        case .unauthenticated: 401
        case .forbidden: 403
        case .notFound: 404
        case .methodNotAllowed: 405
        case .payloadTooLarge: 413
        case .unsupportedMediaType: 415
        case .unprocessable: 422
        case .misconfigured, .internalError: 500
        case .upstream: 502
        case .rateLimited: 503
        case .timeout: 504
        }
    }

    /// Process exit status: 2 bad input, 3 not authenticated or authorized, 1 otherwise.
    public var exitCode: Int32 {
        switch kind {
        case .badRequest, .notFound, .methodNotAllowed, .payloadTooLarge, .unsupportedMediaType, .unprocessable: 2
        case .unauthenticated, .forbidden: 3
        default: 1
        }
    }

    /// Wraps any error: a SwitchyardError passes through, anything else becomes a generic 500.
    public static func wrap(_ error: any Error) -> SwitchyardError {
        if let e = error as? SwitchyardError { return e }
        return SwitchyardError(.internalError, "internal error", detail: String(describing: error))
    }
}

/// An error from a lower layer that knows how it should be shown to users.
public protocol UserFacingError: Error {
    var switchyardError: SwitchyardError { get }
}

extension SwitchyardError {
    /// Like `wrap`, but lets lower-layer errors describe themselves.
    public static func from(_ error: any Error) -> SwitchyardError {
        if let e = error as? SwitchyardError { return e }
        if let e = error as? any UserFacingError { return e.switchyardError }
        return wrap(error)
    }
}
