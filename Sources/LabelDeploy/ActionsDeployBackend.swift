import SwitchyardCore
import SwitchyardGitHub

/// The "preview environment" pattern: a deploy workflow and a destroy workflow in the repository,
/// dispatched with the environment's name. The workflows report through GitHub Deployments (a
/// deployment per environment, statuses with `environment_url`), which is also where this backend
/// reads a server's state from. Hibernation does not exist here.
public struct ActionsDeployBackend: EnvironmentBackend {
    public let name = "github-actions"
    let github: GitHubClient
    let repo: RepoRef
    let deploy: String
    let destroy: String
    let ref: String

    public init(github: GitHubClient, repo: RepoRef, deploy: String, destroy: String, ref: String = "main") {
        self.github = github; self.repo = repo; self.deploy = deploy; self.destroy = destroy; self.ref = ref
    }

    var base: APIPath { .repo(repo) }

    /// The environment of an owner: `pr-<n>` for a pull request.
    static func environment(_ owner: String) -> String {
        LabelDeploy.pullRequest(owner: owner).map { "pr-\($0.number)" } ?? LabelDeploy.dnsLabel(owner)
    }

    func dispatch(_ workflow: String, inputs: [String: String]) throws {
        try github.send("POST", base / "actions" / "workflows" / GitHubClient.segment(workflow, "workflow file") / "dispatches",
                        json: ["ref": .string(ref), "inputs": .object(inputs.mapValues(JSON.string))], alreadyDone: { nil })
    }

    public func servers(owner: String) throws -> [TestServer] {
        let env = Self.environment(owner)
        let list = try JSON.parse(try github.send("GET", base / "deployments", query: [("environment", env), ("per_page", "1")]).body)
        guard let d = list[0], let id = d["id"]?.int else { return [] }
        let status = try JSON.parse(try github.send("GET", base / "deployments" / id / "statuses", query: [("per_page", "1")]).body)[0]
        let state: String
        switch status?["state"]?.string {
        case "success": state = "stable"
        case "failure", "error": state = "creation-failed"
        case "inactive": state = "deleted"
        default: state = "creation-in-progress"
        }
        let url = status?["environment_url"]?.string
        let host = url.flatMap { u in u.split(separator: "/").dropFirst().first.map(String.init) }
        let server = TestServer(id: "\(id)", owner: owner, name: env, state: state, version: d["payload"]?["version"]?.string ?? String((d["sha"]?.string ?? "").prefix(7)),
                                image: "", size: d["payload"]?["size"]?.string ?? "", dns: host)
        return server.state == "deleted" ? [] : [server]
    }

    public func server(id: String) throws -> TestServer? { nil }

    public func create(_ spec: ServerSpec) throws -> TestServer {
        let env = Self.environment(spec.owner)
        try dispatch(deploy, inputs: ["environment": env, "name": spec.name, "version": spec.version, "size": spec.size ?? ""])
        return TestServer(id: env, owner: spec.owner, name: env, state: "creation-requested", version: spec.version, image: spec.image ?? "",
                          size: spec.size ?? "", dns: spec.dns)
    }

    public func retry(_ id: String) throws { throw BackendError.unsupported("retry") }

    public func update(_ id: String, _ patch: ServerPatch) throws {
        let deployment = try JSON.parse(try github.send("GET", base / "deployments" / Self.number(id)).body)
        try dispatch(deploy, inputs: ["environment": deployment["environment"]?.string ?? "", "version": patch.version ?? "", "size": patch.size ?? ""])
    }

    public func delete(_ id: String) throws {
        let deployment = try JSON.parse(try github.send("GET", base / "deployments" / Self.number(id)).body)
        try dispatch(destroy, inputs: ["environment": deployment["environment"]?.string ?? ""])
    }

    static func number(_ id: String) throws -> Int {
        guard let n = Int(id), n > 0 else { throw SwitchyardError.upstream("`\(id.prefix(40))` is not a deployment id") }
        return n
    }

    public func hibernate(_ id: String) throws { throw BackendError.unsupported("hibernate") }
    public func wakeUp(_ id: String) throws { throw BackendError.unsupported("wake-up") }
}
