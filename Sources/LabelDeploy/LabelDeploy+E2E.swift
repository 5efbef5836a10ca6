import SwitchyardCore
import SwitchyardGitHub
import SwitchyardRuntime

/// Spinwick's `E2E/Run`: the servers an end-to-end run needs, one per site, made when the label is
/// added by someone with write access, and handed to e2e-trigger through GitHub itself: once every
/// site is stable, a deployment to the environment `e2e-pr-<n>` at the PR's head carries their URLs
/// in its payload, and its `success` status is the event e2e-trigger dispatches the workflow on. The
/// servers go when the label goes or the PR closes, and the reconcile schedule deletes any older than
/// `max-age-hours` (default 24). Each server's owner is `github.com/<o>/<r>/pull/<n>/e2e/<site>`.
extension LabelDeploy {
    public struct E2ESettings: Sendable, Equatable {
        public var label: String
        public var sites = ["site-1"]
        public var version = "latest"
        public var image = "mattermost/mattermost-enterprise-edition"
        public var size = "miniSingleton"
        public var releases = "mattermost/mattermost"
        /// matterwick's `PriorityEnv` for E2E servers, by default.
        public var env: [String: String] = ["MM_SERVICEENVIRONMENT": "test", "MM_SERVICESETTINGS_ENABLEONBOARDINGFLOW": "false",
                                             "MM_SERVICESETTINGS_ENABLETUTORIAL": "false"]
        public var maxAgeHours = 24

        /// 1 to 20 of `a-z`, `0-9` and inner `-`.
        static func validSite(_ site: String) -> Bool {
            let u = Array(site.utf8)
            guard (1...20).contains(u.count), u.first != UInt8(ascii: "-"), u.last != UInt8(ascii: "-") else { return false }
            return u.allSatisfy { ($0 >= 0x61 && $0 <= 0x7a) || ($0 >= 0x30 && $0 <= 0x39) || $0 == UInt8(ascii: "-") }
        }

        /// `deploy.e2e` for a repository, when it names a label (and valid sites).
        public static func from(config: Config, repo: RepoRef) -> E2ESettings? {
            func v(_ k: String...) -> YAML? { config.value(["deploy", "e2e"] + k, for: repo) }
            guard let label = v("label")?.string, !label.isEmpty else { return nil }
            var s = E2ESettings(label: label)
            if let x = v("sites")?.strings { s.sites = x }
            // Sites name servers and inputs: short DNS labels, each once. A list that breaks this is not
            // used (nothing is made) rather than trimmed into something nobody asked for.
            var seen = Set<String>()
            guard !s.sites.isEmpty, s.sites.allSatisfy({ Self.validSite($0) && seen.insert($0).inserted }) else { return nil }
            if let x = v("version")?.string { s.version = x }
            if let x = v("image")?.string { s.image = x }
            if let x = v("size")?.string { s.size = x }
            if let x = v("releases")?.string { s.releases = x }
            if let x = v("env")?.entries { for (k, val) in x { s.env[k] = val.string ?? "" } }
            if let x = v("max-age-hours")?.int { s.maxAgeHours = max(1, x) }
            return s
        }
    }

    public static func e2eOwner(_ ref: IssueRef, site: String) -> String { owner(ref) + "/e2e/" + site }

    /// The pull request and site of an E2E server's owner id.
    public static func e2eServer(owner: String) -> (IssueRef, String)? {
        guard let r = owner.firstRange(of: "/e2e/"), let ref = pullRequest(owner: String(owner[..<r.lowerBound])) else { return nil }
        let site = String(owner[r.upperBound...])
        return site.isEmpty || site.contains("/") ? nil : (ref, site)
    }

    static let e2eMarker = Marker(function: "label-deploy", "e2e")
    public static func e2eEnvironment(_ ref: IssueRef) -> String { "e2e-pr-\(ref.number)" }

    func e2eName(_ ref: IssueRef, site: String, settings s: Settings) -> String {
        var base = s.serverName(ref)
        let maxBase = max(1, 40 - site.count - 1)
        if base.count > maxBase { base = String(base.prefix(maxBase)) }
        while base.hasSuffix("-") { base.removeLast() }
        return (base.isEmpty ? "pr" : base) + "-" + site
    }

    /// Every site's server, as the provisioner has it now (deleted ones left out).
    func e2eServers(_ ref: IssueRef, _ e2e: E2ESettings, cloud: CloudProvisioner) throws -> [String: TestServer] {
        var out: [String: TestServer] = [:]
        for site in e2e.sites {
            if let s = try cloud.servers(owner: Self.e2eOwner(ref, site: site)).first(where: { !$0.isGone }) { out[site] = s }
        }
        return out
    }

    /// A `pull_request` event as far as the E2E label goes; nil when it is not about it.
    func e2eLabelEvent(_ e: PullRequestEvent, ref: IssueRef, e2e: E2ESettings, settings s: Settings, context: CapabilityContext) throws -> Plan? {
        switch e.action {
        case .labeled where e.label?.name == e2e.label:
            let pull = try context.github().pullRequest(ref)
            guard pull.state == "open", (pull.labels ?? []).contains(where: { $0.name == e2e.label }) else {
                return .ignore("the `\(e2e.label)` label is gone again, or #\(ref.number) is closed")
            }
            switch try context.admits(e.sender.login, isBot: e.sender.isBot, command: "deploy", default: Self.defaultPolicy, repo: ref.repo) {
            case .allowed: break
            case .ignored(let why): return .perform([.removeLabel(issue: ref, label: e2e.label)], message: "the `\(e2e.label)` label was removed: \(why)")
            case .denied:
                let text = "@\(e.sender.login) only people with write access can ask for end-to-end servers, so the `\(e2e.label)` label was removed."
                return .deny(text, reply: [.comment(issue: ref, body: text, marker: Marker(function: name, "e2e-untrusted", e.sender.login.lowercased())),
                                           .removeLabel(issue: ref, label: e2e.label)])
            }
            return try e2eEnsure(ref, e2e, settings: s, context: context)
        case .unlabeled where e.label?.name == e2e.label:
            let pull = try context.github().pullRequest(ref)
            guard !(pull.labels ?? []).contains(where: { $0.name == e2e.label }) else { return .ignore("the `\(e2e.label)` label is back") }
            // Switchyard took the label off after a failure: the other sites go, and the comment keeps saying why.
            let afterFailure = try context.github().isBot(e.sender.login)
            return try e2eTeardown(ref, e2e, why: "the `\(e2e.label)` label was removed", context: context, keepComment: afterFailure)
        case .closed:
            let servers = try e2eTeardown(ref, e2e, why: e.pullRequest.merged == true ? "the pull request was merged" : "the pull request was closed", context: context)
            guard servers.outcome != .ignored else { return nil }
            // The PR's own server goes too.
            let own = s.profiles.isEmpty ? Plan.ignore("") : try teardown(ref, settings: s, context: context, why: e.pullRequest.merged == true ? "the pull request was merged" : "the pull request was closed")
            return .perform(servers.actions + own.actions, message: [servers.message, own.message].filter { !$0.isEmpty }.joined(separator: "; "))
        default:
            return nil
        }
    }

    /// The label was added: make the sites that are missing, wake the hibernating, and hand over at
    /// once when all are already up.
    func e2eEnsure(_ ref: IssueRef, _ e2e: E2ESettings, settings s: Settings, context: CapabilityContext) throws -> Plan {
        let cloud = try cloudProvisioner(context)
        let existing = try e2eServers(ref, e2e, cloud: cloud)
        if context.dryRun { return Plan(outcome: .planned, message: "would make the end-to-end servers of #\(ref.number)") }
        var version = e2e.version
        var made: [String] = []
        for site in e2e.sites where existing[site] == nil {
            if version == "latest" {
                let cs = ChatSettings(config: context.config)
                var pinned = cs
                pinned.releases = e2e.releases
                version = try latestRelease(pinned, context: context)
            }
            var spec = ServerSpec(owner: Self.e2eOwner(ref, site: site), name: e2eName(ref, site: site, settings: s),
                                  dns: "\(e2eName(ref, site: site, settings: s)).\(s.domain)", version: version, image: e2e.image, size: e2e.size)
            spec.priorityEnv = e2e.env
            var placement = s.placement
            placement.image = e2e.image
            spec.place(placement)
            do { _ = try cloud.create(spec); made.append(site) } catch BackendError.nameTaken {
                return .perform([.upsertComment(issue: ref, body: Self.e2eBody(e2e, servers: existing, note: "⚠️ `\(spec.name)` is still reserved by a server being deleted; remove and add `\(e2e.label)` again in a few minutes."), marker: Self.e2eMarker)],
                                message: "\(spec.name) is reserved")
            }
        }
        for (_, server) in existing where server.state == "hibernating" { try cloud.wakeUp(server.id) }
        let now = try e2eServers(ref, e2e, cloud: cloud)
        if made.isEmpty, e2e.sites.allSatisfy({ now[$0]?.state == "stable" }) {
            return try e2eHandOver(ref, e2e, servers: now, context: context)
        }
        let note = made.isEmpty ? "⏳ Waiting for the end-to-end servers to be stable…" : "⏳ Creating the end-to-end servers (\(made.joined(separator: ", "))); the run starts when all are ready."
        return .perform([.upsertComment(issue: ref, body: Self.e2eBody(e2e, servers: now, note: note), marker: Self.e2eMarker)],
                        message: made.isEmpty ? "end-to-end servers of #\(ref.number) exist" : "creating end-to-end servers " + made.joined(separator: ", "))
    }

    /// A provisioner event for one of a PR's E2E servers.
    func e2eServerChanged(_ ref: IssueRef, site: String, server: TestServer, newState: String, context: CapabilityContext) throws -> Plan {
        guard server.state == newState else { return .ignore("\(server.name) is \(server.state) now; the \(newState) event is stale") }
        if context.dryRun { return Plan(outcome: .planned, message: "would act on \(server.name) being \(newState)") }
        guard let e2e = E2ESettings.from(config: context.config, repo: ref.repo) else { return .ignore("end-to-end servers are not configured for \(ref.repo.fullName)") }
        let cloud = try cloudProvisioner(context)
        let servers = try e2eServers(ref, e2e, cloud: cloud)
        if server.isFailed {
            let note = "❌ The end-to-end server `\(server.name)` could not be created (`\(server.state)`); the `\(e2e.label)` label was removed. Add it again to retry."
            Self.alertOps("\(ref): end-to-end server `\(server.name)` (installation \(server.id)) is \(server.state)", context: context)
            return .perform([.upsertComment(issue: ref, body: Self.e2eBody(e2e, servers: servers, note: note), marker: Self.e2eMarker),
                             .removeLabel(issue: ref, label: e2e.label)], message: "\(server.name) failed")
        }
        guard newState == "stable" else { return .ignore("\(server.name): \(newState) needs no end-to-end action") }
        let pull = try context.github().pullRequest(ref)
        guard pull.state == "open", (pull.labels ?? []).contains(where: { $0.name == e2e.label }) else {
            return .ignore("#\(ref.number) no longer asks for end-to-end servers")
        }
        guard e2e.sites.allSatisfy({ servers[$0]?.state == "stable" }) else {
            let ready = e2e.sites.filter { servers[$0]?.state == "stable" }.count
            return .perform([.upsertComment(issue: ref, body: Self.e2eBody(e2e, servers: servers, note: "⏳ \(ready) of \(e2e.sites.count) end-to-end servers are ready…"), marker: Self.e2eMarker)],
                            message: "\(ready) of \(e2e.sites.count) end-to-end servers ready")
        }
        return try e2eHandOver(ref, e2e, servers: servers, context: context)
    }

    /// Every site is stable: a deployment to `e2e-pr-<n>` at the head, its payload the sites' URLs, and
    /// a `success` status, once per head (a replay finds it there and does nothing).
    func e2eHandOver(_ ref: IssueRef, _ e2e: E2ESettings, servers: [String: TestServer], context: CapabilityContext) throws -> Plan {
        if context.dryRun { return Plan(outcome: .planned, message: "would hand the end-to-end servers of #\(ref.number) over") }
        let github = try context.github()
        let pull = try github.pullRequest(ref)
        let urls = JSON.object(Dictionary(e2e.sites.compactMap { site in servers[site]?.url.map { (site, JSON.string($0)) } }, uniquingKeysWith: { a, _ in a }))
        let env = Self.e2eEnvironment(ref)
        let path = APIPath.repo(ref.repo) / "deployments"
        func mine() throws -> JSON? {
            // The newest deployment at this head naming these servers; one an earlier, cut-short hand-over
            // made (created, its status lost) is finished rather than made again.
            let list = try JSON.parse(try github.send("GET", path, query: [("environment", env), ("sha", pull.head.sha), ("per_page", "5")]).body)
            return list.array?.first { $0["payload"]?["servers"] == urls }
        }
        let body = Self.e2eBody(e2e, servers: servers, note: "✅ The end-to-end servers are ready; the run has been asked for.")
        var id = try mine()?["id"]?.int
        if let id {
            let last = try JSON.parse(try github.send("GET", path / id / "statuses", query: [("per_page", "1")]).body)
            if last[0]?["state"]?.string == "success" {
                return .perform([.upsertComment(issue: ref, body: body, marker: Self.e2eMarker)], message: "the end-to-end servers of #\(ref.number) were handed over already")
            }
        } else {
            let created = try JSON.parse(try github.send("POST", path, json: [
                "ref": .string(pull.head.sha), "environment": .string(env), "auto_merge": false, "required_contexts": [],
                "transient_environment": true, "description": "End-to-end servers", "payload": ["servers": urls],
            ], alreadyDone: { try mine().map { _ in HTTPResponse(status: 201) } }).body)
            id = try created["id"]?.int ?? mine()?["id"]?.int
        }
        guard let id else { throw SwitchyardError.upstream("GitHub's answer to the deployment had no id") }
        try setDeploymentStatus(path / id, state: "success", url: e2e.sites.first.flatMap { servers[$0]?.url }, description: "End-to-end servers ready", github: github)
        return .perform([.upsertComment(issue: ref, body: body, marker: Self.e2eMarker)],
                        message: "end-to-end servers of #\(ref.number) handed over (deployment \(id))")
    }

    /// The label went or the PR closed: every site is deleted.
    func e2eTeardown(_ ref: IssueRef, _ e2e: E2ESettings, why: String, context: CapabilityContext, keepComment: Bool = false) throws -> Plan {
        let cloud = try cloudProvisioner(context)
        let live = try e2eServers(ref, e2e, cloud: cloud)
        guard !live.isEmpty else { return .ignore("no end-to-end servers for #\(ref.number)") }
        if context.dryRun { return Plan(outcome: .planned, message: "would delete the end-to-end servers of #\(ref.number)") }
        for (_, server) in live { try cloud.delete(server.id) }
        let github = try context.github()
        let path = APIPath.repo(ref.repo) / "deployments"
        if let id = try JSON.parse(try github.send("GET", path, query: [("environment", Self.e2eEnvironment(ref)), ("per_page", "1")]).body)[0]?["id"]?.int {
            try setDeploymentStatus(path / id, state: "inactive", url: nil, description: "End-to-end servers deleted", github: github)
        }
        let note = "### End-to-end servers\n\n🗑️ Deleted " + live.values.map { "`\($0.name)`" }.sorted().joined(separator: ", ") + ": \(why)."
        return .perform(keepComment ? [] : [.upsertComment(issue: ref, body: note, marker: Self.e2eMarker)],
                        message: "deleting the end-to-end servers of #\(ref.number)")
    }

    static func e2eBody(_ e2e: E2ESettings, servers: [String: TestServer], note: String) -> String {
        var lines = ["### End-to-end servers", "", note, "", "| Site | Server | State |", "|---|---|---|"]
        for site in e2e.sites {
            let s = servers[site]
            lines.append("| \(site) | \(s?.url.map { "[\($0)](\($0))" } ?? "—") | \(s?.state ?? "not yet asked for") |")
        }
        return lines.joined(separator: "\n")
    }
}
