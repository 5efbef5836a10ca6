import SwitchyardCore

/// GitHub answered with an error status. `message` is GitHub's own `message` field.
public struct GitHubError: UserFacingError, UpstreamStatusError, Sendable, CustomStringConvertible {
    public var method: String
    public var path: String
    public var status: Int
    public var message: String
    public var documentationURL: String?

    public var description: String { "GitHub \(method) \(path) answered \(status): \(message)" }

    public var switchyardError: SwitchyardError {
        switch status {
        case 401: SwitchyardError(.misconfigured, "GitHub refused Switchyard's credentials: \(message)", detail: description)
        case 404: SwitchyardError(.notFound, "GitHub has no such resource (\(method) \(path)): \(message)")
        default: SwitchyardError(.upstream, "GitHub answered \(status) to \(method) \(path): \(message)", detail: description)
        }
    }
}
