import SwitchyardCore

/// `/switchyard help` and `/switchyard help <command>`, rendered from the manifests' declarations.
public enum Help {
    public static func overview(_ table: RoutingTable, slash: String) -> String {
        var lines = ["**Switchyard commands** (`\(slash) help <command>` for details)", ""]
        for m in table.manifests {
            for name in m.chatCommands {
                let doc = m.command(name)
                let example = doc?.chatExamples.first ?? name
                lines.append("- `\(slash) \(example)`: \(doc?.summary ?? m.description)")
            }
        }
        lines += ["", "In pull-request comments, the same commands start a line: `/update-branch`."]
        return lines.joined(separator: "\n")
    }

    public static func command(_ doc: FunctionManifest.CommandDoc, slash: String) -> String {
        var lines = ["**\(doc.name)**: \(doc.summary)", "", "In a pull-request comment: `\(doc.usage)`"]
        if !doc.aliases.isEmpty { lines.append("Also spelled: " + doc.aliases.map { "`/\($0)`" }.joined(separator: ", ")) }
        lines.append("Who may run it: \(describePolicy(doc.allow)).")
        if !doc.examples.isEmpty { lines += ["", "Examples:"] + doc.examples.map { "- `\($0)`" } }
        if !doc.chatExamples.isEmpty { lines += ["", "From chat:"] + doc.chatExamples.map { "- `\(slash) \($0)`" } }
        return lines.joined(separator: "\n")
    }
}
