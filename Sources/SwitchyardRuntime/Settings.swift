import SwitchyardCore
import SwitchyardGitHub

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Everything the runtime reads from the environment, read once at start-up.
/// Secrets are loaded here (from `NAME` or `NAME_FILE`) and registered with the logger for redaction.
public struct Settings: Sendable {
    public var function: String
    public var webhookSecrets: [String]
    public var slackSecrets: [String]
    public var mattermostTokens: [String]
    public var gitlabWebhookTokens: [String]
    public var gitlabURL: String
    public var gitlabToken: String?
    /// The test-server provisioner (label-deploy): base URL and one of API key, bearer token or
    /// OAuth2 client credentials; the static token its webhooks carry.
    public var provisionerURL: String?
    public var provisionerAPIKey: String?
    public var provisionerToken: String?
    public var provisionerClientID: String?
    public var provisionerClientSecret: String?
    public var provisionerTokenURL: String?
    public var provisionerWebhookTokens: [String]
    /// Incoming-webhook URLs (Mattermost or Slack): lifecycle notices, and the private channel that
    /// alone receives test-server credentials. Webhook URLs are secrets.
    public var notifyWebhookURL: String?
    public var credentialsWebhookURL: String?
    /// An incoming webhook for the operators: test servers that fail, and profiles that cannot be served.
    public var opsWebhookURL: String?
    /// Mattermost or Slack incoming webhook that tells chat users how the end-to-end runs they started ended.
    public var e2eNotifyWebhookURL: String?
    /// Licence texts for chat test servers by name (`enterprise`, `e20`, …), a JSON object.
    public var deployLicenses: String?
    /// The container registry whose manifests prove a test server's image exists (Docker Hub's by default).
    public var registryURL: String
    /// A licence for profiles that ask for one.
    public var deployLicense: String?
    public var maxBodyBytes: Int
    public var dryRun: Bool
    public var deadlineMilliseconds: Int
    public var configPath: String?
    /// The policy itself, when it comes from Parameter Store or Secrets Manager (`SWITCHYARD_CONFIG_FROM`).
    public var configText: String?
    public var apiURL: String
    public var token: String?
    public var appID: String?
    public var appKey: String?
    public var appInstallationID: Int?
    public var cacheDirectory: String

    /// `SWITCHYARD_CACHE_DIR`, else a folder per user under the temporary directory.
    public static func cacheDirectory(_ configured: String?, temporary: String) -> String {
        configured ?? (temporary + "/switchyard-cache-\(getuid())")
    }
    /// The login Switchyard writes as, when it should not be asked of GitHub (`SWITCHYARD_BOT_LOGIN`).
    public var botLogin: String?
    /// The Mattermost site (`MATTERMOST_URL`): its origin may receive command answers and notices.
    public var mattermostURL: String?
    /// Bot tokens for looking chat users up (their e-mail address, for `chat.allowed-email-domains`).
    public var mattermostBotToken: String?
    public var slackBotToken: String?
    public var slackAPIURL: String
    public var logLevel: Logger.Level
    /// `X-Slack-Request-Timestamp` is checked against this clock; tests may pin it.
    public var nowSeconds: @Sendable () -> Int64

    /// GitHub's own cap on webhook payloads.
    public static let defaultMaxBody = 25 * 1024 * 1024
    /// Under GitHub's 10 s webhook timeout.
    public static let defaultDeadline = 9_000

    /// Every variable read as a secret (each may also come as `NAME_FILE` or `NAME_FROM`).
    public static let secretVariables = [
        "GITHUB_WEBHOOK_SECRET", "SLACK_SIGNING_SECRET", "MATTERMOST_TOKEN", "GITLAB_WEBHOOK_TOKEN", "GITLAB_TOKEN", "GITHUB_TOKEN",
        "GITHUB_APP_PRIVATE_KEY", "PROVISIONER_API_KEY", "PROVISIONER_TOKEN", "PROVISIONER_CLIENT_SECRET", "PROVISIONER_WEBHOOK_TOKEN",
        "DEPLOY_NOTIFY_WEBHOOK_URL", "DEPLOY_CREDENTIALS_WEBHOOK_URL", "DEPLOY_OPS_WEBHOOK_URL", "DEPLOY_LICENSE", "DEPLOY_LICENSES", "E2E_NOTIFY_WEBHOOK_URL", "MATTERMOST_BOT_TOKEN", "SLACK_BOT_TOKEN",
    ]

    public init(function: String, environment env: Environment) throws(SwitchyardError) {
        self.function = function
        do {
            webhookSecrets = try env.secrets("GITHUB_WEBHOOK_SECRET")
            slackSecrets = try env.secrets("SLACK_SIGNING_SECRET")
            mattermostTokens = try env.secrets("MATTERMOST_TOKEN")
            gitlabWebhookTokens = try env.secrets("GITLAB_WEBHOOK_TOKEN")
            gitlabToken = try env.secret("GITLAB_TOKEN")
            token = try env.secret("GITHUB_TOKEN")
            appKey = try env.secret("GITHUB_APP_PRIVATE_KEY")
            provisionerAPIKey = try env.secret("PROVISIONER_API_KEY")
            provisionerToken = try env.secret("PROVISIONER_TOKEN")
            provisionerClientSecret = try env.secret("PROVISIONER_CLIENT_SECRET")
            provisionerWebhookTokens = try env.secrets("PROVISIONER_WEBHOOK_TOKEN")
            notifyWebhookURL = try env.secret("DEPLOY_NOTIFY_WEBHOOK_URL")
            credentialsWebhookURL = try env.secret("DEPLOY_CREDENTIALS_WEBHOOK_URL")
            opsWebhookURL = try env.secret("DEPLOY_OPS_WEBHOOK_URL")
            e2eNotifyWebhookURL = try env.secret("E2E_NOTIFY_WEBHOOK_URL")
            deployLicenses = try env.secret("DEPLOY_LICENSES")
            mattermostBotToken = try env.secret("MATTERMOST_BOT_TOKEN")
            slackBotToken = try env.secret("SLACK_BOT_TOKEN")
            deployLicense = try env.secret("DEPLOY_LICENSE")
            if env["SWITCHYARD_CONFIG"] == nil, let reference = env["SWITCHYARD_CONFIG_FROM"] {
                let text = try AWSSecrets.resolve(reference, variable: "SWITCHYARD_CONFIG", environment: env.values)
                configText = text.isEmpty ? nil : text
            }
        } catch {
            throw SwitchyardError.from(error)
        }
        // Bounded, so that no setting can overflow the arithmetic that uses it.
        maxBodyBytes = env.int("SWITCHYARD_MAX_BODY_BYTES").map { min(1 << 30, max(1, $0)) } ?? Self.defaultMaxBody
        dryRun = env.flag("SWITCHYARD_DRY_RUN")
        deadlineMilliseconds = env.int("SWITCHYARD_DEADLINE_MS").map { min(900_000, max(100, $0)) } ?? Self.defaultDeadline
        configPath = env["SWITCHYARD_CONFIG"]
        apiURL = env["GITHUB_API_URL"] ?? "https://api.github.com"
        gitlabURL = env["GITLAB_URL"] ?? "https://gitlab.com"
        appID = env["GITHUB_APP_ID"]
        provisionerURL = env["PROVISIONER_URL"]
        provisionerClientID = env["PROVISIONER_CLIENT_ID"]
        provisionerTokenURL = env["PROVISIONER_TOKEN_URL"]
        appInstallationID = env.int("GITHUB_APP_INSTALLATION_ID")
        // Per user, so that another local user cannot own the default folder; an unsafe folder is refused at use.
        cacheDirectory = Self.cacheDirectory(env["SWITCHYARD_CACHE_DIR"], temporary: Files.temporaryDirectory(environment: env.values))
        logLevel = Logger.minimum { env[$0] }
        botLogin = env["SWITCHYARD_BOT_LOGIN"]
        mattermostURL = env["MATTERMOST_URL"]
        registryURL = env["DEPLOY_REGISTRY_URL"] ?? "https://registry.hub.docker.com"
        slackAPIURL = env["SLACK_API_URL"] ?? "https://slack.com/api"
        nowSeconds = { Deadline.epochMillis() / 1000 }
    }

    /// Every secret value, for log redaction and leak tests.
    public var secretValues: [String] {
        webhookSecrets + slackSecrets + mattermostTokens + gitlabWebhookTokens + provisionerWebhookTokens
            + [token, appKey, gitlabToken, provisionerAPIKey, provisionerToken, provisionerClientSecret, notifyWebhookURL,
               credentialsWebhookURL, opsWebhookURL, e2eNotifyWebhookURL, deployLicense, mattermostBotToken, slackBotToken].compactMap { $0 }
            + licenseTexts.values.filter { !$0.isEmpty }
    }

    /// Loads the config file, if one is named. Throws `misconfigured` with the key and line.
    public func loadConfig() throws(SwitchyardError) -> Config {
        if configPath == nil, let configText {
            do { return try Config(yaml: configText) }
            catch { throw SwitchyardError(.misconfigured, "invalid config from SWITCHYARD_CONFIG_FROM: \(error.message)") }
        }
        guard let path = configPath else { return Config() }
        guard let bytes = Files.read(path, limit: 4 << 20) else {
            throw .misconfigured("SWITCHYARD_CONFIG names \(path), which cannot be read")
        }
        guard let text = bytes.withUnsafeBufferPointer({ UTF8Text.string($0) }) else {
            throw .misconfigured("the config file \(path) is not UTF-8")
        }
        do { return try Config(yaml: text) }
        catch { throw SwitchyardError(.misconfigured, "invalid config \(path): \(error.message)") }
    }

    /// Credentials for GitHub: the App when configured (it wins over GITHUB_TOKEN), else the token.
    public func credentials(installationID: Int?, logger: Logger) throws -> GitHubCredentials {
        if let appID, let appKey {
            if token != nil { logger.debug("both a GitHub App and GITHUB_TOKEN are configured; using the App") }
            guard let installation = installationID ?? appInstallationID else {
                throw SwitchyardError.misconfigured("the GitHub App needs an installation id: the event has none, so set GITHUB_APP_INSTALLATION_ID")
            }
            return try AppCredentials(appID: appID, privateKeyPEM: appKey, installationID: installation, cacheDirectory: cacheDirectory)
        }
        if appID != nil { throw SwitchyardError.misconfigured("GITHUB_APP_ID is set but GITHUB_APP_PRIVATE_KEY (or _FILE) is not") }
        if let token { return TokenCredentials(token: token, cacheDirectory: cacheDirectory) }
        logger.warning("no GitHub credentials (GITHUB_TOKEN or GITHUB_APP_ID); calling GitHub anonymously")
        return AnonymousCredentials()
    }

    /// `DEPLOY_LICENSES` as name → text; `DEPLOY_LICENSE` stands for `enterprise` when that is not named.
    public var licenseTexts: [String: String] {
        var out: [String: String] = [:]
        if let text = deployLicenses, let j = try? JSON.parse(Array(text.utf8)), let o = j.object {
            for (k, v) in o { if let t = v.string, !t.isEmpty { out[k.lowercased()] = t } }
        }
        if out["enterprise"] == nil, let l = deployLicense, !l.isEmpty { out["enterprise"] = l }
        return out
    }
}
