import Foundation
import Testing
import Crypto
import _CryptoExtras
import SwitchyardCore
import SwitchyardTesting

/// Every function run with recognisable secrets; none may appear in any output, log, request body or comment.
@Suite("Secrets never leak", .serialized)
struct SecretScanTests {
    @Test func scanEverything() throws {
        let (gh, url) = try Support.world()
        let webhook = "WEBHOOK-SECRET-leakcheck-7f3a9"
        let token = "ghp_TOKEN-leakcheck-SHOULD-NOT-APPEAR-1234"
        let mattermost = "MM-TOKEN-leakcheck-99"
        let slack = "SLACK-SECRET-leakcheck-42"
        let gitlab = "glpat-leakcheck-55"
        let gitlabHook = "GITLAB-HOOK-leakcheck-66"
        gh.addToken(token, for: "switchyard[bot]")
        let key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        gh.addApp(id: 31, slug: "switchyard", publicKeyPEM: key.publicKey.pemRepresentation, installations: [4242])
        let keyFile = NSTemporaryDirectory() + "leak-key-\(UUID().uuidString).pem"
        try key.pkcs8PEMRepresentation.write(toFile: keyFile, atomically: true, encoding: .utf8)
        let lab = GitLabEmulator(token: gitlab)
        let labURL = try lab.start()
        defer { lab.stop() }
        let config = try Support.writeConfig("""
            chat:
              users: { "mattermost:alan": maint-mona }
            defaults:
              cla: { signers: { list: [maint-mona] } }
              e2e: { backend: gitlab, gitlab: { project: acme/ci } }
            """)
        let repo = try #require(gh.repo("acme/widgets"))
        try repo.git.setRef("refs/heads/release-1.0", to: repo.git.resolve("refs/heads/main")!)

        var outputs: [String] = []
        func run(_ f: String, _ event: String, _ payload: JSON, app: Bool = false, sign: String? = nil) throws {
            var env = ["GITHUB_API_URL": url, "GITHUB_WEBHOOK_SECRET": webhook, "MATTERMOST_TOKEN": mattermost, "SLACK_SIGNING_SECRET": slack,
                       "GITLAB_URL": labURL, "GITLAB_TOKEN": gitlab, "GITLAB_WEBHOOK_TOKEN": gitlabHook, "SWITCHYARD_CONFIG": config,
                       "SWITCHYARD_LOG_LEVEL": "debug", "SWITCHYARD_FUNCTIONS_DIR": Support.packageRoot + "/functions",
                       "SWITCHYARD_CACHE_DIR": NSTemporaryDirectory() + "leak-cache-\(UUID().uuidString)"]
            if app { env["GITHUB_APP_ID"] = "31"; env["GITHUB_APP_PRIVATE_KEY_FILE"] = keyFile } else { env["GITHUB_TOKEN"] = token }
            let r = try Support.run(f, environment: env, stdin: Support.envelope(event: event, body: Array(payload.encoded().utf8), secret: sign ?? webhook))
            outputs += [r.stdout, r.stderr]
        }
        func comment(_ body: String, by user: String = "maint-mona", on n: Int = 1) -> JSON {
            gh.commentEvent("acme/widgets", commentID: gh.addComment("acme/widgets", issue: n, user: user, body: body))
        }
        try run("update-branch", "issue_comment", comment("/update-branch"), app: true)
        try run("update-branch", "issue_comment", comment("/update-branch", by: "random-rita"))
        try run("update-branch", "ping", try JSON.parse(Support.corpusFile("github-webhooks/ping.json")), sign: "wrong")
        try run("sla-check", "pull_request", gh.pullRequestEvent("acme/widgets", 1, action: "opened"))
        try run("e2e-trigger", "issue_comment", comment("/e2e-test"))
        try run("e2e-trigger", "issue_comment", comment("/e2e-cancel"))
        try run("slash-dispatch", "issue_comment", comment("/cherry-pick release-1.0\n/check-cla"), app: true)
        try gh.mergePull("acme/widgets", 1, method: .squash)
        try run("cherry-pick", "pull_request", gh.pullRequestEvent("acme/widgets", 1, action: "closed"))
        try run("housekeeping", "pull_request", gh.pullRequestEvent("acme/widgets", 1, action: "closed"))
        // Chat, with a good and a bad token.
        for t in [mattermost, "nope"] {
            let body = "command=%2Fswitchyard&text=update-branch+acme%2Fwidgets%231&token=\(t)&user_id=u&user_name=alan&team_domain=acme&channel_name=x"
            let r = try Support.run("slash-dispatch", environment: ["MATTERMOST_TOKEN": mattermost, "GITHUB_API_URL": url, "GITHUB_TOKEN": token,
                                                                    "SWITCHYARD_CONFIG": config, "SWITCHYARD_LOG_LEVEL": "debug",
                                                                    "SWITCHYARD_FUNCTIONS_DIR": Support.packageRoot + "/functions"],
                                    stdin: Array((["headers": ["content-type": "application/x-www-form-urlencoded"], "body": .string(body)] as JSON).encoded().utf8))
            outputs += [r.stdout, r.stderr]
        }
        #expect(outputs.joined().contains("\"level\":\"DEBUG\""))   // the logs were really on
        #expect(gh.mintedTokenCount >= 1)

        let minted = gh.requests.filter { $0.path.hasSuffix("/access_tokens") }.count
        #expect(minted >= 1)
        let secrets = [webhook, token, mattermost, slack, gitlab, gitlabHook, "PRIVATE KEY", String(key.pkcs8PEMRepresentation.split(separator: "\n")[1])]
        let bodies = gh.requests.map(\.rawBody)
        let comments = (1...5).flatMap { gh.comments("acme/widgets", issue: $0).map(\.body) }
        for s in secrets {
            #expect(!outputs.contains { $0.contains(s) }, "\(s.prefix(12))… in a function's output or log")
            #expect(!bodies.contains { $0.contains(s) }, "\(s.prefix(12))… in a request body")
            #expect(!comments.contains { $0.contains(s) }, "\(s.prefix(12))… in a comment")
        }
    }

    /// label-deploy with every secret it knows: provisioner key, webhook token, chat webhook URLs, the
    /// licence, and the admin password it generates. Only the private credentials channel sees the password.
    @Test func scanLabelDeploy() throws {
        let lab = try LabelDeployEndToEndTests.Lab(config: """
            defaults:
              deploy:
                labels:
                  Setup HA Cloud Test Server: { size: miniHA, license: true, accounts: true }
            """)
        let license = "LICENSE-leakcheck-0a1b2c"
        lab.extra = ["DEPLOY_LICENSE": license, "SWITCHYARD_LOG_LEVEL": "debug"]
        var outputs: [String] = []
        func keep(_ r: Support.Run) { outputs += [r.stdout, r.stderr] }
        keep(try lab.pr("labeled", label: "Setup HA Cloud Test Server"))
        for e in lab.prov.settle() { keep(try lab.deliver(e)); keep(try lab.deliver(e, token: .some("wrong"))) }
        keep(try lab.chat("deploy create leak-check"))
        keep(try lab.chat("deploy info leak-check"))
        for e in lab.prov.settle() { keep(try lab.deliver(e)) }
        keep(try lab.pr("closed"))
        #expect(outputs.joined().contains("\"level\":\"DEBUG\""))
        let password = try #require(lab.prov.all.first { $0.name == "widgets-pr-1" }?.users["sysadmin"]?.password)
        #expect(lab.credentials.messages.first?.text.contains(password) == true)
        let secrets = [LabelDeployEndToEndTests.provisionerKey, LabelDeployEndToEndTests.webhookToken, LabelDeployEndToEndTests.mattermostToken,
                       lab.noticesURL, lab.credentialsURL, license, password, Support.token(of: lab.gh)]
        let bodies = lab.gh.requests.map(\.rawBody)
        let comments = (1...2).flatMap { lab.gh.comments("acme/widgets", issue: $0).map(\.body) }
        let notices = lab.notices.messages.map(\.text)
        for s in secrets {
            #expect(!outputs.contains { $0.contains(s) }, "\(s.prefix(12))… in label-deploy's output or log")
            #expect(!bodies.contains { $0.contains(s) }, "\(s.prefix(12))… in a GitHub request body")
            #expect(!comments.contains { $0.contains(s) }, "\(s.prefix(12))… in a comment")
            #expect(!notices.contains { $0.contains(s) }, "\(s.prefix(12))… in a chat notice")
        }
    }
}
