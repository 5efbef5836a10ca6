import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import SwitchyardCore

#if canImport(Glibc)
import Glibc
#endif

/// A request as the loopback server read it.
public struct ServerRequest: Sendable {
    public var method: String
    /// The path without the query string, still percent-encoded.
    public var path: String
    public var rawQuery: String
    public var headers: [String: String]
    public var body: [UInt8]

    public func header(_ name: String) -> String? { headers[name.lowercased()] }
    public var query: [String: String] {
        var q: [String: String] = [:]
        for part in rawQuery.split(separator: "&") {
            let kv = part.split(separator: "=", maxSplits: 1)
            let k = String(kv[0]).removingPercentEncoding ?? String(kv[0])
            let v = kv.count > 1 ? (String(kv[1]).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(kv[1])) : ""
            if q[k] == nil { q[k] = v }
        }
        return q
    }
    public var json: JSON? { body.isEmpty ? nil : try? JSON.parse(body) }
}

/// What the server does with a request.
public enum ServerReply: Sendable {
    case respond(status: Int, headers: [(String, String)], body: [UInt8])
    /// Close the connection with a TCP reset and no answer.
    case reset
    /// Close the connection in order (FIN) without an answer: the caller reads an empty reply.
    case drop
    /// Answer after a pause.
    indirect case delayed(milliseconds: Int, ServerReply)

    public static func json(_ status: Int, _ value: JSON, headers: [(String, String)] = []) -> ServerReply {
        .respond(status: status, headers: [("Content-Type", "application/json; charset=utf-8")] + headers,
                 body: status == 204 ? [] : Array(value.encoded().utf8))
    }
    public static func empty(_ status: Int, headers: [(String, String)] = []) -> ServerReply {
        .respond(status: status, headers: headers, body: [])
    }
}

/// A small threaded HTTP/1.1 server on 127.0.0.1, one connection per request, for tests and the
/// playground. It reads `Content-Length` and chunked bodies.
public final class HTTPServer: @unchecked Sendable {
    public typealias Handler = @Sendable (ServerRequest) -> ServerReply
    public private(set) var port: Int = 0
    private var listener: Int32 = -1
    private let handler: Handler
    private let lock = NSLock()
    private var running = false

    public init(port: Int = 0, handler: @escaping Handler) throws {
        self.handler = handler
        listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard listener >= 0 else { throw POSIXFailure("socket") }
        var one: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(listener, 128) == 0 else { close(listener); throw POSIXFailure("bind/listen") }
        var actual = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &len) }
        }
        self.port = Int(UInt16(bigEndian: actual.sin_port))
        running = true
        let t = Thread { [self] in acceptLoop() }
        t.stackSize = 1 << 20
        t.start()
    }

    deinit { stop() }

    public var baseURL: String { "http://127.0.0.1:\(port)" }

    public func stop() {
        lock.lock()
        let wasRunning = running
        running = false
        lock.unlock()
        if wasRunning {
            shutdown(listener, Int32(SHUT_RDWR))
            close(listener)
        }
    }

    private var isRunning: Bool { lock.lock(); defer { lock.unlock() }; return running }

    private func acceptLoop() {
        while isRunning {
            let fd = accept(listener, nil, nil)
            if fd < 0 { if errno == EINTR { continue }; if !isRunning { return }; continue }
            let t = Thread { [self] in serve(fd) }
            t.stackSize = 1 << 20
            t.start()
        }
    }

    private func serve(_ fd: Int32) {
        var tv = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        guard let request = readRequest(fd) else { close(fd); return }
        var reply = handler(request)
        while case .delayed(let ms, let inner) = reply { usleep(useconds_t(ms * 1000)); reply = inner }
        switch reply {
        case .drop:
            shutdown(fd, Int32(SHUT_RDWR))
            close(fd)
        case .reset:
            var l = linger(l_onoff: 1, l_linger: 0)
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, socklen_t(MemoryLayout<linger>.size))
            close(fd)
        case .respond(let status, let headers, let body):
            var head = "HTTP/1.1 \(status) \(Self.reason(status))\r\n"
            for (k, v) in headers { head += "\(k): \(v)\r\n" }
            head += "Content-Length: \(body.count)\r\nConnection: close\r\n\r\n"
            writeAll(fd, Array(head.utf8) + body)
            shutdown(fd, Int32(SHUT_WR))
            close(fd)
        case .delayed:
            close(fd)
        }
    }

    private func readRequest(_ fd: Int32) -> ServerRequest? {
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        var headerEnd: Int? = nil
        while headerEnd == nil {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
            if n <= 0 { return nil }
            buffer += chunk[0..<n]
            headerEnd = find(buffer, [13, 10, 13, 10])
            if buffer.count > 1 << 20 && headerEnd == nil { return nil }
        }
        let headText = String(decoding: buffer[0..<headerEnd!], as: UTF8.self)
        var lines = headText.components(separatedBy: "\r\n")
        let requestLine = lines.removeFirst().split(separator: " ")
        guard requestLine.count >= 2 else { return nil }
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let k = line[..<colon].lowercased()
            let v = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if headers[k] == nil { headers[k] = v }
        }
        var body = Array(buffer[(headerEnd! + 4)...])
        if let te = headers["transfer-encoding"], te.lowercased().contains("chunked") {
            while true {
                if let decoded = Self.dechunk(body) { body = decoded; break }
                let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
                if n <= 0 { return nil }
                body += chunk[0..<n]
            }
        } else {
            let length = Int(headers["content-length"] ?? "0") ?? 0
            while body.count < length {
                let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
                if n <= 0 { return nil }
                body += chunk[0..<n]
            }
            body = Array(body.prefix(length))
        }
        let target = String(requestLine[1])
        let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        return ServerRequest(method: String(requestLine[0]), path: String(parts[0]),
                             rawQuery: parts.count > 1 ? String(parts[1]) : "", headers: headers, body: body)
    }

    static func dechunk(_ data: [UInt8]) -> [UInt8]? {
        var out: [UInt8] = []
        var i = 0
        while true {
            guard let lineEnd = find(Array(data[i...]), [13, 10]).map({ $0 + i }) else { return nil }
            let sizeText = String(decoding: data[i..<lineEnd], as: UTF8.self).split(separator: ";").first.map(String.init) ?? ""
            guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16) else { return nil }
            i = lineEnd + 2
            if size == 0 { return out }
            guard data.count >= i + size + 2 else { return nil }
            out += data[i..<(i + size)]
            i += size + 2
        }
    }

    private func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            sent += n
        }
    }

    static func reason(_ s: Int) -> String {
        [200: "OK", 201: "Created", 202: "Accepted", 204: "No Content", 302: "Found", 304: "Not Modified",
         400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 409: "Conflict",
         422: "Unprocessable Entity", 429: "Too Many Requests", 500: "Internal Server Error",
         502: "Bad Gateway", 503: "Service Unavailable"][s] ?? "Status"
    }
}

func find(_ haystack: [UInt8], _ needle: [UInt8]) -> Int? {
    guard haystack.count >= needle.count else { return nil }
    for i in 0...(haystack.count - needle.count) where haystack[i] == needle[0] {
        if Array(haystack[i..<(i + needle.count)]) == needle { return i }
    }
    return nil
}

public struct POSIXFailure: Error, CustomStringConvertible {
    public var call: String
    public var code: Int32
    public init(_ call: String) { self.call = call; code = errno }
    public var description: String { "\(call) failed: errno \(code)" }
}
