import Foundation
import SwitchyardCore

/// The AWS Parameters and Secrets Lambda Extension as a function sees it: an HTTP server on localhost
/// that answers `GET /secretsmanager/get?secretId=…` with Secrets Manager's GetSecretValue result and
/// `GET /systemsmanager/parameters/get?name=…&withDecryption=true` with Parameter Store's GetParameter
/// result, for requests that carry the execution environment's session token in
/// `X-Aws-Parameters-Secrets-Token`.
public final class SecretsExtensionEmulator: @unchecked Sendable {
    private let lock = NSLock()
    private var secrets: [String: String] = [:]
    private var parameters: [String: (value: String, secure: Bool)] = [:]
    private var log: [String] = []
    private var server: HTTPServer?
    public let sessionToken: String

    public init(sessionToken: String = "session-\(UUID().uuidString)") { self.sessionToken = sessionToken }

    public func addSecret(_ id: String, string: String) { lock.withLock { secrets[id] = string } }
    public func addParameter(_ name: String, value: String, secure: Bool = true) { lock.withLock { parameters[name] = (value, secure) } }
    /// Every request path (with its query), in order.
    public var requests: [String] { lock.withLock { log } }

    /// Starts the server; returns its port (for `PARAMETERS_SECRETS_EXTENSION_HTTP_PORT`).
    public func start() throws -> Int {
        let s = try HTTPServer { [weak self] r in
            guard let self else { return .respond(status: 503, headers: [], body: Array("server owner is gone".utf8)) }
            return self.serve(r)
        }
        server = s
        return s.port
    }

    public func stop() { server?.stop() }

    func serve(_ r: ServerRequest) -> ServerReply {
        lock.withLock { log.append(r.path + (r.rawQuery.isEmpty ? "" : "?" + r.rawQuery)) }
        guard r.method == "GET" else { return .json(405, ["message": "method not allowed"]) }
        guard r.header("x-aws-parameters-secrets-token") == sessionToken else {
            return .json(401, ["message": "missing or invalid X-Aws-Parameters-Secrets-Token"])
        }
        switch r.path {
        case "/secretsmanager/get":
            guard let id = r.query["secretId"], let value = lock.withLock({ secrets[id] }) else {
                return .json(400, ["__type": "ResourceNotFoundException", "message": "Secrets Manager can't find the specified secret."])
            }
            return .json(200, ["ARN": .string("arn:aws:secretsmanager:us-east-1:123456789012:secret:\(id)-AbCdEf"),
                               "CreatedDate": "2026-11-01T00:00:00Z", "Name": .string(id), "SecretBinary": .null,
                               "SecretString": .string(value), "VersionId": "0d4c3f1a-0000-4000-8000-000000000001",
                               "VersionStages": ["AWSCURRENT"], "ResultMetadata": [:]])
        case "/systemsmanager/parameters/get":
            guard let name = r.query["name"], let p = lock.withLock({ parameters[name] }) else {
                return .json(400, ["__type": "ParameterNotFound", "message": "parameter not found"])
            }
            // A SecureString read without withDecryption comes back encrypted.
            let decrypt = r.query["withDecryption"] == "true"
            let value = p.secure && !decrypt ? "AQICAHh" + String(repeating: "x", count: 24) : p.value
            return .json(200, ["Parameter": ["ARN": .string("arn:aws:ssm:us-east-1:123456789012:parameter\(name)"), "DataType": "text",
                                             "LastModifiedDate": "2026-11-01T00:00:00Z", "Name": .string(name), "Selector": .null,
                                             "SourceResult": .null, "Type": .string(p.secure ? "SecureString" : "String"),
                                             "Value": .string(value), "Version": 1],
                               "ResultMetadata": [:]])
        default:
            return .json(404, ["message": "not found"])
        }
    }
}
