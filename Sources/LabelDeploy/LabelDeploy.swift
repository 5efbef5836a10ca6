import SwitchyardCore
import SwitchyardGitHub
import SwitchyardRuntime

/// Test servers: a label on a pull request deploys one through the provisioner, new commits update
/// it, unlabelling or closing tears it down; `/switchyard deploy …` gives anyone self-serve servers.
/// The provisioner is the state: a PR's server is found by a deterministic owner id.
public struct LabelDeploy: Sendable {
    public static let name = "label-deploy"
    public static let marker = Marker(function: "label-deploy", "server")
    public static let defaultPolicy: [PermissionLevel] = [.collaborator(.write)]

    public init() {}

    /// What a deploy label asks for.
    public struct Profile: Sendable, Equatable {
        public var label: String
        public var size: String
        public var image: String?
        /// `{sha}`, `{sha7}`, `{number}` and `{branch}` are replaced.
        public var version: String
        public var license = false
        public var accounts = false
        public var affinity: String?
        public var database: String?
        public var filestore: String?
        public var env: [String: String] = [:]
    }

    /// Where and from what image an installation is created. Annotations *schedule* an installation:
    /// it lands only on a cluster that carries every one of them, so nothing else may go there.
    public struct Placement: Sendable, Equatable {
        public var image: String?
        public var affinity: String?
        public var database: String?
        public var filestore: String?
        public var annotations: [String]
        public var group: String?

        /// What Spinwick and the Cloud plugin send.
        public static let spinwick = Placement(image: "mattermostdevelopment/mattermost-enterprise-edition", affinity: "multitenant",
                                               database: "aws-multitenant-rds-postgres-pgbouncer", filestore: "bifrost",
                                               annotations: ["multi-tenant"], group: nil)
        public static let cloudPlugin = Placement(image: "mattermost/mattermost-enterprise-edition", affinity: "multitenant",
                                                  database: "aws-multitenant-rds-postgres-pgbouncer", filestore: "bifrost",
                                                  annotations: ["multi-tenant"], group: nil)

        public init(image: String?, affinity: String?, database: String?, filestore: String?, annotations: [String], group: String?) {
            self.image = image; self.affinity = affinity; self.database = database; self.filestore = filestore
            self.annotations = annotations; self.group = group
        }

        /// `base`, with each key the config sets (`image`, `affinity`, `database`, `filestore`,
        /// `annotations`, `group`); an empty string or list means "the provisioner's default".
        init(_ base: Placement, overriddenBy v: (String) -> YAML?) {
            self = base
            func text(_ k: String, _ current: String?) -> String? {
                guard let x = v(k)?.string else { return current }
                return x.isEmpty ? nil : x
            }
            image = text("image", image); affinity = text("affinity", affinity); database = text("database", database)
            filestore = text("filestore", filestore); group = text("group", group)
            if let list = v("annotations")?.strings { annotations = list }
        }
    }

    /// Where the image of a commit is known to be built.
    public enum ImageCheck: Sendable, Equatable {
        case none
        case status(String)
        case checkRun(String)
        case workflow(String)
        /// The image's tag in the container registry (`DEPLOY_REGISTRY_URL`), as Spinwick checks it.
        case registry
    }

    public struct Settings: Sendable {
        public var profiles: [Profile] = [
            Profile(label: "Setup Cloud Test Server", size: "miniSingleton", image: nil, version: "{sha7}"),
            Profile(label: "Setup HA Cloud Test Server", size: "miniHA", image: nil, version: "{sha7}", license: true),
        ]
        public var domain = "test.example.com"
        public var nameTemplate = "{repo}-pr-{number}"
        public var deployments = true
        public var imageCheck = ImageCheck.none
        public var backend = "provisioner"
        public var deployWorkflow = "deploy.yml"
        public var destroyWorkflow = "destroy.yml"
        /// What every PR server is created with unless its label's profile says otherwise: Spinwick's
        /// request (PR builds are published as `mattermostdevelopment/mattermost-enterprise-edition:<sha7>`;
        /// the provisioner's own default image has no such tags).
        public var placement = Placement.spinwick
        /// The sizes a `/deploy` comment may ask for (`deploy.sizes`): the profiles' sizes and the
        /// Cloud plugin's two by default.
        public var sizes: [String] = ["miniSingleton", "miniHA"]
        /// After how long a creation or update still in progress is reported (the reconcile schedule).
        public var stuckMinutes = 60

        public init() {}
        public init(config: Config, repo: RepoRef) {
            func v(_ k: String...) -> YAML? { config.value(["deploy"] + k, for: repo) }
            placement = Placement(LabelDeploy.Placement.spinwick, overriddenBy: { v($0) })
            if let x = v("domain")?.string { domain = x }
            if let x = v("sizes")?.strings, !x.isEmpty { sizes = x }
            if let x = v("stuck-minutes")?.int { stuckMinutes = max(5, x) }
            if let x = v("name")?.string { nameTemplate = x }
            if let x = v("deployments")?.bool { deployments = x }
            if let x = v("backend")?.string { backend = x }
            if let x = v("workflows", "deploy")?.string { deployWorkflow = x }
            if let x = v("workflows", "destroy")?.string { destroyWorkflow = x }
            if let c = v("image-check") {
                if let s = c["status"]?.string { imageCheck = .status(s) }
                else if let s = c["check-run"]?.string { imageCheck = .checkRun(s) }
                else if let s = c["workflow"]?.string { imageCheck = .workflow(s) }
                else if c["registry"]?.bool == true || c.string == "registry" { imageCheck = .registry }
            }
            if let labels = v("labels")?.entries {
                profiles = labels.map { entry in
                    let p = entry.value
                    var env: [String: String] = [:]
                    for e in p["env"]?.entries ?? [] { env[e.key] = e.value.string ?? "" }
                    return Profile(label: entry.key, size: p["size"]?.string ?? "miniSingleton", image: p["image"]?.string,
                                   version: p["version"]?.string ?? "{sha7}", license: p["license"]?.bool ?? false,
                                   accounts: p["accounts"]?.bool ?? false, affinity: p["affinity"]?.string,
                                   database: p["database"]?.string, filestore: p["filestore"]?.string, env: env)
                }
            }
        }

        public func profile(_ label: String?) -> Profile? {
            guard let label else { return nil }
            return profiles.first { $0.label.lowercased() == label.lowercased() }
        }

        /// The deploy labels on a pull request, in config order.
        public func profiles(on labels: [String]) -> [Profile] {
            let set = Set(labels.map { $0.lowercased() })
            return profiles.filter { set.contains($0.label.lowercased()) }
        }

        public func serverName(_ ref: IssueRef) -> String {
            LabelDeploy.dnsLabel(nameTemplate.replacing("{repo}", with: ref.repo.name).replacing("{owner}", with: ref.repo.owner)
                .replacing("{number}", with: "\(ref.number)"))
        }
    }

    // MARK: Owners: how a server leads back to its pull request or chat user

    /// `github.com/<owner>/<repo>/pull/<n>`: readable for the provisioner's operators, and parsed back.
    public static func owner(_ ref: IssueRef) -> String { "github.com/\(ref.repo.fullName)/pull/\(ref.number)" }

    public static func pullRequest(owner: String) -> IssueRef? {
        let parts = owner.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0] == "github.com", parts[3] == "pull", let n = Int(parts[4]), n > 0,
              let repo = RepoRef(Substring("\(parts[1])/\(parts[2])")) else { return nil }
        return IssueRef(repo: repo, number: n)
    }

    /// `mattermost:<user id>` or `slack:<user id>`.
    public static func owner(_ chat: ChatCommand) -> String { "\(chat.platform.rawValue):\(chat.userID)" }

    public static func chatOwner(_ owner: String) -> (platform: ChatCommand.Platform, userID: String)? {
        guard let colon = owner.firstIndex(of: ":"), let p = ChatCommand.Platform(rawValue: String(owner[..<colon])) else { return nil }
        let id = String(owner[owner.index(after: colon)...])
        return id.isEmpty ? nil : (p, id)
    }

    // MARK: Names and versions

    /// Lower-case letters, digits and dashes, at most 63, no dash at either end.
    public static func dnsLabel(_ s: String) -> String {
        var out = ""
        for c in s.lowercased() {
            if c.isASCII && (c.isLetter || c.isNumber) { out.append(c) } else if !out.hasSuffix("-") { out.append("-") }
        }
        while out.hasPrefix("-") { out.removeFirst() }
        out = String(out.prefix(63))
        while out.hasSuffix("-") { out.removeLast() }
        return out
    }

    /// A name a chat user may choose: 3 to 40 of a-z, 0-9 and inner dashes.
    public static func validName(_ s: String) -> Bool {
        let bytes = Array(s.utf8)
        guard (3...40).contains(bytes.count), bytes.first != UInt8(ascii: "-"), bytes.last != UInt8(ascii: "-") else { return false }
        return bytes.allSatisfy { (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || $0 == UInt8(ascii: "-") }
    }

    public static func version(_ template: String, pull: GitHub.PullRequest) -> String {
        template.replacing("{sha7}", with: String(pull.head.sha.prefix(7))).replacing("{sha}", with: pull.head.sha)
            .replacing("{number}", with: "\(pull.number)").replacing("{branch}", with: dnsLabel(pull.head.ref))
    }

    /// A password for a new server's account: 32 random hex digits, as Spinwick makes them.
    static func hexPassword() -> String {
        var g = SystemRandomNumberGenerator()
        return (0..<2).map { _ in
            let v = g.next() as UInt64
            let h = String(v, radix: 16)
            return String(repeating: "0", count: 16 - h.count) + h
        }.joined()
    }

    // MARK: Chat incoming webhooks (Mattermost and Slack share `{"text": …}`)

    /// Tells the operators (`DEPLOY_OPS_WEBHOOK_URL`), best effort: the PR or chat user is told anyway.
    static func alertOps(_ text: String, context: CapabilityContext) {
        guard let hook = context.settings?.opsWebhookURL else { return }
        _ = context.postToChat(hook, text: "⚠️ label-deploy: " + text, channel: nil)
    }
}
