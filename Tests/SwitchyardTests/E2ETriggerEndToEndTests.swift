import Foundation
import Testing
import SwitchyardCore
import SwitchyardTesting
import SwitchyardRuntime

/// The built `e2e-trigger` against the GitHub emulator (Actions routes) and a GitLab emulator.
@Suite("e2e-trigger end to end", .serialized)
struct E2ETriggerEndToEndTests {
    let secret = "e2e-secret"
    let full = "acme/widgets"

    func config(_ e2e: String) throws -> String {
        try Support.writeConfig("defaults:\n  e2e:\n\(e2e)")
    }

    func run(_ gh: GitHubEmulator, _ url: String, _ event: String, _ payload: JSON, config: String, extra: [String: String] = [:],
             headers: [String: String] = [:]) throws -> Support.Run {
        var env = ["GITHUB_API_URL": url, "GITHUB_TOKEN": Support.token(of: gh), "GITHUB_WEBHOOK_SECRET": secret, "SWITCHYARD_CONFIG": config]
        for (k, v) in extra { env[k] = v }
        return try Support.run("e2e-trigger", environment: env,
                               stdin: Support.envelope(event: event, body: Array(payload.encoded().utf8), secret: secret, extraHeaders: headers))
    }

    func comment(_ gh: GitHubEmulator, _ body: String, by user: String = "maint-mona") -> JSON {
        gh.commentEvent(full, commentID: gh.addComment(full, issue: 1, user: user, body: body))
    }

    func stickies(_ gh: GitHubEmulator) -> [String] {
        gh.comments(full, issue: 1).filter { $0.user == "switchyard[bot]" && $0.body.contains("e2e-trigger:status") }.map(\.body)
    }

    func e2eStatus(_ gh: GitHubEmulator, _ sha: String) -> String? {
        gh.statuses(full, sha: sha).filter { $0.context == "e2e/switchyard" }.last?.state
    }

    @Test func actionsLifecycleWithOneStickyComment() throws {
        let (gh, url) = try Support.world()
        let cfg = try config("    workflow: e2e.yml\n    inputs: [BROWSER, SUITE]\n")
        let head = try #require(gh.headSHA(full, 1))

        // Start with options.
        var r = try run(gh, url, "issue_comment", comment(gh, "/e2e-test BROWSER=firefox"), config: cfg)
        #expect(r.json?["outcome"]?.string == "done", "\(r.stdout)\(r.stderr)")
        var runs = gh.workflowRuns(full)
        #expect(runs.count == 1)
        #expect(runs[0].inputs == ["pr_number": "1", "head_sha": head, "head_repo": full, "head_ref": "feature", "BROWSER": "firefox"])
        #expect(runs[0].ref == "main")
        #expect(e2eStatus(gh, head) == "pending")

        // A bad option.
        r = try run(gh, url, "issue_comment", comment(gh, "/e2e-test FOO"), config: cfg)
        #expect(r.json?["outcome"]?.string == "rejected")
        #expect(gh.comments(full, issue: 1).last?.body.contains("`BROWSER=…`, `SUITE=…`") == true)
        r = try run(gh, url, "issue_comment", comment(gh, "/e2e-test COLOUR=red"), config: cfg)
        #expect(gh.comments(full, issue: 1).last?.body.contains("not an input") == true)

        // A duplicate.
        r = try run(gh, url, "issue_comment", comment(gh, "/e2e-test BROWSER=firefox"), config: cfg)
        #expect(r.json?["outcome"]?.string == "ignored")
        #expect(gh.comments(full, issue: 1).last?.body.contains("already going") == true)
        #expect(gh.workflowRuns(full).count == 1)

        // The run completes; replaying the completion changes nothing.
        let done = gh.completeRun(runs[0].id, conclusion: "success")
        r = try run(gh, url, "workflow_run", done, config: cfg)
        #expect(r.json?["outcome"]?.string == "done", "\(r.stdout)")
        #expect(e2eStatus(gh, head) == "success")
        let count = gh.statuses(full, sha: head).count
        r = try run(gh, url, "workflow_run", done, config: cfg)
        #expect(r.json?["outcome"]?.string == "ignored")
        #expect(gh.statuses(full, sha: head).count == count)

        // Start again, then cancel it; cancel again with nothing running.
        r = try run(gh, url, "issue_comment", comment(gh, "/e2e-test SUITE=smoke"), config: cfg)
        runs = gh.workflowRuns(full)
        #expect(runs.count == 2)
        r = try run(gh, url, "issue_comment", comment(gh, "/e2e-cancel"), config: cfg)
        #expect(r.json?["message"]?.string?.contains("cancelled run \(runs[1].id)") == true, "\(r.stdout)")
        #expect(gh.workflowRuns(full).last?.conclusion == "cancelled")
        r = try run(gh, url, "issue_comment", comment(gh, "/e2e-cancel"), config: cfg)
        #expect(gh.comments(full, issue: 1).last?.body.contains("nothing was running") == true)

        // A push cancels the old run (and leaves the new head alone).
        r = try run(gh, url, "issue_comment", comment(gh, "/e2e-test"), config: cfg)
        try gh.commit(full, branch: "feature", files: ["push.txt": "p\n"], message: "push")
        r = try run(gh, url, "pull_request", gh.pullRequestEvent(full, 1, action: "synchronize"), config: cfg)
        #expect(r.json?["message"]?.string?.contains("cancelled") == true, "\(r.stdout)")
        #expect(gh.workflowRuns(full).last?.conclusion == "cancelled")

        #expect(stickies(gh).count == 1)
        #expect(stickies(gh)[0].contains("new commits were pushed"))
        #expect(gh.contractViolations.isEmpty, "\(gh.contractViolations)")
    }

    @Test func permissionAndTheGuard() throws {
        let (gh, url) = try Support.world()
        let cfg = try config("    guard: checks\n")
        var r = try run(gh, url, "issue_comment", comment(gh, "/e2e-test", by: "random-rita"), config: cfg)
        #expect(r.status == 3)
        #expect(gh.workflowRuns(full).isEmpty)
        let head = try #require(gh.headSHA(full, 1))
        gh.addStatus(full, sha: head, state: "failure", context: "ci/lint")
        r = try run(gh, url, "issue_comment", comment(gh, "/e2e-test"), config: cfg)
        #expect(r.json?["outcome"]?.string == "rejected")
        #expect(gh.comments(full, issue: 1).last?.body.contains("`ci/lint`") == true)
        #expect(gh.workflowRuns(full).isEmpty)
        gh.addStatus(full, sha: head, state: "success", context: "ci/lint")
        r = try run(gh, url, "issue_comment", comment(gh, "/e2e-test"), config: cfg)
        #expect(gh.workflowRuns(full).count == 1)
    }

    @Test func olderGitHubEnterpriseWithoutRunDetails() throws {
        let (gh, url) = try Support.world()
        gh.setSupportsRunDetails(false)
        let r = try run(gh, url, "issue_comment", comment(gh, "/e2e-test"), config: try config("    workflow: e2e.yml\n"))
        #expect(r.json?["outcome"]?.string == "done", "\(r.stdout)")
        let runID = try #require(gh.workflowRuns(full).first?.id)
        #expect(stickies(gh).first?.contains("run \(runID)") == true)
        #expect(gh.requests.filter { $0.path.hasSuffix("/dispatches") }.map(\.status) == [422, 204])
    }

    @Test func gitLabPipelines() throws {
        let (gh, url) = try Support.world()
        let lab = GitLabEmulator(token: "glpat-test")
        let labURL = try lab.start()
        defer { lab.stop() }
        lab.addBranch(project: "acme/enterprise", "feature")
        let cfg = try config("    backend: gitlab\n    inputs: [SUITE]\n    gitlab:\n      project: acme/widgets-ci\n      companion: { project: acme/enterprise, variable: EE_BRANCH }\n")
        let extra = ["GITLAB_URL": labURL, "GITLAB_TOKEN": "glpat-test", "GITLAB_WEBHOOK_TOKEN": "hook-token"]
        var r = try run(gh, url, "issue_comment", comment(gh, "/e2e-test SUITE=full"), config: cfg, extra: extra)
        #expect(r.json?["outcome"]?.string == "done", "\(r.stdout)\(r.stderr)")
        let pipeline = try #require(lab.all.first)
        #expect(pipeline.ref == "main")
        #expect(pipeline.variables["PR_NUMBER"] == "1")
        #expect(pipeline.variables["SUITE"] == "full")
        #expect(pipeline.variables["EE_BRANCH"] != nil)

        // The pipeline hook, verified by its token.
        let hook = lab.finish(pipeline.id, status: "failed")
        let forged = try Support.run("e2e-trigger", environment: ["GITLAB_WEBHOOK_TOKEN": "hook-token", "GITHUB_API_URL": url,
                                                                  "GITHUB_WEBHOOK_SECRET": secret, "SWITCHYARD_CONFIG": cfg],
                                     stdin: Array((["headers": ["content-type": "application/json", "x-gitlab-event": "Pipeline Hook",
                                                                "x-gitlab-token": "wrong"], "body": .string(hook.encoded())] as JSON).encoded().utf8))
        #expect(forged.json?["status"]?.int == 401)
        r = try Support.run("e2e-trigger", environment: ["GITLAB_WEBHOOK_TOKEN": "hook-token", "GITHUB_API_URL": url, "GITHUB_TOKEN": Support.token(of: gh),
                                                         "GITHUB_WEBHOOK_SECRET": secret, "SWITCHYARD_CONFIG": cfg, "GITLAB_TOKEN": "glpat-test", "GITLAB_URL": labURL],
                            stdin: Array((["headers": ["content-type": "application/json", "x-gitlab-event": "Pipeline Hook",
                                                       "x-gitlab-token": "hook-token"], "body": .string(hook.encoded())] as JSON).encoded().utf8))
        #expect(r.json?["outcome"]?.string == "done", "\(r.stdout)")
        #expect(e2eStatus(gh, try #require(gh.headSHA(full, 1))) == "failure")

        // Cancel through GitLab.
        r = try run(gh, url, "issue_comment", comment(gh, "/e2e-test"), config: cfg, extra: extra)
        r = try run(gh, url, "issue_comment", comment(gh, "/e2e-cancel"), config: cfg, extra: extra)
        #expect(lab.all.last?.status == "canceled")
        #expect(stickies(gh).count == 1)
    }

    /// A Mattermost slash command as the form Mattermost posts.
    func mattermost(_ text: String, token: String, user: String = "alan", userID: String = "u-alan") -> [UInt8] {
        let encoded = text.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        let body = "channel_id=c1&channel_name=qa&command=%2Fswitchyard&response_url=http%3A%2F%2F127.0.0.1%3A9%2Fhooks&team_domain=acme&team_id=t1&text=\(encoded)&token=\(token)&trigger_id=trig-\(UUID().uuidString.prefix(6))&user_id=\(userID)&user_name=\(user)"
        let env: JSON = ["headers": ["content-type": "application/x-www-form-urlencoded"], "body": .string(body)]
        return Array(env.encoded().utf8)
    }

    @Test func endToEndRunsFromChatTellTheirStarterHowTheyEnded() throws {
        let (gh, url) = try Support.world()
        let hook = ChatWebhookEmulator()
        let hookURL = try hook.start()
        defer { hook.stop() }
        let token = "mm-e2e-token"
        let cfg = try Support.writeConfig("""
            chat:
              users:
                mattermost:alan: maint-mona
                mattermost:rita: random-rita
                slack:slacker: maint-mona
              allowed-origins: ["\(hookURL)"]
            defaults:
              e2e:
                workflow: e2e.yml
                inputs: [BROWSER, head_sha]
            """)
        let env = ["GITHUB_API_URL": url, "GITHUB_TOKEN": Support.token(of: gh), "GITHUB_WEBHOOK_SECRET": secret, "SWITCHYARD_CONFIG": cfg,
                   "MATTERMOST_TOKEN": token, "SLACK_SIGNING_SECRET": secret, "E2E_NOTIFY_WEBHOOK_URL": hookURL,
                   "SWITCHYARD_FUNCTIONS_DIR": Support.packageRoot + "/functions", "PATH": "/usr/bin:/bin"]
        let head = try #require(gh.headSHA(full, 1))
        // Mattermost, to e2e-trigger itself.
        var r = try Support.run("e2e-trigger", environment: env, stdin: mattermost("e2e-test acme/widgets#1 BROWSER=firefox", token: token))
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.json?["text"]?.string?.contains("started run") == true, "\(r.stdout)")
        let runs = gh.workflowRuns(full)
        #expect(runs.count == 1 && runs.first?.inputs["BROWSER"] == "firefox")
        #expect(stickies(gh).first?.contains("Started by @maint-mona") == true)
        // The state on GitHub names the chat user, never the response URL (a credential in a public comment).
        #expect(!(gh.comments(full, issue: 1).map(\.body).joined().contains("127.0.0.1%3A9")))
        #expect(!gh.requests.contains { $0.rawBody.contains("127.0.0.1:9") || $0.rawBody.contains(token) })
        // The run ends: the PR says so, and the chat user who started it is told in their channel.
        r = try run(gh, url, "workflow_run", gh.completeRun(try #require(runs.first).id, conclusion: "failure"), config: cfg,
                    extra: ["E2E_NOTIFY_WEBHOOK_URL": hookURL])
        #expect(r.json?["outcome"]?.string == "done", "\(r.stdout)")
        #expect(e2eStatus(gh, head) == "failure")
        #expect(hook.messages.count == 1)
        #expect(hook.messages.first?.text.hasPrefix("@alan ❌ Failed") == true, "\(hook.messages)")
        #expect(hook.messages.first?.text.contains("acme/widgets#1") == true)
        #expect(hook.messages.first?.channel == "@alan")   // a direct message; no channel name is kept in the public comment
        #expect(!(gh.comments(full, issue: 1).map(\.body).joined().contains("qa")))
        // Replayed: not told twice.
        _ = try run(gh, url, "workflow_run", gh.completeRun(try #require(runs.first).id, conclusion: "failure"), config: cfg,
                    extra: ["E2E_NOTIFY_WEBHOOK_URL": hookURL])
        #expect(hook.messages.count == 1)
        // Someone who may not run it, and someone unknown.
        r = try Support.run("e2e-trigger", environment: env, stdin: mattermost("e2e-test acme/widgets#1", token: token, user: "rita", userID: "u-rita"))
        #expect(r.json?["text"]?.string?.contains("Only") == true, "\(r.stdout)")
        r = try Support.run("e2e-trigger", environment: env, stdin: mattermost("e2e-test acme/widgets#1", token: token, user: "nobody", userID: "u-x"))
        #expect(r.json?["text"]?.string?.contains("chat.users") == true, "\(r.stdout)")
        #expect(gh.workflowRuns(full).count == 1)
        // Slack, through slash-dispatch: start again, then cancel.
        func slack(_ text: String) -> [UInt8] {
            let ts = Int(Date().timeIntervalSince1970)
            let body = "team_id=T1&team_domain=acme&channel_id=C1&channel_name=dev&user_id=U1&user_name=slacker&command=%2Fswitchyard&text=\(text.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2Fx&trigger_id=t\(UUID().uuidString.prefix(6))"
            let sig = "v0=" + Verification.hmacHex(secret: secret, body: Array("v0:\(ts):\(body)".utf8))
            let env: JSON = ["headers": ["content-type": "application/x-www-form-urlencoded", "x-slack-signature": .string(sig),
                                         "x-slack-request-timestamp": .string("\(ts)")], "body": .string(body)]
            return Array(env.encoded().utf8)
        }
        r = try Support.run("slash-dispatch", environment: env, stdin: slack("e2e-test acme/widgets#1"))
        #expect(r.json?["text"]?.string?.contains("started run") == true, "\(r.stdout)\(r.stderr)")
        #expect(gh.workflowRuns(full).count == 2)
        r = try Support.run("slash-dispatch", environment: env, stdin: slack("e2e-cancel acme/widgets#1"))
        #expect(r.json?["text"]?.string?.contains("cancelled run") == true, "\(r.stdout)\(r.stderr)")
        #expect(gh.workflowRuns(full).last?.conclusion == "cancelled")
        // An option may not stand in for the PR's own context.
        r = try Support.run("e2e-trigger", environment: env, stdin: mattermost("e2e-test acme/widgets#1 BROWSER=x head_sha=0000000", token: token))
        #expect(gh.workflowRuns(full).count == 2, "\(r.stdout)")
        // A run started from chat and cancelled by a push: its starter hears why.
        r = try Support.run("e2e-trigger", environment: env, stdin: mattermost("e2e-test acme/widgets#1", token: token))
        #expect(gh.workflowRuns(full).count == 3, "\(r.stdout)\(r.stderr)")
        try gh.commit(full, branch: "feature", files: ["push.txt": "p\n"], message: "push")
        r = try run(gh, url, "pull_request", gh.pullRequestEvent(full, 1, action: "synchronize"), config: cfg, extra: ["E2E_NOTIFY_WEBHOOK_URL": hookURL])
        #expect(r.json?["outcome"]?.string == "done", "\(r.stdout)")
        #expect(hook.messages.last?.text.contains("cancelled because new commits were pushed") == true, "\(hook.messages)")
        #expect(gh.contractViolations.isEmpty, "\(gh.contractViolations)")
    }

    @Test func pipelineVariableNamesAreConfigurable() throws {
        let (gh, url) = try Support.world()
        let lab = GitLabEmulator(token: "glpat-test")
        let labURL = try lab.start()
        defer { lab.stop() }
        // Mattermod's names for the server repository's pipeline; the repository name is left out.
        let cfg = try config("    backend: gitlab\n    gitlab:\n      project: acme/widgets-ci\n    variables:\n      sha: SHA_MATTERMOST_SERVER\n      ref: REF_MATTERMOST_SERVER\n      repository: \"\"\n")
        let extra = ["GITLAB_URL": labURL, "GITLAB_TOKEN": "glpat-test", "GITLAB_WEBHOOK_TOKEN": "hook-token"]
        var r = try run(gh, url, "issue_comment", comment(gh, "/e2e-test"), config: cfg, extra: extra)
        #expect(r.json?["outcome"]?.string == "done", "\(r.stdout)\(r.stderr)")
        let pipeline = try #require(lab.all.first)
        let head = try #require(gh.headSHA(full, 1))
        #expect(pipeline.variables == ["SHA_MATTERMOST_SERVER": head, "REF_MATTERMOST_SERVER": "feature", "PR_NUMBER": "1",
                                       "SWITCHYARD_PR": "acme/widgets#1"])
        // The result finds its PR by Switchyard's own variable, whatever the others are called.
        let hook = lab.finish(pipeline.id, status: "success")
        r = try Support.run("e2e-trigger", environment: ["GITLAB_WEBHOOK_TOKEN": "hook-token", "GITHUB_API_URL": url, "GITHUB_TOKEN": Support.token(of: gh),
                                                         "GITHUB_WEBHOOK_SECRET": secret, "SWITCHYARD_CONFIG": cfg, "GITLAB_TOKEN": "glpat-test", "GITLAB_URL": labURL],
                            stdin: Array((["headers": ["content-type": "application/json", "x-gitlab-event": "Pipeline Hook",
                                                       "x-gitlab-token": "hook-token"], "body": .string(hook.encoded())] as JSON).encoded().utf8))
        #expect(r.json?["outcome"]?.string == "done", "\(r.stdout)")
        #expect(e2eStatus(gh, head) == "success")
    }
}
