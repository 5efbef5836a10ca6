import SwitchyardCore
import SwitchyardGitHub
import SwitchyardRuntime

/// `/deploy create|update|delete` in a pull request's comments (Spinwick's `/spinwick …`, matterwick
/// #69): the PR's server with a size and variables of the commenter's choosing. The label's
/// permission rule applies; create adds the first deploy label and delete removes the labels, so the
/// labels keep telling the truth. The server itself holds what was asked for (its size and its
/// variables), so nothing is kept anywhere else.
extension LabelDeploy {
    static let commentUsage = """
    `/deploy create [--size S] [--env K=V,…]` · `/deploy update [--size S] [--env K=V,…] [--clear-env K,…]` · `/deploy delete`
    """

    func plan(comment: CommentTrigger, context: CapabilityContext) throws -> Plan {
        guard comment.kind == .issueComment else { return .ignore("/deploy is read from pull request conversation comments") }
        let commands: [Command]
        switch try context.commands(in: comment, named: ["deploy"]) {
        case .ignore(let reason): return .ignore(reason)
        case .refuse(let plan): return plan
        case .run(let c): commands = c
        }
        guard comment.isPullRequest else { return .ignore("/deploy works on pull requests; #\(comment.number) is an issue") }
        let ref = IssueRef(repo: comment.repository, number: comment.number)
        let login = comment.author.login
        let replyMarker = Marker(function: name, "command", "\(comment.commentID ?? 0)")
        func reply(_ text: String) -> Plan {
            .reject("@\(login) \(text)", reply: [.comment(issue: ref, body: "@\(login) \(text)", marker: replyMarker)])
        }
        let command = commands[0]
        if let e = command.error { return reply("\(e)\n\n\(Self.commentUsage)") }
        switch try context.admits(login, isBot: comment.author.isBot, command: "deploy", default: Self.defaultPolicy, repo: ref.repo,
                                  association: comment.authorAssociation) {
        case .allowed: break
        case .ignored(let why): return .ignore(why)
        case .denied(let policy): return reply("only \(describe(policy)) can manage this pull request's test server.")
        }
        var args = command.tokens
        guard !args.isEmpty else { return reply("say what to do: \(Self.commentUsage)") }
        let sub = args.removeFirst().lowercased()
        let flags: [String: String]
        switch Self.flags(args.map { $0.hasPrefix("-") && !$0.hasPrefix("--") ? "-" + $0 : $0 }) {
        case .failure(let e): return reply("\(e.message).\n\n\(Self.commentUsage)")
        case .success(let f):
            guard f.rest.isEmpty else { return reply("`\(f.rest[0])` is not understood here.\n\n\(Self.commentUsage)") }
            flags = f.flags
        }
        for k in ["version", "image"] where flags[k] != nil {
            return reply("`--\(k)` is not set from a comment: the server runs this pull request's head.")
        }
        var env: [String: String] = [:]
        if let e = flags["env"] {
            switch Self.envPairs(e) {
            case .failure(let err): return reply(err.message)
            case .success(let pairs): env = pairs
            }
        }
        for k in env.keys where k == Self.ownerNameVariable {
            return reply("`\(k)` is Switchyard's own variable.")
        }
        for (k, v) in env where v.isEmpty { return reply("`\(k)=` has no value; `--clear-env \(k)` removes a variable.") }
        let clear = (flags["clear-env"] ?? "").split(separator: ",").map(String.init).filter { !$0.isEmpty }
        for k in clear where k.isEmpty || !k.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) || k == Self.ownerNameVariable {
            return reply("`\(k)` is not a variable that can be cleared.")
        }
        let s = Settings(config: context.config, repo: ref.repo)
        let sizes = (s.sizes + s.profiles.map(\.size)).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        if let size = flags["size"], !sizes.contains(size) || !Self.isProvisionerSize(size) {
            return reply("`\(size)` is not a size that can be asked for here; use one of " + sizes.map { "`\($0)`" }.joined(separator: ", ") + ".")
        }
        let pull = try context.github().pullRequest(ref)
        guard pull.state == "open" else { return reply("#\(ref.number) is closed; reopen it first.") }
        let labels = (pull.labels ?? []).map(\.name)
        switch sub {
        case "create":
            guard flags["clear-env"] == nil else { return reply("`--clear-env` is for `/deploy update`.") }
            guard var profile = s.profiles(on: labels).first ?? s.profiles.first else {
                return reply("no deploy profile is configured here.")
            }
            if let size = flags["size"] { profile.size = size }
            for (k, v) in env { profile.env[k] = v }
            let live = try backend(s, repo: ref.repo, context: context).servers(owner: Self.owner(ref)).first { !$0.isGone }
            if let live {
                // A create whose label was never added (cut short, then redelivered) finishes here.
                if s.profiles(on: labels).isEmpty {
                    return .perform([.addLabels(issue: ref, labels: [profile.label])], message: "\(live.name) exists; its label was added")
                }
                return reply("this pull request already has `\(live.name)` (\(live.state)); use `/deploy update` or `/deploy delete`.")
            }
            let plan = try ensure(ref, pull: pull, profile: profile, settings: s, context: context, by: login, retryFailed: true)
            guard plan.outcome == .done, !labels.contains(where: { $0.lowercased() == profile.label.lowercased() }) else { return plan }
            // The label says a server is wanted: later pushes update it, and removing it deletes it.
            return .perform(plan.actions + [.addLabels(issue: ref, labels: [profile.label])], message: plan.message)
        case "update":
            var patch = ServerPatch(size: flags["size"], env: env)
            for k in clear { patch.env[k] = "" }
            guard !patch.isEmpty else { return reply("nothing to change. \(Self.commentUsage)") }
            let backend = try backend(s, repo: ref.repo, context: context)
            guard let live = try backend.servers(owner: Self.owner(ref)).first(where: { !$0.isGone }) else {
                return reply("this pull request has no test server; `/deploy create` makes one.")
            }
            guard live.state == "stable" || live.state.hasPrefix("update") else {
                return reply("`\(live.name)` is \(live.state); it can be changed once it is stable.")
            }
            // Already as asked (a redelivery): nothing to send.
            let unchanged = (patch.size == nil || patch.size == live.size)
                && patch.env.allSatisfy { $0.value.isEmpty ? live.env[$0.key] == nil : live.env[$0.key] == $0.value }
            if unchanged { return .ignore("\(live.name) already has what /deploy update asks for") }
            if context.dryRun { return Plan(outcome: .planned, message: "would update \(live.name)") }
            try backend.update(live.id, patch)
            return .perform([.upsertComment(issue: ref, body: Self.body(.changing(live.name, by: login)), marker: Self.marker)],
                            message: "updating \(live.name) for \(login)")
        case "delete":
            guard flags.isEmpty else { return reply("`/deploy delete` takes no options.") }
            let plan = try teardown(ref, settings: s, context: context, why: "@\(login) asked for it")
            let deployLabels = s.profiles(on: labels).map(\.label)
            if deployLabels.isEmpty || plan.outcome == .planned { return plan }
            return Plan(outcome: plan.outcome == .ignored ? .done : plan.outcome,
                        actions: plan.actions + deployLabels.map { .removeLabel(issue: ref, label: $0) }, message: plan.message)
        default:
            return reply("`\(sub)` is not a /deploy command. \(Self.commentUsage)")
        }
    }
}
