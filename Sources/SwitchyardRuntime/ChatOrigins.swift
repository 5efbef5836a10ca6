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
}
