import Testing
import SwitchyardCore

/// The grammar as it was, walking Characters: the byte-level scan must find exactly the same commands.
enum ReferenceGrammar {
    /// Folds case and `_` so that `/Update_Branch` and `/update-branch` are one command.
    static func normalize(_ name: String) -> String {
        String(name.lowercased().map { $0 == "_" ? "-" : $0 })
    }

    /// Commands in a comment body, in order.
    static func commands(inComment body: String) -> [Command] {
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

    /// Splits arguments on white space, honouring "double" and 'single' quotes and backslash escapes.
    static func tokenize(_ text: Substring) throws(SwitchyardError) -> [String] {
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

    // MARK: - Helpers

    static func parseLine(_ text: Substring) -> Command? {
        let name = text.prefix { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
        guard let first = name.first, first.isLetter else { return nil }
        let rest = text.dropFirst(name.count)
        if let next = rest.first, !next.isWhitespace { return nil }   // `/path/like/this`, `/cmd:`
        let line = "/" + String(text).refTrimmingTrailingWhitespace()
        do {
            return Command(name: String(name), tokens: try tokenize(rest), line: line)
        } catch {
            return Command(name: String(name), tokens: [], line: line, error: error.message)
        }
    }

    /// Lines with CRLF folded and HTML comments removed (a comment may span lines).
    static func visibleLines(_ body: String) -> [Substring] {
        var text = body.refReplacingCRLF()
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


private extension String {
    func refReplacingCRLF() -> String {
        guard utf8.contains(13) else { return self }
        return String(map { $0 == "\r\n" || $0 == "\r" ? "\n" : $0 })
    }
    func refTrimmingTrailingWhitespace() -> String {
        var s = Substring(self)
        while let l = s.last, l.isWhitespace { s = s.dropLast() }
        return String(s)
    }
}

@Suite("command grammar: bytes against the reference")
struct CommandGrammarDifferentialTests {
    static let pieces = ["/", "/update-branch", "/cherry-pick release-8.0", "/e2e-test A=1 'b c'", "\n", "\r\n", "\r", " ", "   ", "    ", "\t",
                         "```", "~~~", "````", "`", "``", ">", "<!--", "-->", "-", "x", "é", "e\u{301}", "\u{00A0}", "\u{3000}",
                         "\u{201C}", "\u{201D}", "\"", "'", "\\", "/Update_Branch", "/path/like", "/cmd:", "😀", "\u{FFFC}",
                         "/other-cmd K=v x.y=1 =z 9a=b _u=1 -k=v a=", " A=1", "=", "B.c-d=2"]
    // Left out on purpose: a combining mark straight after a quote or a backslash. The reference read
    // the pair as one character (no longer a quote); the scalar walk reads the quote, then the mark.

    @Test func randomCommentsParseAlike() {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            var body = ""
            for _ in 0..<Int.random(in: 0...24, using: &rng) { body += Self.pieces.randomElement(using: &rng)! }
            let new = CommandGrammar.commands(inComment: body)
            let old = ReferenceGrammar.commands(inComment: body)
            #expect(new == old, "\(body.debugDescription)")
            // The byte-level count of a comment's requests, for any set of names kept.
            let keep: Set<String> = Bool.random(using: &rng) ? ["update-branch"] : ["e2e-test", "cherry-pick"]
            let scanned = CommandGrammar.scan(body, keeping: keep)
            #expect(scanned.commands == old.filter { keep.contains($0.name) }, "\(body.debugDescription)")
            #expect(scanned.requests == old.reduce(0) { $0 + max(1, $1.arguments.count) }, "\(body.debugDescription)")
            #expect(CommandGrammar.asksForAnything(body) == !old.isEmpty, "\(body.debugDescription)")
            if new != old || scanned.requests != old.reduce(0, { $0 + max(1, $1.arguments.count) }) { return }
        }
    }
}
