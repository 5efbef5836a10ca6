import Foundation
import SwitchyardCore

/// Deployments and their statuses (with `auto_inactive`), the pull requests of a commit, and check runs.
extension GitHubEmulator {
    public struct Deployment: Sendable {
        public var id: Int
        public var repo: String
        public var sha: String
        public var environment: String
        public var payload: JSON
        public var statuses: [(state: String, environmentURL: String?)]
    }

    public struct CheckRun: Sendable {
        public var id: Int
        public var repo: String
        public var sha: String
        public var name: String
        public var status: String
        public var conclusion: String?
    }

    public func deployments(_ fullName: String) -> [Deployment] { lock.withLock { deployments.filter { $0.repo == fullName.lowercased() } } }

    /// Records a finished check run and returns the `check_run.completed` payload.
    public func completeCheckRun(_ fullName: String, sha: String, name: String, conclusion: String, pulls: [Int]) -> JSON {
        let run: CheckRun = lock.withLock {
            let c = CheckRun(id: nextID(), repo: fullName.lowercased(), sha: sha, name: name, status: "completed", conclusion: conclusion)
            checkRuns.append(c)
            return c
        }
        return ["action": "completed",
                "check_run": ["id": .int(run.id), "name": .string(name), "head_sha": .string(sha), "status": "completed",
                              "conclusion": .string(conclusion), "pull_requests": .array(pulls.map { ["number": .int($0)] })],
                "repository": repoJSON(fullName), "sender": userJSON("github-actions[bot]"), "installation": ["id": 4242]]
    }

    /// What a deploy workflow does when it reports: a deployment for `environment` at `sha` (reused
    /// when one exists) and a status; returns the `deployment_status` event GitHub would send.
    public func reportDeployment(_ fullName: String, environment: String, sha: String, state: String, url: String?,
                                 payload: JSON = [:]) -> JSON {
        let full = fullName.lowercased()
        let d: Deployment = lock.withLock {
            if let i = deployments.lastIndex(where: { $0.repo == full && $0.environment == environment && $0.sha == sha }) {
                deployments[i].statuses.append((state, url))
                return deployments[i]
            }
            let d = Deployment(id: nextID(), repo: full, sha: sha, environment: environment, payload: payload, statuses: [(state, url)])
            deployments.append(d)
            return d
        }
        guard let repo = repo(fullName) else { return .null }
        return ["action": "created", "deployment_status": ["state": .string(state), "environment": .string(environment),
                                                           "environment_url": url.map(JSON.string) ?? .null],
                "deployment": deploymentJSON(d, repo), "repository": repoJSON(fullName), "sender": userJSON("github-actions[bot]"),
                "installation": ["id": 4242]]
    }

    /// The `deployment_status` event GitHub sends for a deployment's latest status (as `creator` made it).
    public func deploymentStatusEvent(_ fullName: String, id: Int) -> JSON {
        guard let repo = repo(fullName), let d = deployments(fullName).first(where: { $0.id == id }), let last = d.statuses.last else { return .null }
        return ["action": "created", "deployment_status": ["state": .string(last.state), "environment": .string(d.environment),
                                                           "environment_url": last.environmentURL.map(JSON.string) ?? .null,
                                                           "creator": userJSON("switchyard[bot]")],
                "deployment": deploymentJSON(d, repo), "repository": repoJSON(fullName), "sender": userJSON("switchyard[bot]"),
                "installation": ["id": 4242]]
    }

    /// A `status` event for a status just set.
    public func statusEvent(_ fullName: String, sha: String, context: String, state: String) -> JSON {
        addStatus(fullName, sha: sha, state: state, context: context)
        return ["id": .int(lock.withLock { nextID() }), "sha": .string(sha), "context": .string(context), "state": .string(state),
                "description": "", "branches": [], "repository": repoJSON(fullName), "sender": userJSON("ci-system"), "installation": ["id": 4242]]
    }

    func deploymentJSON(_ d: Deployment, _ repo: Repo) -> JSON {
        ["id": .int(d.id), "sha": .string(d.sha), "ref": .string(d.sha), "environment": .string(d.environment), "payload": d.payload,
         "url": .string("\(baseURL)/repos/\(repo.fullName)/deployments/\(d.id)"), "creator": userJSON("switchyard[bot]"),
         "created_at": .string(now()), "transient_environment": true]
    }

    func deploymentsRoute(_ r: ServerRequest, repo: Repo, rest: [String], identity: String?) -> ServerReply? {
        let full = repo.fullName.lowercased()
        switch (r.method, rest.count) {
        case ("GET", 1) where rest[0] == "deployments":
            var list = deployments(full).reversed().map { $0 }
            if let env = r.query["environment"] { list = list.filter { $0.environment == env } }
            if let sha = r.query["sha"] { list = list.filter { $0.sha == sha } }
            return paginate(list.map { deploymentJSON($0, repo) }, request: r)
        case ("GET", 2) where rest[0] == "deployments":
            guard let d = deployments(full).first(where: { "\($0.id)" == rest[1] }) else { return .json(404, ["message": "Not Found"]) }
            return .json(200, deploymentJSON(d, repo))
        case ("POST", 1) where rest[0] == "deployments":
            guard canWrite(repo, identity) else { return forbidden() }
            guard let j = r.json, let ref = j["ref"]?.string, let sha = repo.git.resolve(ref) ?? repo.git.resolve("refs/heads/\(ref)") else {
                return .json(422, ["message": "No ref found for: \(r.json?["ref"]?.string ?? "")"])
            }
            let d: Deployment = lock.withLock {
                let d = Deployment(id: nextID(), repo: full, sha: sha, environment: j["environment"]?.string ?? "production",
                                   payload: j["payload"] ?? [:], statuses: [])
                deployments.append(d)
                return d
            }
            return .json(201, deploymentJSON(d, repo))
        case ("GET", 3) where rest[0] == "deployments" && rest[2] == "statuses":
            guard let d = deployments(full).first(where: { "\($0.id)" == rest[1] }) else { return .json(404, ["message": "Not Found"]) }
            return paginate(d.statuses.enumerated().reversed().map { ["id": .int(d.id * 100 + $0.offset), "state": .string($0.element.state),
                                                                      "environment_url": $0.element.environmentURL.map(JSON.string) ?? .null] },
                            request: r)
        case ("POST", 3) where rest[0] == "deployments" && rest[2] == "statuses":
            guard canWrite(repo, identity) else { return forbidden() }
            let states: Set<String> = ["error", "failure", "inactive", "in_progress", "queued", "pending", "success"]
            guard let state = r.json?["state"]?.string, states.contains(state) else {
                return .json(422, ["message": "Validation Failed", "errors": [["field": "state", "code": "invalid"]]])
            }
            let ok: Bool = lock.withLock {
                guard let i = deployments.firstIndex(where: { $0.repo == full && "\($0.id)" == rest[1] }) else { return false }
                deployments[i].statuses.append((state, r.json?["environment_url"]?.string))
                // auto_inactive: a success makes the environment's older deployments inactive.
                if state == "success", r.json?["auto_inactive"]?.bool != false {
                    for k in deployments.indices where k != i && deployments[k].repo == full && deployments[k].environment == deployments[i].environment
                        && deployments[k].statuses.last?.state != "inactive" {
                        deployments[k].statuses.append(("inactive", nil))
                    }
                }
                return true
            }
            return ok ? .json(201, ["state": .string(state)]) : .json(404, ["message": "Not Found"])
        case ("GET", 3) where rest[0] == "commits" && rest[2] == "pulls":
            let sha = repo.git.resolve(rest[1]) ?? rest[1]
            let open = lock.withLock { (pulls[full] ?? [:]).values.sorted { $0.number < $1.number } }
            let matching = open.filter { headSHA(repo: repo, pull: $0) == sha }
            return .json(200, .array(matching.map { pullJSON(repo, $0) }))
        case ("GET", 3) where rest[0] == "commits" && rest[2] == "check-runs":
            let sha = repo.git.resolve(rest[1]) ?? rest[1]
            var list = lock.withLock { checkRuns.filter { $0.repo == full && $0.sha == sha } }
            if let name = r.query["check_name"] { list = list.filter { $0.name == name } }
            return .json(200, ["total_count": .int(list.count), "check_runs": .array(list.map {
                ["id": .int($0.id), "name": .string($0.name), "head_sha": .string($0.sha), "status": .string($0.status),
                 "conclusion": $0.conclusion.map(JSON.string) ?? .null]
            })])
        default:
            return nil
        }
    }
}
