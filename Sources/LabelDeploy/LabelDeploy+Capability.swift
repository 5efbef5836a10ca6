import SwitchyardCore
import SwitchyardGitHub
import SwitchyardRuntime

extension LabelDeploy: Capability {
    public var name: String { Self.name }
    public var events: Set<String>? { ["pull_request", "issue_comment", "status", "check_run", "workflow_run", "deployment_status", "provisioner", "schedule"] }

    /// The backend for a repository's pull requests.
    func backend(_ s: Settings, repo: RepoRef, context: CapabilityContext) throws -> any EnvironmentBackend {
        if s.backend == "actions" {
            return ActionsDeployBackend(github: try context.github(), repo: repo, deploy: s.deployWorkflow, destroy: s.destroyWorkflow)
        }
        return try provisioner(context)
    }

    /// The provisioner: chat servers, provisioner webhooks, and PR servers by default.
    func provisioner(_ context: CapabilityContext) throws -> any EnvironmentBackend {
        guard let settings = context.settings, let url = settings.provisionerURL else {
            throw SwitchyardError.misconfigured("PROVISIONER_URL is not set")
        }
        return CloudProvisioner(baseURL: url, auth: try ProvisionerAuth.from(settings, baseURL: url), deadline: context.deadline,
                                logger: context.logger, cacheDirectory: settings.cacheDirectory)
    }

    public func plan(event: WebhookEvent, context: CapabilityContext) throws -> Plan {
        if let comment = CommentTrigger(event) { return try plan(comment: comment, context: context) }
        switch event {
        case .pullRequest(let e):
            let ref = IssueRef(repo: e.repository.ref, number: e.pullRequest.number)
            let s = Settings(config: context.config, repo: ref.repo)
            let handled: [EventAction] = [.labeled, .unlabeled, .synchronize, .reopened, .closed]
            guard handled.contains(e.action) else { return .ignore("pull_request.\(e.action) needs no test-server action") }
            if let e2e = E2ESettings.from(config: context.config, repo: ref.repo) {
                if let plan = try e2eLabelEvent(e, ref: ref, e2e: e2e, settings: s, context: context) { return plan }
            }
            if [.labeled, .unlabeled].contains(e.action), s.profile(e.label?.name) == nil {
                return .ignore("\(e.label?.name ?? "the label") is not a deploy label")
            }
            // Deliveries arrive late and out of order: the labels, head and state now decide, and the
            // payload only says which pull request.
            let pull = try context.github().pullRequest(ref)
            let labels = (pull.labels ?? []).map(\.name)
            switch e.action {
            case .labeled:
                guard let profile = s.profile(e.label?.name) else { return .ignore("\(e.label?.name ?? "the label") is not a deploy label") }
                guard pull.state == "open" else { return .ignore("#\(ref.number) is closed") }
                guard labels.contains(where: { $0.lowercased() == profile.label.lowercased() }) else {
                    return .ignore("the `\(profile.label)` label is gone again")
                }
                // `/deploy create` adds the label after creating the server: that label is Switchyard's own.
                if try context.github().isBot(e.sender.login) {
                    return .ignore("Switchyard added the `\(profile.label)` label itself")
                }
                switch try context.admits(e.sender.login, isBot: e.sender.isBot, command: "deploy", default: Self.defaultPolicy, repo: ref.repo) {
                case .allowed: break
                case .ignored(let why):
                    return .perform([.removeLabel(issue: ref, label: profile.label)], message: "the `\(profile.label)` label was removed: \(why)")
                case .denied(let policy):
                    let text = "@\(e.sender.login) only \(describe(policy)) can start a test server here, so the `\(profile.label)` label was removed and nothing was created."
                    return .deny(text, reply: [.comment(issue: ref, body: text, marker: Marker(function: name, "untrusted", e.sender.login.lowercased())),
                                               .removeLabel(issue: ref, label: profile.label)])
                }
                return try ensure(ref, pull: e.pullRequest, profile: profile, settings: s, context: context, by: e.sender.login, retryFailed: true)
            case .synchronize, .reopened:
                guard let profile = s.profiles(on: labels).first else { return .ignore("no deploy label on #\(ref.number)") }
                return try ensure(ref, pull: e.pullRequest, profile: profile, settings: s, context: context, by: nil, retryFailed: false)
            case .unlabeled:
                guard let profile = s.profile(e.label?.name) else { return .ignore("\(e.label?.name ?? "the label") is not a deploy label") }
                if let other = s.profiles(on: labels).first(where: { $0.label != profile.label }) {
                    return .ignore("#\(ref.number) still has the \(other.label) label")
                }
                return try teardown(ref, settings: s, context: context, why: "the `\(profile.label)` label was removed")
            case .closed:
                return try teardown(ref, settings: s, context: context, why: e.pullRequest.merged == true ? "the pull request was merged" : "the pull request was closed")
            default:
                return .ignore("pull_request.\(e.action) needs no test-server action")
            }
        case .other("deployment_status", let p):
            // The Actions backend: the deploy workflow reports through deployment statuses.
            guard let repo = Self.repo(p), let env = p["deployment"]?["environment"]?.string, env.hasPrefix("pr-"),
                  let n = Int(env.dropFirst(3)), let state = p["deployment_status"]?["state"]?.string else {
                return .ignore("a deployment status not for a pull request's test server")
            }
            let s = Settings(config: context.config, repo: repo)
            guard s.backend == "actions" else { return .ignore("deployments are reported by the provisioner here") }
            let ref = IssueRef(repo: repo, number: n)
            let url = p["deployment_status"]?["environment_url"]?.string
            let server = TestServer(id: "\(p["deployment"]?["id"]?.int ?? 0)", owner: Self.owner(ref), name: env,
                                    state: state == "success" ? "stable" : state == "failure" || state == "error" ? "creation-failed" : state,
                                    version: p["deployment"]?["payload"]?["version"]?.string ?? String((p["deployment"]?["sha"]?.string ?? "").prefix(7)),
                                    image: "", size: "", dns: url.flatMap { $0.split(separator: "/").dropFirst().first.map(String.init) })
            return try pullRequestServerChanged(ref, server: server, newState: server.state, oldState: "creation-in-progress", context: context,
                                                reportDeployment: false)
        case .other("provisioner", let p):
            return try provisionerEvent(p, context: context)
        case .other("schedule", let p):
            guard p["schedule"]?.string == "deploy-reconcile" else { return .ignore("unknown schedule \(p["schedule"]?.string ?? "?")") }
            return try reconcile(p, context: context)
        case .other("status", let p):
            guard p["state"]?.string == "success", let sha = p["sha"]?.string, let context_ = p["context"]?.string,
                  let repo = Self.repo(p) else { return .ignore("not a successful status") }
            return try imageBuilt(repo: repo, sha: sha, check: .status(context_), pulls: nil, context: context)
        case .other("check_run", let p):
            let run = p["check_run"]
            guard p["action"]?.string == "completed", run?["conclusion"]?.string == "success", let sha = run?["head_sha"]?.string,
                  let n = run?["name"]?.string, let repo = Self.repo(p) else { return .ignore("not a successful check run") }
            return try imageBuilt(repo: repo, sha: sha, check: .checkRun(n), pulls: run?["pull_requests"]?.array?.compactMap { $0["number"]?.int },
                                  context: context)
        case .other("workflow_run", let p):
            let run = p["workflow_run"]
            guard p["action"]?.string == "completed", run?["conclusion"]?.string == "success", let sha = run?["head_sha"]?.string,
                  let repo = Self.repo(p) else { return .ignore("not a successful workflow run") }
            let file = String((run?["path"]?.string ?? "").split(separator: "/").last ?? "")
            let s = Settings(config: context.config, repo: repo)
            guard case .workflow(let w) = s.imageCheck, w == file || w == run?["name"]?.string else {
                return .ignore("workflow \(file) does not build the test-server image")
            }
            return try imageBuilt(repo: repo, sha: sha, check: s.imageCheck, pulls: run?["pull_requests"]?.array?.compactMap { $0["number"]?.int },
                                  context: context)
        default:
            return .ignore("\(event.name) needs no test-server action")
        }
    }

    static func repo(_ p: JSON) -> RepoRef? {
        p["repository"]?["full_name"]?.string.flatMap { RepoRef(Substring($0)) }
    }

    func describe(_ policy: [PermissionLevel]) -> String {
        policy.map(\.description).joined(separator: " or ")
    }

    // MARK: Creating and updating

    /// Brings a labelled pull request's server to its head: create, retry a failed creation, update,
    /// or wait for the image. Safe to run again: it looks the server up first.
    func ensure(_ ref: IssueRef, pull: GitHub.PullRequest, profile: Profile, settings s: Settings, context: CapabilityContext,
                by who: String?, retryFailed: Bool, imageBuilt: Bool = false) throws -> Plan {
        let backend = try backend(s, repo: ref.repo, context: context)
        let owner = Self.owner(ref)
        let version = Self.version(profile.version, pull: pull)
        let sha7 = String(pull.head.sha.prefix(7))
        let live = try backend.servers(owner: owner).first { !$0.isGone }
        let github = try context.github()

        if let live, live.isFailed {
            guard retryFailed else { return .ignore("the server of #\(ref.number) failed to be created; re-add the label to retry") }
            if context.dryRun { return Plan(outcome: .planned, message: "would retry creating \(live.name)") }
            do { try backend.retry(live.id) } catch BackendError.unsupported {
                var spec = ServerSpec(owner: owner, name: s.serverName(ref), dns: "\(s.serverName(ref)).\(s.domain)", version: version,
                                      image: profile.image, size: profile.size)
                spec.place(s.placement)
                _ = try backend.create(spec)
            }
            return .perform([.upsertComment(issue: ref, body: Self.body(.creating(live.name, profile: profile, version: version, by: who, retry: true)),
                                            marker: Self.marker)], message: "retrying the creation of \(live.name)")
        }
        if let live, live.version == version {
            let announced = try github.comment(on: ref, marked: Self.marker) != nil
            if live.state == "stable" {
                // Accounts a webhook could not finish (the provisioner does not redeliver) are made on
                // the next GitHub event: a push, or the label added again.
                if announced, profile.accounts, !context.dryRun, let action = try accountsAction(ref, server: live, context: context) {
                    return .perform([action], message: "\(live.name): accounts")
                }
                if announced { return .ignore("\(live.name) already runs \(version)") }
                // An earlier delivery created it but failed before saying so: finish its work.
                if context.dryRun { return Plan(outcome: .planned, message: "would announce \(live.name)") }
                try deploymentStart(ref, sha: pull.head.sha, server: live.id, settings: s, github: github)
                return try pullRequestServerChanged(ref, server: live, newState: "stable", oldState: "creation-in-progress", context: context)
            }
            // Asked for by an earlier delivery that was cut short: its deployment and comment are finished
            // here (both are written idempotently), and the webhook reports the rest.
            if context.dryRun { return Plan(outcome: .planned, message: "would announce \(live.name)") }
            try deploymentStart(ref, sha: pull.head.sha, server: live.id, settings: s, github: github)
            let note: Note = live.state.hasPrefix("update") ? .updating(live.name, version: version)
                : .creating(live.name, profile: profile, version: version, by: who, retry: false)
            return .perform([.upsertComment(issue: ref, body: Self.body(note), marker: Self.marker)],
                            message: "\(live.name) is \(live.state) at \(version)")
        }
        if let live, !(live.state == "stable" || live.state.hasPrefix("update")) {
            return .ignore("\(live.name) is \(live.state); the update waits for the next push")
        }
        if !imageBuilt, try !imageReady(s.imageCheck, repo: ref.repo, sha: pull.head.sha, github: github,
                                        image: profile.image ?? s.placement.image ?? ProvisionerDefaults.image, tag: version, context: context) {
            return .perform([.upsertComment(issue: ref, body: Self.body(.waiting(sha7: sha7, check: s.imageCheck, existing: live?.name)), marker: Self.marker)],
                            message: "waiting for the image of \(sha7)")
        }
        if let live {
            if context.dryRun { return Plan(outcome: .planned, message: "would update \(live.name) to \(version)") }
            try backend.update(live.id, ServerPatch(version: version, image: profile.image ?? s.placement.image))
            try deploymentStart(ref, sha: pull.head.sha, server: live.id, settings: s, github: github)
            return .perform([.upsertComment(issue: ref, body: Self.body(.updating(live.name, version: version)), marker: Self.marker)],
                            message: "updating \(live.name) to \(version)")
        }
        var spec = ServerSpec(owner: owner, name: s.serverName(ref), dns: "", version: version, image: profile.image, size: profile.size,
                              affinity: profile.affinity, database: profile.database, filestore: profile.filestore, env: profile.env)
        spec.place(s.placement)
        spec.dns = "\(spec.name).\(s.domain)"
        if profile.license {
            guard let license = context.settings?.deployLicense else {
                // Nothing a redelivery can fix: say so on the PR, take the label off, tell the operators.
                let text = Self.body(.unlicensed(profile.label))
                if context.dryRun { return Plan(outcome: .planned, message: "would refuse `\(profile.label)`: no licence is configured") }
                // Said once: a label added again is taken off again, without a second comment or alert.
                let said = try github.comment(on: ref, marked: Self.marker)?.body == Self.withMarker(text)
                if !said {
                    Self.alertOps("\(ref.repo.fullName)#\(ref.number): the `\(profile.label)` label needs a licence, and DEPLOY_LICENSE is not set", context: context)
                }
                return Plan(outcome: .rejected, actions: (said ? [] : [.upsertComment(issue: ref, body: text, marker: Self.marker)])
                                                          + [.removeLabel(issue: ref, label: profile.label)],
                            message: "the `\(profile.label)` profile needs a licence: set DEPLOY_LICENSE (or DEPLOY_LICENSE_FILE)")
            }
            spec.license = license
        }
        if context.dryRun { return Plan(outcome: .planned, message: "would create \(spec.name) (\(profile.size), \(version)) at \(spec.dns)") }
        let created: TestServer
        do {
            created = try backend.create(spec)
        } catch BackendError.nameTaken {
            // A racing delivery may have created it a moment ago: that one is ours.
            if let mine = try backend.servers(owner: owner).first(where: { !$0.isGone }) {
                return .ignore("\(mine.name) was created by another delivery")
            }
            // Our previous server is still being deleted and holds the name: use the head's name.
            spec.name = Self.dnsLabel("\(spec.name)-\(sha7)")
            spec.dns = "\(spec.name).\(s.domain)"
            do {
                created = try backend.create(spec)
            } catch BackendError.nameTaken {
                if let mine = try backend.servers(owner: owner).first(where: { !$0.isGone }) {
                    return .ignore("\(mine.name) was created by another delivery")
                }
                let text = Self.body(.reserved(spec.name, label: profile.label))
                return Plan(outcome: .rejected, actions: [.upsertComment(issue: ref, body: text, marker: Self.marker),
                                                          .removeLabel(issue: ref, label: profile.label)],
                            message: "the name \(spec.name) is still reserved")
            }
        }
        try deploymentStart(ref, sha: pull.head.sha, server: created.id, settings: s, github: github)
        return .perform([.upsertComment(issue: ref, body: Self.body(.creating(created.name, profile: profile, version: version, by: who, retry: false)),
                                        marker: Self.marker)],
                        message: "creating \(created.name) (\(profile.size), \(version))")
    }

    func imageReady(_ check: ImageCheck, repo: RepoRef, sha: String, github: GitHubClient, image: String, tag: String,
                    context: CapabilityContext) throws -> Bool {
        let r = APIPath.repo(repo)
        let commit = try GitHubClient.sha(sha)
        switch check {
        case .none:
            return true
        case .registry:
            guard let settings = context.settings else { return true }
            return try Registry(baseURL: settings.registryURL, deadline: context.deadline, logger: context.logger).manifest(image, tag: tag) != .missing
        case .status(let context):
            return try github.latestStatus(repo, sha: sha, context: context)?.state == "success"
        case .checkRun(let name):
            let j = try JSON.parse(try github.send("GET", r / "commits" / commit / "check-runs", query: [("check_name", name), ("per_page", "10")]).body)
            return (j["check_runs"]?.array ?? []).contains { $0["conclusion"]?.string == "success" }
        case .workflow(let file):
            let j = try JSON.parse(try github.send("GET", r / "actions" / "workflows" / GitHubClient.segment(file, "workflow file") / "runs",
                                                   query: [("head_sha", sha), ("per_page", "10")]).body)
            return (j["workflow_runs"]?.array ?? []).contains { $0["head_sha"]?.string == sha && $0["conclusion"]?.string == "success" }
        }
    }

    /// A build finished: every open pull request at that head with a deploy label gets its server.
    func imageBuilt(repo: RepoRef, sha: String, check: ImageCheck, pulls numbers: [Int]?, context: CapabilityContext) throws -> Plan {
        let s = Settings(config: context.config, repo: repo)
        guard s.imageCheck == check, check != .none else { return .ignore("this check does not gate test-server images") }
        let github = try context.github()
        var numbers = numbers ?? []
        if numbers.isEmpty {
            let path = APIPath.repo(repo) / "commits" / (try GitHubClient.sha(sha)) / "pulls"
            numbers = (try JSON.parse(try github.send("GET", path).body).array ?? []).compactMap { $0["number"]?.int }
        }
        var actions: [Action] = []
        var messages: [String] = []
        for n in numbers.prefix(5) {
            let ref = IssueRef(repo: repo, number: n)
            let pull = try github.pullRequest(ref)
            guard pull.state == "open", pull.head.sha == sha, let profile = s.profiles(on: (pull.labels ?? []).map(\.name)).first else { continue }
            let plan = try ensure(ref, pull: pull, profile: profile, settings: s, context: context, by: nil, retryFailed: false, imageBuilt: true)
            actions += plan.actions
            messages.append("#\(n): \(plan.message)")
        }
        if messages.isEmpty { return .ignore("no labelled pull request at \(sha.prefix(7))") }
        return actions.isEmpty ? .ignore(messages.joined(separator: "; ")) : .perform(actions, message: messages.joined(separator: "; "))
    }

    // MARK: Tearing down

    func teardown(_ ref: IssueRef, settings s: Settings, context: CapabilityContext, why: String) throws -> Plan {
        let backend = try backend(s, repo: ref.repo, context: context)
        let all = try backend.servers(owner: Self.owner(ref))
        let live = all.filter { !$0.isGone }
        guard !live.isEmpty else {
            // Deleted by an earlier delivery that was cut short before saying so: finish its bookkeeping.
            let gone = all.filter(\.isGone).map(\.name)
            let github = try context.github()
            guard !gone.isEmpty, let sticky = try github.comment(on: ref, marked: Self.marker)?.body, !sticky.contains("🗑️") else {
                return .ignore("no test server for #\(ref.number)")
            }
            if context.dryRun { return Plan(outcome: .planned, message: "would report \(gone.joined(separator: ", ")) deleted") }
            try deploymentStatus(ref, state: "inactive", url: nil, description: "Test server deleted", settings: s, github: github)
            return .perform([.upsertComment(issue: ref, body: Self.body(.deleted(gone, why: why)), marker: Self.marker)],
                            message: "\(gone.joined(separator: ", ")) deleted")
        }
        if context.dryRun { return Plan(outcome: .planned, message: "would delete " + live.map(\.name).joined(separator: ", ")) }
        for server in live { try backend.delete(server.id) }
        let github = try context.github()
        try deploymentStatus(ref, state: "inactive", url: nil, description: "Test server deleted", settings: s, github: github)
        return .perform([.upsertComment(issue: ref, body: Self.body(.deleted(live.map(\.name), why: why)), marker: Self.marker)],
                        message: "deleting " + live.map(\.name).joined(separator: ", "))
    }

    // MARK: Provisioner webhooks

    func provisionerEvent(_ p: JSON, context: CapabilityContext) throws -> Plan {
        guard p["type"]?.string == "installation", let id = p["id"]?.string, let newState = p["new_state"]?.string else {
            return .ignore("a provisioner event for a \(p["type"]?.string ?? "?") is not about a test server")
        }
        guard (try? CloudProvisioner.installation(id)) != nil else { return .ignore("`\(id.prefix(40))` is not an installation id") }
        let oldState = p["old_state"]?.string ?? ""
        // The server says who owns it.
        guard let server = try provisioner(context).server(id: id) else { return .ignore("installation \(id) is unknown to the provisioner") }
        if let (ref, site) = Self.e2eServer(owner: server.owner) {
            return try e2eServerChanged(ref, site: site, server: server, newState: newState, context: context)
        }
        if let ref = Self.pullRequest(owner: server.owner) {
            return try pullRequestServerChanged(ref, server: server, newState: newState, oldState: oldState, context: context)
        }
        if let owner = Self.chatOwner(server.owner) {
            return try chatServerChanged(owner, server: server, newState: newState, oldState: oldState,
                                         actor: p["extra_data"]?["actor_id"]?.string, context: context)
        }
        return .ignore("installation \(id) belongs to \(server.owner), not to Switchyard")
    }

    func pullRequestServerChanged(_ ref: IssueRef, server: TestServer, newState: String, oldState: String,
                                  context: CapabilityContext, reportDeployment: Bool = true) throws -> Plan {
        // Events arrive late and twice: act on what the server is now, not on what the event says.
        guard server.state == newState else { return .ignore("\(server.name) is \(server.state) now; the \(newState) event is stale") }
        let s = Settings(config: context.config, repo: ref.repo)
        let github = try context.github()
        let current = try github.comment(on: ref, marked: Self.marker)?.body
        switch newState {
        case "stable" where oldState.hasPrefix("creation") || oldState.hasPrefix("update") || oldState.isEmpty:
            let updated = oldState.hasPrefix("update")
            // A push that arrived while the server was being created or updated is applied now: the
            // pull request's head is the record of it.
            var follow: (GitHub.PullRequest, Profile)? = nil
            var profile: Profile? = nil
            if reportDeployment, s.backend != "actions" {
                let pull = try github.pullRequest(ref)
                profile = s.profiles(on: (pull.labels ?? []).map(\.name)).first
                if pull.state == "open", let profile, Self.version(profile.version, pull: pull) != server.version {
                    follow = (pull, profile)
                }
            }
            let body = Self.body(.ready(server, updated: updated))
            let accounts = profile?.accounts == true ? try accountsAction(ref, server: server, context: context) : nil
            if follow == nil, accounts == nil, let current, Self.withMarker(body) == current {
                return .ignore("\(ref) already says \(server.name) is ready")
            }
            if context.dryRun { return Plan(outcome: .planned, message: "would announce \(server.name)") }
            if reportDeployment {
                try deploymentStatus(ref, state: "success", url: server.url, description: "Test server \(server.version)", settings: s, github: github)
            }
            let ready = Action.upsertComment(issue: ref, body: body, marker: Self.marker)
            let extra = accounts.map { [$0] } ?? []
            if let (pull, profile) = follow {
                let next = try ensure(ref, pull: pull, profile: profile, settings: s, context: context, by: nil, retryFailed: false)
                return .perform([ready] + extra + next.actions, message: "\(server.name) is ready; \(next.message)")
            }
            return .perform([ready] + extra, message: "\(server.name) is ready at \(server.url ?? "?")")
        case "creation-failed", "creation-no-compatible-clusters", "update-failed":
            let pull = try github.pullRequest(ref)
            let labels = s.profiles(on: (pull.labels ?? []).map(\.name)).map(\.label)
            let body = Self.body(.failed(server.name, state: newState, labels: newState == "update-failed" ? [] : labels))
            if let current, current.contains("❌ `\(server.name)` could not be") { return .ignore("\(ref) already reports the failure") }
            if reportDeployment {
                try deploymentStatus(ref, state: "failure", url: nil, description: "Test server: \(newState)", settings: s, github: github)
            }
            var actions: [Action] = [.upsertComment(issue: ref, body: body, marker: Self.marker)]
            if newState != "update-failed" { actions += labels.map { .removeLabel(issue: ref, label: $0) } }
            if !context.dryRun {
                Self.alertOps("\(ref.repo.fullName)#\(ref.number): test server `\(server.name)` (installation \(server.id)) is \(newState)", context: context)
            }
            return .perform(actions, message: "\(server.name): \(newState)")
        default:
            return .ignore("\(server.name): \(oldState) → \(newState) needs no comment")
        }
    }

    static func withMarker(_ body: String) -> String { PlanRunner.withMarker(body, marker) }

    // MARK: GitHub Deployments: "View deployment" on the pull request

    /// With the Actions backend the workflows report deployments themselves.
    func deploymentStart(_ ref: IssueRef, sha: String, server: String, settings s: Settings, github: GitHubClient) throws {
        guard s.deployments, s.backend != "actions" else { return }
        let path = APIPath.repo(ref.repo) / "deployments"
        let env = "pr-\(ref.number)"
        let existing = try JSON.parse(try github.send("GET", path, query: [("environment", env), ("sha", sha), ("per_page", "1")]).body)
        var id = existing[0]?["id"]?.int
        if id == nil {
            let body: JSON = ["ref": .string(sha), "environment": .string(env), "auto_merge": false, "required_contexts": [],
                              "transient_environment": true, "description": .string("Test server for #\(ref.number)"),
                              "payload": ["installation": .string(server)]]
            id = try JSON.parse(try github.send("POST", path, json: body, alreadyDone: {
                let again = try JSON.parse(try github.send("GET", path, query: [("environment", env), ("sha", sha), ("per_page", "1")]).body)
                return again[0] == nil ? nil : HTTPResponse(status: 201, body: Array(again[0]!.encoded().utf8))
            }).body)["id"]?.int
        }
        if let id { try setDeploymentStatus(path / id, state: "in_progress", url: nil, description: "Creating the test server", github: github) }
    }

    func deploymentStatus(_ ref: IssueRef, state: String, url: String?, description: String, settings s: Settings, github: GitHubClient) throws {
        guard s.deployments, s.backend != "actions" else { return }
        let path = APIPath.repo(ref.repo) / "deployments"
        let latest = try JSON.parse(try github.send("GET", path, query: [("environment", "pr-\(ref.number)"), ("per_page", "1")]).body)
        guard let id = latest[0]?["id"]?.int else { return }
        try setDeploymentStatus(path / id, state: state, url: url, description: description, github: github)
    }

    func setDeploymentStatus(_ deployment: APIPath, state: String, url: String?, description: String, github: GitHubClient) throws {
        let last = try JSON.parse(try github.send("GET", deployment / "statuses", query: [("per_page", "1")]).body)
        if last[0]?["state"]?.string == state { return }
        var body: [String: JSON] = ["state": .string(state), "description": .string(String(description.prefix(140))), "auto_inactive": true]
        if let url { body["environment_url"] = .string(url) }
        try github.send("POST", deployment / "statuses", json: .object(body), alreadyDone: {
            let again = try JSON.parse(try github.send("GET", deployment / "statuses", query: [("per_page", "1")]).body)
            return again[0]?["state"]?.string == state ? HTTPResponse(status: 201) : nil
        })
    }

    // MARK: The sticky comment

    /// The accounts of a PR server have their own comment, marked with the installation: it is the
    /// record that they were made and their passwords delivered, so nothing makes them twice.
    static func accountsMarker(_ server: TestServer) -> Marker { Marker(function: name, "accounts", server.id) }

    /// Makes the accounts unless this installation's accounts comment says they were delivered, and
    /// returns that comment's new text (nil when there is nothing to do). Failures are reported in
    /// the comment, not thrown: the server is ready either way, and the next push retries.
    func accountsAction(_ ref: IssueRef, server: TestServer, context: CapabilityContext) throws -> Action? {
        let marker = Self.accountsMarker(server)
        let current = try context.github().comment(on: ref, marked: marker)?.body
        if current?.contains(Self.accountsDelivered) == true { return nil }
        let team = "pr\(ref.number)"
        func note(_ text: String) -> Action? {
            let body = "### Test server accounts\n\n" + text
            return current == PlanRunner.withMarker(body, marker) ? nil : .upsertComment(issue: ref, body: body, marker: marker)
        }
        guard let hook = context.settings?.credentialsWebhookURL, context.mayPostToChat(hook) else {
            return note("🔑 This profile asks for accounts on `\(server.name)`, but no private channel is configured for their passwords (DEPLOY_CREDENTIALS_WEBHOOK_URL, on an allowed origin), so none were made; the next push makes them once it is.")
        }
        if context.dryRun { return nil }
        let logins: [(user: String, password: String)]
        do {
            logins = try createAccounts(server, users: [("sysadmin", true), ("user-1", false)], team: team, context: context)
        } catch let e as SwitchyardError {
            context.logger.error("the accounts could not be made", ["server": .string(server.name), "error": .string(e.message)])
            return note("🔑 The accounts of `\(server.name)` could not be made yet (\(e.message)); the next push, or the label added again, retries.")
        }
        let text = "🔑 Test server for \(ref.repo.fullName)#\(ref.number): \(server.url ?? server.name) (team `\(team)`)\n"
            + logins.map { "- `\($0.user)`\($0.user == "sysadmin" ? " (system admin)" : ""): password `\($0.password)`" }.joined(separator: "\n")
        guard context.postToChat(hook, text: text, channel: nil) else {
            return note("🔑 The private channel did not take the passwords of `\(server.name)`'s accounts; the next push, or the label added again, makes new ones.")
        }
        return note("🔑 Logins for `sysadmin` (system admin) and `user-1` on `\(server.name)`, in team `\(team)`, \(Self.accountsDelivered); passwords are never posted here.")
    }

    static let accountsDelivered = "were sent to the team's private channel"

    /// Creates (or, when a run before this one made them, re-keys) the accounts through mmctl on the
    /// provisioner's exec route. Passwords are 32 random hex digits, registered for redaction first.
    func createAccounts(_ server: TestServer, users: [(String, Bool)], team: String?, context: CapabilityContext,
                        resetExisting: Bool = true) throws -> [(user: String, password: String)] {
        guard let cloud = try provisioner(context) as? CloudProvisioner else { return [] }
        guard let ci = try cloud.clusterInstallations(of: server.id).first else {
            throw SwitchyardError.upstream("\(server.name) has no cluster installation to run mmctl in yet")
        }
        func run(_ args: [String], allowing exists: Bool = false) throws {
            switch try cloud.mmctl(ci, args) {
            case .output: return
            case .failed(_, let out) where exists && out.lowercased().contains("exist"): return
            case .failed(let status, let out):
                context.logger.warning("mmctl failed", ["command": .string(args.prefix(2).joined(separator: " ")), "status": .int(status),
                                                        "output": .string(String(out.prefix(300)))])
                throw SwitchyardError.upstream("mmctl \(args.prefix(2).joined(separator: " ")) failed in \(server.name) (\(status))")
            case .stillRunning:
                throw SwitchyardError.upstream("mmctl \(args.prefix(2).joined(separator: " ")) did not finish in time in \(server.name)")
            }
        }
        var logins: [(user: String, password: String)] = []
        for (user, admin) in users {
            let password = Self.hexPassword()
            context.logger.redact([password])
            var create = ["user", "create", "--email", "success+\(user)@simulator.amazonses.com", "--username", user, "--password", password]
            if admin { create.append("--system-admin") }
            switch try cloud.mmctl(ci, create) {
            case .output: break
            case .failed(_, let out) where out.lowercased().contains("exist"):
                // Made by an earlier run: re-keyed only where a new password is what the caller delivers.
                guard resetExisting else { continue }
                try run(["user", "change-password", user, "--password", password])
            case .failed(let status, _): throw SwitchyardError.upstream("mmctl user create failed in \(server.name) (\(status))")
            case .stillRunning: throw SwitchyardError.upstream("mmctl user create did not finish in time in \(server.name)")
            }
            logins.append((user, password))
        }
        if let team {
            try run(["team", "create", "--name", team, "--display-name", "PR \(team.dropFirst(2))"], allowing: true)
            try run(["team", "users", "add", team] + logins.map(\.user))
        }
        return logins
    }

    enum Note {
        case creating(String, profile: Profile, version: String, by: String?, retry: Bool)
        case waiting(sha7: String, check: ImageCheck, existing: String?)
        case updating(String, version: String)
        case ready(TestServer, updated: Bool)
        case failed(String, state: String, labels: [String])
        case reserved(String, label: String)
        case deleted([String], why: String)
        case unlicensed(String)
        case changing(String, by: String)
    }

    static func body(_ note: Note) -> String {
        var lines = ["### Test server", ""]
        switch note {
        case .creating(let n, let p, let v, let who, let retry):
            lines.append("⏳ \(retry ? "Retrying the creation of" : "Creating") `\(n)` (\(p.size), version `\(v)`)\(who.map { " for @\($0)" } ?? ""). This comment will say when it is ready.")
        case .waiting(let sha7, let check, let existing):
            let what: String
            switch check {
            case .status(let c): what = "the `\(c)` status"
            case .checkRun(let c): what = "the `\(c)` check"
            case .workflow(let w): what = "the `\(w)` workflow"
            case .registry: what = "the registry has it (checked on each push and by the reconcile schedule)"
            case .none: what = "the image build"
            }
            lines.append("⌛ The image for `\(sha7)` is not built yet; \(existing.map { "`\($0)` will be updated" } ?? "the server will be created") when \(what) passes.")
        case .updating(let n, let v):
            lines.append("🔄 Updating `\(n)` to version `\(v)`…")
        case .ready(let server, let updated):
            let link = server.url.map { "[\($0)](\($0))" } ?? "`\(server.name)`"
            lines.append(updated ? "✅ `\(server.name)` was updated to version `\(server.version)`: \(link)"
                                 : "✅ Test server `\(server.name)` is ready: \(link) (version `\(server.version)`).")
        case .failed(let n, let state, let labels):
            let why = state == "creation-no-compatible-clusters" ? "the provisioner has no cluster with room for it" : "the provisioner reports `\(state)`"
            lines.append("❌ `\(n)` could not be \(state == "update-failed" ? "updated" : "created"): \(why).")
            if !labels.isEmpty { lines.append("The \(labels.map { "`\($0)`" }.joined(separator: ", ")) label was removed; add it again to retry.") }
        case .reserved(let n, let label):
            lines.append("⚠️ The name `\(n)` is still reserved by a server being deleted. The `\(label)` label was removed; add it again in a few minutes.")
        case .deleted(let names, let why):
            lines.append("🗑️ Test server \(names.map { "`\($0)`" }.joined(separator: ", ")) deleted: \(why).")
        case .changing(let n, let who):
            lines.append("🔄 Changing `\(n)` as @\(who) asked…")
        case .unlicensed(let label):
            lines.append("⚠️ The `\(label)` label asks for a licensed server, and no licence is configured for test servers here, so nothing was created and the label was removed. The operators have been told; add the label again once they have set one.")
        }
        return lines.joined(separator: "\n")
    }
}
