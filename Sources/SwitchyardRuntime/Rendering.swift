import SwitchyardCore

/// The one place results and errors become response bodies, statuses and exit codes.
public enum Rendering {
    /// A GitHub event's response: function, event, delivery, outcome, actions and message.
    /// An event the function never acts on (its manifest does not list it), verified but not decoded.
    public static func unhandled(function: String, event: String, delivery: String, message: String) -> OutgoingResponse {
        let object: [String: JSON] = ["function": .string(function), "event": .string(event), "delivery": .string(delivery),
                                      "outcome": "ignored", "actions": [], "message": .string(message)]
        return OutgoingResponse(status: 200, body: Array(Redactor.shared.redact(JSON.object(object)).encoded().utf8), exitCode: exitCode(.ignored))
    }

    public static func github(function: String, event: WebhookEvent, delivery: String, result: RunResult) -> OutgoingResponse {
        var object: [String: JSON] = [
            "function": .string(function),
            "event": .string(event.name),
            "delivery": .string(delivery),
            "outcome": .string(result.outcome.rawValue),
            "actions": .array(result.performed.map(\.json)),
            "message": .string(result.message),
        ]
        if let a = event.action { object["action"] = .string(a) }
        if !result.skipped.isEmpty { object["skipped"] = .array(result.skipped.map(\.json)) }
        for (k, v) in result.response where object[k] == nil { object[k] = v }
        // A run that could not finish its work is not a 200: GitHub shows the delivery as failed (and it
        // can be redelivered), a platform retries; every function is idempotent, so a retry is safe.
        return OutgoingResponse(status: result.outcome == .failed ? 502 : 200, body: Array(Redactor.shared.redact(JSON.object(object)).encoded().utf8), exitCode: result.denied ? 3 : exitCode(result.outcome))
    }

    /// A Mattermost/Slack command response. Ephemeral unless `inChannel`.
    public static func chat(_ text: String, outcome: Outcome, denied: Bool = false, inChannel: Bool = false) -> OutgoingResponse {
        let object: JSON = ["response_type": .string(inChannel ? "in_channel" : "ephemeral"), "text": .string(text),
                            "outcome": .string(outcome.rawValue)]
        return OutgoingResponse(status: 200, body: Array(Redactor.shared.redact(object).encoded().utf8), exitCode: denied ? 3 : exitCode(outcome))
    }

    /// An error: a precise 4xx/5xx with a user-safe message. Chat requests also get `text`.
    public static func error(_ e: SwitchyardError, function: String, delivery: String, chat: Bool) -> OutgoingResponse {
        var object: [String: JSON] = [
            "function": .string(function),
            "delivery": .string(delivery),
            "outcome": .string(e.httpStatus < 500 ? Outcome.rejected.rawValue : Outcome.failed.rawValue),
            "error": .string(e.kind.rawValue),
            "status": .int(e.httpStatus),
            "message": .string(e.message),
        ]
        if chat {
            object["response_type"] = "ephemeral"
            object["text"] = .string(e.httpStatus >= 500 && e.kind == .internalError ? "Something went wrong; the operators have the details." : e.message)
        }
        return OutgoingResponse(status: e.httpStatus, body: Array(Redactor.shared.redact(JSON.object(object)).encoded().utf8), exitCode: e.exitCode)
    }

    static func exitCode(_ outcome: Outcome) -> Int32 {
        switch outcome {
        case .done, .ignored, .planned, .rejected: 0
        case .failed: 1
        }
    }
}
