import SwitchyardCore
import SwitchyardGitHub
import SwitchyardRuntime
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The single front door: one webhook URL and one slash command, fanned out to the functions their
/// manifests declare, with one permission model, help, acknowledgement and replay safety.
public struct SlashDispatch: Capability {
    public static let name = "slash-dispatch"
    public var name: String { Self.name }
    let given: [String: String]?
    /// The routing tables read by this process (one event per process; the Lambda loop reuses them).
    private let tables = TableCache()

    final class TableCache: Sendable {
        let state = Mutex<(full: RoutingTable?, triggers: RoutingTable?)>((nil, nil))
    }

    /// `environment` nil: the process environment, read only when a routed function needs it.
    /// Where routed functions are found: beside this binary by default; `multiCall` when this process
    /// is the `switchyard` binary that holds every function.
    let siblingsGiven: Siblings?

    public init(environment: [String: String]? = nil, siblings: Siblings? = nil) {
        self.given = environment
        self.siblingsGiven = siblings
    }

    /// The whole environment, passed on to exec'd functions.
    var environment: [String: String] { given ?? Environment.process().values }

    /// One variable, without building the whole environment.
    func variable(_ name: String) -> String? {
        if let given { return given[name].flatMap { $0.isEmpty ? nil : $0 } }
        return getenv(name).map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 }
    }

    var binaryDirectory: String {
        let path = Self.executablePath
        return String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)])
    }

    /// This process's executable, as the kernel knows it.
    public static var executablePath: String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return "." }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    var siblings: Siblings { siblingsGiven ?? .directory(binaryDirectory) }

    /// The routing table, read once: the full one serves for triggers too.
    func table(triggersOnly: Bool = false) throws -> RoutingTable {
        if let t = tables.state.withLock({ $0.full ?? (triggersOnly ? $0.triggers : nil) }) { return t }
        let t = try RoutingTable.load(directory: variable("SWITCHYARD_FUNCTIONS_DIR"), binaryDirectory: binaryDirectory,
                                      excluding: Self.name, triggersOnly: triggersOnly,
                                      cacheDirectory: Settings.cacheDirectory(variable("SWITCHYARD_CACHE_DIR"),
                                                                              temporary: Files.temporaryDirectory(environment: ["TMPDIR": variable("TMPDIR") ?? "/tmp"])))
        tables.state.withLock { if triggersOnly { $0.triggers = t } else { $0.full = t } }
        return t
    }

    // MARK: GitHub events

    /// An event that no manifest routes, known from its name and action alone: answered without
    /// decoding. Comment events always decode (their commands decide the routes).
    public func ignoreUndecoded(event: String, body: [UInt8]) -> String? {
        guard !CommentTrigger.eventNames.contains(event), let table = try? table(triggersOnly: true) else { return nil }
        let action = WebhookEvent.topLevelAction(body)
        guard table.routes(event: event, action: action, commands: []).isEmpty else { return nil }
        // Without a readable action, ignore only an event no manifest lists under any action.
        if action == nil, table.manifests.contains(where: { $0.github.contains { $0.event == event } }) { return nil }
        return "no function handles \(event)\(action.map { "." + $0 } ?? "")"
    }

    public func plan(event: WebhookEvent, context: CapabilityContext) throws -> Plan {
        let comment = CommentTrigger(event)
        // Whether the comment holds any command at all, counted on the bytes (nothing is read as text yet).
        let hasCommands = comment.map { CommandGrammar.asksForAnything($0.body) } ?? false
        // Commands need their documentation (aliases, default permissions); a plain event needs only the triggers.
        let table = try table(triggersOnly: !hasCommands)
        var commands: [Command] = []
        var notes: [String] = []
        if let c = comment, hasCommands {
            // The shared rules: bots, Switchyard itself, blocked users, edits, and the request cap.
            let known = Set(table.manifests.flatMap { $0.commandNames })
            switch try context.commands(in: c, named: known) {
            case .ignore(let reason): notes.append(reason)
            case .refuse(let plan): return plan
            case .run(let cmds): commands = cmds
            }
        }
        var routes = table.routes(event: event.name, action: event.action, commands: commands)
        // Plain-event routes for a comment event only make sense for functions that want the event itself.
        let commandRoutes = routes.filter { !$0.commands.isEmpty }
        var replies: [Action] = []
        if let c = comment, !commandRoutes.isEmpty {
            let github = try context.github()
            let repo = c.repository
            let issue = IssueRef(repo: repo, number: c.number)
            // Switchyard's own 👀 on the comment marks it handled: a redelivery finds it and stops. Only a
            // reaction by Switchyard's identity counts; anyone else's 👀 is just a reaction.
            if c.kind == .issueComment, let id = c.commentID, let bot = try github.botLogin()?.lowercased(),
               try github.reactions(in: repo, commentID: id).contains(where: { $0.login.lowercased() == bot && $0.content == "eyes" }) {
                return .ignore("comment \(id) was already handled (redelivered)")
            }
            var accepted = Set<String>()
            for route in commandRoutes {
                for name in route.commands {
                    switch try context.admits(c.author.login, command: name, default: table.doc(name)?.allow ?? [.member], repo: repo,
                                              author: c.issueAuthor, association: c.authorAssociation) {
                    case .allowed: accepted.insert(name)
                    case .ignored(let why): notes.append(why)
                    case .denied(let policy):
                        let text = "@\(c.author.login) only \(describePolicy(policy)) can run `/\(name)` here."
                        replies.append(.comment(issue: issue, body: text, marker: Marker(function: Self.name, "denied", "\(c.commentID ?? 0)", name)))
                        notes.append("\(c.author.login) may not run /\(name)")
                    }
                }
            }
            routes = routes.filter { $0.commands.isEmpty || $0.commands.contains(where: accepted.contains) }
            if !accepted.isEmpty, c.kind == .issueComment, let id = c.commentID, !context.dryRun {
                try context.performNow([.addReaction(repo: repo, commentID: id, content: "eyes")])
            }
        }
        guard !routes.isEmpty else {
            var plan = Plan(outcome: replies.isEmpty ? .ignored : .rejected, actions: replies,
                            message: !notes.isEmpty ? notes.joined(separator: "; ")
                                : comment != nil ? "no Switchyard command in the comment"
                                : "no function handles \(event.name)\(event.action.map { "." + $0 } ?? "")")
            plan.denied = !replies.isEmpty
            return plan
        }
        if context.dryRun {
            return Plan(outcome: .planned, actions: replies, message: "would route to " + routes.map(\.function).joined(separator: ", "))
        }
        let results = forwardAll(routes.map(\.function), context: context)
        return combine(results, replies: replies, notes: notes)
    }

    func forwardAll(_ functions: [String], context: CapabilityContext) -> [RoutedResult] {
        Forwarder(environment: environment).forwardAll(context.request, to: functions.map {
            ($0, Transport.forFunction($0, config: context.config, siblings: siblings))
        }, deadline: context.deadline)
    }

    func combine(_ results: [RoutedResult], replies: [Action], notes: [String]) -> Plan {
        var results_: [String: JSON] = [:]
        for r in results { results_[r.function] = r.json }
        // A routed function that failed (no answer, a 5xx, a `failed` outcome, a timeout) makes the whole
        // delivery failed: GitHub shows it and may redeliver, and every function is idempotent.
        let failed = results.filter { $0.error != nil || $0.status >= 500 || $0.body?["outcome"]?.string == "failed" }
        let summary = results.map { r in "\(r.function): \(r.body?["outcome"]?.string ?? (r.timedOut ? "timed out" : "failed"))" }
        let ignored = results.allSatisfy { $0.body?["outcome"]?.string == "ignored" }
        var plan = Plan(outcome: !failed.isEmpty ? .failed : ignored ? (replies.isEmpty ? .ignored : .rejected) : .done,
                        actions: replies, message: (summary + notes).joined(separator: "; "))
        plan.denied = !replies.isEmpty
        plan.response = ["results": .object(results_), "routed": .array(results.map { .string($0.function) })]
        return plan
    }

    // MARK: Chat

    public func plan(chat: ChatCommand, command: Command, context: CapabilityContext) throws -> Plan {
        let table = try table()
        // The chat gate (teams, channels, users, e-mail domains) ran in the shared handler before this.
        let chatConfig = context.config.global(["chat"])
        if command.name == "help" {
            if let topic = command.arguments.first {
                guard let doc = table.doc(topic) else { return .reject(unknown(topic, table: table, slash: chat.command)) }
                return Plan(outcome: .done, message: Help.command(doc, slash: chat.command))
            }
            return Plan(outcome: .done, message: Help.overview(table, slash: chat.command))
        }
        guard let route = table.chatRoute(command.name) else {
            return .reject(unknown(command.name, table: table, slash: chat.command))
        }
        let forwarder = Forwarder(environment: environment)
        let transport = Transport.forFunction(route.function, config: context.config, siblings: siblings)
        // Slack gives 3 s; Mattermost waits longer (configurable). Past the budget, answer "working on it"
        // now and deliver the result to response_url.
        let budget = chat.platform == .slack ? 2_500 : (chatConfig?["mattermost-ack-ms"]?.int ?? 25_000)
        final class Acked: @unchecked Sendable { var value = false }
        let acked = Acked()
        let slow = context.respondEarly.map { respond in
            { () -> Void in
                respond(Rendering.chat("Working on `\(command.name)`… the result will follow here.", outcome: .planned))
                acked.value = true
            }
        }
        let result = forwarder.forwardAll(context.request, to: [(route.function, transport)], deadline: context.deadline,
                                          slowAfter: Deadline(millisecondsFromNow: budget), onSlow: slow)[0]
        let text = result.body?["text"]?.string ?? result.error ?? "\(route.function) did not answer."
        if acked.value, let url = chat.responseURL, context.mayPostToChat(url) {
            let reply: JSON = ["response_type": .string(result.body?["response_type"]?.string ?? "ephemeral"), "text": .string(text)]
            _ = try? NetworkTransport().send(HTTPRequest(method: "POST", url: url, headers: [("Content-Type", "application/json")],
                                                      body: Array(reply.encoded().utf8)), timeoutMilliseconds: 5_000)
        }
        var plan = Plan(outcome: Outcome(rawValue: result.body?["outcome"]?.string ?? "") ?? (result.error == nil ? .done : .failed), message: text)
        plan.denied = result.status == 401 || result.body?["outcome"]?.string == "rejected" && text.contains("only ")
        if let type = result.body?["response_type"]?.string { plan.response["response_type"] = .string(type) }
        return plan
    }

    func unknown(_ name: String, table: RoutingTable, slash: String) -> String {
        let hint = table.closest(name).map { " Did you mean `\($0)`?" } ?? ""
        return "Unknown command `\(name)`.\(hint) Try `\(slash) help`."
    }
}
