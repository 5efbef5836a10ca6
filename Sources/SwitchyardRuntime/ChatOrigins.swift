import SwitchyardCore
import SwitchyardGitHub

/// Where chat answers and notices may be sent. A `response_url` comes in the (verified) request, so
/// anyone who can run a command could otherwise make Switchyard POST anywhere; webhook URLs are
/// configured, and held to the same list. The list: Slack's hooks origin (`https://hooks.slack.com`),
/// the Mattermost site (`MATTERMOST_URL`), and the origins under `chat.allowed-origins` in the config.
extension CapabilityContext {
    public static let slackHooksOrigin = "https://hooks.slack.com"

    /// The allowed origins, as `scheme://host[:port]`.
    public var chatOrigins: [Origin] {
        var list = [Self.slackHooksOrigin]
        if let site = settings?.mattermostURL { list.append(site) }
        list += config.global(["chat", "allowed-origins"])?.strings ?? []
        return list.compactMap(Origin.init)
    }

    /// True when `url` is an http(s) URL on an allowed origin; false (with one warning) otherwise.
    public func mayPostToChat(_ url: String) -> Bool {
        guard let origin = Origin(url), chatOrigins.contains(origin) else {
            logger.warning("refused to post to a chat URL outside the allowed origins",
                           ["origin": Origin(url).map { .string($0.description) } ?? "not an http(s) URL",
                            "hint": "set MATTERMOST_URL or list the origin under chat.allowed-origins"])
            return false
        }
        return true
    }

    /// Posts `{"text": …}` to a Mattermost or Slack incoming webhook on an allowed origin (`channel`
    /// overrides the hook's channel where Mattermost allows it). True when the chat took it.
    public func postToChat(_ url: String, text: String, channel: String?) -> Bool {
        guard mayPostToChat(url) else { return false }
        var o: [String: JSON] = ["text": .string(text), "username": "switchyard"]
        if let channel { o["channel"] = .string(channel) }
        do {
            let r = try NetworkTransport().send(HTTPRequest(method: "POST", url: url, headers: [("Content-Type", "application/json")],
                                                         body: Array(JSON.object(o).encoded().utf8)),
                                             timeoutMilliseconds: max(100, min(5_000, deadline.remainingMilliseconds - 100)))
            if (200..<300).contains(r.status) { return true }
            logger.warning("the chat webhook refused a message", ["status": .int(r.status)])
        } catch {
            logger.warning("the chat webhook could not be reached")
        }
        return false
    }
}
