/// The one command grammar shared by every capability, for PR comments and chat alike.
///
/// In a comment, a command starts a line (up to three spaces of indentation). Fenced code, indented
/// code, inline code, block quotes and HTML comments are ignored, so quoting someone's command never
/// fires it. Several commands in one comment all count.
public enum CommandGrammar {
    /// Folds case and `_` so that `/Update_Branch` and `/update-branch` are one command.
    public static func normalize(_ name: String) -> String {
        String(name.lowercased().map { $0 == "_" ? "-" : $0 })
    }

    /// Commands in a comment body, in order.
    public static func commands(inComment body: String) -> [Command] {
        var result: [Command] = []
        var fence: (char: Character, length: Int)? = nil
        for rawLine in visibleLines(body) {
            let indent = rawLine.prefix { $0 == " " }.count
            let line = rawLine.dropFirst(min(indent, 3))
            if let f = fenceMarker(line), indent <= 3 {
                if let open = fence {
                    if f.char == open.char && f.length >= open.length && f.rest.allSatisfy(\.isWhitespace) { fence = nil }
                } else {
                    fence = (f.char, f.length)
                }
                continue
            }
            if fence != nil { continue }
            if indent >= 4 || rawLine.hasPrefix("\t") { continue }   // indented code block
            if line.hasPrefix(">") { continue }                       // quoted reply
            let text = blankInlineCode(line)
            guard text.hasPrefix("/") else { continue }
            if let command = parseLine(text.dropFirst()) { result.append(command) }
        }
        return result
    }

    /// Parses chat text such as `update-branch org/repo#123` (a leading `/` is allowed).
    /// Returns nil when the text is empty.
    public static func command(fromChat text: String) -> Command? {
        var t = Substring(text.replacingCRLF()).trimmingWhitespace()
        if t.hasPrefix("/") { t = t.dropFirst() }
        guard !t.isEmpty else { return nil }
        let name = t.prefix { !$0.isWhitespace }
        let rest = t.dropFirst(name.count)
        do {
            return Command(name: String(name), tokens: try tokenize(rest), line: String(t))
        } catch {
            return Command(name: String(name), tokens: [], line: String(t), error: "\(error.message)")
        }
    }

    /// Splits arguments on white space, honouring "double" and 'single' quotes and backslash escapes.
    public static func tokenize(_ text: Substring) throws(SwitchyardError) -> [String] {
        var tokens: [String] = []
        var current = ""
        var inToken = false
        var quote: Character? = nil
        var escaping = false
        for ch in text {
            if escaping { current.append(ch); escaping = false; continue }
            if let q = quote {
                if ch == q { quote = nil }
                else if ch == "\\" && q == "\"" { escaping = true }
                else { current.append(ch) }
                continue
            }
            if ch == "\"" || ch == "'" || ch == "“" || ch == "”" {
                quote = (ch == "“" || ch == "”") ? "”" : ch
                inToken = true
            } else if ch == "\\" {
                escaping = true; inToken = true
            } else if ch.isWhitespace {
                if inToken { tokens.append(current); current = ""; inToken = false }
            } else {
                current.append(ch); inToken = true
            }
        }
        if quote != nil { throw .badRequest("an argument has an unterminated quote") }
        if inToken { tokens.append(current) }
        return tokens
    }

    /// `KEY=value` → (KEY, value); nil for other tokens. Keys start with a letter or `_`.
    public static func option(_ token: String) -> (key: String, value: String)? {
        guard let eq = token.firstIndex(of: "="), eq != token.startIndex else { return nil }
        let key = token[..<eq]
        guard let first = key.first, first.isLetter || first == "_",
              key.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "_.-".contains($0)) }) else { return nil }
        return (String(key), String(token[token.index(after: eq)...]))
    }

    // MARK: - Helpers

    static func parseLine(_ text: Substring) -> Command? {
        let name = text.prefix { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
        guard let first = name.first, first.isLetter else { return nil }
        let rest = text.dropFirst(name.count)
        if let next = rest.first, !next.isWhitespace { return nil }   // `/path/like/this`, `/cmd:`
        let line = "/" + String(text).trimmingTrailingWhitespace()
        do {
            return Command(name: String(name), tokens: try tokenize(rest), line: line)
        } catch {
            return Command(name: String(name), tokens: [], line: line, error: error.message)
        }
    }

    /// Lines with CRLF folded and HTML comments removed (a comment may span lines).
    static func visibleLines(_ body: String) -> [Substring] {
        var text = body.replacingCRLF()
        while let open = text.firstRange(of: "<!--") {
            if let close = text[open.upperBound...].firstRange(of: "-->") {
                text.replaceSubrange(open.lowerBound..<close.upperBound, with: "")
            } else {
                text.removeSubrange(open.lowerBound..<text.endIndex)
            }
        }
        return text.split(separator: "\n", omittingEmptySubsequences: false)
    }

    static func fenceMarker(_ line: Substring) -> (char: Character, length: Int, rest: Substring)? {
        guard let c = line.first, c == "`" || c == "~" else { return nil }
        let run = line.prefix { $0 == c }.count
        guard run >= 3 else { return nil }
        return (c, run, line.dropFirst(run))
    }

    /// Replaces inline code spans with U+FFFC so that their content never reads as a command.
    static func blankInlineCode(_ line: Substring) -> Substring {
        guard line.contains("`") else { return line }
        var out = ""
        var i = line.startIndex
        while i < line.endIndex {
            if line[i] == "`" {
                let run = line[i...].prefix { $0 == "`" }.count
                let ticks = String(repeating: "`", count: run)
                let after = line.index(i, offsetBy: run)
                if let close = line[after...].firstRange(of: ticks) {
                    out.append("\u{FFFC}")
                    i = close.upperBound
                    continue
                }
                out.append(contentsOf: ticks)
                i = after
                continue
            }
            out.append(line[i])
            i = line.index(after: i)
        }
        return Substring(out)
    }
}

extension String {
    func replacingCRLF() -> String {
        guard utf8.contains(13) else { return self }
        // "\r\n" is a single Character in Swift; map it and lone "\r" to "\n".
        return String(map { $0 == "\r\n" || $0 == "\r" ? "\n" : $0 })
    }
    func trimmingTrailingWhitespace() -> String {
        var s = Substring(self)
        while let l = s.last, l.isWhitespace { s = s.dropLast() }
        return String(s)
    }
}

extension Substring {
    func trimmingWhitespace() -> Substring {
        var s = self.drop { $0.isWhitespace }
        while let l = s.last, l.isWhitespace { s = s.dropLast() }
        return s
    }
}
