import Foundation
import SwitchyardCore

/// The user lookups of Mattermost (`GET /api/v4/users/{user_id}`, a bot's bearer token) and Slack
/// (`GET /api/users.info?user=`, `{"ok": …, "user": {"profile": {"email": …}}}`), on one loopback server.
public final class ChatDirectoryEmulator: @unchecked Sendable {
    let lock = NSLock()
    var emails: [String: String] = [:]
    var seen: [String] = []
    let mattermostToken: String
    let slackToken: String
    private var server: HTTPServer?

    public init(mattermostToken: String, slackToken: String) {
        self.mattermostToken = mattermostToken; self.slackToken = slackToken
    }

    public func add(userID: String, email: String) { lock.withLock { emails[userID] = email } }
    /// Every path asked for, in order.
    public var requests: [String] { lock.withLock { seen } }

    public func start() throws -> String {
        let s = try HTTPServer { [weak self] r in
            guard let self else { return .respond(status: 503, headers: [], body: Array("server owner is gone".utf8)) }
            self.lock.withLock { self.seen.append(r.path) }
            let bearer = r.header("authorization")
            if r.path.hasPrefix("/api/v4/users/") {
                guard bearer == "Bearer \(self.mattermostToken)" else {
                    return .json(401, ["id": "api.context.session_expired.app_error", "message": "Invalid or expired session, please login again.", "status_code": 401])
                }
                let id = String(r.path.dropFirst("/api/v4/users/".count))
                guard let email = self.lock.withLock({ self.emails[id] }) else {
                    return .json(404, ["id": "app.user.missing_account.const", "message": "Unable to find the user.", "status_code": 404])
                }
                return .json(200, ["id": .string(id), "username": .string(id), "email": .string(email), "roles": "system_user"])
            }
            if r.path == "/api/users.info" {
                // Slack answers 200 with ok: false for its errors.
                guard bearer == "Bearer \(self.slackToken)" else { return .json(200, ["ok": false, "error": "invalid_auth"]) }
                guard let id = r.query["user"], let email = self.lock.withLock({ self.emails[id] }) else {
                    return .json(200, ["ok": false, "error": "user_not_found"])
                }
                return .json(200, ["ok": true, "user": ["id": .string(id), "profile": ["email": .string(email)]]])
            }
            return .json(404, ["message": "not found"])
        }
        server = s
        return s.baseURL
    }

    public func stop() { server?.stop() }
}
