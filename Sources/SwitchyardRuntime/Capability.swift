import SwitchyardCore
import SwitchyardGitHub

/// A capability: gathers facts, plans, and leaves performing to the shared runner.
public protocol Capability: Sendable {
    /// The function's kebab-case name, e.g. `update-branch`.
    var name: String { get }
    /// Plans for a GitHub event. Return `.ignore(reason)` for events the capability does not handle.
    func plan(event: WebhookEvent, context: CapabilityContext) throws -> Plan
    /// Plans for a chat command addressed to this capability.
    func plan(chat: ChatCommand, command: Command, context: CapabilityContext) throws -> Plan
    /// The GitHub (and other webhook) event names the capability acts on, as its manifest's triggers
    /// list them; nil for all. Other events are answered "ignored" once verified, without decoding.
    var events: Set<String>? { get }
    /// A reason to ignore a verified event before its payload is decoded (from its name, or a cheap
    /// look at the bytes such as `WebhookEvent.topLevelAction`), or nil to decode and plan. By default,
    /// any event outside `events`.
    func ignoreUndecoded(event: String, body: [UInt8]) -> String?
}

extension Capability {
    public var events: Set<String>? { nil }
    public func ignoreUndecoded(event: String, body: [UInt8]) -> String? {
        guard let events, !events.contains(event) else { return nil }
        return "\(name) does not handle \(event) events"
    }

    public func plan(chat: ChatCommand, command: Command, context: CapabilityContext) throws -> Plan {
        .ignore("\(name) has no chat commands")
    }
}

/// What a capability may use while planning: config, log, deadline and, on demand, GitHub.
public final class CapabilityContext: @unchecked Sendable {
    public let config: Config
    public let logger: Logger
    public let delivery: String
    public let deadline: Deadline
    public let dryRun: Bool
    /// The request exactly as it arrived (headers and raw body), for forwarding.
    public let request: IncomingRequest
    public let source: RequestSource
    public let settings: Settings?
    /// Answers the caller now and lets the process carry on; nil where the platform cannot (Lambda).
    public let respondEarly: (@Sendable (OutgoingResponse) -> Void)?
    private let makeGitHub: @Sendable () throws -> GitHubClient
    private var client: GitHubClient?
    /// One permission checker per invocation, so that each membership or role is asked once.
    var permissionCheckerCache: PermissionChecker?

    public init(config: Config, logger: Logger, delivery: String, deadline: Deadline, dryRun: Bool,
                request: IncomingRequest = IncomingRequest(body: []), source: RequestSource = .github, settings: Settings? = nil,
                respondEarly: (@Sendable (OutgoingResponse) -> Void)? = nil,
                github: @escaping @Sendable () throws -> GitHubClient) {
        self.config = config; self.logger = logger; self.delivery = delivery
        self.deadline = deadline; self.dryRun = dryRun; self.makeGitHub = github
        self.request = request; self.source = source; self.settings = settings; self.respondEarly = respondEarly
    }

    /// The GitHub client, built on first use (no credentials are loaded for events that need none).
    public func github() throws -> GitHubClient {
        if let client { return client }
        let c = try makeGitHub()
        client = c
        return c
    }

    /// Performs actions at once, before planning is over (a `pending` status while a check runs).
    /// Nothing is written in a dry run.
    public func performNow(_ actions: [Action]) throws {
        guard !dryRun, !actions.isEmpty else { return }
        _ = try PlanRunner(github: try github()).run(.perform(actions, message: ""), dryRun: false)
    }

    /// True once `github()` has been called.
    public var usedGitHub: Bool { client != nil }

    /// Maps a chat user to a GitHub login through `chat.users` in the config.
    public func githubLogin(for chat: ChatCommand) -> String? {
        guard let users = config.global(["chat", "users"]) else { return nil }
        for key in ["\(chat.platform.rawValue):\(chat.userName)", "\(chat.platform.rawValue):\(chat.userID)", chat.userName, chat.userID] {
            if let login = users[key]?.string, !login.isEmpty { return login }
        }
        return nil
    }
}
