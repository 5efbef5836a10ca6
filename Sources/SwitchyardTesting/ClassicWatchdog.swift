import Foundation

/// The OpenFaaS classic watchdog's request handling (openfaas/classic-watchdog, handler.go), for running
/// a function as the watchdog runs it: `fprocess` split on spaces and started per request with the
/// container's environment plus the request's headers as `Http_<Canonical_Key>` and `Http_Method`,
/// `Http_ContentLength`, `Http_Content_Length`, `Http_Path`, `Http_Query`, `Http_Host`; the body on
/// stdin; stdout (with stderr when `combine_output` is true) as the answer. A non-zero exit is a 500
/// whose body is Go's `exit status N`, a newline, then the output; past `exec_timeout`, a 408
/// "Killed process.".
public enum ClassicWatchdog {
    public struct Response: Sendable {
        public var status: Int
        public var body: [UInt8]
        public var contentType: String?
        /// What the watchdog logged of the function's stderr (combine_output false).
        public var logged: String
    }

    /// Go's `http.CanonicalHeaderKey`: `x-github-event` → `X-Github-Event`.
    public static func canonical(_ key: String) -> String {
        var out = ""
        var upper = true
        for c in key {
            out.append(upper ? Character(c.uppercased()) : Character(c.lowercased()))
            upper = c == "-"
        }
        return out
    }

    /// Handles one request. `environment` is the container's (the stack's `environment:` among it).
    public static func invoke(fprocess: String, environment: [String: String], combineOutput: Bool, contentType: String?,
                              execTimeout: TimeInterval, method: String = "POST", path: String = "/", host: String = "127.0.0.1:8080",
                              headers: [(String, String)], body: [UInt8]) throws -> Response {
        let parts = fprocess.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
        var env = environment
        var seen = Set<String>()
        for (k, v) in headers {
            let key = canonical(k)
            guard !seen.contains(key) else { continue }   // r.Header[k][0]: the first value
            seen.insert(key)
            env["Http_" + key.replacingOccurrences(of: "-", with: "_")] = v
        }
        env["Http_Method"] = method
        env["Http_ContentLength"] = "\(body.count)"
        env["Http_Content_Length"] = "\(body.count)"
        let pathParts = path.split(separator: "?", maxSplits: 1).map(String.init)
        if pathParts.count > 1, !pathParts[1].isEmpty { env["Http_Query"] = pathParts[1] }
        if !pathParts[0].isEmpty { env["Http_Path"] = pathParts[0] }
        env["Http_Host"] = host

        let p = Process()
        p.executableURL = URL(fileURLWithPath: parts[0])
        p.arguments = Array(parts.dropFirst())
        p.environment = env
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        p.standardInput = stdin
        p.standardOutput = stdout
        p.standardError = combineOutput ? stdout : stderr
        try p.run()
        let writer = Thread {
            try? stdin.fileHandleForWriting.write(contentsOf: Data(body))
            try? stdin.fileHandleForWriting.close()
        }
        writer.start()
        final class Flag: @unchecked Sendable { var killed = false }
        let flag = Flag()
        let killer = DispatchWorkItem { if p.isRunning { flag.killed = true; kill(p.processIdentifier, SIGKILL) } }
        DispatchQueue.global().asyncAfter(deadline: .now() + execTimeout, execute: killer)
        final class Box: @unchecked Sendable { var data = Data() }
        let errBox = Box()
        let errReader = Thread { errBox.data = stderr.fileHandleForReading.readDataToEndOfFile() }
        if !combineOutput { errReader.start() }
        let out = stdout.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        killer.cancel()
        if !combineOutput { while !errReader.isFinished { usleep(1_000) } }
        let logged = errBox.data.isEmpty ? "" : "stderr: " + String(decoding: errBox.data, as: UTF8.self)
        if flag.killed { return Response(status: 408, body: Array("Killed process.\n".utf8), contentType: nil, logged: logged) }
        if p.terminationReason == .uncaughtSignal {
            return Response(status: 500, body: Array("signal: killed\n".utf8) + Array(out), contentType: nil, logged: logged)
        }
        if p.terminationStatus != 0 {
            return Response(status: 500, body: Array("exit status \(p.terminationStatus)\n".utf8) + Array(out), contentType: nil, logged: logged)
        }
        return Response(status: 200, body: Array(out), contentType: contentType ?? headers.first { $0.0.lowercased() == "content-type" }?.1,
                        logged: logged)
    }
}
