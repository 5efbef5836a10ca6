import Testing
import SwitchyardCore
import SlaCheck

/// The identity rules and the plan, as data in and data out.
@Suite("sla-check plans")
struct SlaCheckPlanTests {
    typealias C = GitHub.Commit
    static func commit(_ sha: String, author: String?, email: String = "dev@example.com", name: String = "Dev",
                       committer: String? = nil, committerEmail: String = "noreply@github.com", message: String = "change") -> C {
        C(sha: sha, commit: .init(message: message, author: .init(name: name, email: email),
                                  committer: .init(name: committer == nil ? "GitHub" : committer!, email: committer == nil ? committerEmail : "\(committer!)@example.com")),
          author: author.map { GitHub.User(login: $0) },
          committer: committer.map { GitHub.User(login: $0) } ?? (committerEmail == "noreply@github.com" ? GitHub.User(login: "web-flow") : nil))
    }

    let ref = IssueRef(repo: RepoRef(owner: "acme", name: "widgets"), number: 3)
    var trigger: SlaCheck.Trigger { .init(pull: ref, headSHA: "abc", labels: ["CLA/missing"]) }

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var commits: [GitHub.Commit]
        var signers: [String]
        var exempt: [String] = []
        var missing: [String]
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "signed author", commits: [commit("1", author: "alice")], signers: ["alice"], missing: []),
        Case(name: "renamed login in other case", commits: [commit("1", author: "Alice-Renamed")], signers: ["alice-renamed"], missing: []),
        Case(name: "signer list with @ and spaces", commits: [commit("1", author: "bob")], signers: [" @Bob "], missing: []),
        Case(name: "unsigned author", commits: [commit("1", author: "mallory")], signers: ["alice"], missing: ["mallory"]),
        Case(name: "unlinked email", commits: [commit("1", author: nil, email: "Stray@Example.com")], signers: ["alice"], missing: ["stray@example.com"]),
        Case(name: "signed email", commits: [commit("1", author: nil, email: "lee@example.com")], signers: ["lee@example.com"], missing: []),
        Case(name: "web-flow committer is skipped", commits: [commit("1", author: "alice")], signers: ["alice"], missing: []),
        Case(name: "a distinct committer must sign", commits: [commit("1", author: "alice", committer: "carol")], signers: ["alice"], missing: ["carol"]),
        Case(name: "co-author who has not signed", commits: [commit("1", author: "alice", message: "x\n\nCo-authored-by: Jane Doe <jane@example.com>")],
             signers: ["alice"], missing: ["jane@example.com"]),
        Case(name: "co-author with a noreply address is a login", commits: [commit("1", author: "alice", message: "x\n\nco-authored-by: Kim <12+kim@users.noreply.github.com>")],
             signers: ["alice", "kim"], missing: []),
        Case(name: "bot author", commits: [commit("1", author: "dependabot[bot]")], signers: [], missing: []),
        Case(name: "bot noreply email", commits: [commit("1", author: nil, email: "49699333+dependabot[bot]@users.noreply.github.com")], signers: [], missing: []),
        Case(name: "exempt by wildcard", commits: [commit("1", author: "renovate-runner")], signers: [], exempt: ["renovate*"], missing: []),
        Case(name: "300 commits, two people", commits: (0..<300).map { commit("\($0)", author: $0 % 2 == 0 ? "alice" : "mallory") },
             signers: ["alice"], missing: ["mallory"]),
    ]

    @Test("identity rules", arguments: cases)
    func identities(_ c: Case) {
        var settings = SlaCheck.Settings()
        settings.exempt = c.exempt
        let facts = SlaCheck.Facts(contributors: Identities.contributors(of: c.commits), commitCount: c.commits.count, complete: true,
                                   signers: .success(Signers(c.signers)), hasComment: false)
        #expect(SlaCheck.missing(facts, settings: settings, signers: Signers(c.signers)).map(\.key) == c.missing)
    }

    @Test func contributorsAreDeduplicatedAcrossCommits() {
        let commits = (0..<300).map { Self.commit("\($0)", author: "alice") }
        let people = Identities.contributors(of: commits)
        #expect(people.count == 1)
        #expect(people[0].commits.count == 300)
    }

    @Test func failurePlanNamesEveryoneAndKeepsTheDescriptionShort() throws {
        let commits = [Self.commit("aaaaaaa1", author: "mallory"), Self.commit("bbbbbbb2", author: nil, email: "stray@example.com"),
                       Self.commit("ccccccc3", author: "alice", message: "x\n\nCo-authored-by: Jane <jane@example.com>")]
            + (0..<30).map { Self.commit("d\($0)", author: "person-with-a-long-login-\($0)") }
        var settings = SlaCheck.Settings()
        settings.signedLabel = "CLA/signed"
        settings.missingLabel = "CLA/missing"
        let facts = SlaCheck.Facts(contributors: Identities.contributors(of: commits), commitCount: commits.count, complete: true,
                                   signers: .success(Signers(["alice"])), hasComment: false)
        let plan = SlaCheck().plan(trigger, facts: facts, settings: settings)
        guard case .setStatus(_, _, let state, let context, let description, _) = plan.actions[0] else { Issue.record("no status"); return }
        #expect(state == "failure")
        #expect(context == "cla/switchyard")
        #expect(description.count <= 140)
        guard case .upsertComment(_, let body, _) = plan.actions[1] else { Issue.record("no comment"); return }
        #expect(body.contains("@mallory"))
        #expect(body.contains("`stray@example.com`"))
        #expect(body.contains("not linked to any GitHub account"))
        #expect(body.contains("Co-author Jane"))
        #expect(body.contains("/check-cla"))
        // The missing label is already there; the signed label is not, so nothing to change.
        #expect(!plan.actions.contains { if case .addLabels = $0 { true } else { false } })
    }

    @Test func signedPlanUpdatesOrDeletesAnExistingComment() {
        let facts = SlaCheck.Facts(contributors: Identities.contributors(of: [Self.commit("1", author: "alice")]), commitCount: 1,
                                   complete: true, signers: .success(Signers(["alice"])), hasComment: true)
        var settings = SlaCheck.Settings()
        settings.signedLabel = "CLA/signed"
        settings.missingLabel = "CLA/missing"
        let plan = SlaCheck().plan(trigger, facts: facts, settings: settings)
        #expect(plan.actions.contains { if case .setStatus(_, _, "success", _, _, _) = $0 { true } else { false } })
        #expect(plan.actions.contains { if case .upsertComment(_, let b, _) = $0 { b.contains("signed") } else { false } })
        #expect(plan.actions.contains(.addLabels(issue: ref, labels: ["CLA/signed"])))
        #expect(plan.actions.contains(.removeLabel(issue: ref, label: "CLA/missing")))
        settings.deleteCommentWhenSigned = true
        #expect(SlaCheck().plan(trigger, facts: facts, settings: settings).actions.contains(.deleteComment(issue: ref, marker: SlaCheck.marker)))
        var noComment = facts
        noComment.hasComment = false
        #expect(SlaCheck().plan(trigger, facts: noComment, settings: settings).actions.count == 3)
    }

    @Test func unreadableSourceIsAnErrorStatusNeverPending() {
        let facts = SlaCheck.Facts(contributors: [], commitCount: 1, complete: true,
                                   signers: .failure(.upstream("the CLA signature list answered 500")), hasComment: false)
        let plan = SlaCheck().plan(trigger, facts: facts, settings: .init())
        #expect(plan.outcome == .failed)
        guard case .setStatus(_, _, let state, _, let description, _) = plan.actions.first else { Issue.record("no status"); return }
        #expect(state == "error")
        #expect(description.contains("/check-cla"))
    }

    @Test func partialChecksSaySo() {
        let facts = SlaCheck.Facts(contributors: Identities.contributors(of: [Self.commit("1", author: "alice")]), commitCount: 250,
                                   complete: false, signers: .success(Signers(["alice"])), hasComment: false)
        guard case .setStatus(_, _, _, _, let d, _) = SlaCheck().plan(trigger, facts: facts, settings: .init()).actions[0] else { return }
        #expect(d.contains("first 250 commits only"))
    }

    @Test func signerFiles() {
        #expect(Signers.parse("# signed\nalice\n\n@Bob\r\n").entries == ["alice", "bob"])
        #expect(Signers.parse("Name,GitHub Login,Email\n\"Doe, Jane\",jdoe,jane@example.com\nKim,kim,\n").entries == ["jdoe", "jane@example.com", "kim"])
        #expect(Signers.parse("a,b\nx,y\n").entries == ["a", "x"])
    }

    @Test func wildcards() {
        #expect(Identities.matches("*[bot]", "renovate[bot]"))
        #expect(Identities.matches("dependabot*", "Dependabot-Preview"))
        #expect(!Identities.matches("dependabot", "dependabot2"))
        #expect(Identities.matches("a*b*c", "aXXbYYc"))
    }

    @Test func settingsFromConfig() throws {
        let config = try Config(yaml: """
            repos:
              acme/widgets:
                cla:
                  context: legal/cla
                  signers: { repo: acme/legal, path: cla/signers.csv, ref: main }
                  exempt: ["bot-*"]
                  exempt-orgs: [acme]
                  when-signed: delete
                  labels: { signed: CLA/signed, missing: CLA/missing }
            """)
        let s = try SlaCheck.Settings(config: config, repo: ref.repo)
        #expect(s.context == "legal/cla")
        #expect(s.source == .repoFile(repo: RepoRef(owner: "acme", name: "legal"), path: "cla/signers.csv", ref: "main"))
        #expect(s.deleteCommentWhenSigned)
        #expect(s.missingLabel == "CLA/missing")
        let bad = try Config(yaml: "defaults:\n  cla:\n    when-signed: maybe\n")
        #expect(throws: SwitchyardError.self) { try SlaCheck.Settings(config: bad, repo: ref.repo) }
    }
}
