import CHTTP
import SwitchyardCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// One HTTP request, as bytes.
public struct HTTPRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: [(String, String)]
    public var body: [UInt8]

    public init(method: String, url: String, headers: [(String, String)] = [], body: [UInt8] = []) {
        self.method = method; self.url = url; self.headers = headers; self.body = body
    }
}

/// One HTTP response, as bytes. Header names keep their case; lookups ignore it.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(String, String)] = [], body: [UInt8] = []) {
        self.status = status; self.headers = headers; self.body = body
    }

    public func header(_ name: String) -> String? {
        let n = name.lowercased()
        return headers.first { $0.0.lowercased() == n }?.1
    }
    public var text: String { String(decoding: body, as: UTF8.self) }
}

/// A failure below HTTP: no answer was read.
public struct TransportError: Error, Sendable, CustomStringConvertible {
    public var code: Int
    public var message: String
    /// True when the request surely never reached the server (DNS or connect failure),
    /// so even a POST may be retried.
    public var notSent: Bool
    public var isTimeout: Bool
    /// True when trying again cannot help (a certificate that does not verify, a malformed URL).
    public var isPermanent: Bool = false
    public var description: String { "transport error \(code): \(message)" }
}

/// Sends HTTP requests. The real one is `NetworkTransport`; tests may wrap it.
public protocol HTTPTransport: Sendable {
    /// Sends `request`, waiting at most `timeoutMilliseconds` (0: no limit). Throws `TransportError`.
    func send(_ request: HTTPRequest, timeoutMilliseconds: Int) throws -> HTTPResponse
}

/// HTTP over the CHTTP client: synchronous, no event loop, nothing started before the first request.
/// Its own DNS stub resolver means no NSS module, and so no shared library, is ever loaded; TLS is
/// OpenSSL, linked statically into release builds; one kept-alive connection per origin is reused.
public struct NetworkTransport: HTTPTransport {
    public var connectTimeoutMilliseconds: Int

    public init(connectTimeoutMilliseconds: Int = 3_000) {
        self.connectTimeoutMilliseconds = connectTimeoutMilliseconds
    }

    public func send(_ request: HTTPRequest, timeoutMilliseconds: Int) throws -> HTTPResponse {
        let headerLines = request.headers.map { "\($0.0): \($0.1)" }
        var out = chttp_response()
        let connectTimeout = timeoutMilliseconds > 0 ? min(connectTimeoutMilliseconds, timeoutMilliseconds) : connectTimeoutMilliseconds
        let rc: Int32 = withCStrings(headerLines) { pointers in
            request.body.withUnsafeBytes { body in
                chttp_perform(request.method, request.url, pointers, headerLines.count,
                              body.baseAddress, body.count, timeoutMilliseconds, connectTimeout, &out)
            }
        }
        defer { chttp_response_free(&out) }
        if rc != 0 {
            let message = withUnsafeBytes(of: &out.error) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            // 6: the name did not resolve, 7: no connection; 28: timeout; 35, 60: TLS. A request that
            // never left surely did not arrive, so even a POST may be sent again.
            throw TransportError(code: Int(rc), message: message, notSent: [5, 6, 7, 35, 60].contains(rc), isTimeout: rc == 28,
                                 isPermanent: [1, 3, 60].contains(rc))
        }
        let body = out.body.map { Array(UnsafeBufferPointer(start: UnsafeRawPointer($0).assumingMemoryBound(to: UInt8.self), count: out.body_len)) } ?? []
        let headerText = out.headers.map { String(decoding: UnsafeBufferPointer(start: UnsafeRawPointer($0).assumingMemoryBound(to: UInt8.self), count: out.headers_len), as: UTF8.self) } ?? ""
        return HTTPResponse(status: Int(out.status), headers: Self.parseHeaders(headerText), body: body)
    }

    static func parseHeaders(_ text: String) -> [(String, String)] {
        var result: [(String, String)] = []
        for line in text.split(whereSeparator: { $0 == "\r\n" || $0 == "\n" || $0 == "\r" }) {
            guard let colon = line.firstIndex(of: ":"), !line.hasPrefix("HTTP/") else { continue }
            let name = String(line[..<colon])
            let value = String(line[line.index(after: colon)...].drop { $0 == " " || $0 == "\t" })
            result.append((name, value))
        }
        return result
    }
}

func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>?) -> R) -> R {
    var cStrings: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
    defer { cStrings.forEach { free($0) } }
    return cStrings.withUnsafeMutableBufferPointer { buffer in
        buffer.baseAddress!.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: max(buffer.count, 1)) {
            body(strings.isEmpty ? nil : UnsafePointer($0))
        }
    }
}
