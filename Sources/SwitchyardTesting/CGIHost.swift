import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Real web servers hosting the function binaries over CGI, from the configs in `deploy/cgi/`:
/// nginx with fcgiwrap, or lighttpd with mod_cgi, on a loopback port. Used by the tests and benchmarks.
public final class CGIHost: @unchecked Sendable {
    public enum Server: String, Sendable { case nginx, lighttpd }

    public let server: Server
    public let port: Int
    public let prefix: String
    private var processes: [Process] = []

    public var baseURL: String { "http://127.0.0.1:\(port)" }
    public func url(_ function: String) -> String { "\(baseURL)/hooks/\(function)" }

    /// True when the server's programs are installed.
    public static func available(_ server: Server) -> Bool {
        switch server {
        case .nginx: FileManager.default.isExecutableFile(atPath: "/usr/sbin/nginx") && FileManager.default.isExecutableFile(atPath: "/usr/sbin/fcgiwrap")
        case .lighttpd: FileManager.default.isExecutableFile(atPath: "/usr/sbin/lighttpd")
        }
    }

    /// Starts `server` with `deploy/cgi/<server>.conf` filled in. `secrets` are written as files of mode 0600.
    public init(_ server: Server, deployDirectory: String, binDirectory: String, functionsDirectory: String,
                githubAPI: String, secrets: [String: String], config: String? = nil,
                maxBody: String = "25m", functionMaxBody: Int = 26_214_400, extraEnvironment: [String: String] = [:]) throws {
        self.server = server
        prefix = NSTemporaryDirectory() + "cgihost-\(server.rawValue)-\(UUID().uuidString.prefix(8))"
        let fm = FileManager.default
        for d in ["", "/secrets", "/empty", "/cache"] { try fm.createDirectory(atPath: prefix + d, withIntermediateDirectories: true) }
        for (name, value) in secrets {
            let path = "\(prefix)/secrets/\(name)"
            try value.write(toFile: path, atomically: true, encoding: .utf8)
            chmod(path, 0o600)
        }
        port = try Self.freePort()
        let configPath = config ?? "\(prefix)/switchyard.yaml"
        if config == nil { try "# empty: every default applies\n".write(toFile: configPath, atomically: true, encoding: .utf8) }
        let kb = maxBody.hasSuffix("m") ? (Int(maxBody.dropLast()) ?? 25) * 1024 : (Int(maxBody) ?? 25_600)
        var text = try String(contentsOfFile: "\(deployDirectory)/\(server.rawValue).conf", encoding: .utf8)
        let socket = "\(prefix)/fcgiwrap.sock"
        for (k, v) in ["PREFIX": prefix, "PORT": "\(port)", "BIN_DIR": binDirectory, "SECRETS_DIR": "\(prefix)/secrets",
                       "GITHUB_API_URL": githubAPI, "CONFIG": configPath, "SOCKET": socket, "MAX_BODY": maxBody,
                       "MAX_BODY_KB": "\(kb)", "FUNCTION_MAX_BODY": "\(functionMaxBody)", "FUNCTIONS_DIR": functionsDirectory] {
            text = text.replacingOccurrences(of: "@\(k)@", with: v)
        }
        let extraNginx = extraEnvironment.sorted { $0.key < $1.key }.map { "fastcgi_param \($0.key) \($0.value);" }.joined(separator: "\n            ")
        let extraLighttpd = extraEnvironment.sorted { $0.key < $1.key }.map { "\"\($0.key)\" => \"\($0.value)\"," }.joined(separator: "\n        ")
        text = text.replacingOccurrences(of: "# @EXTRA_NGINX@", with: extraNginx).replacingOccurrences(of: "# @EXTRA_LIGHTTPD@", with: extraLighttpd)
        let conf = "\(prefix)/\(server.rawValue).conf"
        try text.write(toFile: conf, atomically: true, encoding: .utf8)
        switch server {
        case .nginx:
            try launch("/usr/sbin/fcgiwrap", ["-c", "4", "-s", "unix:\(socket)"])
            try waitFor { fm.fileExists(atPath: socket) }
            // nginx workers run as an unprivileged user; as with Debian's fcgiwrap.socket, they must be able to connect.
            chmod(socket, 0o666)
            try launch("/usr/sbin/nginx", ["-p", prefix, "-c", conf, "-g", "daemon off;"])
        case .lighttpd:
            try launch("/usr/sbin/lighttpd", ["-D", "-f", conf])
        }
        try waitFor { Self.connects(self.port) }
    }

    deinit { stop() }

    public func stop() {
        // nginx and lighttpd stop on SIGTERM (nginx takes its workers along); fcgiwrap needs SIGKILL,
        // for its preforked workers too.
        for p in processes where p.isRunning {
            let pid = p.processIdentifier
            if p.executableURL?.lastPathComponent == "fcgiwrap" {
                for child in Self.children(of: pid) { kill(child, SIGKILL) }
                kill(pid, SIGKILL)
            } else {
                kill(pid, SIGTERM)
            }
        }
        for p in processes {
            for _ in 0..<40 where p.isRunning { usleep(50_000) }
            if p.isRunning { kill(p.processIdentifier, SIGKILL) }
            p.waitUntilExit()
        }
        processes.removeAll()
    }

    /// Child process ids of `pid`, from /proc (fcgiwrap's preforked workers).
    static func children(of pid: Int32) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { name -> Int32? in
            guard let child = Int32(name), let stat = try? String(contentsOfFile: "/proc/\(name)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return nil }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 2 && Int32(fields[1]) == pid ? child : nil
        }
    }

    /// The server's error log, for diagnosing a failed test.
    public var errorLog: String { (try? String(contentsOfFile: "\(prefix)/error.log", encoding: .utf8)) ?? "" }

    private func launch(_ path: String, _ args: [String]) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = args
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try p.run()
        processes.append(p)
    }

    private func waitFor(_ ready: () -> Bool) throws {
        for _ in 0..<100 {
            if ready() { return }
            if processes.contains(where: { !$0.isRunning }) { break }
            usleep(50_000)
        }
        throw EmulatorError("\(server.rawValue) did not start: \(errorLog)")
    }

    static func connects(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }

    static func freePort() throws -> Int {
        let s = try HTTPServer { _ in .empty(200) }
        let port = s.port
        s.stop()
        return port
    }
}
