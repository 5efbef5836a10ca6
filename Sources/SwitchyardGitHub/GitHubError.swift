import SwitchyardCore

/// GitHub answered with an error status. `message` is GitHub's own `message` field: it is matched by
/// fallbacks and written to the log (redacted), but never shown to users, since an upstream body may
/// echo anything, a credential included.
public struct GitHubError: UserFacingError, UpstreamStatusError, Sendable, CustomStringConvertible {
    public var method: String
    public var path: String
    public var status: Int
    public var message: String
    public var documentationURL: String?

    public var description: String { "GitHub \(method) \(path) answered \(status): \(message)" }

    /// A summary for users: the status and the request, never GitHub's text.
    public var switchyardError: SwitchyardError {
        switch status {
        case 401: SwitchyardError(.misconfigured, "GitHub refused Switchyard's credentials (401 to \(method) \(path))", detail: description)
        case 403: SwitchyardError(.upstream, "GitHub refused \(method) \(path) (403): Switchyard's identity lacks the permission", detail: description)
        case 404: SwitchyardError(.upstream, "GitHub has no such resource (404 to \(method) \(path))", detail: description)
        default: SwitchyardError(.upstream, "GitHub answered \(status) to \(method) \(path)", detail: description)
        }
    }
}
