import Testing
import SwitchyardCore
import UpdateBranch

/// update-branch as data in, data out.
@Suite("update-branch plans")
struct UpdateBranchPlanTests {
    let ref = IssueRef(repo: RepoRef(owner: "acme", name: "widgets"), number: 7)

    func pull(state: String = "open", fork: Bool = false, maintainerCanModify: Bool = false) throws -> GitHub.PullRequest {
        let headRepo = fork ? "contrib/widgets" : "acme/widgets"
        let json = """
            {"number":7,"state":"\(state)","title":"t","user":{"login":"octo"},"maintainer_can_modify":\(maintainerCanModify),
             "head":{"ref":"feature","sha":"abc1234","repo":{"name":"widgets","full_name":"\(headRepo)","owner":{"login":"x"}}},
             "base":{"ref":"main","sha":"def","repo":{"name":"widgets","full_name":"acme/widgets","owner":{"login":"acme"}}}}
            """
        return try GitHubDecoder.decode(GitHub.PullRequest.self, from: Array(json.utf8))
    }

    func trigger(chat: Bool = false) -> UpdateBranch.Trigger {
        UpdateBranch.Trigger(pull: ref, requester: "mona", commentID: chat ? nil : 55, replyOnPR: !chat)
    }

    @Test func updatesPinnedToHeadWithReplyAndFallbacks() throws {
        let facts = UpdateBranch.Facts(allowed: true, policy: UpdateBranch.defaultPolicy, pull: try pull())
        let plan = UpdateBranch().plan(trigger(), facts: facts)
        #expect(plan.outcome == .done)
        // The reply goes first ("updating", pinned to the head), then the update, then the reply's outcome.
        guard case .upsertComment(_, let first, let pending) = plan.actions.first else { Issue.record("no pending reply"); return }
        #expect(first.contains("updating"))
        #expect(pending.key == Marker(function: "update-branch", "reply", "55").key)
        #expect(pending.state?["head"]?.string == "abc1234" && pending.state?["final"]?.bool == false)
        #expect(plan.actions[1] == .updateBranch(pull: ref, expectedHeadSHA: "abc1234"))
        guard case .upsertComment(_, let body, let marker) = plan.actions.last else { Issue.record("no reply"); return }
        #expect(body.contains("@mona"))
        #expect(marker.key == pending.key && marker.state?["final"]?.bool == true)
        #expect(plan.fallbacks.first { $0.matches(status: 422, message: "There are no new commits on the base branch.") }?.message.contains("up to date") == true)
        #expect(plan.fallbacks.first { $0.matches(status: 422, message: "merge conflict between base and head") }?.outcome == .rejected)
        #expect(plan.fallbacks.first { $0.matches(status: 422, message: "expected head sha didn't match current head ref.") }?.message.contains("moved") == true)
        #expect(plan.fallbacks.allSatisfy { !$0.matches(status: 500, message: "conflict") })
    }

    @Test func replayIsIgnored() {
        let plan = UpdateBranch().plan(trigger(), facts: .init(reply: .init(head: "abc1234", final: true), allowed: false, policy: [], pull: nil))
        #expect(plan.outcome == .ignored)
        #expect(plan.actions.isEmpty)
    }

    @Test func refusalNamesWhoMay() {
        let plan = UpdateBranch().plan(trigger(), facts: .init(allowed: false, policy: UpdateBranch.defaultPolicy, pull: nil))
        #expect(plan.outcome == .rejected)
        guard case .upsertComment(_, let body, _) = plan.actions.first else { Issue.record("no reply"); return }
        #expect(body.contains("the author, organization members or collaborators with write access"))
    }

    @Test func forkWithoutMaintainerEditsTellsTheAuthor() throws {
        let plan = UpdateBranch().plan(trigger(), facts: .init(allowed: true, policy: [], pull: try pull(fork: true)))
        #expect(plan.outcome == .rejected)
        #expect(!plan.actions.contains { if case .updateBranch = $0 { true } else { false } })
        guard case .upsertComment(_, let body, _) = plan.actions.first else { Issue.record("no reply"); return }
        #expect(body.contains("@octo"))
        #expect(body.contains("Allow edits"))
    }

    @Test func forkWithMaintainerEditsIsUpdated() throws {
        let plan = UpdateBranch().plan(trigger(), facts: .init(allowed: true, policy: [], pull: try pull(fork: true, maintainerCanModify: true)))
        #expect(plan.actions.contains(.updateBranch(pull: ref, expectedHeadSHA: "abc1234")))
    }

    @Test func anUnfinishedReplyIsFinishedFromWhatGitHubShows() throws {
        // The update landed (the head's first parent is the pinned head) but the reply was never finished.
        var plan = UpdateBranch().plan(trigger(), facts: .init(reply: .init(head: "abc1234", final: false), allowed: true, policy: [],
                                                               pull: try pull(), mergedByRequest: true))
        #expect(plan.outcome == .done)
        #expect(!plan.actions.contains { if case .updateBranch = $0 { true } else { false } })
        guard case .upsertComment(_, let body, let marker) = plan.actions.first else { Issue.record("no reply"); return }
        #expect(body.contains("updated") && marker.state?["final"]?.bool == true)
        // The head moved to something else meanwhile: say so, do not update.
        var moved = try pull()
        moved.head.sha = "fff0000"
        plan = UpdateBranch().plan(trigger(), facts: .init(reply: .init(head: "abc1234", final: false), allowed: true, policy: [], pull: moved))
        #expect(!plan.actions.contains { if case .updateBranch = $0 { true } else { false } })
        #expect(plan.message.contains("moved"))
    }

    @Test func closedPullRequest() throws {
        let plan = UpdateBranch().plan(trigger(), facts: .init(allowed: true, policy: [], pull: try pull(state: "closed")))
        #expect(plan.outcome == .ignored)
        #expect(plan.message.contains("closed"))
    }

    @Test func chatRequestsPostNothingOnThePR() throws {
        let plan = UpdateBranch().plan(trigger(chat: true), facts: .init(allowed: true, policy: [], pull: try pull()))
        #expect(plan.actions == [.updateBranch(pull: ref, expectedHeadSHA: "abc1234")])
        #expect(plan.fallbacks.allSatisfy { $0.actions.isEmpty })
    }

    @Test func permissionChecks() throws {
        final class Reader: PermissionReading {
            var calls: [String] = []
            func isOrgMember(org: String, login: String) throws -> Bool { calls.append("member \(login)"); return login == "mona" }
            func isTeamMember(org: String, team: String, login: String) throws -> Bool { calls.append("team \(team)"); return team == "core" }
            func repoRole(_ repo: RepoRef, login: String) throws -> RepoRole { calls.append("role \(login)"); return login == "wanda" ? .write : .read }
        }
        let reader = Reader()
        let checker = PermissionChecker(reader: reader)
        let repo = RepoRef(owner: "acme", name: "w")
        #expect(try checker.allows([.author, .member], login: "Octo", author: "octo", repo: repo))
        #expect(reader.calls.isEmpty)
        #expect(try checker.allows([.member, .collaborator(.write)], login: "mona", author: nil, repo: repo))
        #expect(try checker.allows([.member, .collaborator(.write)], login: "wanda", author: nil, repo: repo))
        #expect(try !checker.allows([.member, .collaborator(.maintain)], login: "wanda", author: nil, repo: repo))
        #expect(try checker.allows([.team("core")], login: "x", author: nil, repo: repo))
        #expect(try checker.allows([.anyone], login: "x", author: nil, repo: repo))
        // Each check is made once per invocation.
        #expect(reader.calls.filter { $0 == "role wanda" }.count == 1)
        #expect(reader.calls.filter { $0 == "member wanda" }.count == 1)
    }
}
