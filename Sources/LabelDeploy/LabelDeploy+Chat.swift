import SwitchyardCore
import SwitchyardGitHub
import SwitchyardRuntime

/// `/switchyard deploy <sub-command>`: self-serve test servers for anyone in chat. The chat user owns
/// what they create; other users' servers look absent.
extension LabelDeploy {
    struct ChatSettings {
        var domain = "test.example.com"
        var latest = "latest"
        var size = "miniSingleton"
        /// The sizes chat users may pick (the Cloud plugin's two), each one the provisioner knows.
        var sizes = ["miniSingleton", "miniHA"]
        var maxServers = 3
        /// How many servers one person may lock against deletion (the Cloud plugin's
        /// `DeletionLockInstallationsAllowedPerPerson`, default 1).
        var deletionLocks = 1
        var placement = LabelDeploy.Placement.cloudPlugin
        /// The images chat users may run (the Cloud plugin's allow-list).
        var images = ["mattermost/mattermost-enterprise-edition", "mattermost/mattermost-team-edition", "mattermost/mm-ee-test",
                      "mattermost/mm-ee-cloud", "mattermost/mm-te", "mattermostdevelopment/mattermost-enterprise-edition",
                      "mattermostdevelopment/mattermost-team-edition"]
        var databases = ["aws-multitenant-rds-postgres-pgbouncer", "perseus", "mysql-operator"]
        var filestores = ["bifrost", "aws-multitenant-s3", "aws-s3", "minio-operator"]
        /// Where `latest` is looked up: the highest release of this repository.
        var releases = "mattermost/mattermost"
        /// Check each image tag in the registry and pin its digest (`DEPLOY_REGISTRY_URL`).
        var registryCheck = true
        /// Hours after which the provisioner deletes a chat server (0: never), and how long before that
        /// its owner is warned (by the `deploy-reconcile` schedule).
        var deletionHours = 0
        var warnHours = 24
        /// Chat users who see every server (`deploy status`) and may import any installation.
        var admins: [String] = []
        var license: String? = nil

        init(config: Config) {
            let c = config.global(["chat", "deploy"])
            if let x = c?["domain"]?.string ?? config.global(["defaults", "deploy", "domain"])?.string { domain = x }
            if let x = c?["latest"]?.string { latest = x }
            if let x = c?["sizes"]?.strings, !x.isEmpty { sizes = x }
            if let x = c?["size"]?.string { size = x }
            if let x = c?["max-servers"]?.int { maxServers = x }
            if let x = c?["deletion-locks"]?.int { deletionLocks = x }
            placement = LabelDeploy.Placement(.cloudPlugin, overriddenBy: { c?[$0] })
            if let x = c?["images"]?.strings, !x.isEmpty { images = x }
            if let x = c?["databases"]?.strings, !x.isEmpty { databases = x }
            if let x = c?["filestores"]?.strings, !x.isEmpty { filestores = x }
            if let x = c?["releases"]?.string { releases = x }
            if let x = c?["registry-check"]?.bool { registryCheck = x }
            if let x = c?["scheduled-deletion-hours"]?.int { deletionHours = max(0, x) }
            if let x = c?["deletion-warning-hours"]?.int { warnHours = max(1, x) }
            admins = c?["admins"]?.strings ?? []
            license = c?["license"]?.string
        }

        /// Operators are named by user id (`mattermost:<id>`, `slack:<id>`): a user name can be given up
        /// and taken by someone else.
        func isAdmin(_ chat: ChatCommand) -> Bool {
            admins.contains("\(chat.platform.rawValue):\(chat.userID)")
        }
    }

    /// The chat user's name, kept on the installation (as a variable the server ignores) so that
    /// notices can mention them: annotations would keep it from ever being scheduled.
    public static let ownerNameVariable = "SWITCHYARD_OWNER_NAME"

    /// The installation sizes the provisioner accepts (`model/installation_size.go`); anything else is a 400.
    public static let provisionerSizes: Set<String> = ["100users", "1000users", "5000users", "10000users", "25000users",
                                                      "cloud100users", "miniSingleton", "miniHA"]
    public static func isProvisionerSize(_ s: String) -> Bool {
        if provisionerSizes.contains(s) || s == "provisionerXL" { return true }
        guard s.hasPrefix("provisionerXL-"), let n = Int(s.dropFirst(14)), n > 0 else { return false }
        return true
    }

    static let chatUsage = """
    Usage:
    - `deploy create <name> [--version V|latest] [--size S] [--image I] [--license L] [--database D] [--filestore F] [--affinity A] [--env K=V,…] [--test-data]`
    - `deploy list [--shared-installations]`, `deploy info <name>`
    - `deploy update <name> [--version V] [--size S] [--image I] [--license L] [--env K=V,…] [--clear-env K,…] [--shared-installation]`
    - `deploy restart <name> [--shared-installation]`, `deploy hibernate|wake-up|delete <name>`
    - `deploy share <name> [--allow-updates]`, `deploy unshare <name>`, `deploy import <dns-or-url>`
    - `deploy status` (operators)
    - `deploy deletion-lock|deletion-unlock <name>`
    - `deploy mmctl <name> <args…>` (mmctl with `--local`), `deploy mmcli <name> <args…>` (the server's own CLI)
    """

    public func plan(chat: ChatCommand, command: Command, context: CapabilityContext) throws -> Plan {
        guard command.name == "deploy" else { return .reject("label-deploy answers `deploy`, not `\(command.name)`.") }
        if let e = command.error { return .reject("\(e)\n\n\(Self.chatUsage)") }
        var args = command.tokens
        guard !args.isEmpty else { return Plan(outcome: .done, message: Self.chatUsage) }
        let sub = args.removeFirst().lowercased()
        // mmctl's own flags are its business: everything after the name goes to it unparsed.
        if sub == "mmctl" || sub == "mmcli" { return try runCommand(sub, args, chat: chat, context: context) }
        let flags: [String: String]
        var rest: [String] = []
        switch Self.flags(args) {
        case .failure(let e): return .reject("\(e.message)\n\n\(Self.chatUsage)")
        case .success(let f): flags = f.flags; rest = f.rest
        }
        let cs = ChatSettings(config: context.config)
        let owner = Self.owner(chat)
        let cloud = try provisioner(context)
        func mine(_ name: String?) throws -> TestServer? {
            guard let name else { return nil }
            return try cloud.servers(owner: owner).first { $0.name == name && !$0.isGone }
        }
        func absent(_ name: String) -> Plan { .reject("You have no test server named `\(name)`. `\(chat.command) deploy list` shows yours.") }
        let name = rest.first

        switch sub {
        case "list":
            if flags["shared-installations"] == "true" {
                let shared = try sharedServers(context)
                guard !shared.isEmpty else { return Plan(outcome: .done, message: "Nobody shares a test server at the moment.") }
                let rows = shared.map { s in
                    "| `\(s.name)` | \(s.env[Self.ownerNameVariable].map { "@" + $0 } ?? "") | \(s.state) | `\(Self.shownVersion(s))` | \(Self.sharing(s) == "update" ? "yes" : "no") | \(s.url ?? "") |"
                }
                return Plan(outcome: .done, message: (["| Name | Owner | State | Version | Updates allowed | URL |", "|---|---|---|---|---|---|"] + rows).joined(separator: "\n"))
            }
            // As the provisioner has them now: one deleted elsewhere shows as deleted for a day, then drops out.
            let dayAgo = Deadline.epochMillis() - 86_400_000
            let servers = try (cloud as? CloudProvisioner)?.servers(owner: owner, includeDeleted: true)
                .filter { !$0.isGone || ($0.state == "deleted" && $0.deleteAt >= dayAgo) || $0.state.hasPrefix("deletion") }
                ?? cloud.servers(owner: owner)
            guard !servers.isEmpty else { return Plan(outcome: .done, message: "You have no test servers. Create one with `\(chat.command) deploy create <name>`.") }
            let rows = servers.map { s in
                let state = s.state == "deleted" ? "**deleted**" : s.state.hasPrefix("deletion") ? "being deleted" : s.state
                return "| `\(s.name)`\(s.deletionLocked ? " 🔒" : "")\(Self.sharing(s) != nil ? " 🤝" : "") | \(state) | `\(Self.shownVersion(s))` | \(s.size) | \(s.isGone ? "" : s.url ?? "") |"
            }
            return Plan(outcome: .done, message: (["| Name | State | Version | Size | URL |", "|---|---|---|---|---|"] + rows).joined(separator: "\n"))
        case "create":
            guard let name, rest.count == 1 else { return .reject("Name the server: `\(chat.command) deploy create <name>`.") }
            return try chatCreate(name, flags: flags, chat: chat, cs: cs, context: context)
        case "share", "unshare":
            guard let name, rest.count == 1 else { return .reject("Which server? `\(chat.command) deploy \(sub) <name>`.") }
            return try chatShare(name, allowUpdates: flags["allow-updates"] == "true", share: sub == "share", chat: chat, context: context)
        case "import":
            guard let name, rest.count == 1 else { return .reject("Which server? `\(chat.command) deploy import <dns-or-url>`.") }
            return try chatImport(name, chat: chat, cs: cs, context: context)
        case "status":
            return try chatStatus(chat: chat, cs: cs, context: context)
        case "info":
            guard let name else { return .reject("Which server? `\(chat.command) deploy info <name>`.") }
            guard let s = try mine(name) else { return absent(name) }
            var lines = ["**\(s.name)**: \(s.state)", "- URL: \(s.url ?? "none yet")", "- Version: `\(Self.shownVersion(s))`", "- Size: \(s.size)"]
            if !s.image.isEmpty { lines.append("- Image: `\(s.image)`") }
            if let shared = Self.sharing(s) { lines.append("- Shared\(shared == "update" ? ", updates allowed" : "")") }
            if s.scheduledDeletion > 0 { lines.append("- Deleted automatically at \(ISO8601.format(s.scheduledDeletion / 1000)) unless locked") }
            let env = s.env.keys.filter { !Self.isOwnVariable($0) }.sorted()
            if !env.isEmpty { lines.append("- Environment: " + env.map { "`\($0)`" }.joined(separator: ", ")) }
            return Plan(outcome: .done, message: lines.joined(separator: "\n"))
        case "deletion-lock", "deletion-unlock":
            guard let name, rest.count == 1, flags.isEmpty else { return .reject("Which server? `\(chat.command) deploy \(sub) <name>`.") }
            guard let server = try mine(name), let cloud = cloud as? CloudProvisioner else { return absent(name) }
            let lock = sub == "deletion-lock"
            if server.deletionLocked == lock { return Plan(outcome: .done, message: "`\(name)` is already \(lock ? "locked against" : "open to") deletion.") }
            if lock {
                let locked = try cloud.servers(owner: owner).filter { $0.deletionLocked && !$0.isGone }
                guard locked.count < cs.deletionLocks else {
                    return .reject("You may lock \(cs.deletionLocks) server\(cs.deletionLocks == 1 ? "" : "s") against deletion, and \(locked.map { "`\($0.name)`" }.joined(separator: ", ")) already \(locked.count == 1 ? "is" : "are"); unlock one first.")
                }
            }
            if context.dryRun { return Plan(outcome: .planned, message: "would \(sub) `\(name)`") }
            try cloud.setDeletionLock(server.id, locked: lock)
            return Plan(outcome: .done, message: lock ? "🔒 `\(name)` is locked against deletion; `\(chat.command) deploy deletion-unlock \(name)` opens it again."
                                                     : "🔓 `\(name)` can be deleted again.")
        case "update", "restart", "hibernate", "wake-up", "wakeup", "delete":
            guard let name else { return .reject("Which server? `\(chat.command) deploy \(sub) <name>`.") }
            let viaSharing = flags["shared-installation"] == "true"
            if viaSharing, sub != "update", sub != "restart" { return .reject("`--shared-installation` goes with `update` and `restart` only.") }
            let found = viaSharing ? try sharedServers(context).first { $0.name == name && Self.sharing($0) == "update" } : try mine(name)
            guard let s = found else {
                return viaSharing ? .reject("Nobody shares a server named `\(name)` with updates allowed. `\(chat.command) deploy list --shared-installations` shows what is shared.") : absent(name)
            }
            if context.dryRun { return Plan(outcome: .planned, message: "would \(sub) `\(name)`") }
            switch sub {
            case "update":
                guard ["version", "image", "size", "license", "env", "clear-env"].contains(where: { flags[$0] != nil }) else {
                    return .reject("Nothing to change: give at least one of `--version`, `--image`, `--size`, `--license`, `--env`, `--clear-env`.")
                }
                guard s.state == "stable" || s.state.hasPrefix("update") else { return .reject("`\(name)` is \(s.state); it can be updated once it is stable.") }
                let patch: ServerPatch
                switch try chatPatch(s, flags: flags, cs: cs, viaSharing: viaSharing, context: context) {
                case .failure(let e): return .reject(e.message.prefix(1).uppercased() + e.message.dropFirst() + ".")
                case .success(let p): patch = p
                }
                try cloud.update(s.id, patch)
                if viaSharing { tellOwner(s, "@\(chat.userName) is updating `\(s.name)`, which you share.", context: context) }
                return Plan(outcome: .done, message: "🔄 Updating `\(name)`. \(viaSharing ? "Its owner is told." : "You will get a message when it is done.")")
            case "restart":
                guard s.state == "stable" else { return .reject("`\(name)` is \(s.state); only a stable server can be restarted.") }
                try cloud.update(s.id, ServerPatch(env: ["SWITCHYARD_RESTARTED_AT": "\(Deadline.epochMillis() / 1000)"]))
                if viaSharing { tellOwner(s, "@\(chat.userName) restarted `\(s.name)`, which you share.", context: context) }
                return Plan(outcome: .done, message: "🔄 Restarting `\(name)`.")
            case "hibernate":
                guard s.state == "stable" else { return .reject("`\(name)` is \(s.state); only a stable server can hibernate.") }
                try cloud.hibernate(s.id)
                return Plan(outcome: .done, message: "💤 `\(name)` is going to sleep; `\(chat.command) deploy wake-up \(name)` brings it back.")
            case "wake-up", "wakeup":
                guard s.state == "hibernating" else { return .reject("`\(name)` is \(s.state), not hibernating.") }
                try cloud.wakeUp(s.id)
                return Plan(outcome: .done, message: "⏰ Waking `\(name)` up.")
            default:
                guard !s.deletionLocked else {
                    return .reject("`\(name)` is locked against deletion; `\(chat.command) deploy deletion-unlock \(name)` first.")
                }
                try cloud.delete(s.id)
                return Plan(outcome: .done, message: "🗑️ Deleting `\(name)`. Its name stays reserved for a while.")
            }
        default:
            return .reject("Unknown deploy command `\(sub)`.\n\n\(Self.chatUsage)")
        }
    }

    /// `--version V`, `--size S`, `--image I`, `--env K=V,…`, `--clear-env K,…` (also `--flag=value`).
    static func flags(_ tokens: [String]) -> Result<(flags: [String: String], rest: [String]), SwitchyardError> {
        let known: Set<String> = ["version", "size", "image", "env", "clear-env", "license", "database", "filestore", "affinity"]
        let switches: Set<String> = ["test-data", "allow-updates", "shared-installation", "shared-installations", "include-clusters"]
        var flags: [String: String] = [:]
        var rest: [String] = []
        var i = 0
        while i < tokens.count {
            let t = tokens[i]
            if t.hasPrefix("--") {
                var key = String(t.dropFirst(2))
                var value: String?
                if let eq = key.firstIndex(of: "=") { value = String(key[key.index(after: eq)...]); key = String(key[..<eq]) }
                if switches.contains(key) {
                    // A switch: `--test-data`, or `--test-data=true|false`.
                    guard value == nil || value == "true" || value == "false" else { return .failure(.badRequest("`--\(key)` is on or off, not `\(value!)`")) }
                    flags[key] = value ?? "true"
                    i += 1
                    continue
                }
                guard known.contains(key) else { return .failure(.badRequest("unknown option `--\(key)`")) }
                if value == nil {
                    guard i + 1 < tokens.count, !tokens[i + 1].hasPrefix("--") else { return .failure(.badRequest("`--\(key)` needs a value")) }
                    i += 1
                    value = tokens[i]
                }
                flags[key] = value
            } else {
                rest.append(t)
            }
            i += 1
        }
        return .success((flags, rest))
    }

    static func envPairs(_ text: String) -> Result<[String: String], SwitchyardError> {
        var out: [String: String] = [:]
        for part in text.split(separator: ",") {
            guard let eq = part.firstIndex(of: "="), eq != part.startIndex else {
                return .failure(.badRequest("`\(part)` is not of the form KEY=value"))
            }
            let key = String(part[..<eq])
            guard key.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) else {
                return .failure(.badRequest("`\(key)` is not a valid variable name"))
            }
            out[key] = String(part[part.index(after: eq)...])
        }
        return .success(out)
    }

    /// `deploy mmctl|mmcli <name> <args…>`: the owner's command, run in their server through the
    /// provisioner's exec route; the arguments go as a JSON array, never through a shell.
    func runCommand(_ sub: String, _ args: [String], chat: ChatCommand, context: CapabilityContext) throws -> Plan {
        guard let name = args.first, args.count >= 2 else {
            return .reject("Usage: `\(chat.command) deploy \(sub) <name> <arguments…>`, for example `\(chat.command) deploy \(sub) my-test \(sub == "mmctl" ? "user list" : "version")`.")
        }
        guard let cloud = try provisioner(context) as? CloudProvisioner,
              let server = try cloud.servers(owner: Self.owner(chat)).first(where: { $0.name == name && !$0.isGone }) else {
            return .reject("You have no test server named `\(name)`. `\(chat.command) deploy list` shows yours.")
        }
        guard server.state == "stable" else { return .reject("`\(name)` is \(server.state); commands run once it is stable.") }
        if context.dryRun { return Plan(outcome: .planned, message: "would run \(sub) in `\(name)`") }
        guard let ci = try cloud.clusterInstallations(of: server.id).first else {
            return .reject("`\(name)` is not running on a cluster yet; try again in a minute.")
        }
        let rest = Array(args.dropFirst())
        let result = sub == "mmctl" ? try cloud.mmctl(ci, rest) : try cloud.exec(ci, mattermostCLI: true, rest)
        func block(_ text: String) -> String {
            let t = text.count > 3_500 ? String(text.prefix(3_500)) + "\n… (cut)" : text
            // A fence in the output must not end the block early.
            return "```\n" + t.replacing("```", with: "``\u{200B}`") + "\n```"
        }
        switch result {
        case .output(let out): return Plan(outcome: .done, message: "`\(sub) \(rest.joined(separator: " "))` in `\(name)`:\n" + block(out))
        case .failed(let status, let out):
            return Plan(outcome: .rejected, message: "`\(sub)` failed in `\(name)` (\(status)):\n" + block(out))
        case .stillRunning:
            return Plan(outcome: .done, message: "`\(sub)` didn't complete before the connection was closed; it keeps running in `\(name)`. Check its effect in a while.")
        }
    }

    /// A notice to a chat server's owner (best effort), as the lifecycle notices go.
    func tellOwner(_ s: TestServer, _ text: String, context: CapabilityContext) {
        guard let owner = Self.chatOwner(s.owner), let hook = context.settings?.notifyWebhookURL else { return }
        let user = s.env[Self.ownerNameVariable].flatMap { $0.isEmpty ? nil : $0 }
        let mention = owner.platform == .slack ? "<@\(owner.userID)> " : (user.map { "@\($0) " } ?? "")
        _ = context.postToChat(hook, text: mention + text, channel: owner.platform == .mattermost ? user.map { "@\($0)" } : nil)
    }

    static func refuseSize(_ size: String, allowed: [String]) -> Plan? {
        guard !allowed.contains(size) || !isProvisionerSize(size) else { return nil }
        return .reject("`\(size)` is not a size you can pick; choose one of " + allowed.map { "`\($0)`" }.joined(separator: ", ") + ".")
    }

    /// The Cloud plugin's "ready" message: the URL and the logins it made (`admin`, a system admin, and
    /// `user`), after loading sample data when the owner asked for it. The passwords go only to the
    /// owner's direct message; a redelivered event makes new ones (the message that counts is the last).
    func readyNotice(_ server: TestServer, context: CapabilityContext) throws -> String {
        var lines = ["✅ Your test server `\(server.name)` is ready: \(server.url ?? "")"]
        guard !context.dryRun, context.settings?.notifyWebhookURL != nil else { return lines[0] }
        // Passwords only in a direct message: a Mattermost owner whose name is known. A Slack incoming
        // webhook posts to its own channel, where others would read them.
        let owner = Self.chatOwner(server.owner)
        let name = server.env[Self.ownerNameVariable] ?? ""
        if owner?.platform != .mattermost || name.isEmpty {
            lines.append("No logins were made, as this notice does not go to you alone; make yours with `deploy mmctl \(server.name) user create --email … --username … --password … --system-admin`.")
        } else { do {
            // A late or repeated "ready" must not change passwords someone may be using: logins that
            // exist are left alone, and only new ones are sent.
            let logins = try createAccounts(server, users: [("admin", true), ("user", false)], team: nil, context: context, resetExisting: false)
            guard !logins.isEmpty else {
                return lines[0] + "\nIts logins were sent when it first came up; `deploy mmctl \(server.name) user change-password admin --password …` sets a new one."
            }
            lines += ["", "| Login | Password | |", "|---|---|---|"]
            for (user, password) in logins { lines.append("| `\(user)` | `\(password)` | \(user == "admin" ? "system admin" : "") |") }
        } catch {
            let e = SwitchyardError.from(error)
            context.logger.warning("the chat server's accounts could not be made", ["server": .string(server.name), "error": .string(e.message)])
            lines.append("Its accounts could not be made (\(e.message)); make one with `deploy mmctl \(server.name) user create --email … --username … --password … --system-admin`.")
        } }
        if server.env[Self.testDataVariable] == "true", let cloud = try? cloudProvisioner(context), let ci = try? cloud.clusterInstallations(of: server.id).first {
            switch try? cloud.mmctl(ci, ["sampledata"]) {
            case .output?: lines.append("Sample data is loaded.")
            case .stillRunning?: lines.append("Sample data is loading; it takes a few minutes more.")
            default: lines.append("Sample data could not be loaded; `deploy mmctl \(server.name) sampledata` tries again.")
            }
        }
        return lines.joined(separator: "\n")
    }

    /// Lifecycle notices for chat-owned servers, to the owner through the notify webhook.
    func chatServerChanged(_ owner: (platform: ChatCommand.Platform, userID: String), server: TestServer, newState: String, oldState: String,
                           actor: String? = nil,
                           context: CapabilityContext) throws -> Plan {
        guard server.state == newState || newState == "deleted" else {
            return .ignore("\(server.name) is \(server.state) now; the \(newState) event is stale")
        }
        let text: String
        switch newState {
        case "stable" where oldState.hasPrefix("creation"): text = try readyNotice(server, context: context)
        case "stable" where oldState.hasPrefix("update"): text = "✅ `\(server.name)` was updated (version `\(server.version)`)."
        case "stable" where oldState.hasPrefix("wake-up"): text = "⏰ `\(server.name)` is awake: \(server.url ?? "")"
        case "hibernating": text = "💤 `\(server.name)` is hibernating."
        case "deletion-pending":
            // `actor_id` says who asked: Switchyard's own OAuth client (the owner's `deploy delete`), or
            // something else, such as the provisioner's clean-up. With other auth it cannot be told.
            if let actor, !actor.isEmpty, actor == context.settings?.provisionerClientID {
                text = "🗑️ `\(server.name)` is pending deletion, as you asked; its name stays reserved until the provisioner removes it."
            } else if let actor, !actor.isEmpty {
                text = "🗑️ `\(server.name)` was moved to pending deletion by an automatic clean-up, not by you; ask the operators soon if you still need it."
            } else {
                text = "🗑️ `\(server.name)` is pending deletion; its name stays reserved until the provisioner removes it."
            }
        case "deleted": text = "🗑️ `\(server.name)` was deleted."
        case "creation-failed", "creation-no-compatible-clusters":
            text = "❌ Your test server `\(server.name)` could not be created (\(newState)). Delete it and try again, perhaps with another size."
        case "update-failed": text = "❌ Updating `\(server.name)` failed."
        default: return .ignore("\(server.name): \(oldState) → \(newState) needs no notice")
        }
        let user = server.env[Self.ownerNameVariable].flatMap { $0.isEmpty ? nil : $0 }
        let mention = owner.platform == .slack ? "<@\(owner.userID)> " : (user.map { "@\($0) " } ?? "")
        guard let hook = context.settings?.notifyWebhookURL else {
            return .ignore("no DEPLOY_NOTIFY_WEBHOOK_URL: \(text)")
        }
        if context.dryRun { return Plan(outcome: .planned, message: "would notify: \(text)") }
        if newState.hasSuffix("failed") || newState == "creation-no-compatible-clusters" {
            Self.alertOps("\(owner.platform.rawValue) user \(owner.userID): test server `\(server.name)` (installation \(server.id)) is \(newState)", context: context)
        }
        let channel = owner.platform == .mattermost ? user.map { "@\($0)" } : nil
        guard context.postToChat(hook, text: mention + text, channel: channel) else {
            throw SwitchyardError.upstream("the chat webhook did not take the notice about \(server.name)")
        }
        // The first line only: a ready notice carries passwords after it.
        return Plan(outcome: .done, message: "notified \(owner.platform.rawValue):\(owner.userID): \(text.prefix { $0 != "\n" })")
    }
}
