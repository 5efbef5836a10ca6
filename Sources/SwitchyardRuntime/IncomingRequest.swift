import SwitchyardCore

/// How the event arrived. Decided once, at the edge.
public enum InvocationMode: String, Sendable {
    case pipe, cgi, openfaas, lambda
    /// HTTP modes always verify requests; only pipe mode may run unverified.
    public var isHTTP: Bool { self != .pipe }
}

/// One request in the shape every adapter produces: method, headers, exact raw body.
public struct IncomingRequest: Sendable {
    public var method: String
    /// Header names are stored lower-cased.
    public private(set) var headers: [String: String]
    public var body: [UInt8]
    /// False for a raw payload piped without an HTTP envelope.
    public var hasEnvelope: Bool

    public init(method: String = "POST", headers: [String: String] = [:], body: [UInt8], hasEnvelope: Bool = true) {
        self.method = method.uppercased()
        self.headers = [:]
        self.body = body
        self.hasEnvelope = hasEnvelope
        for (k, v) in headers { setHeader(k, v) }
    }

    public func header(_ name: String) -> String? { headers[name.lowercased()] }

    /// Sets a header. A repeated header keeps its first value, as Go's `Header.Get` does.
    public mutating func setHeader(_ name: String, _ value: String) {
        let k = name.lowercased()
        if headers[k] == nil { headers[k] = value }
    }

    /// The media type without parameters, lower-cased: `application/json`.
    public var mediaType: String? {
        guard let ct = header("content-type") else { return nil }
        let base = ct.split(separator: ";", maxSplits: 1).first.map(String.init) ?? ct
        return base.trimmed().lowercased()
    }

    /// Parses an HTTP envelope shaped like a Lambda Function URL / API Gateway event:
    /// `{"headers": {...}, "body": "...", "isBase64Encoded": false}` (v1 `httpMethod` and
    /// v2 `requestContext.http.method` both work). Returns nil when `json` is not an envelope.
    public static func envelope(_ json: JSON) throws(SwitchyardError) -> IncomingRequest? {
        guard let o = json.object, o["body"] != nil || o["headers"] != nil,
              o["headers"] == nil || o["headers"]?.object != nil || o["headers"]?.isNull == true else { return nil }
        guard o["body"] == nil || o["body"]?.string != nil || o["body"]?.isNull == true else { return nil }
        // A GitHub payload never has top-level string `body` and `headers` object together.
        var request = IncomingRequest(body: [])
        request.method = (json["requestContext"]?["http"]?["method"]?.string ?? json["httpMethod"]?.string ?? "POST").uppercased()
        for (k, v) in o["headers"]?.object ?? [:] {
            if let s = v.string { request.setHeader(k, s) }
        }
        for (k, v) in o["multiValueHeaders"]?.object ?? [:] {
            if let first = v.array?.first?.string { request.setHeader(k, first) }
        }
        let text = o["body"]?.string ?? ""
        if o["isBase64Encoded"]?.bool == true {
            guard let data = Data(base64Encoded: text, options: .ignoreUnknownCharacters) else {
                throw .badRequest("the envelope says isBase64Encoded but the body is not base64")
            }
            request.body = Array(data)
        } else {
            request.body = Array(text.utf8)
        }
        return request
    }
}

/// One response in the shape every adapter renders.
public struct OutgoingResponse: Sendable {
    public var status: Int
    public var body: [UInt8]
    public var contentType: String
    /// Exit status for pipe and OpenFaaS modes.
    public var exitCode: Int32

    public init(status: Int, body: [UInt8], contentType: String = "application/json", exitCode: Int32) {
        self.status = status; self.body = body; self.contentType = contentType; self.exitCode = exitCode
    }

    /// The reason phrase (RFC 9110). A switch rather than a table: a cold process then instantiates no
    /// `Dictionary<Int, String>` (and looks up no `Int: Hashable`) to write one status line.
    public var reason: String {
        switch status {
        case 200: "OK"
        case 202: "Accepted"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 408: "Request Timeout"
        case 411: "Length Required"
        case 413: "Content Too Large"
        case 415: "Unsupported Media Type"
        case 422: "Unprocessable Content"
        case 500: "Internal Server Error"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        default: "Unknown"
        }
    }
}
