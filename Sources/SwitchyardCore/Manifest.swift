/// A function's `function.yaml`: what it handles and the help for its commands.
/// slash-dispatch builds its routing table from these, so a new function needs no dispatcher code.
public struct FunctionManifest: Sendable, Equatable {
    public struct GitHubTrigger: Sendable, Equatable {
        public var event: String
        /// Empty: every action.
        public var actions: [String]
        /// Empty: the event itself triggers; otherwise only comments carrying one of these commands.
        public var commands: [String]
    }

    public struct CommandDoc: Sendable, Equatable {
        public var name: String
        public var usage: String
        public var aliases: [String]
        public var allow: [PermissionLevel]
        public var summary: String
        public var examples: [String]
        public var chatExamples: [String]
    }

    public var name: String
    public var description: String
    public var github: [GitHubTrigger]
    public var chatCommands: [String]
    public var commands: [CommandDoc]

    /// Parses a manifest. Throws `misconfigured` naming the file's problem and line.
    /// `sections` limits parsing to those top-level keys (and `name`): routing a plain event needs only
    /// `triggers`, and the command documentation is most of the text.
    public init(yaml text: String, sections: Set<String>? = nil) throws(SwitchyardError) {
        let y = try YAML.parse(sections.map { Self.keeping($0.union(["name"]), of: text) } ?? text)
        guard let name = y["name"]?.string, !name.isEmpty else { throw .misconfigured("function.yaml line \(y.line): `name` is required") }
        self.name = name
        description = y["description"]?.string ?? ""
        github = (y["triggers"]?["github"]?.items ?? []).compactMap { t in
            guard let event = t["event"]?.string else { return nil }
            return GitHubTrigger(event: event, actions: t["actions"]?.strings ?? [],
                                 commands: (t["commands"]?.strings ?? []).map(CommandGrammar.normalize))
        }
        chatCommands = (y["triggers"]?["chat"]?["commands"]?.strings ?? []).map(CommandGrammar.normalize)
        var docs: [CommandDoc] = []
        for (key, c) in y["commands"]?.entries ?? [] {
            var levels: [PermissionLevel] = []
            for l in c["allow"]?.strings ?? ["anyone"] {
                guard let level = PermissionLevel(l) else { throw .misconfigured("function.yaml line \(c.line): unknown permission `\(l)` for \(key)") }
                levels.append(level)
            }
            docs.append(CommandDoc(name: CommandGrammar.normalize(key), usage: c["usage"]?.string ?? "/\(key)",
                                   aliases: (c["aliases"]?.strings ?? []).map(CommandGrammar.normalize), allow: levels,
                                   summary: c["summary"]?.string ?? "", examples: c["examples"]?.strings ?? [],
                                   chatExamples: c["chat-examples"]?.strings ?? []))
        }
        commands = docs
    }

    /// A manifest holding only what routing a plain event needs, as slash-dispatch caches it.
    public init(name: String, github: [GitHubTrigger], chatCommands: [String]) {
        self.name = name; description = ""; self.github = github; self.chatCommands = chatCommands; commands = []
    }

    /// The triggers as JSON (`name`, `github`, `chat`), the form of slash-dispatch's routing cache.
    public var triggersJSON: JSON {
        ["name": .string(name),
         "github": .array(github.map { ["event": .string($0.event), "actions": .array($0.actions.map(JSON.string)),
                                        "commands": .array($0.commands.map(JSON.string))] }),
         "chat": .array(chatCommands.map(JSON.string))]
    }

    /// The manifest `triggersJSON` wrote, or nil when `json` is not of that shape.
    public init?(triggersJSON json: JSON) {
        func strings(_ v: JSON?) -> [String]? {
            guard let a = v?.array else { return nil }
            let s = a.compactMap(\.string)
            return s.count == a.count ? s : nil
        }
        guard let name = json["name"]?.string, let list = json["github"]?.array, let chat = strings(json["chat"]) else { return nil }
        var github: [GitHubTrigger] = []
        for t in list {
            guard let event = t["event"]?.string, let actions = strings(t["actions"]), let commands = strings(t["commands"]) else { return nil }
            github.append(GitHubTrigger(event: event, actions: actions, commands: commands))
        }
        self.init(name: name, github: github, chatCommands: chat)
    }

    /// The text with only the named top-level sections; other lines become empty, so line numbers hold.
    static func keeping(_ keys: Set<String>, of text: String) -> String {
        // On the bytes: slash-dispatch does this for every manifest on every event.
        let kept = keys.map { Array($0.utf8) }
        var text = text
        return text.withUTF8 { src in
            var out: [UInt8] = []
            out.reserveCapacity(src.count + 1)
            var keep = false
            var start = 0
            while start <= src.count {
                var end = start
                while end < src.count, src[end] != UInt8(ascii: "\n") { end += 1 }
                let line = UnsafeBufferPointer(rebasing: src[start..<end])
                if let c = line.first, c != UInt8(ascii: " "), c != UInt8(ascii: "#"), c != UInt8(ascii: "\t"), c != UInt8(ascii: "\r"),
                   c != UInt8(ascii: "-") {
                    var colon = 0
                    while colon < line.count, line[colon] != UInt8(ascii: ":") { colon += 1 }
                    let key = UnsafeBufferPointer(rebasing: line[..<colon])
                    keep = kept.contains { $0.elementsEqual(key) }
                }
                if keep { out.append(contentsOf: line) }
                out.append(UInt8(ascii: "\n"))
                start = end + 1
            }
            return String(decoding: out, as: UTF8.self)
        }
    }

    /// The command documented under `name` or one of its aliases.
    public func command(_ name: String) -> CommandDoc? {
        let n = CommandGrammar.normalize(name)
        return commands.first { $0.name == n || $0.aliases.contains(n) }
    }

    /// Every name (and alias) this function answers to.
    public var commandNames: Set<String> { Set(commands.flatMap { [$0.name] + $0.aliases }) }
}
