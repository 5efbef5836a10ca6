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

    /// Commands in a comment body, in order. The body is scanned as UTF-8 bytes; only a line that
    /// starts with `/` is read as text, so a long comment costs about as much as reading it once.
    public static func commands(inComment body: String) -> [Command] {
        var result: [Command] = []
        var fence: (char: UInt8, length: Int)? = nil
        let bytes = visibleBytes(body)
        bytes.withUnsafeBufferPointer { buf in
            var start = 0
            while start <= buf.count {
                var end = start
                while end < buf.count, buf[end] != 0x0A { end += 1 }
                defer { start = end + 1 }
                let raw = UnsafeBufferPointer(rebasing: buf[start..<end])
                var indent = 0
                while indent < raw.count, raw[indent] == 0x20 { indent += 1 }
                let line = UnsafeBufferPointer(rebasing: raw[min(indent, 3)...])
                if indent <= 3, let f = fenceMarker(line) {
                    if let open = fence {
                        if f.char == open.char && f.length >= open.length
                            && String(decoding: UnsafeBufferPointer(rebasing: line[f.length...]), as: UTF8.self).allSatisfy(\.isWhitespace) { fence = nil }
                    } else {
                        fence = (f.char, f.length)
                    }
                    continue
                }
                if fence != nil { continue }
                if indent >= 4 || raw.first == 0x09 { continue }   // indented code block
                guard line.first == UInt8(ascii: "/") else { continue }   // quoted replies (`>`) and prose alike
                let text = blankInlineCode(Substring(String(decoding: line, as: UTF8.self)))
                guard text.hasPrefix("/") else { continue }
                if let command = parseLine(text.dropFirst()) { result.append(command) }
            }
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
    /// Walks Unicode scalars (not grapheme clusters): quotes, backslashes and spaces are single scalars.
    public static func tokenize(_ text: Substring) throws(SwitchyardError) -> [String] {
        var tokens: [String] = []
        var current = String.UnicodeScalarView()
        var inToken = false
        var quote: Unicode.Scalar? = nil
        var escaping = false
        let left: Unicode.Scalar = "\u{201C}", right: Unicode.Scalar = "\u{201D}"
        for ch in text.unicodeScalars {
            if escaping { current.append(ch); escaping = false; continue }
            if let q = quote {
                if ch == q { quote = nil }
                else if ch == "\\" && q == "\"" { escaping = true }
                else { current.append(ch) }
                continue
            }
            if ch == "\"" || ch == "'" || ch == left || ch == right {
                quote = (ch == left || ch == right) ? right : ch
                inToken = true
            } else if ch == "\\" {
                escaping = true; inToken = true
            } else if ch.properties.isWhitespace {
                if inToken { tokens.append(String(current)); current = String.UnicodeScalarView(); inToken = false }
            } else {
                current.append(ch); inToken = true
            }
        }
        if quote != nil { throw .badRequest("an argument has an unterminated quote") }
        if inToken { tokens.append(String(current)) }
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

    /// The body's bytes with CRLF and lone CR folded to LF and HTML comments removed (a comment may
    /// span lines; an unclosed one hides the rest).
    static func visibleBytes(_ body: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(body.utf8.count)
        var it = body.utf8.makeIterator()
        var pending: UInt8? = nil
        var inComment = false
        var window: (UInt8, UInt8, UInt8) = (0, 0, 0)   // the last three bytes, to find `-->`
        func next() -> UInt8? {
            let b: UInt8
            if let p = pending { pending = nil; b = p } else if let x = it.next() { b = x } else { return nil }
            if b == 0x0D {
                if let n = it.next(), n != 0x0A { pending = n }
                return 0x0A
            }
            return b
        }
        while let b = next() {
            if inComment {
                window = (window.1, window.2, b)
                if window == (0x2D, 0x2D, 0x3E) { inComment = false }
                continue
            }
            out.append(b)
            // `<!--` just completed: drop it and skip to its `-->`.
            if b == 0x2D, out.count >= 4, out[out.count - 4] == 0x3C, out[out.count - 3] == 0x21, out[out.count - 2] == 0x2D {
                out.removeLast(4)
                inComment = true
                window = (0, 0, 0)
            }
        }
        return out
    }

    static func fenceMarker(_ line: UnsafeBufferPointer<UInt8>) -> (char: UInt8, length: Int)? {
        guard let c = line.first, c == UInt8(ascii: "`") || c == UInt8(ascii: "~") else { return nil }
        var run = 0
        while run < line.count, line[run] == c { run += 1 }
        return run >= 3 ? (c, run) : nil
    }

    /// Replaces inline code spans with U+FFFC so that their content never reads as a command.
    static func blankInlineCode(_ line: Substring) -> Substring {
        guard line.utf8.contains(UInt8(ascii: "`")) else { return line }
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
