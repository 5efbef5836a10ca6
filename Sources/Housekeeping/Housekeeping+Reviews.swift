import SwitchyardCore
import SwitchyardGitHub
import SwitchyardRuntime

extension Housekeeping {
    /// The default policy for `/autoassign`: the PR's author or a member of the organization.
    public static let autoassignPolicy: [PermissionLevel] = [.author, .member]

    /// Whether a newly opened PR's author is welcomed: never a bot or an exempt login; with `who:
    /// non-members` (Mattermod's rule) anyone outside the organization, with `first-time` GitHub's signal.
    func welcomes(_ pr: GitHub.PullRequest, repo: RepoRef, settings s: Settings, context: CapabilityContext) throws -> Bool {
        let author = pr.user.login
        if pr.user.isBot || s.welcomeExempt.contains(where: { $0.lowercased() == author.lowercased() }) { return false }
        if try context.github().isBot(author) { return false }
        let association = pr.authorAssociation?.uppercased() ?? ""
        if s.welcomeWho == "first-time" { return association == "FIRST_TIME_CONTRIBUTOR" || association == "FIRST_TIMER" }
        if association == "OWNER" || association == "MEMBER" { return false }
        return try !context.github().isOrgMember(org: repo.owner, login: author)
    }

    /// What an auto-merge still waits for, or nil: requested reviewers and teams that have not
    /// reviewed, a reviewer whose latest word is "changes requested", too few approvals.
    static func pendingReviews(_ pr: GitHub.PullRequest, ref: IssueRef, github: some HousekeepingGitHub, settings s: Settings) throws -> String? {
        let people = (pr.requestedReviewers ?? []).map { "@" + $0.login }
        let teams = (pr.requestedTeams ?? []).map { "team \($0.slug)" }
        if !people.isEmpty || !teams.isEmpty { return "asked of " + (people + teams).joined(separator: ", ") }
        let decisions = GitHub.Review.latestDecisions(try github.reviews(ref, maxPages: 3))
        let blocking = decisions.filter { $0.value == "CHANGES_REQUESTED" }.keys.sorted()
        if !blocking.isEmpty { return "changes requested by " + blocking.map { "@" + $0 }.joined(separator: ", ") }
        let approvals = decisions.values.filter { $0 == "APPROVED" }.count
        if approvals < s.autoMergeApprovals { return "\(approvals) of \(s.autoMergeApprovals) approvals" }
        return nil
    }

    /// `/autoassign`: asks reviewers until the PR has `reviewers` of them, chosen from the owners of the
    /// changed files (weighted by how much of each they own), else from the pool, else the team.
    /// Never the author, the bot, or anyone already asked or who already reviewed; the same comment
    /// delivered twice asks nobody new, since those asked the first time count.
    func autoassign(_ c: CommentTrigger, context: CapabilityContext) throws -> Plan {
        let cmd: Command
        switch try context.commands(in: c, named: ["autoassign"]) {
        case .ignore(let reason): return .ignore(reason)
        case .refuse(let plan): return plan
        case .run(let cmds): cmd = cmds.last!
        }
        let ref = IssueRef(repo: c.repository, number: c.number)
        let reply = Marker(function: name, "autoassign", "\(c.commentID ?? 0)")
        guard c.isPullRequest else { return .ignore("/autoassign asks for reviews on pull requests; #\(c.number) is an issue") }
        switch try context.admits(c.author.login, command: cmd.name, default: Self.autoassignPolicy, repo: ref.repo,
                                  author: c.issueAuthor, association: c.authorAssociation) {
        case .allowed: break
        case .ignored(let why): return .ignore(why)
        case .denied(let policy):
            let text = "@\(c.author.login) only \(describePolicy(policy)) can run `/autoassign` here."
            return .deny(text, reply: [.comment(issue: ref, body: text, marker: reply)])
        }
        let s = Settings(config: context.config, repo: ref.repo)
        let github = try context.github()
        if try github.comment(on: ref, marked: reply) != nil { return .ignore("this /autoassign was answered already (delivery replayed)") }
        let pr = try github.pullRequest(ref)
        func answer(_ text: String, _ outcome: Outcome = .done, _ more: [Action] = []) -> Plan {
            Plan(outcome: outcome, actions: more + [.comment(issue: ref, body: "@\(c.author.login) " + text, marker: reply)], message: text)
        }
        guard pr.state == "open" else { return answer("#\(ref.number) is closed; nobody was asked.", .ignored) }
        // Reviews by people of the repository count; a drive-by comment-review does not fill a seat.
        let reviewed = Set(try github.reviews(ref, maxPages: 3).filter(\.isTrusted).map { $0.user.login.lowercased() })
        let asked = Set((pr.requestedReviewers ?? []).map { $0.login.lowercased() })
        let have = asked.union(reviewed).subtracting([pr.user.login.lowercased()])
        let needed = s.autoassignCount - have.count
        guard needed > 0 else {
            return answer("this pull request already has \(have.count) reviewer\(have.count == 1 ? "" : "s"): " + have.sorted().map { "@" + $0 }.joined(separator: ", ") + ".", .ignored)
        }
        let bot = try github.botLogin()?.lowercased()
        let excluded = have.union([pr.user.login.lowercased()]).union(bot.map { [$0] } ?? [])
        var source = ""
        var weights: [String: Int] = [:]
        var ownerTeams: [String] = []
        // The configured file, or where GitHub looks for one: .github/, the root, docs/.
        let paths = s.autoassignOwnersFile.map { $0 == Settings.defaultOwnersFile ? [$0, "CODEOWNERS", "docs/CODEOWNERS"] : [$0] } ?? []
        for path in paths {
            let text: [UInt8]
            do { text = try github.fileContents(ref.repo, path: path, ref: pr.base.ref) }
            catch let e as GitHubError where e.status == 404 { continue }
            let owners = OwnersFile(text: String(decoding: text, as: UTF8.self), org: ref.repo.owner)
            let files = try github.pullFiles(ref, maxPages: 30).files
            weights = Self.ownerWeights(files: files, owners: owners).filter { !excluded.contains($0.key.lowercased()) }
            ownerTeams = Array(Set(files.flatMap { owners.owners(of: $0.filename).teams })).sorted()
            source = "owners of the changed files in `\(path)`"
            break
        }
        if weights.isEmpty, ownerTeams.isEmpty {
            weights = Dictionary(s.autoassignPool.filter { !excluded.contains($0.lowercased()) }.map { ($0, 1) }, uniquingKeysWith: { a, _ in a })
            source = "the reviewer pool"
        }
        // Only people GitHub lets review: a departed name in the pool or the owners file is passed over.
        var notCollaborators: [String] = []
        var chosen: [String] = []
        var candidates = weights
        while chosen.count < needed, !candidates.isEmpty {
            let next = Self.pick(needed - chosen.count, from: candidates, seed: "\(ref.repo.fullName.lowercased())#\(ref.number)")
            for login in next {
                candidates[login] = nil
                if try github.isCollaborator(ref.repo, login: login) { chosen.append(login) } else { notCollaborators.append(login) }
            }
        }
        let skipped = notCollaborators.isEmpty ? "" : " Passed over, as GitHub would refuse them (not collaborators): " + notCollaborators.sorted().map { "`\($0)`" }.joined(separator: ", ") + "."
        let team = chosen.isEmpty ? (ownerTeams.first ?? s.autoassignTeam) : nil
        if let team {
            return answer("asked team `\(team)` for a review; GitHub's team assignment picks the people.\(skipped)", .done,
                          [.requestReviews(pull: ref, users: [], teams: [team])])
        }
        if chosen.isEmpty {
            return answer("nobody is left to ask: no owner of the changed files or pool member who is not the author or already a reviewer.\(skipped)", .ignored)
        }
        let text = "asked " + chosen.map { "@" + $0 }.joined(separator: ", ") + " to review (\(source)).\(skipped)"
        return Plan(outcome: .done, actions: [.requestReviews(pull: ref, users: chosen, teams: []),
                                              .comment(issue: ref, body: "@\(c.author.login) " + text, marker: reply)],
                    message: text)
    }

    /// The configured rules that hold for this PR, each applied once: labels not yet there (and never
    /// one a person took off), the notice posted once under the rule's own marker, and reviewers asked
    /// on the event that posts it.
    func rules(_ pr: GitHub.PullRequest, ref: IssueRef, action: String, labels: [String], settings s: Settings,
               context: CapabilityContext) throws -> ([Action], [String]) {
        let github = try context.github()
        var files: [GitHub.PullFile]? = nil
        var member: Bool? = nil
        let opened = (pr.createdAt ?? pr.updatedAt).flatMap(ISO8601.parse) ?? (Deadline.epochMillis() / 1000)
        let facts = RuleFacts(
            labels: labels, association: pr.authorAssociation?.uppercased() ?? "NONE",
            isMember: {
                if let member { return member }
                let a = pr.authorAssociation?.uppercased()
                let m = try a == "OWNER" || a == "MEMBER" || github.isOrgMember(org: ref.repo.owner, login: pr.user.login)
                member = m
                return m
            },
            files: {
                if let files { return files }
                // Every file GitHub lists (at most 3000): padding a PR with files must not hide the ones a rule is about.
                let f = try github.pullFiles(ref, maxPages: 30).files
                files = f
                return f
            },
            openedOn: String(ISO8601.format(opened).dropFirst(5).prefix(5)))
        var actions: [Action] = [], notes: [String] = []
        var bot: String?? = .none
        for rule in s.rules where try Self.matches(rule, action: action, facts: facts) {
            var did: [String] = []
            var add: [String] = []
            for l in rule.addLabels where !labels.contains(l) && !actions.contains(where: { if case .addLabels(_, let ls) = $0 { ls.contains(l) } else { false } }) {
                if bot == nil { bot = .some(try github.botLogin()) }
                // A label someone took off stays off: the rule is not a fight with the people on the PR.
                if try github.labelRemovedByOthers(ref, label: l, bot: bot ?? nil) { continue }
                add.append(l)
            }
            if !add.isEmpty { actions.append(.addLabels(issue: ref, labels: add)); did.append("+" + add.joined(separator: ", ")) }
            let marker = Marker(function: name, "rule", rule.name)
            let wantsComment = rule.notice != nil || !rule.reviewers.isEmpty || !rule.teamReviewers.isEmpty
            if wantsComment, try github.comment(on: ref, marked: marker) == nil {
                let users = rule.reviewers.filter { $0.lowercased() != pr.user.login.lowercased() }
                if !users.isEmpty || !rule.teamReviewers.isEmpty {
                    actions.append(.requestReviews(pull: ref, users: users, teams: rule.teamReviewers))
                    did.append("reviews")
                }
                let asked = users.map { "@" + $0 } + rule.teamReviewers.map { "@\(ref.repo.owner)/\($0)" }
                let body = rule.notice.map { Self.fill($0, ["author": "@\(pr.user.login)", "number": "\(ref.number)", "reviewers": asked.joined(separator: ", ")]) }
                    ?? "Asked \(asked.joined(separator: ", ")) to review: this pull request matches the `\(rule.name)` rule."
                actions.append(.comment(issue: ref, body: body, marker: marker))
                did.append("notice")
            }
            if !did.isEmpty { notes.append("rule \(rule.name): " + did.joined(separator: ", ")) }
        }
        return (actions, notes)
    }
}
