import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Crypto
import SwitchyardCore

/// A signed GitHub webhook delivery, as GitHub sends it: to a URL over HTTP, or piped to a
/// function binary as an HTTP envelope. The playground and end-to-end tests use it.
public struct WebhookDelivery: Sendable {
    public var event: String
    public var payload: [UInt8]
    public var id: String
    public var secret: String?

    public init(event: String, payload: [UInt8], id: String = UUID().uuidString.lowercased(), secret: String?) {
        self.event = event; self.payload = payload; self.id = id; self.secret = secret
    }

    public init(event: String, payload: JSON, id: String = UUID().uuidString.lowercased(), secret: String?) {
        self.init(event: event, payload: Array(payload.encoded().utf8), id: id, secret: secret)
    }

    /// GitHub's delivery headers, with `X-Hub-Signature-256` when there is a secret.
    public var headers: [(String, String)] {
        var h = [("Content-Type", "application/json"), ("User-Agent", "GitHub-Hookshot/switchyard-emulator"),
                 ("X-GitHub-Event", event), ("X-GitHub-Delivery", id), ("X-GitHub-Hook-ID", "1")]
        if let secret {
            let mac = HMAC<SHA256>.authenticationCode(for: payload, using: SymmetricKey(data: Array(secret.utf8)))
            h.append(("X-Hub-Signature-256", "sha256=" + mac.map { String(format: "%02x", $0) }.joined()))
        }
        return h
    }

    /// The delivery as a Function URL-style envelope for pipe mode.
    public var envelope: [UInt8] {
        var headers: [String: JSON] = [:]
        for (k, v) in self.headers { headers[k.lowercased()] = .string(v) }
        let env: JSON = ["headers": .object(headers), "body": .string(String(decoding: payload, as: UTF8.self)),
                         "isBase64Encoded": false, "requestContext": ["http": ["method": "POST"]]]
        return Array(env.encoded().utf8)
    }

    /// POSTs the delivery to `url` and returns the status and body.
    public func post(to url: String, timeout: TimeInterval = 15) throws -> (status: Int, body: [UInt8]) {
        var request = URLRequest(url: URL(string: url)!, timeoutInterval: timeout)
        request.httpMethod = "POST"
        for (k, v) in headers { request.setValue(v, forHTTPHeaderField: k) }
        request.httpBody = Data(payload)
        return try LoopbackHTTP.send(request)
    }

    /// Pipes the delivery into a function binary (pipe mode) and returns its exit status and output.
    public func pipe(to binary: String, environment: [String: String], arguments: [String] = []) throws -> (status: Int32, stdout: [UInt8], stderr: [UInt8]) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = arguments
        p.environment = environment
        let i = Pipe(), o = Pipe(), e = Pipe()
        p.standardInput = i; p.standardOutput = o; p.standardError = e
        try p.run()
        try? i.fileHandleForWriting.write(contentsOf: Data(envelope))
        try? i.fileHandleForWriting.close()
        let out = o.fileHandleForReading.readDataToEndOfFile()
        let err = e.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, Array(out), Array(err))
    }
}

/// A blocking HTTP call for test code (the functions themselves never use URLSession).
public enum LoopbackHTTP {
    public static func send(method: String = "POST", _ url: String, headers: [(String, String)] = [], body: [UInt8]?,
                            timeout: TimeInterval = 20) throws -> (status: Int, body: [UInt8]) {
        var request = URLRequest(url: URL(string: url)!, timeoutInterval: timeout)
        request.httpMethod = method
        for (k, v) in headers { request.setValue(v, forHTTPHeaderField: k) }
        request.httpBody = body.map { Data($0) }
        return try send(request)
    }

    public static func send(_ request: URLRequest) throws -> (status: Int, body: [UInt8]) {
        final class Box: @unchecked Sendable { var result: Result<(Int, [UInt8]), Error>? }
        let box = Box()
        let done = DispatchSemaphore(value: 0)
        URLSession.shared.dataTask(with: request) { data, response, error in
            if let error { box.result = .failure(error) }
            else { box.result = .success(((response as? HTTPURLResponse)?.statusCode ?? 0, Array(data ?? Data()))) }
            done.signal()
        }.resume()
        done.wait()
        return try box.result!.get()
    }
}
