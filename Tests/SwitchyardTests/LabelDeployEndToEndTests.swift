import Foundation
import Testing
import SwitchyardCore
import SwitchyardTesting
import SwitchyardRuntime

/// The built `label-deploy` against the GitHub emulator, the provisioner emulator and two chat
/// incoming webhooks (lifecycle notices and the private credentials channel).
@Suite("label-deploy end to end", .serialized)
struct LabelDeployEndToEndTests {
    static let secret = "deploy-webhook-secret"
    static let provisionerKey = "prov-api-key-5f0c1e"
    static let webhookToken = "prov-hook-token-77aa"
    static let mattermostToken = "mm-cmd-token-deploy"
    static let full = "acme/widgets"
    static let cloud = "Setup Cloud Test Server"

    /// One test's world.
    final class Lab: @unchecked Sendable {
        let gh: GitHubEmulator
        let url: String
        let prov = ProvisionerEmulator(auth: .apiKey(LabelDeployEndToEndTests.provisionerKey))
        let provURL: String
        let notices = ChatWebhookEmulator()
        let noticesURL: String
        let credentials = ChatWebhookEmulator()
        let credentialsURL: String
        /// Docker Hub, as far as image tags go: the releases below exist as images.
        let registry = RegistryEmulator()
        let registryURL: String
        var config: String
        var extra: [String: String] = [:]
        /// One cache per world, as one deployment has: tokens and Switchyard's identity are read once.
        let cacheDirectory = NSTemporaryDirectory() + "label-deploy-cache-\(UUID().uuidString)"

        init(config yaml: String = "") throws {
            (gh, url) = try Support.world()
            gh.repo(LabelDeployEndToEndTests.full)!.collaborators["maint-mona"] = .write
            provURL = try prov.start()
            noticesURL = try notices.start()
            credentialsURL = try credentials.start()
            registryURL = try registry.start()
            for tag in ["9.11.0", "10.2.0", "10.3.1", "master"] { registry.add("mattermost/mattermost-enterprise-edition", tag: tag) }
            registry.add("mattermost/mattermost-team-edition", tag: "10.3.1")
            // Where `latest` is looked up: the newest release that is not a pre-release.
            try gh.addRepo("mattermost/mattermost")
            for (tag, pre) in [("v10.2.0", false), ("v10.3.1", false), ("v10.4.0-rc1", true)] { gh.addRelease("mattermost/mattermost", tag: tag, prerelease: pre) }
            prov.registerWebhook(owner: "switchyard", url: "function:label-deploy",
                                 headers: [("X-Provisioner-Token", LabelDeployEndToEndTests.webhookToken)])
            // The chat webhooks' origins are allowed, as an operator lists them (chat.allowed-origins).
            var text = yaml.isEmpty ? "defaults:\n  deploy:\n    domain: test.example.com\n" : yaml
            let origins = "  allowed-origins: [\"\(noticesURL)\", \"\(credentialsURL)\"]\n"
            if let r = text.range(of: "\nchat:\n") { text.replaceSubrange(r, with: "\nchat:\n" + origins) }
            else if text.hasPrefix("chat:\n") { text = "chat:\n" + origins + text.dropFirst(6) }
            else { text += (text.hasSuffix("\n") ? "" : "\n") + "chat:\n" + origins }
            config = try Support.writeConfig(text)
        }

        deinit { prov.stop(); notices.stop(); credentials.stop(); registry.stop(); gh.stop() }

        var environment: [String: String] {
            var env = ["GITHUB_API_URL": url, "GITHUB_TOKEN": Support.token(of: gh), "GITHUB_WEBHOOK_SECRET": LabelDeployEndToEndTests.secret,
                       "SWITCHYARD_CONFIG": config, "PROVISIONER_URL": provURL, "PROVISIONER_API_KEY": LabelDeployEndToEndTests.provisionerKey,
                       "PROVISIONER_WEBHOOK_TOKEN": LabelDeployEndToEndTests.webhookToken, "MATTERMOST_TOKEN": LabelDeployEndToEndTests.mattermostToken,
                       "DEPLOY_NOTIFY_WEBHOOK_URL": noticesURL, "DEPLOY_CREDENTIALS_WEBHOOK_URL": credentialsURL,
                       "SWITCHYARD_CACHE_DIR": cacheDirectory, "DEPLOY_REGISTRY_URL": registryURL]
            for (k, v) in extra { env[k] = v }
            return env
        }

        @discardableResult
        func github(_ event: String, _ payload: JSON) throws -> Support.Run {
            try Support.run("label-deploy", environment: environment,
                            stdin: Support.envelope(event: event, body: Array(payload.encoded().utf8), secret: LabelDeployEndToEndTests.secret))
        }

        func pr(_ action: String, _ n: Int = 1, sender: String = "maint-mona", label: String? = nil) throws -> Support.Run {
            if let label, action == "labeled" { gh.updatePull(LabelDeployEndToEndTests.full, n) { if !$0.labels.contains(label) { $0.labels.append(label) } } }
            if let label, action == "unlabeled" { gh.updatePull(LabelDeployEndToEndTests.full, n) { $0.labels.removeAll { $0 == label } } }
            if action == "closed" { gh.updatePull(LabelDeployEndToEndTests.full, n) { $0.state = "closed" } }
            return try github("pull_request", gh.pullRequestEvent(LabelDeployEndToEndTests.full, n, action: action, sender: sender, label: label))
        }

        /// A provisioner webhook delivery, with the header the webhook was registered with (or another).
        func deliver(_ e: ProvisionerEmulator.Event, token: String?? = .none) throws -> Support.Run {
            var headers: [String: JSON] = ["content-type": "application/json", "user-agent": "Go-http-client/1.1"]
            switch token {
            case .none: for (k, v) in e.headers { headers[k.lowercased()] = .string(v) }
            case .some(let t?): headers["x-provisioner-token"] = .string(t)
            case .some(nil): break
            }
            let envelope: JSON = ["headers": .object(headers), "body": .string(String(decoding: e.body, as: UTF8.self))]
            return try Support.run("label-deploy", environment: environment, stdin: Array(envelope.encoded().utf8))
        }

        /// Settles the provisioner and delivers every webhook it sent.
        @discardableResult
        func settle() throws -> [Support.Run] {
            try prov.settle().map { try deliver($0) }
        }

        func chat(_ text: String, user: String = "alan", userID: String = "u-alan") throws -> Support.Run {
            let encoded = text.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            let t = LabelDeployEndToEndTests.mattermostToken
            let body = "channel_id=c1&channel_name=town-square&command=%2Fswitchyard&response_url=http%3A%2F%2F127.0.0.1%3A9%2Fhooks&team_domain=acme&team_id=t1&text=\(encoded)&token=\(t)&trigger_id=x&user_id=\(userID)&user_name=\(user)"
            let env: JSON = ["headers": ["content-type": "application/x-www-form-urlencoded", "authorization": .string("Token \(t)")], "body": .string(body)]
            return try Support.run("label-deploy", environment: environment, stdin: Array(env.encoded().utf8))
        }

        /// A Slack slash command from user `sam` (U77), signed with `SLACK_SIGNING_SECRET`, which it sets.
        func slack(_ text: String) throws -> Support.Run {
            extra["SLACK_SIGNING_SECRET"] = "slack-signing-5150"
            let ts = Int(Date().timeIntervalSince1970)
            let encoded = text.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            let body = "team_id=T1&team_domain=acme&channel_id=C1&channel_name=dev&user_id=U77&user_name=sam&command=%2Fswitchyard&text=\(encoded)&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2Fx&trigger_id=t1"
            let sig = "v0=" + Verification.hmacHex(secret: "slack-signing-5150", body: Array("v0:\(ts):\(body)".utf8))
            let envelope: JSON = ["headers": ["content-type": "application/x-www-form-urlencoded", "x-slack-signature": .string(sig),
                                              "x-slack-request-timestamp": .string("\(ts)")], "body": .string(body)]
            return try Support.run("label-deploy", environment: environment, stdin: Array(envelope.encoded().utf8))
        }

        /// The accounts comment of the PR's server (its own marker, per installation).
        var accountsNote: String? {
            gh.comments(LabelDeployEndToEndTests.full, issue: 1).first { $0.body.contains("switchyard:label-deploy:accounts") }?.body
        }
        var stickies: [String] {
            gh.comments(LabelDeployEndToEndTests.full, issue: 1).filter { $0.body.contains("switchyard:label-deploy:server") }.map(\.body)
        }
        func sticky(_ n: Int = 1) -> String? {
            gh.comments(LabelDeployEndToEndTests.full, issue: n).first { $0.body.contains("switchyard:label-deploy:server") }?.body
        }
        var live: [ProvisionerEmulator.Installation] { prov.all.filter { $0.state != "deleted" && !$0.state.hasPrefix("deletion") } }
        func writes(_ method: String, _ prefix: String) -> [ProvisionerEmulator.Logged] {
            prov.requests.filter { $0.method == method && $0.path.hasPrefix(prefix) }
        }

        /// No password, token, key or webhook URL in any GitHub request body, comment, or function output.
        func assertNoSecretsReachedGitHub(_ extraSecrets: [String] = [], sourceLocation: SourceLocation = #_sourceLocation) {
            let secrets = [LabelDeployEndToEndTests.provisionerKey, LabelDeployEndToEndTests.webhookToken, LabelDeployEndToEndTests.mattermostToken,
                           noticesURL, credentialsURL, Support.token(of: gh)] + extraSecrets
            for r in gh.requests {
                for s in secrets { #expect(!r.rawBody.contains(s), "\(r) carries a secret", sourceLocation: sourceLocation) }
            }
        }
    }

    @Test func labelledThenStableGivesOneCommentWithTheURL() throws {
        let lab = try Lab()
        let head = try #require(lab.gh.headSHA(Self.full, 1))
        lab.gh.clearLog()
        var r = try lab.pr("labeled", label: Self.cloud)
        #expect(r.json?["outcome"]?.string == "done", "\(r.stdout)\(r.stderr)")
        // Requests for a labelled PR: permission, deployment lookup, creation and status, sticky comment
        // lookup and creation (GitHub); owner lookup and creation (provisioner).
        #expect(lab.gh.requests.count == 9, "\(lab.gh.requests)")   // the PR as it is now and the identity once, then as before
        #expect(lab.prov.requests.count == 2)
        let created = try #require(lab.prov.all.first)
        #expect(lab.prov.all.count == 1)
        #expect(created.owner == "github.com/acme/widgets/pull/1")
        #expect(created.name == "widgets-pr-1" && created.dns == "widgets-pr-1.test.example.com")
        #expect(created.version == String(head.prefix(7)) && created.size == "miniSingleton")
        // The wire format: Go-style keys and never an empty env map.
        let post = try #require(lab.writes("POST", "/api/installations").first)
        for key in ["\"OwnerID\"", "\"DNSNames\"", "\"Name\"", "\"Version\"", "\"Size\""] { #expect(post.body.contains(key), "\(post.body)") }
        #expect(!post.body.contains("\"MattermostEnv\":{}"))
        // Spinwick's request: the PR build's image (the provisioner's default image has no PR tags), the
        // multi-tenant placement, and no annotation a cluster would not have.
        #expect(created.image == "mattermostdevelopment/mattermost-enterprise-edition")
        #expect(created.affinity == "multitenant" && created.database == "aws-multitenant-rds-postgres-pgbouncer" && created.filestore == "bifrost")
        #expect(created.annotations == ["multi-tenant"])
        #expect(lab.sticky()?.contains("Creating `widgets-pr-1`") == true)
        #expect(lab.gh.deployments(Self.full).first?.statuses.last?.state == "in_progress")

        // A redelivered label event creates nothing more.
        r = try lab.pr("labeled", label: Self.cloud)
        #expect(r.json?["outcome"]?.string == "ignored", "\(r.stdout)")
        #expect(lab.prov.all.count == 1)

        lab.gh.clearLog(); lab.prov.clearLog()
        let runs = try lab.settle()
        #expect(runs.allSatisfy { $0.status == 0 }, "\(runs.map(\.stdout))")
        // The stable webhook: comment lookup, deployment and its last status, the new status, the comment edit.
        #expect(lab.gh.requests.count == 6, "\(lab.gh.requests)")   // with the pull request's head, for a push made meanwhile
        #expect(lab.prov.requests.count == 2, "one installation read per webhook")
        let ready = try #require(lab.sticky())
        #expect(ready.contains("is ready: [https://widgets-pr-1.test.example.com]"), "\(ready)")
        #expect(lab.stickies.count == 1)
        let deployment = try #require(lab.gh.deployments(Self.full).first)
        #expect(deployment.environment == "pr-1" && deployment.sha == head)
        #expect(deployment.statuses.last?.state == "success")
        #expect(deployment.statuses.last?.environmentURL == "https://widgets-pr-1.test.example.com")

        // Every webhook replayed: same comment, same deployment statuses, no new GitHub writes.
        let writes = lab.gh.requests.filter { $0.method != "GET" }.count
        for e in lab.prov.events { _ = try lab.deliver(e) }
        #expect(lab.gh.requests.filter { $0.method != "GET" }.count == writes)
        #expect(lab.stickies.count == 1)
        lab.assertNoSecretsReachedGitHub()
    }

    @Test func aDryRunSaysWhatItWouldCreateAndWritesNothing() throws {
        let lab = try Lab()
        lab.extra["SWITCHYARD_DRY_RUN"] = "1"
        let r = try lab.pr("labeled", label: Self.cloud)
        #expect(r.json?["outcome"]?.string == "planned", "\(r.stdout)\(r.stderr)")
        #expect(r.json?["message"]?.string?.contains("would create widgets-pr-1 (miniSingleton") == true, "\(r.stdout)")
        #expect(lab.prov.requests.allSatisfy { $0.method == "GET" } && lab.prov.all.isEmpty)
        #expect(lab.gh.requests.allSatisfy { $0.method == "GET" })
        #expect(lab.sticky() == nil)
    }

    @Test func haLabelAsksForMiniHAWithTheLicence() throws {
        let lab = try Lab()
        lab.extra["DEPLOY_LICENSE"] = "license-text-0xfeed"
        let r = try lab.pr("labeled", label: "Setup HA Cloud Test Server")
        #expect(r.json?["outcome"]?.string == "done", "\(r.stdout)\(r.stderr)")
        let created = try #require(lab.prov.all.first)
        #expect(created.size == "miniHA" && created.license == "license-text-0xfeed")
        #expect(lab.sticky()?.contains("miniHA") == true)
        lab.assertNoSecretsReachedGitHub(["license-text-0xfeed"])

        // Without a licence: the PR is told and the label removed, the operators are alerted, the answer
        // says what to set, and nothing is created. A redelivery repeats none of it.
        let other = try Lab()
        other.extra["DEPLOY_OPS_WEBHOOK_URL"] = other.noticesURL
        let refused = try other.pr("labeled", label: "Setup HA Cloud Test Server")
        #expect(refused.status == 0 && refused.json?["outcome"]?.string == "rejected", "\(refused.stdout)\(refused.stderr)")
        #expect(refused.json?["message"]?.string?.contains("DEPLOY_LICENSE") == true, "\(refused.stdout)")
        #expect(other.prov.all.isEmpty)
        #expect(other.sticky()?.contains("no licence is configured") == true, "\(other.sticky() ?? "")")
        #expect(!other.gh.labels(Self.full, issue: 1).contains("Setup HA Cloud Test Server"))
        #expect(other.notices.messages.count == 1 && other.notices.messages.first?.text.contains("DEPLOY_LICENSE is not set") == true)
        other.gh.updatePull(Self.full, 1) { $0.labels.append("Setup HA Cloud Test Server") }
        _ = try other.github("pull_request", other.gh.pullRequestEvent(Self.full, 1, action: "labeled", sender: "maint-mona",
                                                                       label: "Setup HA Cloud Test Server"))
        #expect(other.notices.messages.count == 1 && other.stickies.count == 1)
        #expect(!other.gh.labels(Self.full, issue: 1).contains("Setup HA Cloud Test Server"))
    }

    @Test func anUntrustedLabellerGetsAReplyAndNothingIsCreated() throws {
        let lab = try Lab()
        let r = try lab.pr("labeled", sender: "random-rita", label: Self.cloud)
        #expect(r.json?["outcome"]?.string == "rejected", "\(r.stdout)\(r.stderr)")
        #expect(lab.prov.all.isEmpty && lab.prov.requests.isEmpty)
        let replies = lab.gh.comments(Self.full, issue: 1).filter { $0.body.contains("@random-rita") }
        #expect(replies.count == 1)
        #expect(!lab.gh.labels(Self.full, issue: 1).contains(Self.cloud))
        // Redelivered: still one reply.
        _ = try lab.github("pull_request", lab.gh.pullRequestEvent(Self.full, 1, action: "labeled", sender: "random-rita", label: Self.cloud))
        #expect(lab.gh.comments(Self.full, issue: 1).filter { $0.body.contains("@random-rita") }.count == 1)
    }

    @Test func aPushDuringCreationIsAppliedWhenTheServerIsStable() throws {
        let lab = try Lab()
        var r = try lab.pr("labeled", label: Self.cloud)
        #expect(r.json?["outcome"]?.string == "done", "\(r.stdout)\(r.stderr)")
        // A push while the server is being created: nothing can be updated yet.
        try lab.gh.commit(Self.full, branch: "feature", files: ["src/c.txt": "c\n"], message: "Add c")
        let head = try #require(lab.gh.headSHA(Self.full, 1))
        r = try lab.pr("synchronize")
        #expect(lab.writes("PUT", "/api/installation").isEmpty)
        // Stable: the server is announced and brought to the new head at once, not at the next push.
        try lab.settle()
        let put = try #require(lab.writes("PUT", "/api/installation").first)
        #expect(put.body.contains("\"Version\":\"\(head.prefix(7))\""), "\(put.body)")
        try lab.settle()
        #expect(lab.sticky()?.contains("was updated to version `\(head.prefix(7))`") == true, "\(lab.sticky() ?? "")")
        #expect(lab.stickies.count == 1)
    }

    @Test func newCommitsUpdateTheServerOnceTheImageIsBuilt() throws {
        let lab = try Lab(config: "defaults:\n  deploy:\n    image-check:\n      status: ci/image\n")
        var head = try #require(lab.gh.headSHA(Self.full, 1))
        // The image of the head is not built yet: the comment says so and nothing is created.
        var r = try lab.pr("labeled", label: Self.cloud)
        #expect(r.json?["outcome"]?.string == "done", "\(r.stdout)\(r.stderr)")
        #expect(lab.prov.all.isEmpty)
        #expect(lab.sticky()?.contains("not built yet") == true)
        // The build's status arrives: the server is created.
        r = try lab.github("status", lab.gh.statusEvent(Self.full, sha: head, context: "ci/image", state: "success"))
        #expect(r.json?["outcome"]?.string == "done", "\(r.stdout)\(r.stderr)")
        #expect(lab.prov.all.count == 1)
        try lab.settle()
        #expect(lab.sticky()?.contains("is ready:") == true)

        // A push: waiting for its image, then updated when the status passes.
        try lab.gh.commit(Self.full, branch: "feature", files: ["src/c.txt": "c\n"], message: "Add c")
        head = try #require(lab.gh.headSHA(Self.full, 1))
        r = try lab.pr("synchronize")
        #expect(lab.writes("PUT", "/api/installation").isEmpty)
        #expect(lab.sticky()?.contains("`\(head.prefix(7))` is not built yet") == true, "\(lab.sticky() ?? "")")
        r = try lab.github("status", lab.gh.statusEvent(Self.full, sha: head, context: "ci/image", state: "success"))
        #expect(r.json?["outcome"]?.string == "done", "\(r.stdout)\(r.stderr)")
        let put = try #require(lab.writes("PUT", "/api/installation").first)
        #expect(put.path.hasSuffix("/mattermost") && put.body.contains("\"Version\":\"\(head.prefix(7))\""))
        #expect(!put.body.contains("MattermostEnv"), "an update must not send an env map: \(put.body)")
        #expect(lab.sticky()?.contains("Updating `widgets-pr-1`") == true)
        try lab.settle()
        #expect(lab.sticky()?.contains("was updated to version `\(head.prefix(7))`") == true, "\(lab.sticky() ?? "")")
        // The same push redelivered: the server already runs it.
        r = try lab.pr("synchronize")
        #expect(r.json?["outcome"]?.string == "ignored")
        #expect(lab.writes("PUT", "/api/installation").count == 1)
        #expect(lab.stickies.count == 1)
        #expect(lab.prov.all.count == 1)
    }

    @Test func unlabelAndCloseDeleteAndNothingDeployedStaysQuiet() throws {
        let lab = try Lab()
        _ = try lab.pr("labeled", label: Self.cloud)
        try lab.settle()
        var r = try lab.pr("unlabeled", label: Self.cloud)
        #expect(r.json?["outcome"]?.string == "done", "\(r.stdout)\(r.stderr)")
        #expect(lab.writes("DELETE", "/api/installation/").count == 1)
        #expect(lab.sticky()?.contains("deleted: the `\(Self.cloud)` label was removed") == true)
        #expect(lab.gh.deployments(Self.full).first?.statuses.last?.state == "inactive")
        try lab.settle()
        #expect(lab.live.isEmpty)

        // Labelled again soon: the old name is reserved until the deletion ends, so it is not reused.
        _ = try lab.pr("labeled", label: Self.cloud)
        #expect(lab.live.count == 1)
        r = try lab.pr("closed")
        #expect(r.json?["outcome"]?.string == "done", "\(r.stdout)")
        #expect(lab.sticky()?.contains("the pull request was closed") == true)
        #expect(lab.writes("DELETE", "/api/installation/").count == 2)
        // Closed again (redelivery) and a closed PR that never had a server: nothing happens.
        let before = (lab.gh.requests.filter { $0.method != "GET" }.count, lab.prov.requests.filter { $0.method != "GET" }.count)
        r = try lab.pr("closed")
        #expect(r.json?["outcome"]?.string == "ignored")
        try lab.gh.openPull(Self.full, title: "Other", author: "octo-contributor", head: "feature")
        r = try lab.pr("closed", 2)
        #expect(r.json?["outcome"]?.string == "ignored")
        #expect(lab.sticky(2) == nil)
        #expect((lab.gh.requests.filter { $0.method != "GET" }.count, lab.prov.requests.filter { $0.method != "GET" }.count) == before)
        #expect(lab.stickies.count == 1)
    }

    @Test func aFailedCreationRemovesTheLabelAndReaddingRetries() throws {
        let lab = try Lab()
        // No cluster carries the `multi-tenant` annotation the server asks for: it cannot be scheduled.
        lab.prov.clusters = [["dedicated"]]
        lab.extra["DEPLOY_OPS_WEBHOOK_URL"] = lab.noticesURL
        _ = try lab.pr("labeled", label: Self.cloud)
        let runs = try lab.settle()
        #expect(runs.last?.json?["outcome"]?.string == "done", "\(runs.map(\.stdout))")
        #expect(lab.sticky()?.contains("no cluster with room") == true, "\(lab.sticky() ?? "")")
        #expect(!lab.gh.labels(Self.full, issue: 1).contains(Self.cloud))
        #expect(lab.gh.deployments(Self.full).first?.statuses.last?.state == "failure")
        #expect(lab.notices.messages.count == 1 && lab.notices.messages.first?.text.contains("creation-no-compatible-clusters") == true,
                "\(lab.notices.messages.map(\.text))")
        // The failure redelivered changes nothing.
        let writes = lab.gh.requests.filter { $0.method != "GET" }.count
        _ = try lab.deliver(lab.prov.events.last!)
        #expect(lab.gh.requests.filter { $0.method != "GET" }.count == writes)
        // A cluster with room appears; re-adding the label retries the same installation.
        lab.prov.clusters = [["multi-tenant"]]
        let r = try lab.pr("labeled", label: Self.cloud)
        #expect(r.json?["message"]?.string?.contains("retrying") == true, "\(r.stdout)")
        #expect(lab.prov.all.count == 1)
        try lab.settle()
        #expect(lab.sticky()?.contains("is ready:") == true)
        #expect(lab.stickies.count == 1)
    }

    @Test func aFailedUpdateIsReportedAndTheNextPushRetries() throws {
        let lab = try Lab()
        _ = try lab.pr("labeled", label: Self.cloud)
        try lab.settle()
        lab.prov.failNextUpdate()
        try lab.gh.commit(Self.full, branch: "feature", files: ["src/e.txt": "e\n"], message: "Add e")
        _ = try lab.pr("synchronize")
        try lab.settle()
        #expect(lab.sticky()?.contains("could not be updated") == true, "\(lab.sticky() ?? "")")
        #expect(lab.gh.labels(Self.full, issue: 1).contains(Self.cloud), "an update failure keeps the label")
        // The next push updates again, from update-failed.
        try lab.gh.commit(Self.full, branch: "feature", files: ["src/f.txt": "f\n"], message: "Add f")
        let head = try #require(lab.gh.headSHA(Self.full, 1))
        let r = try lab.pr("synchronize")
        #expect(r.json?["message"]?.string?.contains("updating widgets-pr-1 to \(head.prefix(7))") == true, "\(r.stdout)")
        try lab.settle()
        #expect(lab.sticky()?.contains("was updated to version `\(head.prefix(7))`") == true, "\(lab.sticky() ?? "")")
        #expect(lab.stickies.count == 1)
    }

    @Test func outOfOrderAndUnknownEventsLeaveOneServerOrNone() throws {
        let lab = try Lab()
        // Unlabelled before the creation finished: deleted, and the late webhooks change nothing.
        _ = try lab.pr("labeled", label: Self.cloud)
        _ = try lab.pr("unlabeled", label: Self.cloud)
        let runs = try lab.settle()
        #expect(runs.allSatisfy { $0.json?["outcome"]?.string == "ignored" }, "\(runs.map(\.stdout))")
        #expect(lab.live.isEmpty)
        #expect(lab.stickies.count == 1)
        #expect(lab.sticky()?.contains("deleted") == true)
        // Two label deliveries racing: one server.
        let event = lab.gh.pullRequestEvent(Self.full, 1, action: "labeled", sender: "maint-mona", label: Self.cloud)
        lab.gh.updatePull(Self.full, 1) { $0.labels.append(Self.cloud) }
        let group = DispatchGroup()
        for _ in 0..<2 {
            group.enter()
            DispatchQueue.global().async { _ = try? lab.github("pull_request", event); group.leave() }
        }
        group.wait()
        #expect(lab.live.count == 1, "\(lab.prov.all.map { ($0.name, $0.state) })")
        // A webhook for an installation the provisioner does not know.
        let unknown = ProvisionerEmulator.Event(payload: ["event_id": "e1", "timestamp": 1, "id": "nosuchinstallation000000000", "type": "installation",
                                                          "new_state": "stable", "old_state": "creation-in-progress", "extra_data": [:]],
                                                headers: [("X-Provisioner-Token", Self.webhookToken)])
        let r = try lab.deliver(unknown)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.json?["outcome"]?.string == "ignored", "\(r.stdout)")
        #expect(lab.stickies.count == 1)
    }

    @Test func provisionerWebhooksNeedTheToken() throws {
        let lab = try Lab()
        _ = try lab.pr("labeled", label: Self.cloud)
        let stable = lab.prov.settle().last!
        for token in [String?.some("wrong-token"), nil] {
            let r = try lab.deliver(stable, token: .some(token))
            #expect(r.json?["status"]?.int == 401, "\(r.stdout)")
            #expect(!r.stdout.contains(Self.webhookToken) && !r.stderr.contains(Self.webhookToken))
        }
        #expect(lab.sticky()?.contains("✅") == false)
        // An HTTP mode without a configured token refuses.
        var env = lab.environment
        env["PROVISIONER_WEBHOOK_TOKEN"] = nil
        env["REQUEST_METHOD"] = "POST"; env["CONTENT_TYPE"] = "application/json"; env["CONTENT_LENGTH"] = "\(stable.body.count)"
        env["GATEWAY_INTERFACE"] = "CGI/1.1"
        let cgi = try Support.run("label-deploy", environment: env, stdin: stable.body)
        #expect(cgi.stdout.contains("Status: 500") && cgi.stdout.contains("PROVISIONER_WEBHOOK_TOKEN"), "\(cgi.stdout)")
        #expect(try lab.deliver(stable).json?["outcome"]?.string == "done")
    }

    /// The default label's profile, asking for accounts.
    static let accountsConfig = """
    defaults:
      deploy:
        labels:
          Setup Cloud Test Server:
            size: miniSingleton
            accounts: true
    """

    @Test func credentialsGoOnlyToThePrivateChannel() throws {
        let lab = try Lab(config: Self.accountsConfig)
        _ = try lab.pr("labeled", label: Self.cloud)
        // Nothing secret rides on the installation: the accounts are made once the server is up.
        #expect(lab.prov.all.first?.env.isEmpty == true)
        try lab.settle()
        // Spinwick's accounts through mmctl on the exec route (with --local): a system admin and a user in team pr1.
        let server = try #require(lab.prov.all.first)
        #expect(Set(server.users.keys) == ["sysadmin", "user-1"] && server.users["sysadmin"]?.admin == true && server.users["user-1"]?.admin == false)
        #expect(server.teams["pr1"] == ["sysadmin", "user-1"])
        #expect(lab.prov.commands.allSatisfy { $0.last == "--local" })
        let admin = try #require(server.users["sysadmin"]?.password), user = try #require(server.users["user-1"]?.password)
        #expect(admin.count == 32 && admin.allSatisfy(\.isHexDigit) && admin != user)
        #expect(lab.credentials.messages.count == 1)
        let delivered = try #require(lab.credentials.messages.first?.text)
        #expect(delivered.contains(admin) && delivered.contains(user) && delivered.contains("team `pr1`"), "\(delivered)")
        #expect(lab.accountsNote?.contains("were sent to the team's private channel") == true, "\(lab.accountsNote ?? "")")
        #expect(lab.sticky()?.contains("is ready") == true)
        let passwordsSent = lab.prov.commands.count
        for e in lab.prov.events { _ = try lab.deliver(e) }
        #expect(lab.credentials.messages.count == 1, "a replay must not post the login again")
        #expect(lab.prov.commands.count == passwordsSent, "a replay must not touch the accounts")
        // After an update, the creation's `stable` replayed late changes no password either.
        let creationStable = try #require(lab.prov.events.first { $0.payload["new_state"]?.string == "stable" })
        try lab.gh.commit(Self.full, branch: "feature", files: ["src/q.txt": "q\n"], message: "Add q")
        _ = try lab.pr("synchronize")
        try lab.settle()
        #expect(lab.sticky()?.contains("was updated") == true)
        _ = try lab.deliver(creationStable)
        #expect(lab.prov.commands.count == passwordsSent && lab.credentials.messages.count == 1)
        #expect(lab.accountsNote?.contains("were sent") == true)
        lab.assertNoSecretsReachedGitHub([admin, user])
        #expect(lab.notices.messages.isEmpty)
    }

    @Test func accountsSurviveALostExecAnswerAndNeedAPrivateChannel() throws {
        let yaml = Self.accountsConfig
        // The exec route's answer to the first account's creation is lost (504; the command ran on). The
        // provisioner does not redeliver webhooks: the server is announced, the accounts comment says
        // they are not made yet, and the next GitHub event (here the label added again) makes them,
        // re-keying the account that exists, with new passwords; only those are sent.
        let lab = try Lab(config: yaml)
        _ = try lab.pr("labeled", label: Self.cloud)
        let events = lab.prov.settle()
        lab.prov.failNextExec(504)
        let first = try lab.deliver(events.last!)
        #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
        #expect(lab.credentials.messages.isEmpty)
        #expect(lab.sticky()?.contains("is ready") == true)
        #expect(lab.accountsNote?.contains("could not be made yet") == true, "\(lab.accountsNote ?? "")")
        let retry = try lab.pr("labeled", label: Self.cloud)
        #expect(retry.status == 0 && retry.json?["outcome"]?.string == "done", "\(retry.stdout)\(retry.stderr)")
        #expect(lab.accountsNote?.contains("were sent") == true, "\(lab.accountsNote ?? "")")
        let server = try #require(lab.prov.all.first)
        #expect(lab.credentials.messages.count == 1)
        #expect(lab.credentials.messages.first?.text.contains(server.users["sysadmin"]!.password) == true)
        #expect(server.teams["pr1"] == ["sysadmin", "user-1"])
        // Without a private channel no account is made, and the PR says why.
        let bare = try Lab(config: yaml)
        bare.extra["DEPLOY_CREDENTIALS_WEBHOOK_URL"] = ""
        _ = try bare.pr("labeled", label: Self.cloud)
        try bare.settle()
        #expect(bare.prov.all.first?.users.isEmpty == true && bare.prov.commands.isEmpty)
        #expect(bare.accountsNote?.contains("no private channel is configured") == true, "\(bare.accountsNote ?? "")")
        #expect(bare.sticky()?.contains("is ready") == true)
    }

    @Test func chatCreateListConflictAndOwnership() throws {
        let lab = try Lab(config: "chat:\n  deploy:\n    latest: \"10.2.0\"\n    domain: cloud.example.com\n")
        var r = try lab.chat("deploy create my-test --version latest --env MM_FEATUREFLAGS_A=true")
        #expect(r.json?["response_type"]?.string == "ephemeral", "\(r.stdout)\(r.stderr)")
        #expect(r.json?["text"]?.string?.contains("Creating `my-test`") == true, "\(r.stdout)")
        let created = try #require(lab.prov.all.first)
        // The version an operator pinned `latest` to, checked in the registry and pinned to its digest.
        let digest = try #require(lab.registry.digest("mattermost/mattermost-enterprise-edition", tag: "10.2.0"))
        #expect(created.owner == "mattermost:u-alan" && created.version == digest && created.dns == "my-test.cloud.example.com")
        // The owner's name rides on the installation as a variable, not an annotation (which would keep
        // it from being scheduled), with the Cloud plugin's placement.
        #expect(created.env == ["MM_FEATUREFLAGS_A": "true", "SWITCHYARD_OWNER_NAME": "alan", "SWITCHYARD_TAG": "10.2.0"])
        #expect(created.annotations == ["multi-tenant"] && created.image == "mattermost/mattermost-enterprise-edition")
        #expect(created.affinity == "multitenant" && created.filestore == "bifrost")
        let post = try #require(lab.writes("POST", "/api/installations").first)
        #expect(post.body.contains("\"MM_FEATUREFLAGS_A\":{\"value\":\"true\"}"), "\(post.body)")
        // Ready: the owner is told through the notify webhook.
        try lab.settle()
        #expect(lab.notices.messages.count == 1)
        #expect(lab.notices.messages.first?.channel == "@alan")
        #expect(lab.notices.messages.first?.text.contains("https://my-test.cloud.example.com") == true)

        r = try lab.chat("deploy list")
        #expect(r.json?["text"]?.string?.contains("| `my-test` | stable | `10.2.0`") == true, "\(r.stdout)")
        r = try lab.chat("deploy list", user: "bea", userID: "u-bea")
        #expect(r.json?["text"]?.string?.contains("no test servers") == true)
        // Another user cannot see, change or delete it.
        for cmd in ["deploy info my-test", "deploy delete my-test", "deploy update my-test --version 9.0.0"] {
            r = try lab.chat(cmd, user: "bea", userID: "u-bea")
            #expect(r.json?["text"]?.string?.contains("You have no test server named `my-test`") == true, "\(cmd): \(r.stdout)")
        }
        #expect(lab.writes("DELETE", "/api").isEmpty && lab.writes("PUT", "/api").isEmpty)
        // The same name by someone else: taken.
        r = try lab.chat("deploy create my-test", user: "bea", userID: "u-bea")
        #expect(r.json?["text"]?.string?.contains("taken, or still reserved") == true, "\(r.stdout)")
        // Bad names and flags are explained.
        r = try lab.chat("deploy create My_Test")
        #expect(r.json?["text"]?.string?.contains("not a valid name") == true)
        r = try lab.chat("deploy create abc --colour red")
        #expect(r.json?["text"]?.string?.contains("unknown option `--colour`") == true)
        // Sizes come from a closed list; the provisioner would answer 400.
        r = try lab.chat("deploy create abc --size bogus")
        #expect(r.json?["text"]?.string?.contains("not a size you can pick") == true && r.json?["text"]?.string?.contains("`miniHA`") == true, "\(r.stdout)")
        #expect(lab.prov.all.count == 1)

        // Update clears one variable without touching the rest; never an empty map.
        r = try lab.chat("deploy update my-test --env B=2 --clear-env MM_FEATUREFLAGS_A")
        #expect(r.json?["text"]?.string?.contains("Updating") == true, "\(r.stdout)")
        #expect(lab.prov.all.first?.env == ["B": "2", "SWITCHYARD_OWNER_NAME": "alan", "SWITCHYARD_TAG": "10.2.0"])
        r = try lab.chat("deploy info my-test")
        #expect(r.json?["text"]?.string?.contains("`B`") == true && r.json?["text"]?.string?.contains("OWNER_NAME") == false, "\(r.stdout)")
        try lab.settle()
        // The owner deletes it; the name stays reserved, and a new create explains why it fails.
        r = try lab.chat("deploy delete my-test")
        #expect(r.json?["text"]?.string?.contains("Deleting `my-test`") == true)
        r = try lab.chat("deploy create my-test")
        #expect(r.json?["text"]?.string?.contains("stays reserved") == true || r.json?["text"]?.string?.contains("still reserved") == true, "\(r.stdout)")
        try lab.settle()
        #expect(lab.notices.messages.last?.text.contains("was deleted") == true, "\(lab.notices.messages.map(\.text))")
        r = try lab.chat("deploy frobnicate x")
        #expect(r.json?["text"]?.string?.contains("Unknown deploy command") == true)
        lab.assertNoSecretsReachedGitHub()
    }

    /// `/deploy …` in a PR comment, as the built binary receives it.
    func comment(_ lab: Lab, _ body: String, by user: String = "maint-mona", id: Int) throws -> Support.Run {
        try lab.github("issue_comment", try JSON.parse(Support.commentPayload(repo: Self.full, number: 1, body: body, user: user, commentID: id,
                                                                              association: user == "maint-mona" ? "COLLABORATOR" : "NONE")))
    }

    @Test func pullRequestCommentsCreateUpdateAndDeleteItsServer() throws {
        let lab = try Lab()
        // An outsider is told who may, and nothing is created.
        var r = try comment(lab, "/deploy create", by: "random-rita", id: 501)
        #expect(r.json?["outcome"]?.string == "rejected", "\(r.stdout)\(r.stderr)")
        #expect(lab.gh.comments(Self.full, issue: 1).contains { $0.body.contains("@random-rita only") })
        #expect(lab.prov.all.isEmpty)
        // Spinwick's flags: size and variables (single-dash spellings too); the label is added.
        r = try comment(lab, "/deploy create -size miniHA --env MM_FEATUREFLAGS_X=true,MM_A=1", id: 502)
        #expect(r.json?["outcome"]?.string == "done", "\(r.stdout)\(r.stderr)")
        let created = try #require(lab.prov.all.first)
        #expect(created.size == "miniHA" && created.env == ["MM_FEATUREFLAGS_X": "true", "MM_A": "1"], "\(created)")
        #expect(lab.gh.labels(Self.full, issue: 1).contains(Self.cloud))
        #expect(lab.sticky()?.contains("Creating `widgets-pr-1` (miniHA") == true, "\(lab.sticky() ?? "")")
        // The label Switchyard added comes back as an event from Switchyard: it changes nothing.
        r = try lab.github("pull_request", lab.gh.pullRequestEvent(Self.full, 1, action: "labeled", sender: "switchyard[bot]", label: Self.cloud))
        #expect(r.json?["outcome"]?.string == "ignored", "\(r.stdout)")
        #expect(lab.gh.labels(Self.full, issue: 1).contains(Self.cloud) && lab.prov.all.count == 1)
        // The same comment redelivered: one server.
        _ = try comment(lab, "/deploy create -size miniHA --env MM_FEATUREFLAGS_X=true,MM_A=1", id: 502)
        #expect(lab.prov.all.count == 1)
        try lab.settle()
        #expect(lab.sticky()?.contains("is ready") == true)
        // A push keeps the chosen size and variables: only the version moves.
        try lab.gh.commit(Self.full, branch: "feature", files: ["src/p.txt": "p\n"], message: "Add p")
        _ = try lab.pr("synchronize")
        try lab.settle()
        #expect(lab.prov.all.first?.size == "miniHA" && lab.prov.all.first?.env["MM_A"] == "1")
        // Update: a size and variables, one cleared.
        r = try comment(lab, "/deploy update --size miniSingleton --env MM_B=2 --clear-env MM_A", id: 503)
        #expect(r.json?["outcome"]?.string == "done", "\(r.stdout)\(r.stderr)")
        #expect(lab.prov.all.first?.size == "miniSingleton" && lab.prov.all.first?.env == ["MM_FEATUREFLAGS_X": "true", "MM_B": "2"])
        try lab.settle()
        #expect(lab.sticky()?.contains("was updated") == true, "\(lab.sticky() ?? "")")
        // Bad requests are explained on the PR.
        r = try comment(lab, "/deploy update --size huge", id: 504)
        #expect(r.json?["outcome"]?.string == "rejected" && r.json?["message"]?.string?.contains("not a size") == true, "\(r.stdout)")
        r = try comment(lab, "/deploy update --version 9.0.0", id: 505)
        #expect(r.json?["message"]?.string?.contains("runs this pull request's head") == true, "\(r.stdout)")
        // Delete: the server goes and the label with it.
        r = try comment(lab, "/deploy delete", id: 506)
        #expect(r.json?["outcome"]?.string == "done", "\(r.stdout)\(r.stderr)")
        #expect(!lab.gh.labels(Self.full, issue: 1).contains(Self.cloud))
        #expect(lab.live.isEmpty)
        #expect(lab.sticky()?.contains("@maint-mona asked for it") == true)
        lab.assertNoSecretsReachedGitHub()
    }

    @Test func chatMmctlAndDeletionLocks() throws {
        let lab = try Lab()
        _ = try lab.chat("deploy create tools")
        _ = try lab.chat("deploy create other")
        // Before the server is up, commands wait.
        var r = try lab.chat("deploy mmctl tools user list")
        #expect(r.json?["text"]?.string?.contains("commands run once it is stable") == true, "\(r.stdout)")
        try lab.settle()
        // mmctl's own flags pass through untouched, with --local added; the answer is a code block.
        r = try lab.chat("deploy mmctl tools version --format plain")
        #expect(r.json?["text"]?.string?.contains("Version:") == true && r.json?["text"]?.string?.contains("```") == true, "\(r.stdout)")
        #expect(lab.prov.commands.last == ["version", "--format", "plain", "--local"])
        r = try lab.chat("deploy mmcli tools version")
        #expect(r.json?["text"]?.string?.contains("mattermost version: done") == true, "\(r.stdout)")
        // A failing command says so; a 504 says the command runs on.
        r = try lab.chat("deploy mmctl tools frobnicate")
        #expect(r.json?["text"]?.string?.contains("failed in `tools`") == true, "\(r.stdout)")
        lab.prov.failNextExec(504)
        r = try lab.chat("deploy mmctl tools version")
        #expect(r.json?["text"]?.string?.contains("keeps running") == true, "\(r.stdout)")
        // Only the owner: someone else's command finds nothing and runs nothing.
        let before = lab.prov.commands.count
        r = try lab.chat("deploy mmctl tools user list", user: "bea", userID: "u-bea")
        #expect(r.json?["text"]?.string?.contains("no test server named `tools`") == true && lab.prov.commands.count == before)

        // Deletion locks: one per person by default; a locked server is not deleted.
        r = try lab.chat("deploy deletion-lock tools")
        #expect(r.json?["text"]?.string?.contains("locked against deletion") == true, "\(r.stdout)")
        #expect(lab.prov.all.first { $0.name == "tools" }?.deletionLocked == true)
        r = try lab.chat("deploy deletion-lock other")
        #expect(r.json?["text"]?.string?.contains("unlock one first") == true, "\(r.stdout)")
        r = try lab.chat("deploy list")
        #expect(r.json?["text"]?.string?.contains("`tools` 🔒") == true, "\(r.stdout)")
        r = try lab.chat("deploy delete tools")
        #expect(r.json?["text"]?.string?.contains("deletion-unlock tools") == true, "\(r.stdout)")
        #expect(lab.writes("DELETE", "/api").isEmpty)
        r = try lab.chat("deploy deletion-lock tools", user: "bea", userID: "u-bea")
        #expect(r.json?["text"]?.string?.contains("no test server named") == true)
        r = try lab.chat("deploy deletion-unlock tools")
        #expect(r.json?["text"]?.string?.contains("can be deleted again") == true)
        lab.prov.holdPendingDeletions = true
        r = try lab.chat("deploy delete tools")
        #expect(r.json?["text"]?.string?.contains("Deleting `tools`") == true, "\(r.stdout)")
        // The owner hears of the pending deletion and, once it expires, of the deletion; an automatic
        // clean-up (another actor_id) is told apart from the owner's own request.
        try lab.settle()
        lab.prov.holdPendingDeletions = false
        try lab.settle()
        let texts = lab.notices.messages.map(\.text)
        #expect(texts.contains { $0.contains("`tools` is pending deletion; its name stays reserved") }, "\(texts)")
        #expect(texts.contains { $0.contains("`tools` was deleted") })
        let other = try #require(lab.prov.all.first { $0.name == "other" })
        lab.prov.deleteAutomatically(other.id)
        lab.prov.holdPendingDeletions = true
        try lab.settle()
        #expect(lab.notices.messages.contains { $0.text.contains("`other` was moved to pending deletion by an automatic clean-up, not by you") },
                "\(lab.notices.messages.map(\.text))")
    }

    @Test func chatHibernateWakeAndFailedCreationAreReported() throws {
        let lab = try Lab()
        _ = try lab.chat("deploy create sleepy")
        try lab.settle()
        var r = try lab.chat("deploy hibernate sleepy")
        #expect(r.json?["text"]?.string?.contains("going to sleep") == true, "\(r.stdout)")
        try lab.settle()
        #expect(lab.notices.messages.last?.text.contains("hibernating") == true)
        r = try lab.chat("deploy wake-up sleepy")
        try lab.settle()
        #expect(lab.notices.messages.last?.text.contains("is awake") == true)
        lab.prov.failNextCreation()
        _ = try lab.chat("deploy create broken")
        try lab.settle()
        #expect(lab.notices.messages.last?.text.contains("could not be created") == true, "\(lab.notices.messages.map(\.text))")
    }
}

/// The other backend, the other image checks, provisioner auth, and the sample events.
@Suite("label-deploy backends and auth", .serialized)
struct LabelDeployBackendTests {
    typealias Lab = LabelDeployEndToEndTests.Lab
    let full = LabelDeployEndToEndTests.full
    let cloud = LabelDeployEndToEndTests.cloud

    @Test func actionsWorkflowPairReportsThroughDeployments() throws {
        let lab = try Lab(config: "defaults:\n  deploy:\n    backend: actions\n")
        var head = try #require(lab.gh.headSHA(full, 1))
        var r = try lab.pr("labeled", label: cloud)
        #expect(r.json?["outcome"]?.string == "done", "\(r.stdout)\(r.stderr)")
        var runs = lab.gh.workflowRuns(full)
        #expect(runs.count == 1 && runs[0].workflow == "deploy.yml")
        #expect(runs[0].inputs["environment"] == "pr-1" && runs[0].inputs["version"] == String(head.prefix(7)))
        #expect(lab.prov.requests.isEmpty)
        // The workflow reports success: the comment gets the URL.
        let event = lab.gh.reportDeployment(full, environment: "pr-1", sha: head, state: "success", url: "https://pr-1.preview.example.com",
                                            payload: ["version": .string(String(head.prefix(7)))])
        r = try lab.github("deployment_status", event)
        #expect(r.json?["outcome"]?.string == "done", "\(r.stdout)\(r.stderr)")
        #expect(lab.sticky()?.contains("is ready: [https://pr-1.preview.example.com]") == true, "\(lab.sticky() ?? "")")
        r = try lab.github("deployment_status", event)
        #expect(r.json?["outcome"]?.string == "ignored")
        // A push dispatches the deploy workflow again with the new version; a redelivered label does not.
        r = try lab.pr("labeled", label: cloud)
        #expect(lab.gh.workflowRuns(full).count == 1)
        try lab.gh.commit(full, branch: "feature", files: ["src/d.txt": "d\n"], message: "Add d")
        head = try #require(lab.gh.headSHA(full, 1))
        r = try lab.pr("synchronize")
        runs = lab.gh.workflowRuns(full)
        #expect(runs.count == 2 && runs[1].inputs["version"] == String(head.prefix(7)), "\(r.stdout)")
        // Closing dispatches the destroy workflow.
        r = try lab.pr("closed")
        runs = lab.gh.workflowRuns(full)
        #expect(runs.last?.workflow == "destroy.yml" && runs.last?.inputs["environment"] == "pr-1", "\(r.stdout)")
        #expect(lab.stickies.count == 1)
    }

    @Test func workflowAndCheckRunGateTheImage() throws {
        let lab = try Lab(config: "defaults:\n  deploy:\n    image-check:\n      workflow: docker.yml\n")
        let head = try #require(lab.gh.headSHA(full, 1))
        _ = try lab.pr("labeled", label: cloud)
        #expect(lab.prov.all.isEmpty)
        #expect(lab.sticky()?.contains("the `docker.yml` workflow passes") == true, "\(lab.sticky() ?? "")")
        // Another workflow finishing changes nothing; docker.yml finishing creates the server.
        var run: JSON = ["action": "completed", "workflow_run": ["id": 77, "name": "Lint", "path": ".github/workflows/lint.yml", "head_sha": .string(head),
                                                                 "status": "completed", "conclusion": "success", "pull_requests": [["number": 1]]],
                         "repository": ["full_name": .string(full), "name": "widgets", "owner": ["login": "acme"]], "installation": ["id": 4242]]
        var r = try lab.github("workflow_run", run)
        #expect(r.json?["outcome"]?.string == "ignored")
        run = ["action": "completed", "workflow_run": ["id": 78, "name": "Docker", "path": ".github/workflows/docker.yml", "head_sha": .string(head),
                                                       "status": "completed", "conclusion": "success", "pull_requests": [["number": 1]]],
               "repository": ["full_name": .string(full), "name": "widgets", "owner": ["login": "acme"]], "installation": ["id": 4242]]
        r = try lab.github("workflow_run", run)
        #expect(r.json?["outcome"]?.string == "done", "\(r.stdout)\(r.stderr)")
        #expect(lab.prov.all.count == 1)

        let checks = try Lab(config: "defaults:\n  deploy:\n    image-check:\n      check-run: build-image\n")
        let sha = try #require(checks.gh.headSHA(full, 1))
        _ = try checks.pr("labeled", label: cloud)
        #expect(checks.prov.all.isEmpty)
        r = try checks.github("check_run", checks.gh.completeCheckRun(full, sha: sha, name: "build-image", conclusion: "success", pulls: []))
        #expect(r.json?["outcome"]?.string == "done", "\(r.stdout)\(r.stderr)")
        #expect(checks.prov.all.count == 1)
        // Labelled again after the image exists: the readiness query finds the check run.
        _ = try checks.pr("unlabeled", label: cloud)
        _ = checks.prov.settle()
        _ = try checks.pr("labeled", label: cloud)
        #expect(checks.live.count == 1)
    }

    @Test func oauth2ClientCredentialsAreMintedOnceAndCached() throws {
        let lab = try Lab()
        let prov = ProvisionerEmulator(auth: .oauth2(clientID: "switchyard", clientSecret: "oauth-secret-91"))
        let url = try prov.start()
        defer { prov.stop() }
        lab.extra = ["PROVISIONER_URL": url, "PROVISIONER_API_KEY": "", "PROVISIONER_CLIENT_ID": "switchyard",
                     "PROVISIONER_CLIENT_SECRET": "oauth-secret-91", "SWITCHYARD_CACHE_DIR": NSTemporaryDirectory() + "oauth-cache-\(UUID().uuidString)"]
        var r = try lab.chat("deploy create first-one")
        #expect(r.json?["text"]?.string?.contains("Creating `first-one`") == true, "\(r.stdout)\(r.stderr)")
        r = try lab.chat("deploy list")
        #expect(r.json?["text"]?.string?.contains("first-one") == true, "\(r.stdout)")
        #expect(prov.tokensIssued == 1, "the access token is cached between invocations")
        #expect(!r.stdout.contains("oauth-secret-91") && !r.stderr.contains("oauth-secret-91"))
        // A wrong secret: a clear configuration error, not a crash.
        lab.extra["PROVISIONER_CLIENT_SECRET"] = "wrong"
        lab.extra["SWITCHYARD_CACHE_DIR"] = NSTemporaryDirectory() + "oauth-cache-\(UUID().uuidString)"
        r = try lab.chat("deploy list")
        #expect(r.json?["text"]?.string?.contains("refused the client credentials") == true, "\(r.stdout)")
        // A static bearer token.
        let bearer = ProvisionerEmulator(auth: .bearer("static-bearer-4411"))
        lab.extra = ["PROVISIONER_URL": try bearer.start(), "PROVISIONER_API_KEY": "", "PROVISIONER_TOKEN": "static-bearer-4411"]
        defer { bearer.stop() }
        r = try lab.chat("deploy list")
        #expect(r.json?["text"]?.string?.contains("no test servers") == true, "\(r.stdout)")
        lab.extra["PROVISIONER_TOKEN"] = "nope"
        r = try lab.chat("deploy list")
        #expect(r.json?["text"]?.string?.contains("refused the credentials") == true, "\(r.stdout)")
    }

    @Test func slashDispatchRoutesChatCommandsAndProvisionerWebhooks() throws {
        let lab = try Lab()
        var env = lab.environment
        env["SWITCHYARD_FUNCTIONS_DIR"] = Support.packageRoot + "/functions"
        func dispatch(_ stdin: [UInt8]) throws -> Support.Run { try Support.run("slash-dispatch", environment: env, stdin: stdin) }
        // The chat command reaches label-deploy and its answer comes back.
        let form = "command=%2Fswitchyard&text=deploy+create+routed&token=\(LabelDeployEndToEndTests.mattermostToken)&user_id=u-alan&user_name=alan&team_id=t1&channel_id=c1"
        var r = try dispatch(Array((["headers": ["content-type": "application/x-www-form-urlencoded"], "body": .string(form)] as JSON).encoded().utf8))
        #expect(r.json?["text"]?.string?.contains("Creating `routed`") == true, "\(r.stdout)\(r.stderr)")
        #expect(lab.prov.all.count == 1)
        // So does a provisioner webhook, verified by both.
        let stable = try #require(lab.prov.settle().last)
        var headers: [String: JSON] = ["content-type": "application/json"]
        for (k, v) in stable.headers { headers[k.lowercased()] = .string(v) }
        r = try dispatch(Array((["headers": .object(headers), "body": .string(String(decoding: stable.body, as: UTF8.self))] as JSON).encoded().utf8))
        #expect(r.json?["routed"]?.array?.contains("label-deploy") == true, "\(r.stdout)\(r.stderr)")
        #expect(lab.notices.messages.count == 1, "\(r.stdout)\(r.stderr)")
        headers["x-provisioner-token"] = "forged"
        r = try dispatch(Array((["headers": .object(headers), "body": .string(String(decoding: stable.body, as: UTF8.self))] as JSON).encoded().utf8))
        #expect(r.json?["status"]?.int == 401, "\(r.stdout)")
    }

    @Test func sampleEventsAreUnderstood() throws {
        let lab = try Lab()
        var env = lab.environment
        env["GITHUB_WEBHOOK_SECRET"] = nil
        env["PROVISIONER_WEBHOOK_TOKEN"] = nil
        for file in ["installation.stable", "installation.creation-failed", "installation.updated"] {
            let body = Array(FileManager.default.contents(atPath: Support.packageRoot + "/events/provisioner/\(file).json")!)
            let r = try Support.run("label-deploy", environment: env, stdin: body)
            #expect(r.json?["event"]?.string == "provisioner", "\(file): \(r.stdout)\(r.stderr)")
            #expect(r.json?["message"]?.string?.contains("unknown to the provisioner") == true, "\(file): \(r.stdout)")
        }
        for file in ["mattermost.deploy-create", "mattermost.deploy-list"] {
            let form = String(decoding: FileManager.default.contents(atPath: Support.packageRoot + "/events/chat/\(file).form")!, as: UTF8.self)
                .replacingOccurrences(of: "REPLACE_WITH_MATTERMOST_TOKEN", with: LabelDeployEndToEndTests.mattermostToken)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            let envelope: JSON = ["headers": ["content-type": "application/x-www-form-urlencoded"], "body": .string(form)]
            let r = try Support.run("label-deploy", environment: lab.environment, stdin: Array(envelope.encoded().utf8))
            #expect(r.json?["response_type"]?.string == "ephemeral", "\(file): \(r.stdout)\(r.stderr)")
        }
        #expect(lab.prov.all.count == 1)
    }

    // MARK: The Cloud plugin's create options, sharing, import and the operators' view

    @Test func chatCreateOptionsAreValidatedResolvedAndPinned() throws {
        let lab = try Lab(config: "chat:\n  deploy:\n    domain: cloud.example.com\n    scheduled-deletion-hours: 48\n")
        lab.extra["DEPLOY_LICENSES"] = #"{"e20": "E20-LICENCE-TEXT-7781", "enterprise": "ENT-LICENCE-TEXT-5512"}"#
        func text(_ r: Support.Run) -> String { r.json?["text"]?.string ?? r.stdout }
        // `latest`: the newest release (the pre-release skipped), pinned to the image's digest.
        var r = try lab.chat("deploy create newest --test-data --affinity isolated")
        #expect(text(r).contains("version `10.3.1`") && text(r).contains("enterprise licence"), "\(r.stdout)\(r.stderr)")
        let newest = try #require(lab.prov.all.first { $0.name == "newest" })
        #expect(newest.version == lab.registry.digest("mattermost/mattermost-enterprise-edition", tag: "10.3.1"))
        #expect(newest.env["SWITCHYARD_TAG"] == "10.3.1" && newest.env["SWITCHYARD_TEST_DATA"] == "true")
        #expect(newest.license == "ENT-LICENCE-TEXT-5512" && newest.affinity == "isolated")
        // Deleted automatically after the configured hours, as the provisioner schedules it.
        let hours48 = Int64(Date().timeIntervalSince1970 * 1000) + 48 * 3_600_000
        #expect(abs(newest.scheduledDeletion - hours48) < 120_000)
        #expect(text(r).contains("deleted automatically after 48 hours"))
        // The registry was asked as Docker Hub is: a 401 challenge, an anonymous pull token from its realm, then the manifest.
        let asked = lab.registry.requests
        #expect(asked.first?.method == "HEAD" && asked.first?.authorization == nil)
        #expect(asked.contains { $0.path == "/token" })
        #expect(asked.last?.method == "HEAD" && asked.last?.authorization?.hasPrefix("Bearer reg-token-") == true)
        // Another image from the allow-list, an explicit licence.
        r = try lab.chat("deploy create teamy --image mattermost/mattermost-team-edition --version 10.3.1 --license e20 --filestore aws-multitenant-s3")
        #expect(text(r).contains("Creating `teamy`"), "\(r.stdout)")
        #expect(lab.prov.all.first { $0.name == "teamy" }?.license == "E20-LICENCE-TEXT-7781")
        // Refusals, each saying why, none reaching the provisioner.
        let before = lab.prov.all.count
        for (cmd, why) in [("deploy create old --version 5.11.0", "older than 5.12.0"),
                           ("deploy create ghost --version 11.0.0", "not a tag of `mattermost/mattermost-enterprise-edition`"),
                           ("deploy create evil --image attacker/mattermost", "not among the images you can pick"),
                           ("deploy create pro --license professional", "no `professional` licence is configured"),
                           ("deploy create bogus --license e30", "not a licence"),
                           ("deploy create sss3 --license te --filestore aws-multitenant-s3", "needs an enterprise"),
                           ("deploy create dbdb --database oracle", "not among the databases you can pick"),
                           ("deploy create aff --affinity shared", "not among the affinities you can pick"),
                           ("deploy create sw --test-data=maybe", "on or off")] {
            r = try lab.chat(cmd)
            #expect(text(r).contains(why), "\(cmd): \(r.stdout)")
        }
        #expect(lab.prov.all.count == before)
        // Licence texts never reach a chat answer, a log line or GitHub.
        for run in [r] { #expect(!run.stdout.contains("LICENCE-TEXT") && !run.stderr.contains("LICENCE-TEXT")) }
        r = try lab.chat("deploy info newest")
        #expect(!text(r).contains("LICENCE-TEXT") && text(r).contains("`10.3.1`") && !text(r).contains("SWITCHYARD_"), "\(r.stdout)")
        // Update re-checks and re-pins; the tag follows.
        try lab.settle()
        r = try lab.chat("deploy update newest --version 10.2.0")
        #expect(text(r).contains("Updating"), "\(r.stdout)")
        let updated = try #require(lab.prov.all.first { $0.name == "newest" })
        #expect(updated.version == lab.registry.digest("mattermost/mattermost-enterprise-edition", tag: "10.2.0") && updated.env["SWITCHYARD_TAG"] == "10.2.0")
        r = try lab.chat("deploy update newest --env SWITCHYARD_SHARED=update")
        #expect(text(r).contains("Switchyard's own variable"), "\(r.stdout)")
        lab.assertNoSecretsReachedGitHub(["E20-LICENCE-TEXT-7781", "ENT-LICENCE-TEXT-5512"])
    }

    @Test func chatSharingImportStatusAndDeletedElsewhere() throws {
        let lab = try Lab(config: "chat:\n  deploy:\n    domain: cloud.example.com\n    latest: \"10.2.0\"\n    admins: [mattermost:u-ops]\n")
        func text(_ r: Support.Run) -> String { r.json?["text"]?.string ?? r.stdout }
        _ = try lab.chat("deploy create shared-one")
        try lab.settle()
        // Not shared yet: others neither see it nor change it.
        var r = try lab.chat("deploy list --shared-installations", user: "bea", userID: "u-bea")
        #expect(text(r).contains("Nobody shares"), "\(r.stdout)")
        r = try lab.chat("deploy update shared-one --shared-installation --env X=1", user: "bea", userID: "u-bea")
        #expect(text(r).contains("Nobody shares a server named `shared-one`"), "\(r.stdout)")
        // Shared read-only, then with updates.
        r = try lab.chat("deploy share shared-one")
        #expect(text(r).contains("is shared"), "\(r.stdout)")
        try lab.settle()
        r = try lab.chat("deploy list --shared-installations", user: "bea", userID: "u-bea")
        #expect(text(r).contains("`shared-one`") && text(r).contains("@alan") && text(r).contains("| no |"), "\(r.stdout)")
        r = try lab.chat("deploy update shared-one --shared-installation --env X=1", user: "bea", userID: "u-bea")
        #expect(text(r).contains("Nobody shares"), "\(r.stdout)")
        _ = try lab.chat("deploy share shared-one --allow-updates")
        try lab.settle()
        let noticesBefore = lab.notices.messages.count
        r = try lab.chat("deploy update shared-one --shared-installation --env X=1", user: "bea", userID: "u-bea")
        #expect(text(r).contains("Updating `shared-one`"), "\(r.stdout)")
        #expect(lab.prov.all.first?.env["X"] == "1")
        #expect(lab.notices.messages.dropFirst(noticesBefore).contains { $0.text.contains("@bea is updating `shared-one`") && $0.channel == "@alan" })
        // Sharing never lets anyone else delete, hibernate or re-share it.
        for cmd in ["deploy delete shared-one --shared-installation", "deploy delete shared-one", "deploy unshare shared-one"] {
            r = try lab.chat(cmd, user: "bea", userID: "u-bea")
            #expect(text(r).contains("goes with `update` and `restart` only") || text(r).contains("You have no test server named"), "\(cmd): \(r.stdout)")
        }
        try lab.settle()
        _ = try lab.chat("deploy unshare shared-one")
        try lab.settle()
        r = try lab.chat("deploy restart shared-one --shared-installation", user: "bea", userID: "u-bea")
        #expect(text(r).contains("Nobody shares"), "\(r.stdout)")

        // Import: a server the Cloud plugin made for bea (owner = her Mattermost user id) is hers to adopt.
        let plugin = lab.prov.seed(owner: "u-bea", name: "from-plugin", dns: "from-plugin.cloud.example.com")
        r = try lab.chat("deploy import https://from-plugin.cloud.example.com/login", user: "bea", userID: "u-bea")
        #expect(text(r).contains("is yours now"), "\(r.stdout)")
        #expect(lab.prov.all.first { $0.id == plugin }?.owner == "mattermost:u-bea")
        // Someone else's, or another Switchyard user's: refused, even to an operator.
        let foreign = lab.prov.seed(owner: "someone-else", name: "foreign", dns: "foreign.cloud.example.com")
        r = try lab.chat("deploy import foreign.cloud.example.com")
        #expect(text(r).contains("Only operators"), "\(r.stdout)")
        r = try lab.chat("deploy import shared-one.cloud.example.com", user: "ops", userID: "u-ops")
        #expect(text(r).contains("belongs to someone else"), "\(r.stdout)")
        r = try lab.chat("deploy import foreign.cloud.example.com", user: "ops", userID: "u-ops")
        #expect(text(r).contains("is yours now"), "\(r.stdout)")
        #expect(lab.prov.all.first { $0.id == foreign }?.owner == "mattermost:u-ops")

        // The operators' view: every installation; nobody else's.
        r = try lab.chat("deploy status", user: "ops", userID: "u-ops")
        #expect(text(r).contains("`shared-one`") && text(r).contains("`from-plugin`") && text(r).contains("mattermost u-alan"), "\(r.stdout)")
        r = try lab.chat("deploy status")
        #expect(text(r).contains("for the operators"), "\(r.stdout)")

        // Deleted elsewhere: shown once as deleted (for a day), not as a live server.
        let id = try #require(lab.prov.all.first { $0.name == "shared-one" }?.id)
        lab.prov.deleteAutomatically(id)
        try lab.settle()
        r = try lab.chat("deploy list")
        #expect(text(r).contains("`shared-one`") && text(r).contains("**deleted**") && !text(r).contains("https://shared-one"), "\(r.stdout)")
    }

    @Test func chatServersComeReadyWithLoginsForTheirOwnerAloneAndSampleData() throws {
        let lab = try Lab(config: "chat:\n  deploy:\n    domain: cloud.example.com\n    latest: \"10.2.0\"\n")
        var r = try lab.chat("deploy create ready-one --test-data")
        #expect(r.json?["text"]?.string?.contains("Creating") == true, "\(r.stdout)")
        let runs = try lab.settle()
        let ready = try #require(lab.notices.messages.last)
        #expect(ready.channel == "@alan" && ready.text.contains("is ready: https://ready-one.cloud.example.com"), "\(ready)")
        let server = try #require(lab.prov.all.first { $0.name == "ready-one" })
        let admin = try #require(server.users["admin"]), user = try #require(server.users["user"])
        #expect(admin.admin && !user.admin)
        #expect(ready.text.contains("| `admin` | `\(admin.password)` | system admin |") && ready.text.contains("| `user` | `\(user.password)` |"))
        #expect(lab.prov.commands.contains(["sampledata", "--local"]) && ready.text.contains("Sample data is loaded"))
        // The passwords went to the owner's direct message only: not in any output, log or GitHub request.
        for run in runs { #expect(!run.stdout.contains(admin.password) && !run.stderr.contains(admin.password) && !run.stdout.contains(user.password)) }
        lab.assertNoSecretsReachedGitHub([admin.password, user.password])

        // The same "ready" delivered again, late: the passwords in use are not changed.
        let stable = try #require(lab.prov.all.first { $0.name == "ready-one" })
        let replay: JSON = ["headers": ["content-type": "application/json", "x-provisioner-token": .string(LabelDeployEndToEndTests.webhookToken)],
                            "body": .string(String(decoding: (["id": .string(stable.id), "type": "installation", "new_state": "stable", "old_state": "creation-in-progress",
                                                               "event_id": "late-1", "timestamp": 1, "extra_data": ["Name": "ready-one"]] as JSON).encoded().utf8, as: UTF8.self))]
        r = try Support.run("label-deploy", environment: lab.environment, stdin: Array(replay.encoded().utf8))
        #expect(lab.prov.all.first { $0.name == "ready-one" }?.users["admin"]?.password == admin.password, "\(r.stdout)")
        #expect(lab.notices.messages.last?.text.contains("were sent when it first came up") == true)
        // Names of pull requests' servers are not for chat.
        r = try lab.chat("deploy create widgets-pr-7")
        #expect(r.json?["text"]?.string?.contains("kept for pull requests") == true, "\(r.stdout)")
        // A Slack owner: the hook posts to a channel, so no logins are made and the notice says how.
        r = try lab.slack("deploy create slacky")
        #expect(r.json?["text"]?.string?.contains("Creating `slacky`") == true, "\(r.stdout)\(r.stderr)")
        try lab.settle()
        let slack = try #require(lab.notices.messages.last)
        #expect(slack.text.hasPrefix("<@U77> ✅") && slack.text.contains("No logins were made") && slack.channel == nil, "\(slack)")
        #expect(lab.prov.all.first { $0.name == "slacky" }?.users.isEmpty == true)

        // mmctl failing: the server is still announced, and the notice says how to make a login.
        _ = try lab.chat("deploy create flaky-one")
        lab.prov.failNextExec(500)
        try lab.settle()
        let flaky = try #require(lab.notices.messages.last)
        #expect(flaky.text.contains("is ready") && flaky.text.contains("could not be made"), "\(flaky)")
    }

    @Test func theReconcileScheduleAppliesMissedEventsReportsStuckCreationsAndWarnsBeforeScheduledDeletion() throws {
        let lab = try Lab(config: "defaults:\n  deploy:\n    domain: test.example.com\nchat:\n  deploy:\n    domain: cloud.example.com\n    latest: \"10.2.0\"\n    scheduled-deletion-hours: 48\n    deletion-warning-hours: 24\n    reconcile-minutes: 60\n")
        lab.extra["DEPLOY_OPS_WEBHOOK_URL"] = lab.noticesURL
        let reconcile: JSON = ["schedule": "deploy-reconcile"]
        // A PR server whose webhooks were lost: the provisioner settles, nobody is told.
        _ = try lab.pr("labeled", label: LabelDeployEndToEndTests.cloud)
        lab.prov.settle()
        #expect(lab.sticky()?.contains("Creating") == true)
        var r = try lab.github("schedule", reconcile)
        #expect(r.json?["outcome"]?.string == "done", "\(r.stdout)\(r.stderr)")
        #expect(lab.sticky()?.contains("is ready") == true, "\(lab.sticky() ?? "")")
        r = try lab.github("schedule", reconcile)
        #expect(r.json?["outcome"]?.string == "ignored", "\(r.stdout)")

        // A creation the provisioner never finishes: said once on the PR and to the operators, after an hour.
        try lab.gh.commit(LabelDeployEndToEndTests.full, branch: "second", files: ["s.txt": "s\n"], message: "s")
        let n = try lab.gh.openPull(LabelDeployEndToEndTests.full, title: "Second", author: "octo-contributor", head: "second")
        lab.prov.holdCreations(true)
        _ = try lab.pr("labeled", n, label: LabelDeployEndToEndTests.cloud)
        lab.prov.settle()
        let stuck = try #require(lab.prov.all.first { $0.state == "creation-in-progress" })
        r = try lab.github("schedule", reconcile)
        #expect(!lab.gh.comments(LabelDeployEndToEndTests.full, issue: n).contains { $0.body.contains("longer than a test server takes") })
        lab.prov.backdate(stuck.id, minutes: 90)
        let opsBefore = lab.notices.messages.count
        r = try lab.github("schedule", reconcile)
        #expect(lab.gh.comments(LabelDeployEndToEndTests.full, issue: n).filter { $0.body.contains("longer than a test server takes") }.count == 1, "\(r.stdout)")
        #expect(lab.notices.messages.dropFirst(opsBefore).contains { $0.text.contains("still creation-in-progress") })
        _ = try lab.github("schedule", reconcile)
        #expect(lab.gh.comments(LabelDeployEndToEndTests.full, issue: n).filter { $0.body.contains("longer than a test server takes") }.count == 1)
        lab.prov.holdCreations(false)

        // A chat server due for deletion in 48 hours: one warning in the run a day before, none after.
        _ = try lab.chat("deploy create doomed")
        _ = try lab.chat("deploy create keeper")
        try lab.settle()
        _ = try lab.chat("deploy deletion-lock keeper")
        for name in ["doomed", "keeper"] { lab.prov.backdate(try #require(lab.prov.all.first { $0.name == name }).id, minutes: 24 * 60 + 30) }
        let before = lab.notices.messages.count
        r = try lab.github("schedule", reconcile)
        let warnings = lab.notices.messages.dropFirst(before).filter { $0.text.contains("deleted automatically") }
        #expect(warnings.count == 1 && warnings.first?.text.contains("`doomed`") == true && warnings.first?.channel == "@alan", "\(warnings) \(r.stdout)")
        for name in ["doomed", "keeper"] { lab.prov.backdate(try #require(lab.prov.all.first { $0.name == name }).id, minutes: 60) }
        _ = try lab.github("schedule", reconcile)
        #expect(lab.notices.messages.dropFirst(before).filter { $0.text.contains("deleted automatically") }.count == 1)
        // The provisioner deletes it when the time comes; the owner hears it was not their doing.
        lab.prov.holdPendingDeletions = true
        lab.prov.runScheduledDeletions(now: Int64(Date().timeIntervalSince1970 * 1000) + 49 * 3_600_000)
        try lab.settle()
        #expect(lab.notices.messages.contains { $0.text.contains("`doomed`") && $0.text.contains("automatic clean-up") })
        #expect(lab.prov.all.first { $0.name == "keeper" }?.state == "stable")
    }

    @Test func theAllowedEmailDomainGateIsEveryFunctionsOwnAndFailsClosed() throws {
        let lab = try Lab(config: "chat:\n  allowed-email-domains: [example.com]\n  deploy:\n    domain: cloud.example.com\n    latest: \"10.2.0\"\n")
        let directory = ChatDirectoryEmulator(mattermostToken: "mm-bot-token-9021", slackToken: "xoxb-slack-bot-4410")
        let directoryURL = try directory.start()
        defer { directory.stop() }
        directory.add(userID: "u-alan", email: "alan@example.com")
        directory.add(userID: "u-bea", email: "bea@elsewhere.org")
        directory.add(userID: "U77", email: "sam@EXAMPLE.com")
        func text(_ r: Support.Run) -> String { r.json?["text"]?.string ?? r.stdout }
        // Without a bot token the address cannot be known: closed.
        var r = try lab.chat("deploy list")
        #expect(text(r).contains("could not read your e-mail address"), "\(r.stdout)")
        lab.extra["MATTERMOST_URL"] = directoryURL
        lab.extra["MATTERMOST_BOT_TOKEN"] = "mm-bot-token-9021"
        r = try lab.chat("deploy list")
        #expect(text(r).contains("no test servers"), "\(r.stdout)\(r.stderr)")
        r = try lab.chat("deploy create sneaky", user: "bea", userID: "u-bea")
        #expect(text(r).contains("only for accounts with an e-mail address at `example.com`"), "\(r.stdout)")
        #expect(lab.prov.all.isEmpty)
        // Slack, looked up with the bot token.
        lab.extra["SLACK_BOT_TOKEN"] = "xoxb-slack-bot-4410"
        lab.extra["SLACK_API_URL"] = directoryURL + "/api"
        r = try lab.slack("deploy list")
        #expect(text(r).contains("no test servers"), "\(r.stdout)\(r.stderr)")
        #expect(directory.requests.contains("/api/users.info"))
        for run in [r] { #expect(!run.stdout.contains("xoxb-slack-bot-4410") && !run.stderr.contains("mm-bot-token-9021")) }
    }

    @Test func e2eLabelMakesServersAndE2ETriggerRunsOnThemThenTheyGo() throws {
        let lab = try Lab(config: "defaults:\n  deploy:\n    domain: test.example.com\n    e2e:\n      label: E2E/Run\n      sites: [site-1, site-2]\n      max-age-hours: 24\n  e2e:\n    workflow: e2e.yml\n    label: E2E/Run\n")
        let full = LabelDeployEndToEndTests.full
        func e2eTrigger(_ event: String, _ payload: JSON) throws -> Support.Run {
            try Support.run("e2e-trigger", environment: lab.environment,
                            stdin: Support.envelope(event: event, body: Array(payload.encoded().utf8), secret: LabelDeployEndToEndTests.secret))
        }
        // The label: label-deploy asks for one server per site, at the newest release; e2e-trigger waits for them.
        var r = try lab.pr("labeled", label: "E2E/Run")
        #expect(r.json?["outcome"]?.string == "done", "\(r.stdout)\(r.stderr)")
        let servers = lab.prov.all.filter { $0.owner.hasPrefix("github.com/acme/widgets/pull/1/e2e/") }
        #expect(Set(servers.map(\.name)) == ["widgets-pr-1-site-1", "widgets-pr-1-site-2"] && servers.allSatisfy { $0.version == "10.3.1" })
        #expect(servers.first?.priorityEnv["MM_SERVICEENVIRONMENT"] == "test")
        r = try e2eTrigger("pull_request", lab.gh.pullRequestEvent(full, 1, action: "labeled", sender: "maint-mona", label: "E2E/Run"))
        #expect(r.json?["outcome"]?.string == "ignored" && lab.gh.workflowRuns(full).isEmpty, "\(r.stdout)")
        // Stable, one after the other: the hand-over is a deployment whose payload names them.
        try lab.settle()
        let deployment = try #require(lab.gh.deployments(full).last { $0.environment == "e2e-pr-1" })
        #expect(deployment.payload["servers"]?["site-2"]?.string == "https://widgets-pr-1-site-2.test.example.com")
        #expect(deployment.statuses.last?.state == "success")
        #expect(lab.gh.deployments(full).filter { $0.environment == "e2e-pr-1" }.count == 1)
        let handOver = lab.gh.deploymentStatusEvent(full, id: deployment.id)
        r = try e2eTrigger("deployment_status", handOver)
        #expect(r.json?["outcome"]?.string == "done", "\(r.stdout)\(r.stderr)")
        let run = try #require(lab.gh.workflowRuns(full).first)
        #expect(run.inputs["SITE_1_URL"] == "https://widgets-pr-1-site-1.test.example.com" && run.inputs["SITE_2_URL"] != nil)
        #expect(run.inputs["pr_number"] == "1")
        // Replayed, or forged by someone who is not Switchyard: no second run.
        r = try e2eTrigger("deployment_status", handOver)
        var forged = handOver
        if case .object(var o) = forged, case .object(var dep)? = o["deployment"] { dep["creator"] = ["login": "maint-mona", "type": "User"]; o["deployment"] = .object(dep); forged = .object(o) }
        r = try e2eTrigger("deployment_status", forged)
        #expect(r.json?["message"]?.string?.contains("not made by Switchyard") == true, "\(r.stdout)")
        #expect(lab.gh.workflowRuns(full).count == 1)
        // A `/e2e-test` comment runs on the same servers.
        let id = lab.gh.addComment(full, issue: 1, user: "maint-mona", body: "/e2e-test")
        _ = lab.gh.completeRun(run.id, conclusion: "success")
        r = try e2eTrigger("issue_comment", lab.gh.commentEvent(full, commentID: id))
        #expect(r.json?["outcome"]?.string == "done", "\(r.stdout)\(r.stderr)")
        #expect(lab.gh.workflowRuns(full).last?.inputs["SITE_2_URL"] == "https://widgets-pr-1-site-2.test.example.com")
        // The label goes: every site is deleted, the environment is inactive.
        r = try lab.pr("unlabeled", label: "E2E/Run")
        #expect(r.json?["outcome"]?.string == "done", "\(r.stdout)")
        try lab.settle()
        #expect(lab.prov.all.filter { $0.owner.contains("/e2e/") }.allSatisfy { $0.state == "deleted" })
        #expect(lab.gh.deployments(full).last { $0.environment == "e2e-pr-1" }?.statuses.last?.state == "inactive")
        // A late delivery of the old hand-over starts nothing: the label is gone and the deployment inactive.
        let runsBefore = lab.gh.workflowRuns(full).count
        r = try e2eTrigger("deployment_status", handOver)
        #expect(r.json?["outcome"]?.string == "ignored" && lab.gh.workflowRuns(full).count == runsBefore, "\(r.stdout)")
        // Asked again and forgotten: the reconcile schedule deletes servers past their age.
        _ = try lab.pr("labeled", label: "E2E/Run")
        try lab.settle()
        for s in lab.prov.all where s.owner.contains("/e2e/") && s.state == "stable" { lab.prov.backdate(s.id, minutes: 25 * 60) }
        r = try lab.github("schedule", ["schedule": "deploy-reconcile"])
        try lab.settle()
        #expect(lab.prov.all.filter { $0.owner.contains("/e2e/") }.allSatisfy { $0.state == "deleted" }, "\(r.stdout)")
    }

    @Test func aPullRequestServerWaitsForItsImageInTheRegistryAsSpinwickDoes() throws {
        let lab = try Lab(config: "defaults:\n  deploy:\n    domain: test.example.com\n    image-check: registry\n")
        let full = LabelDeployEndToEndTests.full
        let sha7 = String(try #require(lab.gh.headSHA(full, 1)).prefix(7))
        var r = try lab.pr("labeled", label: LabelDeployEndToEndTests.cloud)
        #expect(r.json?["message"]?.string?.contains("waiting for the image") == true, "\(r.stdout)\(r.stderr)")
        #expect(lab.prov.all.isEmpty && lab.sticky()?.contains("the registry has it") == true)
        // A reconcile run before the image exists changes nothing; after it is pushed, the server is made.
        let reconcile: JSON = ["schedule": "deploy-reconcile", "repository": .string(full)]
        _ = try lab.github("schedule", reconcile)
        #expect(lab.prov.all.isEmpty)
        lab.registry.add("mattermostdevelopment/mattermost-enterprise-edition", tag: sha7)
        r = try lab.github("schedule", reconcile)
        #expect(r.json?["outcome"]?.string == "done", "\(r.stdout)\(r.stderr)")
        #expect(lab.prov.all.first?.version == sha7 && lab.sticky()?.contains("Creating") == true)
    }
}
