import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Real web servers hosting the function binaries over CGI, from the configs in `deploy/cgi/`:
/// nginx with fcgiwrap, lighttpd with mod_cgi, or Apache with mod_cgid, on a loopback port. Used by the
/// tests, the load test and the playground.
///
/// Run as root (CI), each is started as Debian packages and starts it: nginx's master as root with
/// workers as the config's `user`; fcgiwrap from its package's own systemd units (the socket 0660
/// www-data:www-data, the service as www-data, the socket passed as systemd passes it); lighttpd as
/// root dropping to `server.username`; Apache from Debian's module files and `envvars` user. Secrets
/// and the cache folder are laid out as deploy/cgi/README.md tells an operator to. Nothing is made
/// world-writable to get it working. Run as another user, the same configs start as that user.
public final class CGIHost: @unchecked Sendable {
    public enum Server: String, Sendable, CaseIterable { case nginx, lighttpd, apache }

    public let server: Server
    public let port: Int
    public let prefix: String
    /// Started as the packages start: as root, the functions as `www-data`.
    public let packaged: Bool
    /// The folder the functions cache tokens in (owned by the user they run as).
    public let cacheDirectory: String
    private var processes: [Process] = []

    public var baseURL: String { "http://127.0.0.1:\(port)" }
    public func url(_ function: String) -> String { "\(baseURL)/hooks/\(function)" }

    /// The user the functions run as when packaged (Debian's web servers' user).
    public static let serviceUser = "www-data"

    /// True when the server's programs are installed.
    public static func available(_ server: Server) -> Bool {
        let fm = FileManager.default
        switch server {
        case .nginx: return fm.isExecutableFile(atPath: "/usr/sbin/nginx") && fm.isExecutableFile(atPath: "/usr/sbin/fcgiwrap")
        case .lighttpd: return fm.isExecutableFile(atPath: "/usr/sbin/lighttpd") && fm.fileExists(atPath: "/usr/lib/lighttpd/mod_magnet.so")
        case .apache: return fm.isExecutableFile(atPath: "/usr/sbin/apache2") && fm.fileExists(atPath: "/etc/apache2/mods-available/cgid.load")
        }
    }

    /// Starts `server` with `deploy/cgi/<server>.conf` filled in. `secrets` are written as files readable
    /// only by the functions' user.
    public init(_ server: Server, deployDirectory: String, binDirectory: String, functionsDirectory: String,
                githubAPI: String, secrets: [String: String], config: String? = nil,
                maxBody: String = "25m", functionMaxBody: Int = 26_214_400, extraEnvironment: [String: String] = [:]) throws {
        self.server = server
        let fm = FileManager.default
        let service = getpwnam(Self.serviceUser)
        packaged = getuid() == 0 && service != nil
        let uid = service?.pointee.pw_uid ?? getuid(), gid = service?.pointee.pw_gid ?? getgid()
        prefix = NSTemporaryDirectory() + "cgihost-\(server.rawValue)-\(UUID().uuidString.prefix(8))"
        cacheDirectory = prefix + "/cache"
        for d in ["", "/empty", "/upload", "/log", "/run", "/run/socks", "/lock"] { try fm.createDirectory(atPath: prefix + d, withIntermediateDirectories: true) }
        chmod(prefix, 0o755)
        // deploy/cgi/README.md: install -d -m 0750 -o root -g www-data /etc/switchyard; files 0400 www-data.
        try fm.createDirectory(atPath: prefix + "/secrets", withIntermediateDirectories: true)
        chmod(prefix + "/secrets", packaged ? 0o750 : 0o700)
        if packaged { chown(prefix + "/secrets", 0, gid) }
        for (name, value) in secrets {
            let path = "\(prefix)/secrets/\(name)"
            try value.write(toFile: path, atomically: true, encoding: .utf8)
            chmod(path, packaged ? 0o400 : 0o600)
            if packaged { chown(path, uid, gid) }
        }
        // install -d -m 0700 -o www-data /var/cache/switchyard
        try fm.createDirectory(atPath: cacheDirectory, withIntermediateDirectories: true)
        chmod(cacheDirectory, 0o700)
        if packaged {
            chown(cacheDirectory, uid, gid)
            chown(prefix + "/upload", uid, gid)
            chown(prefix + "/log", uid, gid)
        }
        port = try Self.freePort()
        let configPath = config ?? "\(prefix)/switchyard.yaml"
        if config == nil { try "# empty: every default applies\n".write(toFile: configPath, atomically: true, encoding: .utf8) }
        chmod(configPath, 0o644)
        let kb = maxBody.hasSuffix("m") ? (Int(maxBody.dropLast()) ?? 25) * 1024 : (Int(maxBody) ?? 25_600)
        let file = server == .apache ? "apache.conf" : "\(server.rawValue).conf"
        var text = try String(contentsOfFile: "\(deployDirectory)/\(file)", encoding: .utf8)
        let socket = "\(prefix)/fcgiwrap.socket"
        for (k, v) in ["PREFIX": prefix, "PORT": "\(port)", "BIN_DIR": binDirectory, "SECRETS_DIR": "\(prefix)/secrets",
                       "GITHUB_API_URL": githubAPI, "CONFIG": configPath, "SOCKET": socket, "MAX_BODY": maxBody,
                       "MAX_BODY_KB": "\(kb)", "MAX_BODY_BYTES": "\(kb * 1024)", "FUNCTION_MAX_BODY": "\(functionMaxBody)",
                       "FUNCTIONS_DIR": functionsDirectory, "CACHE_DIR": cacheDirectory, "DEPLOY_DIR": deployDirectory,
                       "LOG_DIR": prefix + "/log"] {
            text = text.replacingOccurrences(of: "@\(k)@", with: v)
        }
        let extra = extraEnvironment.sorted { $0.key < $1.key }
        text = text
            .replacingOccurrences(of: "# @EXTRA_NGINX@", with: extra.map { "fastcgi_param \($0.key) \($0.value);" }.joined(separator: "\n            "))
            .replacingOccurrences(of: "# @EXTRA_LIGHTTPD@", with: extra.map { "\"\($0.key)\" => \"\($0.value)\"," }.joined(separator: "\n        "))
            .replacingOccurrences(of: "# @EXTRA_APACHE@", with: extra.map { "SetEnv \($0.key) \($0.value)" }.joined(separator: "\n    "))
        let conf = "\(prefix)/\(file)"
        try text.write(toFile: conf, atomically: true, encoding: .utf8)
        chmod(conf, 0o644)
        switch server {
        case .nginx:
            if packaged {
                // fcgiwrap as its package's systemd units run it; DAEMON_OPTS as deploy/cgi/README.md has an
                // operator set it in /etc/default/fcgiwrap (four workers; the functions' logs on its stderr).
                let units = ["/usr/lib/systemd/system", "/lib/systemd/system"].first { fm.fileExists(atPath: $0 + "/fcgiwrap.socket") }
                guard let units else { throw EmulatorError("fcgiwrap's systemd units are not installed") }
                let defaults = prefix + "/default-fcgiwrap"
                try "DAEMON_OPTS=\"-c 4\"\n".write(toFile: defaults, atomically: true, encoding: .utf8)
                let activator = URL(fileURLWithPath: deployDirectory).deletingLastPathComponent().deletingLastPathComponent().path
                    + "/Tests/netlab/systemd-socket.py"
                try launch("/usr/bin/python3", [activator, units + "/fcgiwrap.socket", units + "/fcgiwrap.service", socket, defaults])
            } else {
                try launch("/usr/sbin/fcgiwrap", ["-c", "4", "-s", "unix:\(socket)"])
            }
            try waitFor { fm.fileExists(atPath: socket) }
            try launch("/usr/sbin/nginx", ["-p", prefix, "-c", conf, "-g", "daemon off;"])
        case .lighttpd:
            try launch("/usr/sbin/lighttpd", ["-D", "-f", conf])
        case .apache:
            let main = "\(prefix)/apache2.conf"
            try Self.apacheMain(prefix: prefix, port: port, site: conf).write(toFile: main, atomically: true, encoding: .utf8)
            var env = Self.apacheEnvironment()
            env["APACHE_RUN_DIR"] = prefix + "/run"
            env["APACHE_LOCK_DIR"] = prefix + "/lock"
            env["APACHE_LOG_DIR"] = prefix
            env["APACHE_PID_FILE"] = prefix + "/apache2.pid"
            try launch("/usr/sbin/apache2", ["-d", prefix, "-f", main, "-DFOREGROUND"], environment: env)
        }
        try waitFor { Self.connects(self.port) }
    }

    /// Debian's apache2.conf, reduced to what serves the hooks: the same module files from
    /// mods-available, the user from envvars, the site included in a virtual host.
    static func apacheMain(prefix: String, port: Int, site: String) -> String {
        let modules = ["mpm_event", "authz_core", "alias", "mime", "env", "setenvif", "rewrite", "allowmethods", "cgid"]
        var lines = [
            "Mutex file:${APACHE_LOCK_DIR} default",
            "PidFile ${APACHE_PID_FILE}",
            "Timeout 30",
            "User ${APACHE_RUN_USER}",
            "Group ${APACHE_RUN_GROUP}",
            "ErrorLog \(prefix)/error.log",
            "LogLevel warn",
        ]
        for m in modules {
            lines.append("Include /etc/apache2/mods-available/\(m).load")
            if FileManager.default.fileExists(atPath: "/etc/apache2/mods-available/\(m).conf") {
                lines.append("Include /etc/apache2/mods-available/\(m).conf")
            }
        }
        lines += [
            "Listen 127.0.0.1:\(port)",
            "ServerName 127.0.0.1",
            "<Directory />", "    Options FollowSymLinks", "    AllowOverride None", "    Require all denied", "</Directory>",
            "<VirtualHost 127.0.0.1:\(port)>",
            "    DocumentRoot \(prefix)/empty",
            "    Include \(site)",
            "</VirtualHost>",
        ]
        return lines.joined(separator: "\n") + "\n"
    }

    /// The variables Debian's /etc/apache2/envvars exports (the run user and group among them).
    static func apacheEnvironment() -> [String: String] {
        var env = ["PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C"]
        let text = (try? String(contentsOfFile: "/etc/apache2/envvars", encoding: .utf8)) ?? ""
        for line in text.split(separator: "\n") where line.hasPrefix("export ") {
            let assignment = line.dropFirst(7)
            guard let eq = assignment.firstIndex(of: "=") else { continue }
            let value = String(assignment[assignment.index(after: eq)...]).replacingOccurrences(of: "$SUFFIX", with: "")
            env[String(assignment[..<eq])] = value
        }
        return env
    }

    deinit { stop() }

    public func stop() {
        // SIGTERM first (nginx, lighttpd and Apache stop their workers on it), then SIGKILL for whatever of
        // the tree is left: fcgiwrap ignores SIGTERM, and a test runner's blocked SIGTERM is inherited.
        var trees: [(Process, [Int32])] = []
        for p in processes where p.isRunning {
            let pid = p.processIdentifier
            trees.append((p, Self.descendants(of: pid)))
            kill(pid, SIGTERM)
        }
        for (p, descendants) in trees {
            for _ in 0..<40 where p.isRunning { usleep(50_000) }
            if p.isRunning { kill(p.processIdentifier, SIGKILL) }
            for child in descendants + Self.descendants(of: p.processIdentifier) { kill(child, SIGKILL) }
        }
        for p in processes {
            p.waitUntilExit()
            ProcessReaper.unregister(p.processIdentifier)
        }
        processes.removeAll()
    }

    /// Every process below `pid` (workers, their CGI programs, mod_cgid's daemon).
    public static func descendants(of pid: Int32) -> [Int32] { ProcessReaper.descendants(of: pid) }

    /// The server's error log, for diagnosing a failed test.
    public var errorLog: String {
        let files = ["error.log", "log/error.log"] + ((try? FileManager.default.contentsOfDirectory(atPath: prefix)) ?? []).filter { $0.hasSuffix(".stderr") }.sorted()
        return files.compactMap { name in
            (try? String(contentsOfFile: "\(prefix)/\(name)", encoding: .utf8)).flatMap { $0.isEmpty ? nil : "\(name): \($0)" }
        }.joined(separator: "\n")
    }

    private func launch(_ path: String, _ args: [String], environment: [String: String]? = nil) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = args
        if let environment { p.environment = environment }
        p.standardOutput = FileHandle.nullDevice
        // Start-up complaints (before a server opens its own error log) are kept for `errorLog`.
        let log = "\(prefix)/\(URL(fileURLWithPath: path).lastPathComponent).stderr"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        p.standardError = FileHandle(forWritingAtPath: log)
        try p.run()
        processes.append(p)
        ProcessReaper.register(p.processIdentifier)
    }

    private func waitFor(_ ready: () -> Bool) throws {
        for _ in 0..<100 {
            if ready() { return }
            if processes.contains(where: { !$0.isRunning }) { break }
            usleep(50_000)
        }
        throw EmulatorError("\(server.rawValue) did not start: \(errorLog)")
    }

    public static func connects(_ port: Int) -> Bool {
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

    public static func freePort() throws -> Int {
        let s = try HTTPServer { _ in .empty(200) }
        let port = s.port
        s.stop()
        return port
    }
}
