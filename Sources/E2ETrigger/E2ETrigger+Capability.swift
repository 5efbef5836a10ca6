import SwitchyardCore
import SwitchyardGitHub
import SwitchyardRuntime

extension E2ETrigger: Capability {
    public var name: String { Self.name }
    public var events: Set<String>? { ["issue_comment", "pull_request_review_comment", "pull_request_review", "pull_request", "workflow_run", "gitlab_pipeline", "deployment_status"] }

    func backend(_ s: Settings, repo: RepoRef, context: CapabilityContext) throws -> any PipelineBackend {
        if s.backend == "gitlab" {
            guard let project = s.gitlabProject else { throw SwitchyardError.misconfigured("`e2e.gitlab.project` is not set for \(repo.fullName)") }
            guard let settings = context.settings, let token = settings.gitlabToken else {
                throw SwitchyardError.misconfigured("GITLAB_TOKEN (or GITLAB_TOKEN_FILE) is not set")
            }
            return GitLabBackend(baseURL: settings.gitlabURL, token: token, project: project, deadline: context.deadline, repository: repo.fullName)
        }
        return ActionsBackend(github: try context.github(), repo: repo, workflow: s.workflow)
    }

    public func plan(event: WebhookEvent, context: CapabilityContext) throws -> Plan {
        switch event {
        case .issueComment, .pullRequestReviewComment, .pullRequestReview:
            guard let c = CommentTrigger(event) else { return .ignore("no comment") }
            let cmd: Command
            switch try context.commands(in: c, named: ["e2e-test", "e2e-cancel"]) {
            case .ignore(let reason): return .ignore(reason)
            case .refuse(let plan): return plan
            case .run(let cmds): cmd = cmds.last!
            }
            guard c.isPullRequest else { return .ignore("end-to-end tests run for pull requests; #\(c.number) is an issue") }
            let ref = IssueRef(repo: c.repository, number: c.number)
            let reply = Marker(function: name, "reply", "\(c.commentID ?? 0)")
            let github = try context.github()
            switch try context.admits(c.author.login, command: cmd.name, default: Self.defaultPolicy, repo: ref.repo, author: c.issueAuthor,
                                      association: c.authorAssociation) {
            case .allowed: break
            case .ignored(let why): return .ignore(why)
            case .denied(let policy):
                let text = "@\(c.author.login) only \(describePolicy(policy)) can run `/\(cmd.name)` here."
                return .deny(text, reply: [.comment(issue: ref, body: text, marker: reply)])
            }
            let pull = try github.pullRequest(ref)
            if cmd.name == "e2e-cancel" { return try cancel(ref, pull: pull, who: c.author.login, reply: reply, context: context) }
            return try start(ref, pull: pull, tokens: cmd.tokens, who: c.author.login, reply: reply, context: context)
        case .pullRequest(let e):
            let ref = IssueRef(repo: e.repository.ref, number: e.pullRequest.number)
            let s = Settings(config: context.config, repo: ref.repo)
            switch e.action {
            case .labeled where e.label?.name == s.label && s.label != nil && s.serversLabel == s.label:
                return .ignore("the run starts once label-deploy's end-to-end servers for #\(ref.number) are ready")
            case .labeled where e.label?.name == s.label && s.label != nil:
                switch try context.admits(e.sender.login, isBot: e.sender.isBot, command: "e2e-test", default: Self.defaultPolicy, repo: ref.repo) {
                case .allowed: break
                case .ignored(let why): return .ignore(why)
                case .denied: return .deny("the \(s.label!) label was added by \(e.sender.login), who may not start end-to-end tests")
                }
                // The head now, not the payload's: a late delivery must not test an older commit.
                let pull = try context.github().pullRequest(ref)
                guard pull.labels?.contains(where: { $0.name == s.label }) == true else { return .ignore("the \(s.label!) label is gone again") }
                return try start(ref, pull: pull, tokens: [], who: e.sender.login,
                                 reply: Marker(function: name, "label", pull.head.sha), context: context)
            case .synchronize where s.cancelOnPush:
                // What is current decides: a late delivery of an older push must not cancel the newest run.
                let pull = try context.github().pullRequest(ref)
                guard pull.state == "open" else { return .ignore("#\(ref.number) is closed") }
                let plan = try cancel(ref, pull: pull, who: nil, reply: nil, context: context, onlyOtherThan: pull.head.sha)
                if s.restartOnPush, plan.outcome == .done {
                    let last = try Self.runs(on: ref, github: context.github()).last
                    let restart = try start(ref, pull: pull, tokens: last.map { $0.options.split(separator: " ").map(String.init) } ?? [],
                                            who: e.sender.login, reply: nil, context: context)
                    return .perform(plan.actions + restart.actions, message: plan.message + "; " + restart.message)
                }
                return plan
            case .closed where s.cancelOnClose:
                let pull = try context.github().pullRequest(ref)
                guard pull.state != "open" else { return .ignore("#\(ref.number) was reopened since") }
                return try cancel(ref, pull: pull, who: nil, reply: nil, context: context)
            default:
                return .ignore("pull_request.\(e.action) needs no end-to-end action")
            }
        case .other(let name, let p) where name == "deployment_status":
            return try serversReady(p, context: context)
        case .other(let name, let p) where name == "workflow_run":
            guard p["action"]?.string == "completed", let run = p["workflow_run"], let id = run["id"]?.int,
                  let full = p["repository"]?["full_name"]?.string, let repo = RepoRef(Substring(full)) else {
                return .ignore("workflow_run.\(p["action"]?.string ?? "?")")
            }
            let number = run["pull_requests"]?[0]?["number"]?.int ?? Self.prNumber(in: run["display_title"]?.string ?? "")
            guard let number else { return .ignore("run \(id) names no pull request (set the workflow's run-name)") }
            return try finished(IssueRef(repo: repo, number: number), runID: id,
                                state: ActionsBackend.state(status: run["status"]?.string, conclusion: run["conclusion"]?.string), context: context)
        case .other(let name, let p) where name == "gitlab_pipeline":
            let attrs = p["object_attributes"]
            guard let id = attrs?["id"]?.int else { return .ignore("a pipeline event without an id") }
            let vars = Dictionary((attrs?["variables"]?.array ?? []).compactMap { v in v["key"]?.string.map { ($0, v["value"]?.string ?? "") } },
                                  uniquingKeysWith: { a, _ in a })
            let named = vars[Self.pipelineVariable].flatMap { IssueRef(Substring($0)) }
            let legacy = vars["PR_REPO"].flatMap { RepoRef(Substring($0)) }.flatMap { r in vars["PR_NUMBER"].flatMap(Int.init).map { IssueRef(repo: r, number: $0) } }
            guard let pr = named ?? legacy else {
                return .ignore("pipeline \(id) was not started by e2e-trigger")
            }
            let repo = pr.repo, number = pr.number
            let state = GitLabBackend.state(attrs?["status"]?.string)
            guard state != "running" else { return .ignore("pipeline \(id) is \(attrs?["status"]?.string ?? "running")") }
            return try finished(IssueRef(repo: repo, number: number), runID: id, state: state, context: context)
        default:
            return .ignore("\(event.name) needs no end-to-end action")
        }
    }

    /// `/switchyard e2e-test owner/repo#123 [KEY=value …]` and `e2e-cancel owner/repo#123` from chat,
    /// as the mapped GitHub login, under the same policy as the comments.
    public func plan(chat: ChatCommand, command: Command, context: CapabilityContext) throws -> Plan {
        let args = command.arguments
        guard let first = args.first, let ref = IssueRef(Substring(first)) else {
            return .reject("Usage: `\(chat.command) \(command.name) owner/repo#123\(command.name == "e2e-test" ? " [KEY=value …]" : "")`")
        }
        guard let login = context.githubLogin(for: chat) else {
            return .deny("Your chat account is not linked to a GitHub login; ask an operator to add you under `chat.users`.")
        }
        switch try context.admits(login, command: command.name, default: Self.defaultPolicy, repo: ref.repo) {
        case .allowed: break
        case .ignored(let why): return .ignore(why)
        case .denied(let policy): return .deny("Only \(describePolicy(policy)) can run \(command.name) in \(ref.repo.fullName).")
        }
        let pull: GitHub.PullRequest
        do { pull = try context.github().pullRequest(ref) } catch let e as GitHubError where e.status == 404 {
            return .reject("\(ref) does not exist, or Switchyard cannot see it.")
        }
        if command.name == "e2e-cancel" {
            guard command.tokens.count == 1 else { return .reject("Usage: `\(chat.command) e2e-cancel owner/repo#123`") }
            return try cancel(ref, pull: pull, who: login, reply: nil, context: context)
        }
        let who: JSON = ["platform": .string(chat.platform.rawValue), "user_id": .string(chat.userID), "user_name": .string(chat.userName)]
        // A chat command is delivered once; its trigger id (or the time) tells a retry from a new request.
        let source = "chat:\(chat.platform.rawValue):\(chat.userID):\(chat.triggerID ?? "\(Deadline.epochMillis())")"
        // Everything after the PR, options and stray words alike: `start` refuses what is not an input.
        let rest = command.tokens.firstIndex(of: first).map { Array(command.tokens[($0 + 1)...]) } ?? []
        return try start(ref, pull: pull, tokens: rest, who: login, reply: nil, context: context, source: source, chat: who)
    }

    /// Tells a chat user how their run ended, through `E2E_NOTIFY_WEBHOOK_URL` (best effort: the PR's
    /// comment and status say it anyway).
    func tell(_ chat: JSON, _ text: String, context: CapabilityContext) {
        guard let hook = context.settings?.e2eNotifyWebhookURL, !context.dryRun else { return }
        let slack = chat["platform"]?.string == "slack"
        let name = chat["user_name"]?.string ?? ""
        let mention = slack ? "<@\(chat["user_id"]?.string ?? "")> " : (name.isEmpty ? "" : "@\(name) ")
        // Mattermost: a direct message to the starter; Slack: the hook's channel, with a mention.
        let channel = slack || name.isEmpty ? nil : "@" + name
        if !context.postToChat(hook, text: mention + text, channel: channel) {
            context.logger.warning("the chat user who started an end-to-end run could not be told how it ended")
        }
    }

    static let pipelineVariable = "SWITCHYARD_PR"

    /// label-deploy's hand-over: a `success` status of a deployment to `e2e-pr-<n>` that Switchyard
    /// itself made, its payload the servers' URLs. The run is dispatched with them, once per deployment.
    func serversReady(_ p: JSON, context: CapabilityContext) throws -> Plan {
        guard p["deployment_status"]?["state"]?.string == "success", let d = p["deployment"], let id = d["id"]?.int,
              let env = d["environment"]?.string, env.hasPrefix("e2e-pr-"), let n = Int(env.dropFirst(7)), n > 0,
              let full = p["repository"]?["full_name"]?.string, let repo = RepoRef(Substring(full)) else {
            return .ignore("not the hand-over of end-to-end servers")
        }
        let github = try context.github()
        // Only a deployment Switchyard made carries servers to trust: anyone with write access can make one.
        guard let creator = d["creator"]?["login"]?.string, try github.isBot(creator) else {
            return .ignore("deployment \(id) to \(env) was not made by Switchyard")
        }
        if let statusCreator = p["deployment_status"]?["creator"]?["login"]?.string, try !github.isBot(statusCreator) {
            return .ignore("the success of deployment \(id) was not reported by Switchyard")
        }
        let ref = IssueRef(repo: repo, number: n)
        let s = Settings(config: context.config, repo: repo)
        let pull = try github.pullRequest(ref)
        guard pull.state == "open" else { return .ignore("#\(n) is closed") }
        guard let label = s.serversLabel, (pull.labels ?? []).contains(where: { $0.name == label }) else {
            return .ignore("#\(n) no longer asks for end-to-end servers")
        }
        // What holds now, not what the delivery says: the environment's newest deployment, still a success.
        guard let current = try currentServers(ref, settings: s, github: github), current.deployment == id else {
            return .ignore("deployment \(id) is not the current hand-over of #\(n)")
        }
        let who = (try? github.lastLabeller(of: ref, label: label)) ?? nil
        return try start(ref, pull: pull, tokens: [], who: who ?? creator, reply: nil, context: context,
                         source: "servers:\(id)", extra: current.inputs)
    }

    /// The end-to-end servers label-deploy handed over for a PR: the newest deployment to `e2e-pr-<n>`,
    /// made by Switchyard and whose latest status is `success`; its servers' URLs as the workflow's inputs.
    func currentServers(_ ref: IssueRef, settings s: Settings, github: GitHubClient) throws -> (deployment: Int, inputs: [String: String])? {
        let path = APIPath.repo(ref.repo) / "deployments"
        guard let d = try JSON.parse(try github.send("GET", path, query: [("environment", "e2e-pr-\(ref.number)"), ("per_page", "1")]).body)[0],
              let id = d["id"]?.int, let creator = d["creator"]?["login"]?.string, try github.isBot(creator) else { return nil }
        let last = try JSON.parse(try github.send("GET", path / id / "statuses", query: [("per_page", "1")]).body)
        guard last[0]?["state"]?.string == "success" else { return nil }
        var inputs: [String: String] = [:]
        for (site, url) in d["payload"]?["servers"]?.object ?? [:] {
            if let u = url.string, u.hasPrefix("https://") || u.hasPrefix("http://") { inputs[s.input(forSite: site)] = u }
        }
        return inputs.isEmpty ? nil : (id, inputs)
    }

    static func prNumber(in title: String) -> Int? {
        guard let hash = title.lastIndex(of: "#") else { return nil }
        return Int(title[title.index(after: hash)...].prefix { $0.isNumber })
    }

    func start(_ ref: IssueRef, pull: GitHub.PullRequest, tokens: [String], who: String, reply: Marker?,
               context: CapabilityContext, source: String? = nil, chat: JSON? = nil, extra: [String: String] = [:]) throws -> Plan {
        let s = Settings(config: context.config, repo: ref.repo)
        let github = try context.github()
        func answer(_ text: String, outcome: Outcome) -> Plan {
            Plan(outcome: outcome, actions: reply.map { [.comment(issue: ref, body: text, marker: $0)] } ?? [], message: text)
        }
        guard pull.state == "open" else { return answer("@\(who) #\(ref.number) is closed.", outcome: .rejected) }
        let options: [(String, String)]
        switch Self.options(tokens, allowed: s.inputs) {
        case .success(let o): options = o
        case .failure(let e):
            let valid = s.inputs.isEmpty ? "This repository declares no options." : "Valid options: " + s.inputs.map { "`\($0)=…`" }.joined(separator: ", ") + "."
            return answer("@\(who) \(e.message). \(valid)", outcome: .rejected)
        }
        // The PR's own context is Switchyard's to say: an option may not stand in for it.
        let reserved = Set(s.variables.values.filter { !$0.isEmpty } + [Self.pipelineVariable] + (s.companionRepo != nil ? [s.companionVariable] : []))
        if let clash = options.first(where: { reserved.contains($0.0) }) {
            return answer("@\(who) `\(clash.0)` carries the pull request's own context and cannot be set by hand.", outcome: .rejected)
        }
        // With label-deploy's servers configured, every run (a comment, a restart after a push) gets them.
        var extra = extra
        if extra.isEmpty, s.serversLabel != nil {
            guard let current = try currentServers(ref, settings: s, github: github) else {
                return answer("@\(who) the end-to-end servers of #\(ref.number) are not ready; add the `\(s.serversLabel!)` label and the run starts when they are.", outcome: .rejected)
            }
            extra = current.inputs
        }
        let optionText = options.map { "\($0.0)=\($0.1)" }.joined(separator: " ")
        var runs = try Self.runs(on: ref, github: github)
        // What asked: the comment, the label on this head, or a push. A request already recorded is a
        // replay; one recorded as "starting" was cut short and is finished here.
        let key = source ?? reply?.key ?? "push:\(pull.head.sha)"
        let pending = runs.firstIndex { $0.source == key && $0.isPending }
        if pending == nil, runs.contains(where: { $0.source == key }) {
            return .ignore("this request already started a run (delivery replayed)")
        }
        let backend = try backend(s, repo: ref.repo, context: context)
        // The same head and options already running: link it instead of starting another.
        if pending == nil, let same = runs.last(where: { $0.sha == pull.head.sha && $0.options == optionText && $0.state == "running" }),
           try backend.state(same.id) == "running" {
            return answer("@\(who) an end-to-end run for `\(pull.head.sha.prefix(7))` with these options is already going: \(same.url). Comment `/e2e-cancel` to stop it.", outcome: .ignored)
        }
        if s.guardMode == "checks" {
            let combined = try JSON.parse(try github.send("GET", .repo(ref.repo) / "commits" / GitHubClient.sha(pull.head.sha) / "status").body)
            let failing = (combined["statuses"]?.array ?? []).filter { $0["context"]?.string != s.context && $0["state"]?.string != "success" }
                .compactMap { $0["context"]?.string }
            if !failing.isEmpty {
                return answer("@\(who) the other checks must be green first; not yet: " + Set(failing).sorted().map { "`\($0)`" }.joined(separator: ", ") + ".", outcome: .rejected)
            }
        } else if s.guardMode == "mergeable", pull.mergeable == false {
            return answer("@\(who) #\(ref.number) has conflicts with `\(pull.base.ref)`; resolve them first.", outcome: .rejected)
        }
        if context.dryRun { return Plan(outcome: .planned, message: "would start \(s.backend) end-to-end tests for \(pull.head.sha.prefix(7)) \(optionText)") }
        var inputs = s.context(number: ref.number, repository: s.backend == "gitlab" ? ref.repo.fullName : (pull.head.repo?.fullName ?? ref.repo.fullName),
                               sha: pull.head.sha, ref: pull.head.ref, base: pull.base.ref)
        if s.backend == "gitlab" {
            // Switchyard's own record of which PR a pipeline is for, whatever the pipeline's names are.
            inputs[Self.pipelineVariable] = "\(ref.repo.fullName)#\(ref.number)"
            if s.companionRepo != nil, let gitlab = backend as? GitLabBackend {
                inputs[s.companionVariable] = gitlab.hasBranch(pull.head.ref) ? pull.head.ref : pull.base.ref
            }
        }
        for (k, v) in options { inputs[k] = v }
        for (k, v) in extra { inputs[k] = v }
        let known = Set(runs.map(\.id))
        let started: (id: Int, url: String)
        if let i = pending {
            // An earlier delivery asked and was cut short: its run is found, or asked for now.
            let since = runs[i].requestedAt ?? (Deadline.epochMillis() / 1000 - 600)
            started = try backend.find(since: since, pr: ref.number, known: known)
                ?? backend.start(ref: s.ref ?? pull.base.ref, inputs: inputs, pr: ref.number, known: known)
            runs.remove(at: i)
        } else {
            // The request is recorded before it is made, so that a run cut short after asking is finished,
            // not asked for twice.
            var asked = runs
            asked.append(PipelineRun(id: 0, url: "", sha: pull.head.sha, options: optionText, state: "starting", source: key,
                                     requestedAt: Deadline.epochMillis() / 1000))
            try context.performNow([Self.sticky(ref, asked, headline: "⏳ Starting end-to-end tests for `\(pull.head.sha.prefix(7))`…")])
            started = try backend.start(ref: s.ref ?? pull.base.ref, inputs: inputs, pr: ref.number, known: known)
        }
        var run = PipelineRun(id: started.id, url: started.url, sha: pull.head.sha, options: optionText, state: "running", source: key)
        run.chat = chat
        runs.append(run)
        let headline = "⏳ Started by @\(who) on `\(pull.head.sha.prefix(7))`\(optionText.isEmpty ? "" : " with `\(optionText)`"): \(started.url)"
        return .perform([
            .setStatus(repo: ref.repo, sha: pull.head.sha, state: "pending", context: s.context, description: "End-to-end tests are running", targetURL: started.url),
            Self.sticky(ref, runs, headline: headline),
        ], message: "started run \(started.id) for \(ref) on \(pull.head.sha.prefix(7)): \(started.url)")
    }

    func cancel(_ ref: IssueRef, pull: GitHub.PullRequest, who: String?, reply: Marker?, context: CapabilityContext,
                onlyOtherThan keep: String? = nil) throws -> Plan {
        let s = Settings(config: context.config, repo: ref.repo)
        let github = try context.github()
        var runs = try Self.runs(on: ref, github: github)
        if let key = reply?.key, runs.contains(where: { $0.cancelledBy == key }) {
            return .ignore("this request already cancelled its runs (delivery replayed)")
        }
        let targets = runs.indices.filter { runs[$0].state == "running" && runs[$0].sha != keep }
        guard !targets.isEmpty else {
            let text = "@\(who ?? "") nothing was running for #\(ref.number)."
            if let reply, who != nil { return Plan(outcome: .ignored, actions: [.comment(issue: ref, body: text, marker: reply)], message: "nothing was running") }
            return .ignore("nothing was running for #\(ref.number)")
        }
        if context.dryRun { return Plan(outcome: .planned, message: "would cancel " + targets.map { "run \(runs[$0].id)" }.joined(separator: ", ")) }
        let backend = try backend(s, repo: ref.repo, context: context)
        var actions: [Action] = []
        for i in targets {
            _ = try backend.cancel(runs[i].id)
            runs[i].state = "cancelled"
            runs[i].cancelledBy = reply?.key
            actions.append(.setStatus(repo: ref.repo, sha: runs[i].sha, state: "error", context: s.context,
                                      description: "End-to-end tests were cancelled", targetURL: runs[i].url))
        }
        let why = who.map { "by @\($0)" } ?? (keep != nil ? "because new commits were pushed" : "because the pull request was closed")
        // Runs started from chat and cancelled by something else: their starters hear why.
        if who == nil {
            try context.performNow(actions + [Self.sticky(ref, runs, headline: "🚫 Cancelled \(why): " + targets.map { "run \(runs[$0].id)" }.joined(separator: ", "))])
            for i in targets { if let chat = runs[i].chat { tell(chat, "🚫 The end-to-end run for \(ref) was cancelled \(why): \(runs[i].url)", context: context) } }
            return Plan(outcome: .done, message: "cancelled " + targets.map { "run \(runs[$0].id)" }.joined(separator: ", "))
        }
        let headline = "🚫 Cancelled \(why): " + targets.map { "run \(runs[$0].id)" }.joined(separator: ", ")
        actions.append(Self.sticky(ref, runs, headline: headline))
        return .perform(actions, message: "cancelled " + targets.map { "run \(runs[$0].id)" }.joined(separator: ", "))
    }

    func finished(_ ref: IssueRef, runID: Int, state: String, context: CapabilityContext) throws -> Plan {
        let s = Settings(config: context.config, repo: ref.repo)
        let github = try context.github()
        var runs = try Self.runs(on: ref, github: github)
        guard let i = runs.firstIndex(where: { $0.id == runID }) else { return .ignore("run \(runID) was not started for #\(ref.number)") }
        guard runs[i].state != state else { return .ignore("run \(runID) is already recorded as \(state)") }
        runs[i].state = state
        let icon = state == "success" ? "✅ Passed" : state == "cancelled" ? "🚫 Cancelled" : "❌ Failed"
        let statusState = state == "success" ? "success" : state == "cancelled" ? "error" : "failure"
        guard let chat = runs[i].chat else {
            return .perform([
                .setStatus(repo: ref.repo, sha: runs[i].sha, state: statusState, context: s.context,
                           description: "End-to-end tests \(state == "success" ? "passed" : state)", targetURL: runs[i].url),
                Self.sticky(ref, runs, headline: "\(icon) on `\(runs[i].sha.prefix(7))`: \(runs[i].url)"),
            ], message: "run \(runID) finished: \(state)")
        }
        // The PR first: the starter is told only once what they are told is on GitHub, so a retry after
        // a failed write does not tell them twice.
        try context.performNow([
            .setStatus(repo: ref.repo, sha: runs[i].sha, state: statusState, context: s.context,
                       description: "End-to-end tests \(state == "success" ? "passed" : state)", targetURL: runs[i].url),
            Self.sticky(ref, runs, headline: "\(icon) on `\(runs[i].sha.prefix(7))`: \(runs[i].url)"),
        ])
        tell(chat, "\(icon): the end-to-end run for \(ref) on `\(runs[i].sha.prefix(7))`: \(runs[i].url)", context: context)
        return Plan(outcome: .done, message: "run \(runID) finished: \(state); its starter was told")
    }
}
