import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import SwitchyardCore

/// A Mattermost Cloud provisioner for tests and the playground: the installation API in its wire
/// format (Go-style keys), its state machine, 409 on reserved names, injected creation failures, and
/// webhooks in its snake_case payload with the static headers given at registration.
///
/// State changes happen when `settle()` is called (the real provisioner's supervisor ticks), so tests
/// decide when a server becomes stable; each transition produces one webhook payload.
public final class ProvisionerEmulator: @unchecked Sendable {
    public enum Auth: Sendable {
        case none
        case apiKey(String)
        case bearer(String)
        case oauth2(clientID: String, clientSecret: String)
    }

    public struct Installation: Sendable {
        public var id: String
        public var owner: String
        public var name: String
        public var dns: String
        public var version: String
        public var image: String
        public var size: String
        public var license: String
        public var env: [String: String]
        public var priorityEnv: [String: String]
        public var annotations: [String]
        public var state: String
        public var createAt: Int64
        public var deleteAt: Int64 = 0
        /// The server's accounts and teams, as mmctl through the exec route made them.
        public var users: [String: (password: String, admin: Bool, email: String)] = [:]
        public var teams: [String: Set<String>] = [:]
        public var deletionLocked = false
        /// Who asked for the deletion (`extra_data.actor_id`): the OAuth client's id, or nil when unknown.
        public var deletedBy: String? = nil
        public var affinity = "isolated"
        public var database = "mysql-operator"
        public var filestore = "minio-operator"
        public var group: String? = nil
        /// `ScheduledDeletionTime` (ms; 0: none): `deleteDue()` deletes it once the time has come.
        public var scheduledDeletion: Int64 = 0
    }

    // MARK: The contract (shared/corpus/provisioner/README.md; a test holds these to it)

    public static let sizes: Set<String> = ["100users", "1000users", "5000users", "10000users", "25000users", "cloud100users",
                                            "miniSingleton", "miniHA"]
    public static let affinities: Set<String> = ["isolated", "multitenant"]
    public static let databases: Set<String> = ["mysql-operator", "aws-rds", "aws-rds-postgres", "aws-multitenant-rds",
                                                "aws-multitenant-rds-postgres", "aws-multitenant-rds-postgres-pgbouncer", "perseus", "external"]
    public static let filestores: Set<String> = ["minio-operator", "aws-s3", "aws-multitenant-s3", "bifrost", "local-ephemeral"]
    public static let defaultImage = "mattermost/mattermost-enterprise-edition"

    static func validSize(_ s: String) -> Bool {
        if sizes.contains(s) || s == "provisionerXL" { return true }
        guard s.hasPrefix("provisionerXL-"), let n = Int(s.dropFirst(14)), n > 0 else { return false }
        return true
    }

    /// The clusters installations can be scheduled on, each with its annotations. An installation lands
    /// only on a cluster that has every annotation it carries; otherwise it stays in
    /// `creation-no-compatible-clusters` (and is retried while it waits).
    public var clusters: [[String]] {
        get { lock.withLock { clusterAnnotations } }
        set { lock.withLock { clusterAnnotations = newValue } }
    }
    var clusterAnnotations: [[String]] = [["multi-tenant"]]

    /// When set, `settle()` leaves installations in `deletion-pending` (their expiry has not come).
    public var holdPendingDeletions: Bool {
        get { lock.withLock { holdPending } }
        set { lock.withLock { holdPending = newValue } }
    }
    var holdPending = false
    var holdCreating = false

    public struct Webhook: Sendable {
        public var owner: String
        public var url: String
        public var headers: [(String, String)]
    }

    /// A webhook the emulator emitted: the JSON payload and the headers it was (or would be) sent with.
    public struct Event: Sendable {
        public var payload: JSON
        public var headers: [(String, String)]
        public var body: [UInt8] { Array(payload.encoded().utf8) }
        public init(payload: JSON, headers: [(String, String)]) { self.payload = payload; self.headers = headers }
    }

    public struct Logged: Sendable {
        public var method: String
        public var path: String
        public var query: String
        public var body: String
        public var status: Int
    }

    /// A fault for one call: `skip` calls pass, then the next answers with it.
    public enum Fault: Sendable { case status(Int), reset, slow(milliseconds: Int) }

    let lock = NSLock()
    let auth: Auth
    var fault: (skip: Int, kind: Fault)?
    var served = 0
    var installations: [Installation] = []
    var webhooks: [Webhook] = []
    var failures: [String] = []
    var updateFailures = 0
    var issuedTokens: [String] = []
    var log: [Logged] = []
    var emitted: [Event] = []
    var counter = 0
    var execLog: [[String]] = []
    var execFaults: [Int] = []
    private var server: HTTPServer?
    public private(set) var baseURL = ""
    public var environmentName = "test"

    public init(auth: Auth = .none) { self.auth = auth }

    public func start() throws -> String {
        let s = try HTTPServer { [weak self] r in
            guard let self else { return .respond(status: 503, headers: [], body: Array("server owner is gone".utf8)) }
            return self.serve(r)
        }
        server = s
        baseURL = s.baseURL
        return s.baseURL
    }

    public func stop() { server?.stop() }

    // MARK: Inspection and control

    public var all: [Installation] { lock.withLock { installations } }

    /// A stable installation made by someone else (the Cloud plugin, the cloud CLI): returns its id.
    @discardableResult
    public func seed(owner: String, name: String, dns: String, version: String = "10.2.0") -> String {
        lock.withLock {
            counter += 1
            let i = Installation(id: Self.id(counter), owner: owner, name: name, dns: dns, version: version, image: Self.defaultImage,
                                 size: "miniSingleton", license: "", env: [:], priorityEnv: [:], annotations: ["multi-tenant"], state: "stable",
                                 createAt: Int64(Date().timeIntervalSince1970 * 1000))
            installations.append(i)
            return i.id
        }
    }
    public var requests: [Logged] { lock.withLock { log } }
    public var tokensIssued: Int { lock.withLock { issuedTokens.count } }
    public func installation(_ id: String) -> Installation? { lock.withLock { installations.first { $0.id == id } } }
    /// Every webhook emitted so far, oldest first.
    public var events: [Event] { lock.withLock { emitted } }
    public func clearLog() { lock.withLock { log.removeAll() } }

    /// The next creation ends in this state (`creation-failed`). For `creation-no-compatible-clusters`,
    /// set `clusters` so that none carries the installation's annotations: that is how it arises.
    public func failNextCreation(_ state: String = "creation-failed") { lock.withLock { failures.append(state) } }

    /// Every mmctl command run through the exec route, arguments as sent.
    public var commands: [[String]] { lock.withLock { execLog } }
    /// The next exec calls answer with these statuses (504: the request ends, the command still runs).
    public func failNextExec(_ statuses: Int...) { lock.withLock { execFaults += statuses } }

    /// The provisioner's own clean-up moves an installation to pending deletion (`actor_id` is not the client's).
    public func deleteAutomatically(_ id: String) {
        lock.withLock {
            guard let idx = installations.firstIndex(where: { $0.id == id }) else { return }
            installations[idx].deletedBy = "provisioner-cleanup"
            installations[idx].state = "deletion-pending-requested"
        }
    }

    /// The provisioner's scheduled deletion: every installation whose `ScheduledDeletionTime` is at or
    /// before `now` (ms) goes to pending deletion, as its supervisor does.
    public func runScheduledDeletions(now: Int64) {
        lock.withLock {
            for i in installations.indices where installations[i].scheduledDeletion > 0 && installations[i].scheduledDeletion <= now
                && !installations[i].state.hasPrefix("deletion") && installations[i].state != "deleted" && !installations[i].deletionLocked {
                installations[i].deletedBy = "provisioner-scheduled-deletion"
                installations[i].state = "deletion-pending-requested"
            }
        }
    }

    /// Creations stop in `creation-in-progress` (a provisioner that never reports) while this is set.
    public func holdCreations(_ on: Bool) { lock.withLock { holdCreating = on } }

    /// Moves an installation's creation time `minutes` into the past.
    public func backdate(_ id: String, minutes: Int) {
        lock.withLock {
            guard let idx = installations.firstIndex(where: { $0.id == id }) else { return }
            installations[idx].createAt -= Int64(minutes) * 60_000
            if installations[idx].scheduledDeletion > 0 { installations[idx].scheduledDeletion -= Int64(minutes) * 60_000 }
        }
    }

    /// The next update ends in `update-failed`.
    public func failNextUpdate() { lock.withLock { updateFailures += 1 } }

    /// Registers a webhook, as `cloud webhook create --owner … --url … --header Key:Value` would.
    public func registerWebhook(owner: String, url: String, headers: [(String, String)]) {
        lock.withLock { webhooks.append(Webhook(owner: owner, url: url, headers: headers)) }
    }

    /// Runs the supervisor until every installation rests, and returns the webhooks of the transitions,
    /// in order. Registered URLs are sent each payload over HTTP.
    @discardableResult
    public func settle() -> [Event] {
        var out: [Event] = []
        while true {
            let step: [Event] = lock.withLock {
                var events: [Event] = []
                for i in installations.indices {
                    let old = installations[i].state
                    guard let new = next(installations[i]) else { continue }
                    installations[i].state = new
                    if new == "deleted" { installations[i].deleteAt = Int64(Date().timeIntervalSince1970 * 1000) }
                    events.append(event(installations[i], old: old))
                }
                return events
            }
            if step.isEmpty { break }
            out += step
        }
        deliver(out)
        return out
    }

    func schedulable(_ i: Installation) -> Bool {
        clusterAnnotations.contains { cluster in i.annotations.allSatisfy(cluster.contains) }
    }

    func next(_ i: Installation) -> String? {
        switch i.state {
        case "creation-requested": return schedulable(i) ? "creation-in-progress" : "creation-no-compatible-clusters"
        case "creation-no-compatible-clusters": return schedulable(i) ? "creation-in-progress" : nil
        case "creation-in-progress":
            if holdCreating { return nil }
            if !failures.isEmpty { return failures.removeFirst() }
            return "stable"
        case "update-requested": return "update-in-progress"
        case "update-in-progress":
            if updateFailures > 0 { updateFailures -= 1; return "update-failed" }
            return "stable"
        case "hibernation-requested": return "hibernating"
        case "wake-up-requested": return "stable"
        case "deletion-pending-requested": return "deletion-pending-in-progress"
        case "deletion-pending-in-progress": return "deletion-pending"
        // The pending period is over when the supervisor runs again (the real one waits for the expiry),
        // unless the test holds it, as the real one does for minutes to a day.
        case "deletion-pending": return holdPending ? nil : "deletion-requested"
        case "deletion-requested": return "deletion-in-progress"
        case "deletion-in-progress": return "deleted"
        default: return nil
        }
    }

    func event(_ i: Installation, old: String) -> Event {
        counter += 1
        let payload: JSON = [
            "event_id": .string(Self.id(counter + 7_000)), "timestamp": .number(Double(Int64(Date().timeIntervalSince1970 * 1_000_000_000))),
            "id": .string(i.id), "type": "installation", "new_state": .string(i.state), "old_state": .string(old),
            // `DNS` is no longer sent (clients that read it read nothing); `Name` is.
            "extra_data": .object(["Name": .string(i.name), "Environment": .string(environmentName)]
                .merging(i.state.hasPrefix("deletion") ? i.deletedBy.map { ["actor_id": JSON.string($0)] } ?? [:] : [:]) { a, _ in a }),
        ]
        let headers = [("Content-Type", "application/json")] + (webhooks.first?.headers ?? [])
        let e = Event(payload: payload, headers: headers)
        emitted.append(e)
        return e
    }

    func deliver(_ events: [Event]) {
        let hooks = lock.withLock { webhooks }
        for hook in hooks where hook.url.hasPrefix("http") {
            for e in events {
                var req = URLRequest(url: URL(string: hook.url)!)
                req.httpMethod = "POST"
                req.httpBody = Data(e.body)
                req.timeoutInterval = 15
                req.setValue("application/json", forHTTPHeaderField: "Content-Type")
                for (k, v) in hook.headers { req.setValue(v, forHTTPHeaderField: k) }
                let done = DispatchSemaphore(value: 0)
                URLSession.shared.dataTask(with: req) { _, _, _ in done.signal() }.resume()
                _ = done.wait(timeout: .now() + 20)
            }
        }
    }

    /// Mattermost-style 26-character ids: 20 letters of hash, then the counter, so they are unique.
    static func id(_ n: Int) -> String {
        let alphabet = Array("ybndrfg8ejkmcpqxot1uwisza345h769")
        var x = UInt64(truncatingIfNeeded: n) &* 0x9E3779B97F4A7C15 | 1
        var out = ""
        for _ in 0..<20 { x ^= x << 13; x ^= x >> 7; x ^= x << 17; out.append(alphabet[Int(x % 32)]) }
        var m = n
        for _ in 0..<6 { out.append(alphabet[m % 32]); m /= 32 }
        return out
    }

    // MARK: The API

    func dto(_ i: Installation) -> JSON {
        // `model.EnvVar` encodes `value` (lower case).
        func env(_ m: [String: String]) -> JSON { m.isEmpty ? .null : .object(m.mapValues { ["value": .string($0)] }) }
        return [
            "ID": .string(i.id), "OwnerID": .string(i.owner), "GroupID": i.group.map(JSON.string) ?? .null, "Name": .string(i.name),
            "Version": .string(i.version), "Image": .string(i.image), "Database": .string(i.database), "Filestore": .string(i.filestore),
            "License": .string(i.license), "MattermostEnv": env(i.env), "PriorityEnv": env(i.priorityEnv), "Size": .string(i.size),
            "Affinity": .string(i.affinity),
            "State": .string(i.state), "CreateAt": .number(Double(i.createAt)), "DeleteAt": .number(Double(i.deleteAt)),
            "ScheduledDeletionTime": .number(Double(i.scheduledDeletion)),
            "APISecurityLock": false, "DeletionLocked": .bool(i.deletionLocked), "LockAcquiredBy": .null, "LockAcquiredAt": 0,
            "Annotations": .array(i.annotations.enumerated().map { ["ID": .string(Self.id(900 + $0.offset)), "Name": .string($0.element)] }),
            "DNSRecords": [["ID": .string(Self.id(i.name.count + 50)), "DomainName": .string(i.dns), "InstallationID": .string(i.id),
                            "IsPrimary": true, "CreateAt": .number(Double(i.createAt)), "DeleteAt": 0]],
        ]
    }

    static func clusterInstallationID(_ installation: String) -> String {
        String(installation.reversed())
    }

    /// The few mmctl commands a new server's accounts need, with mmctl's own checks: `--local` is
    /// required (there is no session), names are unique.
    func mmctl(_ args: [String], _ i: inout Installation) -> ServerReply {
        guard args.contains("--local") else {
            return error(500, "Error: cannot read the config file; use --local or log in with mmctl auth login")
        }
        func value(_ flag: String) -> String? { args.firstIndex(of: flag).flatMap { $0 + 1 < args.count ? args[$0 + 1] : nil } }
        func text(_ t: String) -> ServerReply { .respond(status: 200, headers: [("Content-Type", "text/plain")], body: Array((t + "\n").utf8)) }
        let words = args.filter { !$0.hasPrefix("--") }
        if words.first == "version" { return text("mmctl:\nVersion:\t10.2.0") }
        switch Array(words.prefix(2)) {
        case ["user", "create"]:
            guard let name = value("--username"), let password = value("--password"), let email = value("--email") else {
                return error(500, "Error: username, email and password are required")
            }
            guard password.count >= 8 else { return error(500, "Error: password must be at least 8 characters") }
            if i.users[name] != nil { return error(500, "Error: an account with that username already exists") }
            i.users[name] = (password, args.contains("--system-admin"), email)
            return text("User \(name) has been created")
        case ["user", "change-password"]:
            guard words.count >= 3, i.users[words[2]] != nil, let password = value("--password") else { return error(500, "Error: user not found") }
            i.users[words[2]]!.password = password
            return text("Password for user \(words[2]) successfully changed")
        case ["team", "create"]:
            guard let name = value("--name") else { return error(500, "Error: name is required") }
            if i.teams[name] != nil { return error(500, "Error: a team with that name already exists") }
            i.teams[name] = []
            return text("New team \(name) successfully created")
        case ["team", "users"]:
            guard words.count >= 5, words[2] == "add", i.teams[words[3]] != nil else { return error(500, "Error: unable to find team") }
            for u in words.dropFirst(4) {
                guard i.users[u] != nil else { return error(500, "Error: can't find user '\(u)'") }
                i.teams[words[3]]!.insert(u)
            }
            return text("")
        case ["user", "list"]:
            return text(i.users.keys.sorted().map { "\($0): \($0)@example.com" }.joined(separator: "\n"))
        case ["sampledata"]:
            return text("Sample data created")
        default:
            return error(500, "Error: unknown command \"\(words.joined(separator: " "))\"")
        }
    }

    /// An env entry's value, read as Go's case-insensitive decoder reads `model.EnvVar`.
    static func envValue(_ entry: JSON) -> String? {
        for (k, v) in entry.object ?? [:] where k.lowercased() == "value" { return v.string }
        return nil
    }

    func authorized(_ r: ServerRequest) -> Bool {
        switch auth {
        case .none: return true
        case .apiKey(let k): return r.header("x-api-key") == k
        case .bearer(let t): return r.header("authorization") == "Bearer \(t)"
        case .oauth2: return issuedTokens.contains { r.header("authorization") == "Bearer \($0)" }
        }
    }

    /// Injects one fault: after `skip` calls, the next fails (a slow answer still does the work).
    public func inject(skip: Int, _ kind: Fault) { lock.withLock { fault = (skip, kind); served = 0 } }
    public func clearFaults() { lock.withLock { fault = nil } }
    /// True once the injected fault has fired.
    public var faultFired: Bool { lock.withLock { fault.map { served > $0.skip } ?? false } }

    func serve(_ r: ServerRequest) -> ServerReply {
        let reply: ServerReply = lock.withLock {
            served += 1
            if let f = fault, served == f.skip + 1 {
                switch f.kind {
                case .status(let code): return error(code, "injected failure")
                case .reset: return .reset
                case .slow(let ms): return .delayed(milliseconds: ms, route(r))
                }
            }
            return route(r)
        }
        var status = 0
        if case .respond(let s, _, _) = reply { status = s }
        lock.withLock { log.append(Logged(method: r.method, path: r.path, query: r.rawQuery, body: String(decoding: r.body, as: UTF8.self), status: status)) }
        return reply
    }

    func error(_ status: Int, _ message: String) -> ServerReply {
        .respond(status: status, headers: [("Content-Type", "text/plain; charset=utf-8")], body: Array((message + "\n").utf8))
    }

    func route(_ r: ServerRequest) -> ServerReply {
        let seg = r.path.split(separator: "/").map { String($0).removingPercentEncoding ?? String($0) }
        if r.method == "POST", seg == ["oauth", "token"] {
            guard case .oauth2(let id, let secret) = auth else { return error(404, "not found") }
            let form = (try? FormFields(parsing: r.body))
            guard form?["grant_type"] == "client_credentials", form?["client_id"] == id, form?["client_secret"] == secret else {
                return .json(401, ["error": "invalid_client"])
            }
            counter += 1
            let token = "prov-access-\(Self.id(counter))"
            issuedTokens.append(token)
            return .json(200, ["access_token": .string(token), "token_type": "Bearer", "expires_in": 3600])
        }
        guard authorized(r) else { return error(401, "unauthorized") }
        guard seg.first == "api", seg.count >= 2 else { return error(404, "not found") }
        switch (r.method, Array(seg.dropFirst())) {
        case ("GET", ["installations"]):
            let q = r.query
            let includeDeleted = q["include_deleted"] == "true"
            var list = installations.filter { includeDeleted || $0.state != "deleted" }
            if let o = q["owner"], !o.isEmpty { list = list.filter { $0.owner == o } }
            if let d = q["dns_name"], !d.isEmpty { list = list.filter { $0.dns == d } }
            let page = Int(q["page"] ?? "0") ?? 0, per = min(Int(q["per_page"] ?? "100") ?? 100, 100)
            return .json(200, .array(list.dropFirst(page * per).prefix(per).map(dto)))
        case ("POST", ["installations"]):
            guard let j = r.json, case .object = j else { return error(400, "failed to decode create installation request") }
            func invalid(_ why: String) -> ServerReply { error(400, "create installation request failed validation: \(why)") }
            guard let owner = j["OwnerID"]?.string, !owner.isEmpty else { return invalid("must specify owner") }
            var names = (j["DNSNames"]?.array ?? []).compactMap(\.string)
            if let legacy = j["DNS"]?.string, !legacy.isEmpty { names.insert(legacy, at: 0) }
            guard let dns = names.first?.lowercased() else { return invalid("must specify at least one DNS name") }
            let name = (j["Name"]?.string ?? String(dns.prefix { $0 != "." })).lowercased()
            for d in names {
                let sub = d.prefix { $0 != "." }
                guard d.lowercased().hasPrefix(name + "."), (2...63).contains(sub.count), d.count <= 253 else {
                    return invalid("DNS name \(d) must start with the installation name and have a subdomain between 3 and 64 characters")
                }
            }
            for key in ["Version", "Image", "License", "GroupID"] where j[key]?.string?.contains(" ") == true || dns.contains(" ") {
                return invalid("\(key) cannot contain spaces")
            }
            let size = j["Size"]?.string ?? "100users"
            guard Self.validSize(size) else { return invalid("unsupported size \(size)") }
            let affinity = j["Affinity"]?.string ?? "isolated"
            guard Self.affinities.contains(affinity) else { return invalid("unsupported affinity \(affinity)") }
            let database = j["Database"]?.string ?? "mysql-operator"
            guard Self.databases.contains(database) else { return invalid("unsupported database \(database)") }
            let filestore = j["Filestore"]?.string ?? "minio-operator"
            guard Self.filestores.contains(filestore) else { return invalid("unsupported filestore \(filestore)") }
            if installations.contains(where: { $0.state != "deleted" && ($0.dns == dns || $0.name == name) }) {
                return error(409, "installation with DNS \(dns) or name \(name) already exists")
            }
            var envs: [String: [String: String]] = [:]
            for k in ["MattermostEnv", "PriorityEnv"] {
                var m: [String: String] = [:]
                for (name, entry) in j[k]?.object ?? [:] {
                    // Go's decoder matches `value` and `Value` alike; an entry without one is invalid.
                    guard let v = Self.envValue(entry), !v.isEmpty else { return invalid("invalid env var \(name): no Value or ValueFrom is defined") }
                    m[name] = v
                }
                envs[k] = m
            }
            let scheduled = Int64(j["ScheduledDeletionTime"]?.int ?? 0)
            if scheduled != 0, scheduled < Int64(Date().timeIntervalSince1970 * 1000) + 5 * 60_000 {
                return invalid("scheduled deletion time must be at least 5 minutes in the future")
            }
            counter += 1
            var i = Installation(id: Self.id(counter), owner: owner, name: name, dns: dns, version: j["Version"]?.string ?? "stable",
                                 image: j["Image"]?.string ?? Self.defaultImage, size: size,
                                 license: j["License"]?.string ?? "", env: envs["MattermostEnv"] ?? [:], priorityEnv: envs["PriorityEnv"] ?? [:],
                                 annotations: j["Annotations"]?.array?.compactMap(\.string) ?? [], state: "creation-requested",
                                 createAt: Int64(Date().timeIntervalSince1970 * 1000))
            i.affinity = affinity; i.database = database; i.filestore = filestore
            i.group = j["GroupID"]?.string.flatMap { $0.isEmpty ? nil : $0 }
            i.scheduledDeletion = scheduled
            installations.append(i)
            return .json(202, dto(i))
        case (let m, let rest) where rest.count >= 2 && rest[0] == "installation":
            guard let idx = installations.firstIndex(where: { $0.id == rest[1] }) else { return error(404, "not found") }
            var i = installations[idx]
            defer { installations[idx] = i }
            func transition(_ to: String, from: [String]) -> ServerReply {
                guard from.contains(i.state) else { return error(400, "installation is in state \(i.state) and cannot go to \(to)") }
                i.state = to
                return .json(202, dto(i))
            }
            switch (m, Array(rest.dropFirst(2))) {
            case ("GET", []): return .json(200, dto(i))
            case ("POST", []): return transition("creation-requested", from: ["creation-failed", "creation-no-compatible-clusters"])
            case ("DELETE", []):
                if i.deletionLocked { return error(403, "installation is locked from deletion") }
                if case .oauth2(let client, _) = auth { i.deletedBy = client }
                if i.state.hasPrefix("deletion") || i.state == "deleted" { return .json(202, dto(i)) }
                // A server that never came up goes straight to deletion; any other waits out the pending period.
                if i.state.hasPrefix("creation") { i.state = "deletion-requested"; return .json(202, dto(i)) }
                return transition("deletion-pending-requested", from: ["stable", "update-requested", "update-in-progress", "update-failed",
                                                                       "hibernating", "hibernation-requested", "wake-up-requested"])
            case ("POST", ["hibernate"]): return transition("hibernation-requested", from: ["stable"])
            case ("POST", ["wakeup"]): return transition("wake-up-requested", from: ["hibernating"])
            case ("PUT", ["mattermost"]):
                guard ["stable", "update-requested", "update-in-progress", "update-failed"].contains(i.state) else {
                    return error(400, "installation is in state \(i.state) and cannot be updated")
                }
                guard let j = r.json, case .object = j else { return error(400, "failed to decode patch installation request") }
                var applied = false
                if let size = j["Size"]?.string, !size.isEmpty, !Self.validSize(size) { return error(400, "unsupported size \(size)") }
                if let owner = j["OwnerID"]?.string {
                    guard !owner.isEmpty else { return error(400, "provided owner update value was blank") }
                    // The owner is bookkeeping: it changes without an update of the server.
                    i.owner = owner
                }
                if let license = j["License"]?.string, license != i.license { i.license = license; applied = true }
                for (key, path) in [("Version", \Installation.version), ("Image", \Installation.image), ("Size", \Installation.size)] {
                    if let v = j[key]?.string {
                        guard !v.isEmpty else { return error(400, "provided \(key.lowercased()) update value was blank") }
                        if i[keyPath: path] != v { i[keyPath: path] = v; applied = true }
                    }
                }
                if let env = j["MattermostEnv"]?.object {
                    // As the provisioner does: an empty map clears every variable; an empty value removes one.
                    if env.isEmpty { applied = applied || !i.env.isEmpty; i.env = [:] }
                    for (k, v) in env {
                        let value = Self.envValue(v) ?? ""
                        if value.isEmpty { if i.env.removeValue(forKey: k) != nil { applied = true } }
                        else if i.env[k] != value { i.env[k] = value; applied = true }
                    }
                }
                if applied { i.state = "update-requested" }
                return .json(202, dto(i))
            default:
                return error(405, "method not allowed")
            }
        case ("POST", let rest) where rest.count == 5 && rest[0] == "security" && rest[1] == "installation" && rest[3] == "deletion"
                                      && ["lock", "unlock"].contains(rest[4]):
            guard let idx = installations.firstIndex(where: { $0.id == rest[2] }) else { return error(404, "not found") }
            installations[idx].deletionLocked = rest[4] == "lock"
            return .empty(200)
        case ("GET", ["cluster_installations"]):
            // One cluster installation per installation once it is scheduled (its id derived from the installation's).
            let id = r.query["installation"] ?? ""
            guard let i = installations.first(where: { $0.id == id }),
                  !["creation-requested", "creation-no-compatible-clusters", "deleted"].contains(i.state) else { return .json(200, []) }
            return .json(200, [["ID": .string(Self.clusterInstallationID(i.id)), "InstallationID": .string(i.id),
                                "ClusterID": .string(Self.id(4242)), "State": "stable"]])
        case ("POST", let rest) where rest.count == 4 && rest[0] == "cluster_installation" && rest[2] == "exec":
            guard let idx = installations.firstIndex(where: { Self.clusterInstallationID($0.id) == rest[1] }) else { return error(404, "not found") }
            guard rest[3] == "mmctl" || rest[3] == "mattermost" else { return error(400, "unsupported command \(rest[3])") }
            guard let args = r.json?.array?.compactMap(\.string) else { return error(400, "failed to decode command arguments") }
            execLog.append(args)
            guard installations[idx].state == "stable" else { return error(400, "installation is not stable") }
            // The command runs whatever becomes of the answer (a 504 is the request ending, not the command).
            let answer = rest[3] == "mattermost"
                ? .respond(status: 200, headers: [("Content-Type", "text/plain")], body: Array("mattermost \(args.joined(separator: " ")): done\n".utf8))
                : mmctl(args, &installations[idx])
            if !execFaults.isEmpty { return error(execFaults.removeFirst(), "injected failure") }
            return answer
        case ("POST", ["webhooks"]):
            guard let j = r.json, let owner = j["OwnerID"]?.string, let url = j["URL"]?.string else { return error(400, "bad webhook") }
            guard let u = URL(string: url), ["http", "https"].contains(u.scheme ?? ""), u.host?.isEmpty == false else {
                return error(400, "webhook URL must be http(s) with a host")
            }
            let headers = (j["Headers"]?.array ?? []).compactMap { h in
                (h["key"]?.string ?? h["Key"]?.string).map { ($0, h["value"]?.string ?? h["Value"]?.string ?? "") }
            }
            webhooks.append(Webhook(owner: owner, url: url, headers: headers))
            counter += 1
            return .json(202, ["ID": .string(Self.id(counter)), "OwnerID": .string(owner), "URL": .string(url),
                               "CreateAt": .number(Double(Int64(Date().timeIntervalSince1970 * 1000))), "DeleteAt": 0,
                               "Headers": .array(headers.map { ["key": .string($0.0), "value": .string($0.1)] })])
        default:
            return error(404, "not found")
        }
    }
}

/// A Mattermost or Slack incoming webhook: records what is posted to it.
public final class ChatWebhookEmulator: @unchecked Sendable {
    public struct Message: Sendable { public var text: String; public var channel: String? }
    let lock = NSLock()
    var received: [Message] = []
    private var server: HTTPServer?

    public init() {}

    public func start() throws -> String {
        let s = try HTTPServer { [weak self] r in
            guard let self else { return .respond(status: 503, headers: [], body: Array("server owner is gone".utf8)) }
            guard r.method == "POST", let j = r.json, let text = j["text"]?.string else { return .respond(status: 400, headers: [], body: Array("invalid payload".utf8)) }
            self.lock.withLock { self.received.append(Message(text: text, channel: j["channel"]?.string)) }
            return .respond(status: 200, headers: [("Content-Type", "text/plain")], body: Array("ok".utf8))
        }
        server = s
        return s.baseURL + "/hooks/" + ProvisionerEmulator.id(Int.random(in: 1...1_000_000))
    }

    public func stop() { server?.stop() }
    public var messages: [Message] { lock.withLock { received } }
}
