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
        forEachCommandLine(body) { line in
            if let command = parse(line) { result.append(command) }
            return true
        }
        return result
    }

    /// Whether the comment asks for anything at all, `scan(body, keeping: []).requests > 0`, stopping at
    /// the first line that does (a long comment is not read to its end to learn that it has commands).
    public static func asksForAnything(_ body: String) -> Bool {
        var found = false
        forEachCommandLine(body) { line in
            guard let i = nameEnd(line) else { return true }
            if plainArgumentCount(UnsafeBufferPointer(rebasing: line[i...])) != nil || parse(line) != nil { found = true }
            return !found
        }
        return found
    }

    /// What a comment asks of one function: its commands among `names`, and how many requests the
    /// whole comment makes (every command counts once per argument, at least once). Commands of other
    /// names are counted on the bytes where they are plain ASCII, without being read as text.
    public static func scan(_ body: String, keeping names: Set<String>) -> (commands: [Command], requests: Int) {
        var mine: [Command] = []
        var requests = 0
        let kept = names.map { Array($0.utf8) }
        forEachCommandLine(body) { line in
            // The name, on the bytes (after the `/`), compared without making a String of it.
            guard let i = nameEnd(line) else { return true }
            let name = UnsafeBufferPointer(rebasing: line[1..<i])
            if !kept.contains(where: { sameName($0, name) }), let count = plainArgumentCount(UnsafeBufferPointer(rebasing: line[i...])) {
                requests += max(1, count)
                return true
            }
            guard let command = parse(line) else { return true }
            requests += max(1, command.arguments.count)
            if names.contains(command.name) { mine.append(command) }
            return true
        }
        return (mine, requests)
    }

    static func parse(_ line: UnsafeBufferPointer<UInt8>) -> Command? {
        let text = blankInlineCode(Substring(String(decoding: line, as: UTF8.self)))
        guard text.hasPrefix("/") else { return nil }
        return parseLine(text.dropFirst())
    }

    /// Where the command name after a line's `/` ends, nil when no name starts there (a letter first).
    static func nameEnd(_ line: UnsafeBufferPointer<UInt8>) -> Int? {
        var i = 1
        while i < line.count, isNameByte(line[i]) { i += 1 }
        return i > 1 && isLetter(line[1]) ? i : nil
    }

    /// Whether `bytes` is `name` once normalized as command names are (ASCII lower case, `_` as `-`).
    static func sameName(_ name: [UInt8], _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard name.count == bytes.count else { return false }
        for k in 0..<bytes.count {
            let b = bytes[k]
            if name[k] != (b == UInt8(ascii: "_") ? UInt8(ascii: "-") : (b >= 0x41 && b <= 0x5A ? b + 0x20 : b)) { return false }
        }
        return true
    }


    /// The number of non-option arguments after a command's name, when the rest of the line is plain
    /// ASCII with no quote, backslash or backtick; nil when it is not (then it is read as text), or
    /// when the name does not end at white space (not a command at all: nil too, and `parse` says so).
    static func plainArgumentCount(_ rest: UnsafeBufferPointer<UInt8>) -> Int? {
        if let first = rest.first, !isSpace(first) { return nil }
        // One pass: each token's bytes are checked (plain ASCII, no quote, backslash or backtick) as
        // it is read, and whether it is an option is decided on the way: `option(_:)` on ASCII bytes,
        // `KEY=…` with a key of letters, digits, `_`, `.`, `-` that starts with a letter or `_`.
        var count = 0, i = 0
        while i < rest.count {
            while i < rest.count, isSpace(rest[i]) { i += 1 }
            guard i < rest.count else { break }
            let start = i
            var equals = -1
            var keyOK = isLetter(rest[i]) || rest[i] == UInt8(ascii: "_")
            while i < rest.count, !isSpace(rest[i]) {
                let b = rest[i]
                if b >= 0x80 || b == 0x22 || b == 0x27 || b == 0x5C || b == 0x60 { return nil }
                if equals < 0 {
                    if b == UInt8(ascii: "=") { equals = i }
                    else if !(isLetter(b) || (b >= 0x30 && b <= 0x39) || b == UInt8(ascii: "_") || b == UInt8(ascii: ".") || b == UInt8(ascii: "-")) { keyOK = false }
                }
                i += 1
            }
            if !(equals > start && keyOK) { count += 1 }
        }
        return count
    }

    static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || (0x09...0x0D).contains(b) }

    /// Calls `visit` with every line that can hold a command: not in a fence or an indented code
    /// block, not in an HTML comment, starting (after up to three spaces) with `/`; until it says false.
    static func forEachCommandLine(_ body: String, _ visit: (UnsafeBufferPointer<UInt8>) -> Bool) {
        var fence: (char: UInt8, length: Int)? = nil
        let bytes = visibleBytes(body)
        bytes.withUnsafeBufferPointer { buf in
            var start = 0
            while start <= buf.count {
                let end = ByteScan.first(0x0A, 0x0A, in: buf, from: start)
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
                if !visit(line) { return }
            }
        }
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
        // Plain ASCII without quotes or backslashes, the usual case: split on the bytes.
        if text.utf8.allSatisfy({ $0 < 0x80 && $0 != 0x22 && $0 != 0x27 && $0 != 0x5C }) {
            return text.utf8.split(whereSeparator: { $0 == 0x20 || (0x09...0x0D).contains($0) }).map { String(Substring($0)) }
        }
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
            } else if ch.isASCII ? (ch.value == 0x20 || (0x09...0x0D).contains(ch.value)) : ch.properties.isWhitespace {
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
        // The name is ASCII: found on the bytes, without walking grapheme clusters.
        let u = text.utf8
        var i = u.startIndex
        while i < u.endIndex, isNameByte(u[i]) { i = u.index(after: i) }
        guard i > u.startIndex, isLetter(u[u.startIndex]) else { return nil }
        let name = text[..<i]
        let rest = text[i...]
        if i < u.endIndex {
            let b = u[i]
            let white = b < 0x80 ? (b == 0x20 || (0x09...0x0D).contains(b)) : rest.first!.isWhitespace
            if !white { return nil }   // `/path/like/this`, `/cmd:`
        }
        let line = "/" + trimmedTrailing(text)
        do {
            return Command(name: String(name), tokens: try tokenize(rest), line: line)
        } catch {
            return Command(name: String(name), tokens: [], line: line, error: error.message)
        }
    }

    static func isNameByte(_ b: UInt8) -> Bool { isLetter(b) || (b >= 0x30 && b <= 0x39) || b == UInt8(ascii: "-") || b == UInt8(ascii: "_") }
    static func isLetter(_ b: UInt8) -> Bool { (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) }

    /// `text` without trailing white space: ASCII on the bytes, anything else as characters.
    static func trimmedTrailing(_ text: Substring) -> String {
        let u = text.utf8
        var end = u.endIndex
        while end > u.startIndex {
            let b = u[u.index(before: end)]
            guard b == 0x20 || (0x09...0x0D).contains(b) else { break }
            end = u.index(before: end)
        }
        let cut = text[..<end]
        if let last = cut.utf8.last, last >= 0x80 { return String(cut).trimmingTrailingWhitespace() }
        return String(cut)
    }

    /// The body's bytes with CRLF and lone CR folded to LF and HTML comments removed (a comment may
    /// span lines; an unclosed one hides the rest).
    static func visibleBytes(_ body: String) -> [UInt8] {
        var body = body
        return body.withUTF8 { src in
            var out: [UInt8] = []
            out.reserveCapacity(src.count)
            // Up to the first CR or `<!--` nothing changes: copied in one step.
            var i = ByteScan.first(0x0D, 0x3C, in: src, from: 0)
            while i < src.count, src[i] == 0x3C,
                  !(i + 3 < src.count && src[i + 1] == 0x21 && src[i + 2] == 0x2D && src[i + 3] == 0x2D) {
                i = ByteScan.first(0x0D, 0x3C, in: src, from: i + 1)
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: src[..<i]))
            var inComment = false
            var commentStart = 0
            while i < src.count {
                var b = src[i]
                i += 1
                if b == 0x0D {
                    if i < src.count, src[i] == 0x0A { i += 1 }
                    b = 0x0A
                }
                if inComment {
                    // `-->` ends it: the two bytes before this `>` (CR folding never makes a `-`).
                    if b == 0x3E, i >= 3, src[i - 2] == 0x2D, src[i - 3] == 0x2D, commentStart <= i - 3 { inComment = false }
                    continue
                }
                out.append(b)
                // `<!--` just completed: drop it and skip to its `-->`.
                if b == 0x2D, out.count >= 4, out[out.count - 4] == 0x3C, out[out.count - 3] == 0x21, out[out.count - 2] == 0x2D {
                    out.removeLast(4)
                    inComment = true
                    commentStart = i
                }
            }
            return out
        }
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

/// Finding bytes eight at a time (the has-zero-byte test on each word).
enum ByteScan {
    /// The index of the first `a` or `b` at or after `from`, or `buf.count` when there is none.
    static func first(_ a: UInt8, _ b: UInt8, in buf: UnsafeBufferPointer<UInt8>, from: Int) -> Int {
        var i = from
        if let base = buf.baseAddress {
            let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
            let wa = ones &* UInt64(a), wb = ones &* UInt64(b)
            while i + 8 <= buf.count {
                let w = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
                let x = w ^ wa, y = w ^ wb
                if (((x &- ones) & ~x) | ((y &- ones) & ~y)) & highs != 0 { break }
                i += 8
            }
        }
        while i < buf.count, buf[i] != a, buf[i] != b { i += 1 }
        return i
    }
}
