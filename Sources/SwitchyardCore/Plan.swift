/// What a capability decided: the actions to perform and the message that explains them.
/// A plan is pure data, built by a pure `plan(trigger, facts, config)` and performed by one runner.
public struct Plan: Sendable, Equatable {
    public var outcome: Outcome
    public var actions: [Action]
    /// The user-facing message for the response.
    public var message: String
    /// What to do instead when an action fails with a given status (e.g. a 422 merge conflict).
    public var fallbacks: [Fallback]
    /// True when the requester lacks permission: the process exits 3.
    public var denied: Bool
    /// Extra fields for the response (slash-dispatch puts each routed function's result here).
    public var response: [String: JSON] = [:]

    public init(outcome: Outcome, actions: [Action] = [], message: String, fallbacks: [Fallback] = [], denied: Bool = false) {
        self.outcome = outcome; self.actions = actions; self.message = message; self.fallbacks = fallbacks
        self.denied = denied
    }

    /// Nothing to do, with the reason.
    public static func ignore(_ reason: String) -> Plan { Plan(outcome: .ignored, message: reason) }
    /// Work to perform.
    public static func perform(_ actions: [Action], message: String, fallbacks: [Fallback] = []) -> Plan {
        Plan(outcome: .done, actions: actions, message: message, fallbacks: fallbacks)
    }
    /// A refusal (invalid request, impossible action), usually with a reply to the user.
    public static func reject(_ message: String, reply: [Action] = []) -> Plan {
        Plan(outcome: .rejected, actions: reply, message: message)
    }
    /// A refusal because the requester may not run the command.
    public static func deny(_ message: String, reply: [Action] = []) -> Plan {
        Plan(outcome: .rejected, actions: reply, message: message, denied: true)
    }
}

/// What happened to an event.
public enum Outcome: String, Sendable, Codable, Equatable {
    case done, ignored, planned, rejected, failed
}

/// A replacement for the rest of a plan when one of its actions fails with `status`
/// (and, if set, an API message containing `messageContains`).
public struct Fallback: Sendable, Equatable {
    public var status: Int
    public var messageContains: String?
    public var outcome: Outcome
    public var actions: [Action]
    public var message: String

    public init(status: Int, messageContains: String? = nil, outcome: Outcome = .rejected, actions: [Action], message: String) {
        self.status = status; self.messageContains = messageContains; self.outcome = outcome
        self.actions = actions; self.message = message
    }

    public func matches(status: Int, message: String) -> Bool {
        guard status == self.status else { return false }
        guard let needle = messageContains else { return true }
        return message.lowercased().contains(needle.lowercased())
    }
}
