import SwitchyardCore
import SwitchyardGitHub
import SwitchyardRuntime

/// `/e2e-test [KEY=value …]` and `/e2e-cancel`: start and cancel a PR's end-to-end pipeline on GitHub
/// Actions or GitLab CI, with one status and one sticky comment that also records the runs.
public struct E2ETrigger: Sendable {
    public static let name = "e2e-trigger"
    public static let defaultPolicy: [PermissionLevel] = [.member]
    public static let marker = Marker(function: "e2e-trigger", "status")

    public init() {}

    public struct Settings: Sendable, Equatable {
        public var backend = "github"
        public var workflow = "e2e.yml"
        public var ref: String? = nil
        public var inputs: [String] = []
        public var context = "e2e/switchyard"
        public var label: String? = "E2E/Run"
        public var cancelOnPush = true
        public var restartOnPush = false
        public var cancelOnClose = true
        public var guardMode = "none"
        public var gitlabProject: String? = nil
        public var companionRepo: String? = nil
        public var companionVariable = "COMPANION_BRANCH"
        /// The names the pipeline reads the PR's context under, by role (`number`, `repository`, `sha`,
        /// `ref`, `base`); an empty name leaves that one out. Defaults: the workflow inputs `pr_number`,
        /// `head_repo`, `head_sha`, `head_ref` on Actions; `PR_NUMBER`, `PR_REPO`, `PR_SHA`, `PR_REF` on GitLab.
        /// Mattermod's pipelines take, for example, `sha: SHA_MATTERMOST_SERVER`, `ref: REF_MATTERMOST_SERVER`.
        public var variables: [String: String] = [:]
        /// The input (or variable) each end-to-end server's URL goes under: `{SITE}` is the site's name
        /// upper-cased with `-` as `_` (`site-1` → `SITE_1_URL`, as Spinwick's mobile runs read them).
        public var serverInput = "{SITE}_URL"
        /// label-deploy's `deploy.e2e.label`: when it is this function's label too, the run waits for its servers.
        public var serversLabel: String? = nil
        public static let roles = ["number", "repository", "sha", "ref", "base"]

        public init() {}
        public init(config: Config, repo: RepoRef) {
            func v(_ k: String...) -> YAML? { config.value(["e2e"] + k, for: repo) }
            if let x = v("backend")?.string { backend = x }
            if let x = v("workflow")?.string { workflow = x }
            ref = v("ref")?.string
            inputs = v("inputs")?.strings ?? []
            if let x = v("context")?.string { context = x }
            if let x = v("label")?.string { label = x.isEmpty ? nil : x }
            if let x = v("cancel-on-push")?.bool { cancelOnPush = x }
            if let x = v("restart-on-push")?.bool { restartOnPush = x }
            if let x = v("cancel-on-close")?.bool { cancelOnClose = x }
            if let x = v("guard")?.string { guardMode = x }
            gitlabProject = v("gitlab", "project")?.string
            companionRepo = v("gitlab", "companion", "project")?.string
            if let x = v("gitlab", "companion", "variable")?.string { companionVariable = x }
            variables = backend == "gitlab"
                ? ["number": "PR_NUMBER", "repository": "PR_REPO", "sha": "PR_SHA", "ref": "PR_REF"]
                : ["number": "pr_number", "repository": "head_repo", "sha": "head_sha", "ref": "head_ref"]
            for (k, value) in v("variables")?.entries ?? [] where Self.roles.contains(k) {
                variables[k] = value.string ?? ""
            }
            if let x = v("server-input")?.string, !x.isEmpty { serverInput = x }
            serversLabel = config.value(["deploy", "e2e", "label"], for: repo)?.string.flatMap { $0.isEmpty ? nil : $0 }
        }

        /// The input name for a site's URL.
        public func input(forSite site: String) -> String {
            serverInput.replacing("{SITE}", with: site.uppercased().replacing("-", with: "_"))
        }

        /// The pipeline's variables for a PR, under the configured names.
        public func context(number: Int, repository: String, sha: String, ref: String, base: String) -> [String: String] {
            let values = ["number": "\(number)", "repository": repository, "sha": sha, "ref": ref, "base": base]
            var out: [String: String] = [:]
            for (role, name) in variables where !name.isEmpty { out[name] = values[role] }
            return out
        }
    }

    // MARK: The sticky comment, which also carries the state

    /// The runs recorded in Switchyard's own sticky comment (its marker's state).
    static func runs(on ref: IssueRef, github: some CommentReading) throws -> [PipelineRun] {
        (try github.ownComment(on: ref, marked: marker)?.marker.state?.array ?? []).compactMap(PipelineRun.init)
    }

    /// The sticky comment: a headline and the last runs, with every run (the last 20) in its state.
    static func sticky(_ ref: IssueRef, _ runs: [PipelineRun], headline: String) -> Action {
        var lines = ["### End-to-end tests", "", headline, ""]
        for r in runs.suffix(5).reversed() {
            let icon = ["running": "⏳", "success": "✅", "failure": "❌", "cancelled": "🚫"][r.state] ?? "•"
            lines.append("- \(icon) [run \(r.id)](\(r.url)) on `\(r.sha.prefix(7))`\(r.options.isEmpty ? "" : " with `\(r.options)`"): \(r.state)")
        }
        lines += ["", "Comment `/e2e-test [KEY=value …]` to start, `/e2e-cancel` to stop."]
        return .upsertComment(issue: ref, body: lines.joined(separator: "\n"), marker: marker.with(state: .array(runs.suffix(20).map(\.json))))
    }

    /// Validates `KEY=value` options against the declared inputs. Returns the normalized string or an error.
    public static func options(_ tokens: [String], allowed: [String]) -> Result<[(String, String)], SwitchyardError> {
        var out: [(String, String)] = []
        for t in tokens {
            guard let (k, v) = CommandGrammar.option(t) else {
                return .failure(.badRequest("`\(t)` is not an option of the form KEY=value"))
            }
            guard allowed.contains(k) else {
                return .failure(.badRequest("`\(k)` is not an input of this repository's end-to-end pipeline"))
            }
            out.removeAll { $0.0 == k }
            out.append((k, v))
        }
        return .success(out.sorted { $0.0 < $1.0 })
    }
}
