import Foundation
import SwitchyardCore

/// A small GitLab for the e2e pipeline routes: create, list, variables, cancel, branches, and the
/// pipeline webhook payload. Authenticated by `PRIVATE-TOKEN`.
public final class GitLabEmulator: @unchecked Sendable {
    public struct Pipeline: Sendable {
        public var id: Int
        public var project: String
        public var ref: String
        public var status: String
        public var variables: [String: String]
    }

    let lock = NSLock()
    let token: String
    var pipelines: [Pipeline] = []
    var branches: [String: Set<String>] = [:]
    var nextID = 500
    public private(set) var requests: [String] = []
    private var server: HTTPServer?

    public init(token: String) { self.token = token }

    public func start() throws -> String {
        let s = try HTTPServer { [weak self] r in
            guard let self else { return .respond(status: 503, headers: [], body: Array("server owner is gone".utf8)) }
            return self.serve(r)
        }
        server = s
        return s.baseURL
    }

    public func stop() { server?.stop() }

    public func addBranch(project: String, _ name: String) { lock.withLock { _ = branches[project, default: []].insert(name) } }
    public var all: [Pipeline] { lock.withLock { pipelines } }

    /// Finishes a pipeline and returns GitLab's "Pipeline Hook" payload.
    public func finish(_ id: Int, status: String) -> JSON {
        let p: Pipeline? = lock.withLock {
            guard let i = pipelines.firstIndex(where: { $0.id == id }) else { return nil }
            pipelines[i].status = status
            return pipelines[i]
        }
        guard let p else { return .null }
        return ["object_kind": "pipeline",
                "object_attributes": ["id": .int(p.id), "ref": .string(p.ref), "status": .string(status),
                                      "variables": .array(p.variables.sorted { $0.key < $1.key }.map { ["key": .string($0.key), "value": .string($0.value)] })],
                "project": ["id": .string(p.project), "path_with_namespace": .string(p.project),
                            "web_url": .string("https://gitlab.example.com/\(p.project)")]]
    }

    func pipelineJSON(_ p: Pipeline) -> JSON {
        ["id": .int(p.id), "ref": .string(p.ref), "status": .string(p.status),
         "web_url": .string("https://gitlab.example.com/\(p.project)/-/pipelines/\(p.id)")]
    }

    func serve(_ r: ServerRequest) -> ServerReply {
        lock.withLock { requests.append("\(r.method) \(r.path)") }
        guard r.header("private-token") == token else { return .json(401, ["message": "401 Unauthorized"]) }
        let seg = r.path.split(separator: "/").map { String($0).removingPercentEncoding ?? String($0) }
        guard seg.count >= 4, seg[0] == "api", seg[1] == "v4", seg[2] == "projects" else { return .json(404, ["message": "404 Not Found"]) }
        let project = seg[3]
        let rest = Array(seg.dropFirst(4))
        switch (r.method, rest.count) {
        case ("POST", 1) where rest[0] == "pipeline":
            guard let ref = r.json?["ref"]?.string else { return .json(400, ["message": "ref is missing"]) }
            var vars: [String: String] = [:]
            for v in r.json?["variables"]?.array ?? [] { if let k = v["key"]?.string { vars[k] = v["value"]?.string ?? "" } }
            let p = lock.withLock { () -> Pipeline in
                nextID += 1
                let p = Pipeline(id: nextID, project: project, ref: ref, status: "running", variables: vars)
                pipelines.append(p)
                return p
            }
            return .json(201, pipelineJSON(p))
        case ("GET", 1) where rest[0] == "pipelines":
            var list = all.filter { $0.project == project }
            if let ref = r.query["ref"] { list = list.filter { $0.ref == ref } }
            if let status = r.query["status"] { list = list.filter { $0.status == status } }
            return .json(200, .array(list.reversed().map(pipelineJSON)))
        case ("GET", 2) where rest[0] == "pipelines":
            guard let id = Int(rest[1]), let p = all.first(where: { $0.id == id && $0.project == project }) else { return .json(404, ["message": "404 Not Found"]) }
            return .json(200, pipelineJSON(p))
        case ("GET", 3) where rest[0] == "pipelines" && rest[2] == "variables":
            guard let id = Int(rest[1]), let p = all.first(where: { $0.id == id && $0.project == project }) else { return .json(404, ["message": "404 Not Found"]) }
            return .json(200, .array(p.variables.sorted { $0.key < $1.key }.map { ["key": .string($0.key), "value": .string($0.value), "variable_type": "env_var"] }))
        case ("POST", 3) where rest[0] == "pipelines" && rest[2] == "cancel":
            guard let id = Int(rest[1]) else { return .json(404, ["message": "404 Not Found"]) }
            let p: Pipeline? = lock.withLock {
                guard let i = pipelines.firstIndex(where: { $0.id == id && $0.project == project }) else { return nil }
                if ["running", "pending", "created"].contains(pipelines[i].status) { pipelines[i].status = "canceled" }
                return pipelines[i]
            }
            return p.map { .json(200, pipelineJSON($0)) } ?? .json(404, ["message": "404 Not Found"])
        case ("GET", 3) where rest[0] == "repository" && rest[1] == "branches":
            return lock.withLock { branches[project]?.contains(rest[2]) == true } ? .json(200, ["name": .string(rest[2])]) : .json(404, ["message": "404 Branch Not Found"])
        default:
            return .json(404, ["message": "404 Not Found"])
        }
    }
}
