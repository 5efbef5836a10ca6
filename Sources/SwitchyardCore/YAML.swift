/// A small YAML reader for Switchyard's config: block mappings and sequences, plain and quoted
/// scalars, one-line flow collections, `|` and `>` block scalars, and comments. Anchors, tags and
/// multi-document files are refused with a line number rather than misread.
///
/// It exists so that the functions do not link full Foundation (as Yams does) just to read a config.
public indirect enum YAML: Sendable, Equatable {
    case scalar(String, line: Int)
    case sequence([YAML], line: Int)
    case mapping([(key: String, value: YAML)], line: Int)

    public static func == (a: YAML, b: YAML) -> Bool {
        switch (a, b) {
        case let (.scalar(x, l1), .scalar(y, l2)): x == y && l1 == l2
        case let (.sequence(x, l1), .sequence(y, l2)): x == y && l1 == l2
        case let (.mapping(x, l1), .mapping(y, l2)):
            l1 == l2 && x.count == y.count && zip(x, y).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: false
        }
    }

    public var line: Int {
        switch self {
        case .scalar(_, let l), .sequence(_, let l), .mapping(_, let l): l
        }
    }
    public var string: String? { if case .scalar(let s, _) = self { return s }; return nil }
    public var items: [YAML]? { if case .sequence(let a, _) = self { return a }; return nil }
    public var entries: [(key: String, value: YAML)]? { if case .mapping(let m, _) = self { return m }; return nil }
    public subscript(key: String) -> YAML? { entries?.last { $0.key == key }?.value }

    public var bool: Bool? {
        switch string?.lowercased() {
        case "true", "yes", "on": true
        case "false", "no", "off": false
        default: nil
        }
    }
    public var int: Int? { string.flatMap { Int($0) } }
    /// A scalar or a sequence of scalars, as strings.
    public var strings: [String]? {
        if let s = string { return s.isEmpty ? [] : [s] }
        return items?.compactMap(\.string)
    }

    /// Parses YAML text. Throws `SwitchyardError.misconfigured` with the line number.
    public static func parse(_ text: String) throws(SwitchyardError) -> YAML {
        var parser = YAMLParser(text: text)
        return try parser.parseDocument()
    }
}

struct YAMLParser {
    /// A content line: its number, its indentation, and the text after the indentation.
    struct Line { var number: Int; var indent: Int; var body: Substring }
    var lines: [Line] = []
    var raw: [Substring]
    var pos = 0

    init(text: String) {
        let t = text.replacingCRLF()
        // Split on the byte, not on Characters: much cheaper, and "\n" never joins a grapheme once CRLF is gone.
        var lines: [Substring] = []
        var start = t.utf8.startIndex
        for i in t.utf8.indices where t.utf8[i] == UInt8(ascii: "\n") {
            lines.append(t[start..<i])
            start = t.utf8.index(after: i)
        }
        lines.append(t[start...])
        raw = lines
    }

    func fail(_ line: Int, _ message: String) -> SwitchyardError {
        .misconfigured("config line \(line): \(message)")
    }

    mutating func parseDocument() throws(SwitchyardError) -> YAML {
        for (i, l) in raw.enumerated() {
            let n = i + 1
            let bytes = l.utf8
            let lead = bytes.prefix { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
            if lead.contains(UInt8(ascii: "\t")) { throw fail(n, "tabs are not allowed for indentation") }
            let indent = lead.count
            if indent == bytes.count || bytes.dropFirst(indent).first == UInt8(ascii: "#") { continue }
            let body = l[bytes.index(bytes.startIndex, offsetBy: indent)...]
            if body.allSatisfy(\.isWhitespace) { continue }
            if body.hasPrefix("---") && indent == 0 && lines.isEmpty { continue }
            if body.hasPrefix("---") || body.hasPrefix("...") { throw fail(n, "only one YAML document is allowed") }
            lines.append(Line(number: n, indent: indent, body: body))
        }
        guard let first = lines.first else { return .mapping([], line: 1) }
        let node = try parseBlock(indent: first.indent)
        if pos < lines.count { throw fail(lines[pos].number, "unexpected indentation") }
        return node
    }

    mutating func parseBlock(indent: Int) throws(SwitchyardError) -> YAML {
        let l = lines[pos]
        let body = l.body
        if body == "-" || body.hasPrefix("- ") { return try parseSequence(indent: indent) }
        return try parseMapping(indent: indent)
    }

    mutating func parseSequence(indent: Int) throws(SwitchyardError) -> YAML {
        var items: [YAML] = []
        let startLine = lines[pos].number
        while pos < lines.count, lines[pos].indent == indent {
            let l = lines[pos]
            let body = l.body
            guard body == "-" || body.hasPrefix("- ") else { break }
            let rest = body.dropFirst(1).drop { $0 == " " }
            let restIndent = indent + (body.count - rest.count)
            if rest.isEmpty || rest.hasPrefix("#") {
                pos += 1
                guard pos < lines.count, lines[pos].indent > indent else { items.append(.scalar("", line: l.number)); continue }
                items.append(try parseBlock(indent: lines[pos].indent))
            } else if isMappingEntry(rest) {
                // "- key: value" starts a mapping whose indentation is that of `key`.
                lines[pos] = Line(number: l.number, indent: restIndent, body: rest)
                items.append(try parseMapping(indent: restIndent))
            } else {
                pos += 1
                items.append(try scalarOrFlow(rest, line: l.number))
            }
        }
        return .sequence(items, line: startLine)
    }

    mutating func parseMapping(indent: Int) throws(SwitchyardError) -> YAML {
        var entries: [(key: String, value: YAML)] = []
        let startLine = lines[pos].number
        while pos < lines.count, lines[pos].indent == indent {
            let l = lines[pos]
            let body = l.body
            if body.hasPrefix("- ") || body == "-" { throw fail(l.number, "a list item where a `key:` was expected") }
            guard let (key, rest) = splitKey(body, line: l.number) else {
                throw fail(l.number, "expected `key: value`, found `\(body.prefix(40))`")
            }
            if entries.contains(where: { $0.key == key }) { throw fail(l.number, "duplicate key `\(key)`") }
            pos += 1
            let value = stripComment(rest)
            if value.isEmpty {
                if pos < lines.count, lines[pos].indent > indent {
                    entries.append((key, try parseBlock(indent: lines[pos].indent)))
                } else if pos < lines.count, lines[pos].indent == indent,
                          lines[pos].body.hasPrefix("- ") {
                    entries.append((key, try parseSequence(indent: indent)))   // "key:\n- a" at the same indent
                } else {
                    entries.append((key, .scalar("", line: l.number)))
                }
            } else if value == "|" || value == ">" || value.hasPrefix("|-") || value.hasPrefix(">-") || value.hasPrefix("|+") || value.hasPrefix(">+") {
                entries.append((key, blockScalar(style: value, parentIndent: indent, line: l.number)))
            } else {
                entries.append((key, try scalarOrFlow(value, line: l.number)))
            }
        }
        if pos < lines.count, lines[pos].indent > indent {
            throw fail(lines[pos].number, "unexpected indentation")
        }
        return .mapping(entries, line: startLine)
    }

    mutating func blockScalar(style: Substring, parentIndent: Int, line: Int) -> YAML {
        // Block scalars read the raw lines, blank ones included.
        var collected: [Substring] = []
        var rawIndex = line          // raw index of the next line (line numbers are 1-based)
        var blockIndent: Int? = nil
        while rawIndex < raw.count {
            let r = raw[rawIndex]
            let ind = r.prefix { $0 == " " }.count
            if r.allSatisfy({ $0 == " " }) { collected.append(""); rawIndex += 1; continue }
            if blockIndent == nil { blockIndent = ind }
            guard ind >= blockIndent!, ind > parentIndent else { break }
            collected.append(r.dropFirst(blockIndent!))
            rawIndex += 1
        }
        while let last = collected.last, last.isEmpty, !style.hasSuffix("+") { collected.removeLast() }
        while pos < lines.count, lines[pos].number <= rawIndex { pos += 1 }
        var text: String
        if style.hasPrefix(">") {
            text = ""
            for (i, c) in collected.enumerated() {
                if c.isEmpty { text += "\n" } else { text += (i > 0 && !collected[i - 1].isEmpty ? " " : "") + c }
            }
        } else {
            text = collected.joined(separator: "\n")
        }
        if !style.hasSuffix("-") { text += "\n" }
        return .scalar(text, line: line)
    }

    func isMappingEntry(_ s: Substring) -> Bool {
        if s.hasPrefix("\"") || s.hasPrefix("'") || s.hasPrefix("[") || s.hasPrefix("{") {
            return splitKey(s, line: 0) != nil && (s.hasPrefix("\"") || s.hasPrefix("'"))
        }
        return splitKey(s, line: 0) != nil
    }

    /// Splits `key: rest`; the key may be quoted. Scans bytes: every character that matters is ASCII,
    /// and an ASCII byte's UTF-8 index is a valid index of the substring.
    func splitKey(_ s: Substring, line: Int) -> (String, Substring)? {
        let u = s.utf8
        let space = UInt8(ascii: " ")
        func trimmedKey(_ end: Substring.Index) -> Substring? {
            var key = s[..<end]
            while key.utf8.last == space { key = key.dropLast() }
            return key.isEmpty ? nil : key
        }
        if let q = u.first, q == UInt8(ascii: "\"") || q == UInt8(ascii: "'") {
            guard let close = u.dropFirst().firstIndex(of: q) else { return nil }
            let afterIndex = u.index(after: close)
            guard afterIndex < u.endIndex, u[afterIndex] == UInt8(ascii: ":") else { return nil }
            return (String(s[u.index(after: u.startIndex)..<close]), s[u.index(after: afterIndex)...].drop { $0 == " " })
        }
        var i = u.startIndex
        var previous: UInt8 = 0
        while i < u.endIndex {
            let c = u[i]
            if c == UInt8(ascii: "#") && i > u.startIndex && previous == space { return nil }
            if c == UInt8(ascii: ":") {
                let next = u.index(after: i)
                if next == u.endIndex || u[next] == space {
                    guard let key = trimmedKey(i) else { return nil }
                    return (String(key), s[next...].drop { $0 == " " })
                }
            }
            previous = c
            i = u.index(after: i)
        }
        return nil
    }

    func stripComment(_ s: Substring) -> Substring {
        let u = s.utf8
        let space = UInt8(ascii: " ")
        var quote: UInt8? = nil
        var previous: UInt8? = nil
        var end = u.endIndex
        var i = u.startIndex
        while i < u.endIndex {
            let c = u[i]
            if let q = quote { if c == q { quote = nil } }
            else if c == UInt8(ascii: "\"") || c == UInt8(ascii: "'") {
                if previous == nil || previous == space || previous == UInt8(ascii: "[") || previous == UInt8(ascii: ",") { quote = c }
            } else if c == UInt8(ascii: "#") && (previous == nil || previous == space) {
                end = i
                break
            }
            previous = c
            i = u.index(after: i)
        }
        var t = s[..<end]
        while t.utf8.last == space { t = t.dropLast() }
        return t
    }

    func scalarOrFlow(_ text: Substring, line: Int) throws(SwitchyardError) -> YAML {
        let s = stripComment(text)
        if s.hasPrefix("&") || s.hasPrefix("*") || s.hasPrefix("!") {
            throw fail(line, "anchors, aliases and tags are not supported")
        }
        if s.hasPrefix("[") || s.hasPrefix("{") {
            var i = s.startIndex
            let node = try flow(s, &i, line: line)
            let rest = s[i...].drop { $0 == " " }
            if !rest.isEmpty { throw fail(line, "unexpected text after a flow collection") }
            return node
        }
        return .scalar(try unquote(s, line: line), line: line)
    }

    func unquote(_ s: Substring, line: Int) throws(SwitchyardError) -> String {
        if let q = s.first, q == "\"" || q == "'" {
            guard s.count >= 2, s.last == q else { throw fail(line, "unterminated quoted string") }
            let inner = s.dropFirst().dropLast()
            if q == "'" { return String(inner.replacing("''", with: "'")) }
            var out = ""
            var escaping = false
            for c in inner {
                if escaping {
                    switch c {
                    case "n": out.append("\n")
                    case "t": out.append("\t")
                    case "\"": out.append("\"")
                    case "\\": out.append("\\")
                    default: out.append("\\"); out.append(c)
                    }
                    escaping = false
                } else if c == "\\" { escaping = true } else { out.append(c) }
            }
            return out
        }
        return String(s)
    }

    func flow(_ s: Substring, _ i: inout Substring.Index, line: Int) throws(SwitchyardError) -> YAML {
        func skip() { while i < s.endIndex, s[i] == " " { i = s.index(after: i) } }
        func atom() throws(SwitchyardError) -> String {
            skip()
            guard i < s.endIndex else { throw fail(line, "unterminated flow collection") }
            if s[i] == "\"" || s[i] == "'" {
                let q = s[i]
                var j = s.index(after: i)
                while j < s.endIndex, s[j] != q { j = s.index(after: j) }
                guard j < s.endIndex else { throw fail(line, "unterminated quoted string") }
                let v = try unquote(s[i...j], line: line)
                i = s.index(after: j)
                return v
            }
            let start = i
            while i < s.endIndex, !",]}:".contains(s[i]) || (s[i] == ":" && s.index(after: i) < s.endIndex && s[s.index(after: i)] != " ") {
                i = s.index(after: i)
            }
            var v = s[start..<i]
            while let l = v.last, l == " " { v = v.dropLast() }
            return String(v)
        }
        let open = s[i]
        i = s.index(after: i)
        if open == "[" {
            var items: [YAML] = []
            skip()
            if i < s.endIndex, s[i] == "]" { i = s.index(after: i); return .sequence([], line: line) }
            while true {
                skip()
                if i < s.endIndex, s[i] == "[" || s[i] == "{" { items.append(try flow(s, &i, line: line)) }
                else { items.append(.scalar(try atom(), line: line)) }
                skip()
                guard i < s.endIndex else { throw fail(line, "unterminated `[`") }
                if s[i] == "," { i = s.index(after: i); continue }
                if s[i] == "]" { i = s.index(after: i); return .sequence(items, line: line) }
                throw fail(line, "expected `,` or `]` in a flow list")
            }
        } else {
            var entries: [(key: String, value: YAML)] = []
            skip()
            if i < s.endIndex, s[i] == "}" { i = s.index(after: i); return .mapping([], line: line) }
            while true {
                let key = try atom()
                skip()
                guard i < s.endIndex, s[i] == ":" else { throw fail(line, "expected `key: value` in a flow mapping") }
                i = s.index(after: i)
                skip()
                if i < s.endIndex, s[i] == "[" || s[i] == "{" { entries.append((key, try flow(s, &i, line: line))) }
                else { entries.append((key, .scalar(try atom(), line: line))) }
                skip()
                guard i < s.endIndex else { throw fail(line, "unterminated `{`") }
                if s[i] == "," { i = s.index(after: i); continue }
                if s[i] == "}" { i = s.index(after: i); return .mapping(entries, line: line) }
                throw fail(line, "expected `,` or `}` in a flow mapping")
            }
        }
    }
}
