import SwitchyardCore
import SwitchyardGitHub
import SwitchyardRuntime

/// `{"schedule": "deploy-reconcile"}`, sent by a scheduler (cron, EventBridge, a CronJob) every
/// `chat.deploy.reconcile-minutes`: what a lost or late provisioner webhook would have left undone.
///
/// - A pull request whose comment still says "creating" or "updating" while the provisioner says the
///   server is stable or failed is brought up to date, as the webhook would have.
/// - A creation still in progress after `deploy.stuck-minutes` is reported once on the PR
///   and to the operators (`DEPLOY_OPS_WEBHOOK_URL`).
/// - A chat server due for scheduled deletion within `chat.deploy.deletion-warning-hours` warns its
///   owner once: in the one run whose window the warning time falls in, so no record is kept.
///
/// The run is bounded by its deadline; installations are taken newest first.
extension LabelDeploy {
    func reconcile(_ schedule: JSON? = nil, context: CapabilityContext) throws -> Plan {
        let cs = ChatSettings(config: context.config)
        let cloud = try cloudProvisioner(context)
        let now = Deadline.epochMillis()
        let interval = Int64(max(1, context.config.global(["chat", "deploy", "reconcile-minutes"])?.int ?? 60)) * 60_000
        var notes: [String] = []
        var actions: [Action] = []
        var looked = 0, complete = true
        if context.dryRun { return Plan(outcome: .planned, message: "would reconcile the provisioner's installations") }
        for server in try cloud.allServers().sorted(by: { $0.createAt > $1.createAt }) where !server.isGone {
            guard context.deadline.remainingMilliseconds > 2_000 else { complete = false; break }
            looked += 1
            // One installation's trouble (a repository gone, a provisioner hiccup) must not stop the
            // rest, nor fail the run into a retry that says everything twice.
            do {
                try reconcileOne(server, cs: cs, cloud: cloud, now: now, interval: interval, actions: &actions, notes: &notes, context: context)
            } catch {
                context.logger.warning("reconcile could not finish an installation", ["installation": .string(server.id),
                                                                                       "error": .string(SwitchyardError.from(error).message)])
            }
        }
        return try reconcileWaiting(schedule, looked: looked, complete: complete, actions: actions, notes: notes, context: context)
    }

    func reconcileOne(_ server: TestServer, cs: ChatSettings, cloud: CloudProvisioner, now: Int64, interval: Int64,
                      actions: inout [Action], notes: inout [String], context: CapabilityContext) throws {
        if let owner = Self.chatOwner(server.owner), server.scheduledDeletion > now, !server.deletionLocked {
            // Warned `deletion-warning-hours` before, or half-way when the server lives less than that.
            let left = server.scheduledDeletion - now
            let warnAt = min(Int64(cs.warnHours) * 3_600_000, max(interval, (server.scheduledDeletion - server.createAt) / 2))
            if left <= warnAt, left > warnAt - interval {
                let hours = max(1, (left + 1_800_000) / 3_600_000)
                tellOwner(server, "⏳ `\(server.name)` will be deleted automatically in about \(hours) hour\(hours == 1 ? "" : "s") (\(ISO8601.format(server.scheduledDeletion / 1000))). `deploy deletion-lock \(server.name)` keeps it.", context: context)
                notes.append("warned \(owner.platform.rawValue):\(owner.userID) about \(server.name)")
            }
        }
        if let (ref, _) = Self.e2eServer(owner: server.owner),
           let e2e = E2ESettings.from(config: context.config, repo: ref.repo), now - server.createAt > Int64(e2e.maxAgeHours) * 3_600_000 {
            // matterwick's clean-up of end-to-end servers past their age.
            try cloud.delete(server.id)
            notes.append("\(ref): deleted the end-to-end server \(server.name), older than \(e2e.maxAgeHours) hours")
            return
        }
        guard let ref = Self.pullRequest(owner: server.owner) else { return }
        let s = Settings(config: context.config, repo: ref.repo)
        let github = try context.github()
        guard let sticky = try github.comment(on: ref, marked: Self.marker)?.body else { return }
        let saysCreating = sticky.contains("⏳"), saysUpdating = sticky.contains("🔄")
        guard saysCreating || saysUpdating else { return }
        let settled = server.state == "stable" || server.isFailed || server.state == "update-failed"
        if settled {
            let plan = try pullRequestServerChanged(ref, server: server, newState: server.state,
                                                    oldState: saysUpdating ? "update-in-progress" : "creation-in-progress", context: context)
            if plan.outcome != .ignored {
                actions += plan.actions
                notes.append("\(ref): \(server.name) is \(server.state); the missed event was applied")
            }
        } else if server.state.hasPrefix("creation"), now - server.createAt > Int64(s.stuckMinutes) * 60_000 {
            let marker = Marker(function: name, "stuck", server.id)
            if try github.comment(on: ref, marked: marker) == nil {
                let minutes = (now - server.createAt) / 60_000
                // The comment is the record that it was said: written first, then the operators are told.
                try context.performNow([.comment(issue: ref, body: "⌛ `\(server.name)` has been `\(server.state)` for \(minutes) minutes, longer than a test server takes; the operators have been told. Remove and add the label again to start over.", marker: marker)])
                Self.alertOps("\(ref): test server `\(server.name)` (installation \(server.id)) is still \(server.state) after \(minutes) minutes", context: context)
                notes.append("\(ref): \(server.name) stuck in \(server.state)")
            }
        }
    }

    func reconcileWaiting(_ schedule: JSON?, looked: Int, complete: Bool, actions: [Action], notes: [String], context: CapabilityContext) throws -> Plan {
        var actions = actions, notes = notes
        // PRs of `repository` still waiting for their image in the registry: looked at again.
        if let full = schedule?["repository"]?.string, let repo = RepoRef(Substring(full)) {
            let s = Settings(config: context.config, repo: repo)
            if s.imageCheck == .registry {
                let github = try context.github()
                for pr in try github.openPullsByUpdate(repo, page: 1, perPage: 100).reversed() where context.deadline.remainingMilliseconds > 2_000 {
                    guard let profile = s.profiles(on: (pr.labels ?? []).map(\.name)).first else { continue }
                    let ref = IssueRef(repo: repo, number: pr.number)
                    guard try github.comment(on: ref, marked: Self.marker)?.body?.contains("⌛") == true else { continue }
                    let plan = try ensure(ref, pull: pr, profile: profile, settings: s, context: context, by: nil, retryFailed: false)
                    if !plan.message.hasPrefix("waiting for the image") {
                        actions += plan.actions
                        notes.append("\(ref): \(plan.message)")
                    }
                }
            }
        }
        let summary = "looked at \(looked) installation\(looked == 1 ? "" : "s")\(complete ? "" : " (the next run continues)")"
        if actions.isEmpty { return notes.isEmpty ? .ignore(summary + "; nothing to do") : Plan(outcome: .done, message: summary + "; " + notes.joined(separator: "; ")) }
        return .perform(actions, message: summary + "; " + notes.joined(separator: "; "))
    }
}
