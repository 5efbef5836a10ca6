import SwitchyardCore
import SwitchyardGitHub

/// Who may use Switchyard from chat, checked by every function that answers a chat command (not only
/// by slash-dispatch, which a function called directly would bypass): `chat.allowed-teams`,
/// `chat.allowed-channels`, `chat.allowed-users`, and the Cloud plugin's `AllowedEmailDomain` as
/// `chat.allowed-email-domains`. A slash command carries no e-mail address, so the address is looked
/// up: Mattermost's `GET /api/v4/users/{id}` with `MATTERMOST_BOT_TOKEN` (at `MATTERMOST_URL`), Slack's
/// `users.info` with `SLACK_BOT_TOKEN` (scope `users:read.email`). Without the token the gate is closed.
extension CapabilityContext {
    public func chatRefusal(_ chat: ChatCommand) throws -> String? {
        let chatConfig = config.global(["chat"])
        for (key, value) in [("allowed-teams", chat.teamDomain ?? chat.teamID), ("allowed-channels", chat.channelName ?? chat.channelID),
                             ("allowed-users", chat.userName)] {
            if let allowed = chatConfig?[key]?.strings, !allowed.isEmpty, !allowed.contains(value ?? "") {
                return "Switchyard is not enabled for you here (\(key.replacing("allowed-", with: "")) not on the list)."
            }
        }
        guard let domains = chatConfig?["allowed-email-domains"]?.strings?.map({ $0.lowercased() }), !domains.isEmpty else { return nil }
        guard let email = try chatEmail(chat) else {
            return "Switchyard could not read your e-mail address, which this server requires; ask an operator."
        }
        let domain = email.split(separator: "@").last.map { $0.lowercased() } ?? ""
        guard email.contains("@"), domains.contains(domain) else {
            return "Switchyard is only for accounts with an e-mail address at " + domains.map { "`\($0)`" }.joined(separator: " or ") + "."
        }
        return nil
    }

    /// Ids go into a URL path or query: letters, digits, `-` and `_` only.
    static func isPlainID(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.count <= 64 && s.utf8.allSatisfy { RepoRef.isAlphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") }
    }

    /// The chat user's e-mail address from their platform's API; nil when it cannot be known.
    func chatEmail(_ chat: ChatCommand) throws -> String? {
        guard let settings else { return nil }
        let timeout = max(100, min(3_000, deadline.remainingMilliseconds - 200))
        switch chat.platform {
        case .mattermost:
            guard let site = settings.mattermostURL, let token = settings.mattermostBotToken,
                  Self.isPlainID(chat.userID) else {
                logger.warning("chat.allowed-email-domains needs MATTERMOST_URL and MATTERMOST_BOT_TOKEN")
                return nil
            }
            var base = site
            while base.hasSuffix("/") { base.removeLast() }
            let r = try NetworkTransport().send(HTTPRequest(method: "GET", url: base + "/api/v4/users/" + chat.userID,
                                                            headers: [("Authorization", "Bearer " + token), ("Accept", "application/json")]),
                                                timeoutMilliseconds: timeout)
            guard r.status == 200 else {
                logger.warning("Mattermost did not give the user's e-mail address", ["status": .int(r.status)])
                return nil
            }
            // An address the user typed and nobody confirmed proves nothing about them.
            let j = try? JSON.parse(r.body)
            if j?["email_verified"]?.bool == false { return nil }
            return j?["email"]?.string
        case .slack:
            guard let token = settings.slackBotToken, Self.isPlainID(chat.userID) else {
                logger.warning("chat.allowed-email-domains needs SLACK_BOT_TOKEN (scope users:read.email)")
                return nil
            }
            let r = try NetworkTransport().send(HTTPRequest(method: "GET", url: settings.slackAPIURL + "/users.info?user=" + chat.userID,
                                                            headers: [("Authorization", "Bearer " + token)]),
                                                timeoutMilliseconds: timeout)
            guard r.status == 200, let j = try? JSON.parse(r.body), j["ok"]?.bool == true else {
                logger.warning("Slack did not give the user's e-mail address", ["status": .int(r.status)])
                return nil
            }
            if j["user"]?["is_email_confirmed"]?.bool == false { return nil }
            return j["user"]?["profile"]?["email"]?.string
        }
    }
}
