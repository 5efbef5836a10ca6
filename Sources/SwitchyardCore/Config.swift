/// Policy per organization and repository, from the optional YAML file named by `SWITCHYARD_CONFIG`.
///
/// Lookups go repository → organization → `defaults` → built-in default, so an empty config works.
///
/// ```yaml
/// defaults:
///   commands:
///     update-branch: { allow: [author, member, write] }
/// orgs:
///   acme:
///     commands:
///       cherry-pick: { allow: [maintain] }
/// repos:
///   acme/api:
///     bots: [renovate]
/// ```
public struct Config: Sendable, Equatable {
    public var root: YAML

    public init(root: YAML = .mapping([], line: 1)) { self.root = root }

    /// Parses and validates a config text. Throws `misconfigured` naming the key and the line.
    public init(yaml text: String) throws(SwitchyardError) {
        root = try YAML.parse(text)
        try validate()
    }

    public static let topLevelKeys: Set<String> = ["defaults", "orgs", "repos", "chat", "functions"]
    /// Keys allowed in a scope (`defaults`, an org, a repo). Capabilities own the sections below them.
    public static let scopeKeys: Set<String> = [
        "commands", "bots", "blocked-users", "limits", "cla", "cherry-pick", "e2e", "deploy", "housekeeping", "update-branch",
    ]
    public static let commandKeys: Set<String> = ["allow", "edited", "rate-limit"]

    func validate() throws(SwitchyardError) {
        guard let top = root.entries else { throw .misconfigured("config line \(root.line): the config must be a mapping") }
        for (key, value) in top {
            guard Self.topLevelKeys.contains(key) else {
                throw .misconfigured("config line \(value.line): unknown key `\(key)` (expected one of \(Self.topLevelKeys.sorted().joined(separator: ", ")))")
            }
            switch key {
            case "defaults": try Self.validateScope(value, path: "defaults")
            case "orgs", "repos":
                guard let scopes = value.entries else { throw .misconfigured("config line \(value.line): `\(key)` must be a mapping") }
                for (name, scope) in scopes {
                    if key == "repos", RepoRef(Substring(name)) == nil {
                        throw .misconfigured("config line \(scope.line): `\(name)` under `repos` is not `owner/name`")
                    }
                    try Self.validateScope(scope, path: "\(key).\(name)")
                }
            default: break
            }
        }
    }

    static func validateScope(_ scope: YAML, path: String) throws(SwitchyardError) {
        guard let entries = scope.entries else { throw .misconfigured("config line \(scope.line): `\(path)` must be a mapping") }
        for (key, value) in entries {
            guard scopeKeys.contains(key) else {
                throw .misconfigured("config line \(value.line): unknown key `\(path).\(key)`")
            }
            if key == "commands" {
                guard let commands = value.entries else { throw .misconfigured("config line \(value.line): `\(path).commands` must be a mapping") }
                for (name, command) in commands {
                    guard let settings = command.entries else {
                        throw .misconfigured("config line \(command.line): `\(path).commands.\(name)` must be a mapping")
                    }
                    for (setting, v) in settings {
                        guard commandKeys.contains(setting) else {
                            throw .misconfigured("config line \(v.line): unknown key `\(path).commands.\(name).\(setting)`")
                        }
                        if setting == "allow" {
                            guard let levels = v.strings, !levels.isEmpty else {
                                throw .misconfigured("config line \(v.line): `\(path).commands.\(name).allow` must list permission levels")
                            }
                            for level in levels where PermissionLevel(level) == nil {
                                throw .misconfigured("config line \(v.line): `\(path).commands.\(name).allow` has unknown level `\(level)` (use anyone, author, member, team:<slug>, triage, write, maintain or admin)")
                            }
                        }
                    }
                }
            }
        }
    }

    /// The most specific value at `path` for a repository: repo, then org, then defaults.
    public func value(_ path: [String], for repo: RepoRef) -> YAML? {
        let scopes: [YAML?] = [
            root["repos"]?.entries?.last { $0.key.lowercased() == repo.fullName.lowercased() }?.value,
            root["orgs"]?.entries?.last { $0.key.lowercased() == repo.owner.lowercased() }?.value,
            root["defaults"],
        ]
        for scope in scopes {
            var node = scope
            for key in path { node = node?[key] }
            if let node { return node }
        }
        return nil
    }

    /// A global (not per-repo) value, e.g. `chat.users`.
    public func global(_ path: [String]) -> YAML? {
        var node: YAML? = root
        for key in path { node = node?[key] }
        return node
    }

    /// Who may run `command` in `repo`, or `fallback` when the config is silent.
    public func allowed(_ command: String, in repo: RepoRef, default fallback: [PermissionLevel]) -> [PermissionLevel] {
        guard let levels = value(["commands", command, "allow"], for: repo)?.strings else { return fallback }
        return levels.compactMap(PermissionLevel.init)
    }

    /// Logins that never trigger anything, beyond GitHub's own bots.
    public func blockedUsers(in repo: RepoRef) -> [String] {
        (value(["blocked-users"], for: repo)?.strings ?? []) + (value(["bots"], for: repo)?.strings ?? [])
    }
}
