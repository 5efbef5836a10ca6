import Foundation
import SwitchyardCore

/// GitHub Actions: workflow dispatch, runs, cancel, and the `workflow_run` event a run's end sends.
extension GitHubEmulator {
    public struct WorkflowRun: Sendable {
        public var id: Int
        public var repo: String
        public var workflow: String
        public var ref: String
        public var headSHA: String
        public var inputs: [String: String]
        public var status: String
        public var conclusion: String?
        public var createdAt: String
        /// As a workflow's `run-name: E2E for PR #${{ inputs.pr_number }}` renders it.
        public var displayTitle: String { inputs["pr_number"].map { "E2E for PR #\($0)" } ?? workflow }
    }

    public func workflowRuns(_ fullName: String) -> [WorkflowRun] { lock.withLock { runs.filter { $0.repo == fullName.lowercased() } } }

    /// Finishes a run and returns the `workflow_run.completed` payload GitHub would send.
    public func completeRun(_ id: Int, conclusion: String) -> JSON {
        let run: WorkflowRun? = lock.withLock {
            guard let i = runs.firstIndex(where: { $0.id == id }) else { return nil }
            runs[i].status = "completed"; runs[i].conclusion = conclusion
            return runs[i]
        }
        guard let run, let repo = repo(run.repo) else { return .null }
        return ["action": "completed", "workflow_run": runJSON(run), "repository": repoJSON(repo.fullName),
                "sender": userJSON("github-actions[bot]"), "installation": ["id": 4242]]
    }

    func runJSON(_ r: WorkflowRun) -> JSON {
        ["id": .int(r.id), "name": .string(r.workflow), "display_title": .string(r.displayTitle), "event": "workflow_dispatch",
         "status": .string(r.status), "conclusion": r.conclusion.map(JSON.string) ?? .null, "head_branch": .string(r.ref),
         "head_sha": .string(r.headSHA), "created_at": .string(r.createdAt), "pull_requests": [],
         "html_url": .string("https://github.com/\(r.repo)/actions/runs/\(r.id)"),
         "path": .string(".github/workflows/\(r.workflow)")]
    }

    func actionsRoute(_ r: ServerRequest, repo: Repo, rest: [String], identity: String?) -> ServerReply? {
        guard rest.first == "actions" else { return nil }
        let full = repo.fullName.lowercased()
        switch (r.method, rest.count) {
        case ("POST", 4) where rest[1] == "workflows" && rest[3] == "dispatches":
            guard canWrite(repo, identity) else { return forbidden() }
            guard let ref = r.json?["ref"]?.string, let sha = repo.git.resolve("refs/heads/\(ref)") ?? repo.git.resolve(ref) else {
                return .json(422, ["message": "No ref found for: \(r.json?["ref"]?.string ?? "")"])
            }
            let wantsDetails = r.json?["return_run_details"] != nil
            if wantsDetails && !lock.withLock({ supportsRunDetails }) {
                return .json(422, ["message": "Invalid request.\n\n\"return_run_details\" is not a permitted key."])
            }
            var inputs: [String: String] = [:]
            for (k, v) in r.json?["inputs"]?.object ?? [:] {
                guard let s = v.string else { return .json(422, ["message": "Invalid request.\n\nFor 'properties/\(k)', \(v.encoded()) is not a string."]) }
                inputs[k] = s
            }
            let run = lock.withLock {
                let run = WorkflowRun(id: nextID(), repo: full, workflow: rest[2], ref: ref, headSHA: sha, inputs: inputs,
                                      status: "queued", conclusion: nil, createdAt: now())
                runs.append(run)
                return run
            }
            if wantsDetails {
                return .json(200, ["workflow_run_id": .int(run.id), "run_url": .string("\(baseURL)/repos/\(repo.fullName)/actions/runs/\(run.id)"),
                                   "html_url": .string("https://github.com/\(repo.fullName)/actions/runs/\(run.id)")])
            }
            return .empty(204)
        case ("GET", 4) where rest[1] == "workflows" && rest[3] == "runs":
            var list = workflowRuns(repo.fullName).filter { $0.workflow == rest[2] }.reversed().map { $0 }
            if let status = r.query["status"] { list = list.filter { $0.status == status } }
            if let event = r.query["event"] { list = list.filter { _ in event == "workflow_dispatch" } }
            if let sha = r.query["head_sha"] { list = list.filter { $0.headSHA == sha } }
            return .json(200, ["total_count": .int(list.count), "workflow_runs": .array(list.prefix(Int(r.query["per_page"] ?? "30") ?? 30).map(runJSON))])
        case ("GET", 3) where rest[1] == "runs":
            guard let id = Int(rest[2]), let run = workflowRuns(repo.fullName).first(where: { $0.id == id }) else { return .json(404, ["message": "Not Found"]) }
            return .json(200, runJSON(run))
        case ("POST", 4) where rest[1] == "runs" && rest[3] == "cancel":
            guard canWrite(repo, identity) else { return forbidden() }
            guard let id = Int(rest[2]) else { return .json(404, ["message": "Not Found"]) }
            let result: Int = lock.withLock {
                guard let i = runs.firstIndex(where: { $0.id == id }) else { return 404 }
                if runs[i].status == "completed" { return 409 }
                runs[i].status = "completed"; runs[i].conclusion = "cancelled"
                return 202
            }
            switch result {
            case 202: return .json(202, [:])
            case 409: return .json(409, ["message": "Cannot cancel a workflow run that is completed."])
            default: return .json(404, ["message": "Not Found"])
            }
        default:
            return nil
        }
    }

    /// Switch off `return_run_details`, as older GitHub Enterprise servers behave.
    public func setSupportsRunDetails(_ value: Bool) { lock.withLock { supportsRunDetails = value } }
}
