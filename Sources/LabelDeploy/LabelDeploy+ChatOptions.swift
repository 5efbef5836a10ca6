import SwitchyardCore
import SwitchyardGitHub
import SwitchyardRuntime

/// The Cloud plugin's create options, sharing, import and the operators' view, for chat servers.
///
/// Where the state lives: the provisioner's installation. Its `OwnerID` is the chat user
/// (`mattermost:<user id>`); Switchyard's own records ride on it as variables the Mattermost server
/// ignores: `SWITCHYARD_OWNER_NAME` (for mentions), `SWITCHYARD_TAG` (the tag a digest was pinned
/// from), `SWITCHYARD_TEST_DATA` (load sample data once ready) and `SWITCHYARD_SHARED` (`read` or
/// `update`). The deletion lock is the provisioner's own `DeletionLocked`.
extension LabelDeploy {
    static let tagVariable = "SWITCHYARD_TAG"
    static let testDataVariable = "SWITCHYARD_TEST_DATA"
    static let sharedVariable = "SWITCHYARD_SHARED"
    /// Variables that are Switchyard's bookkeeping, never shown as the server's environment or set by users.
    static func isOwnVariable(_ k: String) -> Bool { k.hasPrefix("SWITCHYARD_") }

    static let licenses = ["enterprise", "enterprise-advanced", "professional", "e20", "e10", "te"]
    /// Licences good enough for the shared S3 filestore (the Cloud plugin's rule).
    static let enterpriseGrade: Set<String> = ["enterprise", "enterprise-advanced", "e20"]
    static let minimumVersion = Semver(5, 12, 0)

    /// The displayed version: the tag a digest was pinned from, else the version itself.
    static func shownVersion(_ s: TestServer) -> String { s.env[tagVariable].flatMap { $0.isEmpty ? nil : $0 } ?? s.version }

    func cloudProvisioner(_ context: CapabilityContext) throws -> CloudProvisioner {
        guard let cloud = try provisioner(context) as? CloudProvisioner else {
            throw SwitchyardError.misconfigured("chat servers need the Mattermost Cloud provisioner (PROVISIONER_URL)")
        }
        return cloud
    }

    /// The highest `X.Y.Z` release of `chat.deploy.releases` on GitHub (pre-releases and drafts skipped).
    func latestRelease(_ cs: ChatSettings, context: CapabilityContext) throws -> String {
        guard let repo = RepoRef(Substring(cs.releases)) else { throw SwitchyardError.misconfigured("`chat.deploy.releases` is not owner/name") }
        let best = try context.github().releaseTags(repo).filter { !$0.prerelease }.compactMap { Semver($0.tag) }.max()
        guard let best else { throw SwitchyardError.upstream("\(cs.releases) has no release to call `latest`") }
        return best.text
    }

    /// The version to send for `image:tag`: `latest` resolved, a release number at least 5.12.0, the tag
    /// found in the registry and pinned to its digest. A refusal is the user's answer.
    func pinnedVersion(image: String, tag requested: String, cs: ChatSettings, context: CapabilityContext) throws -> Result<(version: String, tag: String), SwitchyardError> {
        var tag = requested
        if tag == "latest" { tag = cs.latest != "latest" ? cs.latest : try latestRelease(cs, context: context) }
        if let v = Semver(tag), v < Self.minimumVersion { return .failure(.badRequest("version `\(tag)` is older than 5.12.0, the oldest a test server runs")) }
        guard Registry.isTag(tag) else { return .failure(.badRequest("`\(tag)` is not a version or image tag")) }
        guard cs.registryCheck else { return .success((tag, tag)) }
        guard let settings = context.settings else { return .success((tag, tag)) }
        let registry = Registry(baseURL: settings.registryURL, deadline: context.deadline, logger: context.logger)
        switch try registry.manifest(image, tag: tag) {
        case .digest(let d): return .success((d, tag))
        case .missing: return .failure(.badRequest("`\(tag)` is not a tag of `\(image)`"))
        }
    }

    /// The licence text for a licence name (`te`: none). Nil text with no error means "no licence".
    static func licenseText(_ name: String, context: CapabilityContext) -> Result<String?, SwitchyardError> {
        let n = name.lowercased()
        guard licenses.contains(n) else {
            return .failure(.badRequest("`\(name)` is not a licence; choose one of " + licenses.map { "`\($0)`" }.joined(separator: ", ")))
        }
        if n == "te" { return .success(nil) }
        guard let text = context.settings?.licenseTexts[n] else {
            return .failure(.badRequest("no `\(n)` licence is configured here (DEPLOY_LICENSES); ask an operator, or use `--license te`"))
        }
        return .success(text)
    }

    /// `deploy create <name> …` with every option of the Cloud plugin, validated before anything is asked.
    func chatCreate(_ name: String, flags: [String: String], chat: ChatCommand, cs: ChatSettings, context: CapabilityContext) throws -> Plan {
        guard Self.validName(name) else {
            return .reject("`\(name)` is not a valid name: use 3 to 40 lower-case letters, digits and inner dashes.")
        }
        // `<repo>-pr-<n>…` is how pull requests' servers are named: a chat server must not take one first.
        if let r = name.firstRange(of: "-pr-"), name[r.upperBound...].first?.isNumber == true {
            return .reject("Names with `-pr-<number>` are kept for pull requests' test servers; pick another.")
        }
        let owner = Self.owner(chat)
        let cloud = try cloudProvisioner(context)
        let existing = try cloud.servers(owner: owner).filter { !$0.isGone }
        if existing.contains(where: { $0.name == name }) { return .reject("You already have `\(name)`; see `\(chat.command) deploy info \(name)`.") }
        guard existing.count < cs.maxServers else {
            return .reject("You have \(existing.count) test servers, the most allowed; delete one first.")
        }
        var env: [String: String] = [:]
        if let e = flags["env"] {
            switch Self.envPairs(e) {
            case .failure(let err): return .reject(err.message)
            case .success(let pairs): env = pairs
            }
            if let own = env.keys.first(where: Self.isOwnVariable) { return .reject("`\(own)` is Switchyard's own variable; pick another name.") }
        }
        if let size = flags["size"], let refusal = Self.refuseSize(size, allowed: cs.sizes) { return refusal }
        func oneOf(_ value: String?, _ allowed: [String], _ what: String) -> Plan? {
            guard let value, !allowed.contains(value) else { return nil }
            return .reject("`\(value)` is not among the \(what) you can pick; choose one of " + allowed.map { "`\($0)`" }.joined(separator: ", ") + ".")
        }
        let image = flags["image"] ?? cs.placement.image ?? ProvisionerDefaults.image
        if let r = oneOf(flags["image"], cs.images, "images") { return r }
        if let r = oneOf(flags["database"], cs.databases, "databases") { return r }
        if let r = oneOf(flags["filestore"], cs.filestores, "filestores") { return r }
        if let r = oneOf(flags["affinity"], ["multitenant", "isolated"], "affinities") { return r }
        let licenseName = (flags["license"] ?? cs.license ?? (context.settings?.licenseTexts["enterprise"] != nil ? "enterprise" : "te")).lowercased()
        let license: String?
        switch Self.licenseText(licenseName, context: context) {
        case .failure(let e): return .reject(e.message + ".")
        case .success(let t): license = t
        }
        let filestore = flags["filestore"] ?? cs.placement.filestore
        if filestore == "aws-multitenant-s3", !Self.enterpriseGrade.contains(licenseName) {
            return .reject("The `aws-multitenant-s3` filestore needs an enterprise, enterprise-advanced or e20 licence; add `--license enterprise` or pick another filestore.")
        }
        let pinned: (version: String, tag: String)
        switch try pinnedVersion(image: image, tag: flags["version"] ?? "latest", cs: cs, context: context) {
        case .failure(let e): return .reject(e.message.prefix(1).uppercased() + e.message.dropFirst() + ".")
        case .success(let p): pinned = p
        }
        env[Self.ownerNameVariable] = chat.userName.isEmpty ? nil : chat.userName
        if pinned.version != pinned.tag { env[Self.tagVariable] = pinned.tag }
        if flags["test-data"] == "true" { env[Self.testDataVariable] = "true" }
        var spec = ServerSpec(owner: owner, name: name, dns: "\(name).\(cs.domain)", version: pinned.version, image: image,
                              size: flags["size"] ?? cs.size, env: env)
        spec.affinity = flags["affinity"]; spec.database = flags["database"]; spec.filestore = flags["filestore"]
        spec.license = license
        spec.place(cs.placement)
        if cs.deletionHours > 0 { spec.scheduledDeletion = Deadline.epochMillis() + Int64(cs.deletionHours) * 3_600_000 }
        if context.dryRun { return Plan(outcome: .planned, message: "would create `\(name)` (\(spec.size ?? ""), \(pinned.tag))") }
        do {
            let s = try cloud.create(spec)
            var text = "⏳ Creating `\(s.name)` (\(spec.size ?? "default size"), version `\(pinned.tag)`, \(licenseName) licence) at https://\(spec.dns). You will get a message when it is ready."
            if cs.deletionHours > 0 { text += " It is deleted automatically after \(cs.deletionHours) hours unless you lock it (`\(chat.command) deploy deletion-lock \(name)`)." }
            return Plan(outcome: .done, message: text)
        } catch BackendError.nameTaken {
            return .reject("The name `\(name)` is taken, or still reserved: after a server is deleted its name stays reserved for a while. Pick another name.")
        }
    }

    /// `update`'s version, image and licence, resolved as `create` resolves them.
    func chatPatch(_ s: TestServer, flags: [String: String], cs: ChatSettings, viaSharing: Bool = false, context: CapabilityContext) throws -> Result<ServerPatch, SwitchyardError> {
        var patch = ServerPatch(size: flags["size"])
        if let image = flags["image"], !cs.images.contains(image) {
            return .failure(.badRequest("`\(image)` is not among the images you can pick; choose one of " + cs.images.map { "`\($0)`" }.joined(separator: ", ")))
        }
        if flags["version"] != nil || flags["image"] != nil {
            let image = flags["image"] ?? (s.image.isEmpty ? ProvisionerDefaults.image : s.image)
            let tag = flags["version"] ?? Self.shownVersion(s)
            switch try pinnedVersion(image: image, tag: tag, cs: cs, context: context) {
            case .failure(let e): return .failure(e)
            case .success(let p):
                patch.version = p.version
                patch.env[Self.tagVariable] = p.version != p.tag ? p.tag : (s.env[Self.tagVariable] != nil ? "" : nil)
            }
            if flags["image"] != nil { patch.image = image }
        }
        if let l = flags["license"] {
            guard !viaSharing else { return .failure(.badRequest("only the owner changes a server's licence")) }
            switch Self.licenseText(l, context: context) {
            case .failure(let e): return .failure(e)
            case .success(let t): patch.license = t ?? ""
            }
            if s.filestore == "aws-multitenant-s3", !Self.enterpriseGrade.contains(l.lowercased()) {
                return .failure(.badRequest("`\(s.name)` keeps its files in `aws-multitenant-s3`, which needs an enterprise, enterprise-advanced or e20 licence"))
            }
        }
        if let e = flags["env"] {
            switch Self.envPairs(e) {
            case .failure(let err): return .failure(err)
            case .success(let pairs):
                if let own = pairs.keys.first(where: Self.isOwnVariable) { return .failure(.badRequest("`\(own)` is Switchyard's own variable")) }
                for (k, v) in pairs { patch.env[k] = v }
            }
        }
        for k in (flags["clear-env"] ?? "").split(separator: ",") where !k.isEmpty {
            if Self.isOwnVariable(String(k)) { return .failure(.badRequest("`\(k)` is Switchyard's own variable")) }
            patch.env[String(k)] = ""
        }
        if let size = patch.size, !cs.sizes.contains(size) || !Self.isProvisionerSize(size) {
            return .failure(.badRequest("`\(size)` is not a size you can pick; choose one of " + cs.sizes.map { "`\($0)`" }.joined(separator: ", ")))
        }
        return .success(patch)
    }

    // MARK: Sharing, import and the operators' view

    /// A server shared with everyone, by its name: `read` (listed) or `update` (others may update and restart it).
    static func sharing(_ s: TestServer) -> String? {
        guard let v = s.env[sharedVariable], v == "read" || v == "update" else { return nil }
        return v
    }

    func chatShare(_ name: String, allowUpdates: Bool, share: Bool, chat: ChatCommand, context: CapabilityContext) throws -> Plan {
        let cloud = try cloudProvisioner(context)
        guard let s = try cloud.servers(owner: Self.owner(chat)).first(where: { $0.name == name && !$0.isGone }) else {
            return .reject("You have no test server named `\(name)`. `\(chat.command) deploy list` shows yours.")
        }
        let want: String? = share ? (allowUpdates ? "update" : "read") : nil
        if Self.sharing(s) == want {
            return Plan(outcome: .done, message: share ? "`\(name)` is already shared\(allowUpdates ? " with updates allowed" : "")." : "`\(name)` is not shared.")
        }
        guard s.state == "stable" || s.state == "hibernating" || !share else {
            return .reject("`\(name)` is \(s.state); share it once it is stable.")
        }
        if context.dryRun { return Plan(outcome: .planned, message: "would \(share ? "share" : "unshare") `\(name)`") }
        try cloud.update(s.id, ServerPatch(env: [Self.sharedVariable: want ?? ""]))
        return Plan(outcome: .done, message: share
            ? "🤝 `\(name)` is shared: everyone sees it in `\(chat.command) deploy list --shared-installations`\(allowUpdates ? ", and may update or restart it with `--shared-installation`" : ""). (Recording this rolls the server once.)"
            : "`\(name)` is no longer shared.")
    }

    /// Shared servers of everyone (deleted ones left out), for `list --shared-installations` and `--shared-installation`.
    func sharedServers(_ context: CapabilityContext) throws -> [TestServer] {
        try cloudProvisioner(context).allServers().filter { !$0.isGone && Self.sharing($0) != nil && Self.chatOwner($0.owner) != nil }
    }

    /// `deploy import <dns-or-url>`: adopts an installation. Anyone may adopt the ones the Cloud plugin
    /// made for them (owner = their own Mattermost user id); operators may adopt any installation that
    /// is not another Switchyard user's or a pull request's.
    func chatImport(_ target: String, chat: ChatCommand, cs: ChatSettings, context: CapabilityContext) throws -> Plan {
        var host = Substring(target)
        if let r = host.firstRange(of: "://") { host = host[r.upperBound...] }
        host = host.prefix { $0 != "/" && $0 != ":" && $0 != "?" }
        let dns = host.lowercased()
        guard !dns.isEmpty, dns.count <= 253, dns.utf8.allSatisfy({ RepoRef.isAlphanumeric($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }) else {
            return .reject("`\(target)` is not a server address; give its DNS name or URL.")
        }
        let cloud = try cloudProvisioner(context)
        guard let s = try cloud.server(dns: dns) else { return .reject("No installation answers at `\(dns)`.") }
        let owner = Self.owner(chat)
        if s.owner == owner { return Plan(outcome: .done, message: "`\(s.name)` is already yours.") }
        let theirsFromThePlugin = chat.platform == .mattermost && s.owner == chat.userID
        let somebodysHere = Self.chatOwner(s.owner) != nil || Self.pullRequest(owner: s.owner) != nil || Self.e2eServer(owner: s.owner) != nil
        guard theirsFromThePlugin || (cs.isAdmin(chat) && !somebodysHere) else {
            return .reject(somebodysHere ? "`\(dns)` belongs to someone else here; ask them to share it." : "Only operators can import `\(dns)`: it was not made for you.")
        }
        let mine = try cloud.servers(owner: owner).filter { !$0.isGone }
        guard mine.count < cs.maxServers else { return .reject("You have \(mine.count) test servers, the most allowed; delete one first.") }
        if context.dryRun { return Plan(outcome: .planned, message: "would import `\(s.name)`") }
        // Switchyard's records on it were written by someone else: the new owner's name, nothing shared,
        // no tag or sample-data wish carried over (changing them rolls the server once).
        var patch = ServerPatch()
        patch.owner = owner
        if !chat.userName.isEmpty, s.env[Self.ownerNameVariable] != chat.userName { patch.env[Self.ownerNameVariable] = chat.userName }
        for k in s.env.keys where Self.isOwnVariable(k) && k != Self.ownerNameVariable { patch.env[k] = "" }
        if chat.userName.isEmpty, s.env[Self.ownerNameVariable] != nil { patch.env[Self.ownerNameVariable] = "" }
        try cloud.update(s.id, patch)
        return Plan(outcome: .done, message: "📥 `\(s.name)` (\(s.url ?? dns)) is yours now: it shows in `\(chat.command) deploy list`, and its notices come to you.")
    }

    /// `deploy status`: every installation the provisioner has, for operators.
    func chatStatus(chat: ChatCommand, cs: ChatSettings, context: CapabilityContext) throws -> Plan {
        guard cs.isAdmin(chat) else { return .deny("`deploy status` is for the operators listed under `chat.deploy.admins`.") }
        let all = try cloudProvisioner(context).allServers().sorted { ($0.owner, $0.name) < ($1.owner, $1.name) }
        guard !all.isEmpty else { return Plan(outcome: .done, message: "The provisioner has no installations.") }
        func who(_ owner: String) -> String {
            if let pr = Self.pullRequest(owner: owner) { return "\(pr)" }
            if let c = Self.chatOwner(owner) { return "\(c.platform.rawValue) \(c.userID)" }
            return owner
        }
        let rows = all.prefix(200).map { s in
            "| `\(s.name)` | \(who(s.owner)) | \(s.state)\(s.deletionLocked ? " 🔒" : "") | `\(Self.shownVersion(s))` | \(s.size) | \(s.url ?? "") |"
        }
        var lines = ["| Name | Owner | State | Version | Size | URL |", "|---|---|---|---|---|---|"] + rows
        if all.count > 200 { lines.append("… and \(all.count - 200) more.") }
        return Plan(outcome: .done, message: lines.joined(separator: "\n"))
    }
}

enum ProvisionerDefaults {
    static let image = "mattermost/mattermost-enterprise-edition"
}
