/// One parsed command: `/cherry-pick release-8.0 KEY=value "quoted arg"`.
public struct Command: Sendable, Equatable, Codable {
    /// Normalized name: lower-case, `_` folded to `-` (`/Update_Branch` → `update-branch`).
    public var name: String
    /// Every argument token after the name, in order, with quotes removed.
    public var tokens: [String]
    /// The line as written, for quoting back in replies.
    public var line: String
    /// Set when the arguments could not be tokenized (for example an unterminated quote).
    public var error: String?

    public init(name: String, tokens: [String] = [], line: String? = nil, error: String? = nil) {
        self.name = CommandGrammar.normalize(name)
        self.tokens = tokens
        self.line = line ?? (["/" + name] + tokens).joined(separator: " ")
        self.error = error
    }

    /// Tokens that are not `KEY=value` options.
    public var arguments: [String] { tokens.filter { CommandGrammar.option($0) == nil } }

    /// `KEY=value` options in order; a repeated key keeps its last value when read through `option(_:)`.
    public var options: [(key: String, value: String)] { tokens.compactMap(CommandGrammar.option) }

    public func option(_ key: String) -> String? { options.last { $0.key == key }?.value }
}
