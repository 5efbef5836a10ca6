import SwitchyardCore
import SwitchyardGitHub

/// A pipeline run the trigger started.
public struct PipelineRun: Sendable, Equatable {
    public var id: Int
    public var url: String
    public var sha: String
    public var options: String
    /// `running`, `success`, `failure`, `cancelled`.
    public var state: String
    /// What started it (`comment:<id>`, `label:<sha>`), so a redelivery is recognised.
    public var source: String? = nil
    /// What cancelled it (a comment's reply key), so a redelivered `/e2e-cancel` is recognised.
    public var cancelledBy: String? = nil
    /// For a run asked for but not yet known (`state` "starting", `id` 0): when it was asked for, so a
    /// later delivery can find it among the backend's runs rather than start a second one.
    public var requestedAt: Int64? = nil
    /// Who started it from chat (`platform`, `user_id`, `user_name`), to be told how it ended, in a
    /// direct message. Never a `response_url` (a credential) or a channel name (channels may be
    /// private): this state sits in a public comment.
    public var chat: JSON? = nil

    public init(id: Int, url: String, sha: String, options: String, state: String, source: String? = nil, cancelledBy: String? = nil,
                requestedAt: Int64? = nil) {
        self.id = id; self.url = url; self.sha = sha; self.options = options; self.state = state
        self.source = source; self.cancelledBy = cancelledBy; self.requestedAt = requestedAt
    }

    var json: JSON {
        var o: [String: JSON] = ["id": .int(id), "url": .string(url), "sha": .string(sha), "options": .string(options), "state": .string(state)]
        if let source { o["source"] = .string(source) }
        if let cancelledBy { o["cancelled_by"] = .string(cancelledBy) }
        if let requestedAt { o["requested_at"] = .int(Int(requestedAt)) }
        if let chat { o["chat"] = chat }
        return .object(o)
    }

    /// A run read back from the sticky comment's state. Only Switchyard's own comment is read, and even
    /// then each field must fit its kind (a sha, a positive id, or a pending request) before it is used.
    init?(_ j: JSON) {
        guard let id = j["id"]?.int, let sha = j["sha"]?.string, SHA(sha) != nil, let state = j["state"]?.string,
              id > 0 || (id == 0 && state == "starting") else { return nil }
        self.init(id: id, url: j["url"]?.string ?? "", sha: sha, options: j["options"]?.string ?? "", state: state,
                  source: j["source"]?.string, cancelledBy: j["cancelled_by"]?.string, requestedAt: j["requested_at"]?.int.map(Int64.init))
        if let c = j["chat"], let platform = c["platform"]?.string, ChatCommand.Platform(rawValue: platform) != nil,
           let user = c["user_id"]?.string, !user.isEmpty {
            chat = ["platform": .string(platform), "user_id": .string(user), "user_name": .string(c["user_name"]?.string ?? "")]
        }
    }

    public var isPending: Bool { state == "starting" }
}

/// What a CI backend must do for e2e-trigger. A third backend (Buildkite, Jenkins) is one file.
public protocol PipelineBackend: Sendable {
    var name: String { get }
    /// Starts a pipeline for the PR's head; `inputs` are strings. When the answer is lost, the run is
    /// looked up with `find` rather than asked for twice.
    func start(ref: String, inputs: [String: String], pr: Int, known: Set<Int>) throws -> (id: Int, url: String)
    /// A run for pull request `pr` created since `since` (epoch seconds) that is not one of `known`.
    func find(since: Int64, pr: Int, known: Set<Int>) throws -> (id: Int, url: String)?
    /// Cancels a run; false when it had already finished.
    func cancel(_ id: Int) throws -> Bool
    /// The run's state: `running`, `success`, `failure` or `cancelled`.
    func state(_ id: Int) throws -> String
}

/// GitHub Actions: `workflow_dispatch` with `return_run_details`, falling back to the runs listing
/// where the server refuses that key (older GitHub Enterprise).
public struct ActionsBackend: PipelineBackend {
    public let name = "github-actions"
    let github: GitHubClient
    let repo: RepoRef
    let workflow: String

    public init(github: GitHubClient, repo: RepoRef, workflow: String) { self.github = github; self.repo = repo; self.workflow = workflow }

    var base: APIPath { .repo(repo) / "actions" }
    var workflowPath: APIPath { get throws { base / "workflows" / (try GitHubClient.segment(workflow, "workflow file")) } }

    public func start(ref: String, inputs: [String: String], pr: Int, known: Set<Int>) throws -> (id: Int, url: String) {
        let path = try workflowPath / "dispatches"
        let body: [String: JSON] = ["ref": .string(ref), "inputs": .object(inputs.mapValues(JSON.string))]
        let started = Deadline.epochMillis() / 1000
        // A dispatch whose answer was lost is looked for before it is sent again.
        let lookUp = { [self] () throws -> HTTPResponse? in
            guard let found = try find(since: started, pr: pr, known: known) else { return nil }
            return HTTPResponse(status: 200, body: Array((["workflow_run_id": .int(found.id), "html_url": .string(found.url)] as JSON).encoded().utf8))
        }
        do {
            var withDetails = body
            withDetails["return_run_details"] = true
            let r = try github.send("POST", path, json: .object(withDetails), alreadyDone: lookUp)
            if let json = try? JSON.parse(r.body), let id = json["workflow_run_id"]?.int {
                return (id, json["html_url"]?.string ?? "")
            }
        } catch let e as GitHubError where e.status == 422 && e.message.contains("return_run_details") {
            try github.send("POST", path, json: .object(body), alreadyDone: lookUp)
        }
        // No run details: the run of this workflow created since we asked.
        guard let run = try find(since: started, pr: pr, known: known) else {
            throw SwitchyardError.upstream("the workflow was dispatched but its run could not be found")
        }
        return run
    }

    /// The newest dispatched run of the workflow created since `since`, preferring one whose title names
    /// the pull request (a workflow's `run-name: E2E for PR #${{ inputs.pr_number }}`).
    public func find(since: Int64, pr: Int, known: Set<Int>) throws -> (id: Int, url: String)? {
        struct Runs: Decodable {
            struct Run: Decodable { var id: Int; var htmlUrl: String?; var createdAt: String?; var displayTitle: String? }
            var workflowRuns: [Run]
        }
        let runs = try github.get(Runs.self, try workflowPath / "runs", query: [("event", "workflow_dispatch"), ("per_page", "20")])
        let recent = runs.workflowRuns.filter { !known.contains($0.id) && ($0.createdAt.flatMap(ISO8601.parse) ?? 0) >= since - 5 }
        let run = recent.first { $0.displayTitle.map { E2ETrigger.prNumber(in: $0) == pr } ?? false } ?? recent.first
        return run.map { ($0.id, $0.htmlUrl ?? "") }
    }

    public func cancel(_ id: Int) throws -> Bool {
        do {
            try github.send("POST", base / "runs" / id / "cancel", alreadyDone: { nil })
            return true
        } catch let e as GitHubError where e.status == 409 {
            return false
        }
    }

    public func state(_ id: Int) throws -> String {
        let json = try JSON.parse(try github.send("GET", base / "runs" / id).body)
        return Self.state(status: json["status"]?.string, conclusion: json["conclusion"]?.string)
    }

    static func state(status: String?, conclusion: String?) -> String {
        guard status == "completed" else { return "running" }
        switch conclusion {
        case "success": return "success"
        case "cancelled": return "cancelled"
        default: return "failure"
        }
    }
}

/// GitLab CI: `POST /projects/:id/pipeline` with variables, cancel, and pipeline state.
public struct GitLabBackend: PipelineBackend {
    public let name = "gitlab"
    let baseURL: String
    let token: String
    let project: String
    let deadline: Deadline
    /// The GitHub repository whose PRs this backend runs, to tell its pipelines from another repository's
    /// PR of the same number in a shared project (by `SWITCHYARD_PR`).
    var repository: String? = nil

    public init(baseURL: String, token: String, project: String, deadline: Deadline, repository: String? = nil) {
        var b = baseURL
        while b.hasSuffix("/") { b.removeLast() }
        self.baseURL = b; self.token = token; self.project = project; self.deadline = deadline; self.repository = repository
    }

    /// `/api/v4/projects/<group%2Fproject>`: the project path is one encoded segment.
    var projectPath: APIPath { get throws { APIPath("/api/v4/projects") / (try GitHubClient.segment(project, "GitLab project")) } }

    func call(_ method: String, _ path: APIPath, json: JSON? = nil) throws -> JSON {
        let url = baseURL + path.text
        let r: HTTPResponse
        do {
            r = try NetworkTransport().send(HTTPRequest(method: method, url: url,
                                                     headers: [("PRIVATE-TOKEN", token), ("Content-Type", "application/json"), ("User-Agent", "switchyard")],
                                                     body: json.map { Array($0.encoded().utf8) } ?? []),
                                         timeoutMilliseconds: max(100, min(8_000, deadline.remainingMilliseconds - 100)))
        } catch {
            throw SwitchyardError.upstream("GitLab could not be reached")
        }
        guard (200..<300).contains(r.status) else {
            // The body is GitLab's; it goes to the log only, never to users.
            let message = (try? JSON.parse(r.body))?["message"].map { $0.string ?? $0.encoded() } ?? "no message"
            throw SwitchyardError(.upstream, "GitLab answered \(r.status) to \(method) \(path.text)", detail: String(message.prefix(300)))
        }
        return (try? JSON.parse(r.body)) ?? .null
    }

    public func start(ref: String, inputs: [String: String], pr: Int, known: Set<Int>) throws -> (id: Int, url: String) {
        let vars = inputs.sorted { $0.key < $1.key }.map { JSON.object(["key": .string($0.key), "value": .string($0.value)]) }
        let started = Deadline.epochMillis() / 1000
        let p: JSON
        do {
            p = try call("POST", try projectPath / "pipeline", json: ["ref": .string(ref), "variables": .array(vars)])
        } catch let e as SwitchyardError where e.kind == .upstream {
            // The answer was lost or GitLab failed: a pipeline that did start is found, not started twice.
            if let found = try find(since: started, pr: pr, known: known) { return found }
            throw e
        }
        guard let id = p["id"]?.int else { throw SwitchyardError.upstream("GitLab's pipeline answer had no id") }
        return (id, p["web_url"]?.string ?? "")
    }

    /// A pipeline created since `since` whose variables name pull request `pr`.
    public func find(since: Int64, pr: Int, known: Set<Int>) throws -> (id: Int, url: String)? {
        for p in (try call("GET", try projectPath / "pipelines").array ?? []).prefix(20) {
            guard let id = p["id"]?.int, !known.contains(id) else { continue }
            if let created = p["created_at"]?.string.flatMap(ISO8601.parse), created < since - 5 { continue }
            let vars = try call("GET", try projectPath / "pipelines" / id / "variables").array ?? []
            let mine = repository.map { r in vars.contains { $0["key"]?.string == "SWITCHYARD_PR" && $0["value"]?.string == "\(r)#\(pr)" } }
                ?? vars.contains { $0["key"]?.string == "PR_NUMBER" && $0["value"]?.string == "\(pr)" }
            if mine {
                return (id, p["web_url"]?.string ?? "")
            }
        }
        return nil
    }

    public func cancel(_ id: Int) throws -> Bool {
        let p = try call("POST", try projectPath / "pipelines" / id / "cancel")
        return p["status"]?.string == "canceled"
    }

    public func state(_ id: Int) throws -> String {
        Self.state(try call("GET", try projectPath / "pipelines" / id)["status"]?.string)
    }

    /// Whether a branch exists (for companion branches).
    public func hasBranch(_ name: String) -> Bool {
        guard let branch = Segment(name) else { return false }
        return (try? call("GET", try projectPath / "repository" / "branches" / branch)) != nil
    }

    static func state(_ status: String?) -> String {
        switch status {
        case "success": "success"
        case "canceled", "cancelled", "skipped": "cancelled"
        case "failed": "failure"
        default: "running"
        }
    }
}
