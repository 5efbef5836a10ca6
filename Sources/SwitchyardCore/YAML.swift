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
    struct Line { var number: Int; var indent: Int; var text: Substring }
    var lines: [Line] = []
    var raw: [Substring]
    var pos = 0

    init(text: String) {
        raw = text.replacingCRLF().split(separator: "\n", omittingEmptySubsequences: false)
    }

    func fail(_ line: Int, _ message: String) -> SwitchyardError {
        .misconfigured("config line \(line): \(message)")
    }

    mutating func parseDocument() throws(SwitchyardError) -> YAML {
        for (i, l) in raw.enumerated() {
            let n = i + 1
            if l.hasPrefix("\t") || l.prefix(while: { $0 == " " || $0 == "\t" }).contains("\t") {
                throw fail(n, "tabs are not allowed for indentation")
            }
            let indent = l.prefix { $0 == " " }.count
            let body = l.dropFirst(indent)
            if body.hasPrefix("#") || body.allSatisfy(\.isWhitespace) { continue }
            if body.hasPrefix("---") && indent == 0 && lines.isEmpty { continue }
            if body.hasPrefix("---") || body.hasPrefix("...") { throw fail(n, "only one YAML document is allowed") }
            lines.append(Line(number: n, indent: indent, text: l))
        }
        guard let first = lines.first else { return .mapping([], line: 1) }
        let node = try parseBlock(indent: first.indent)
        if pos < lines.count { throw fail(lines[pos].number, "unexpected indentation") }
        return node
    }

    mutating func parseBlock(indent: Int) throws(SwitchyardError) -> YAML {
        let l = lines[pos]
        let body = l.text.dropFirst(l.indent)
        if body == "-" || body.hasPrefix("- ") { return try parseSequence(indent: indent) }
        return try parseMapping(indent: indent)
    }

    mutating func parseSequence(indent: Int) throws(SwitchyardError) -> YAML {
        var items: [YAML] = []
        let startLine = lines[pos].number
        while pos < lines.count, lines[pos].indent == indent {
            let l = lines[pos]
            let body = l.text.dropFirst(indent)
            guard body == "-" || body.hasPrefix("- ") else { break }
            let rest = body.dropFirst(1).drop { $0 == " " }
            let restIndent = indent + (body.count - rest.count)
            if rest.isEmpty || rest.hasPrefix("#") {
                pos += 1
                guard pos < lines.count, lines[pos].indent > indent else { items.append(.scalar("", line: l.number)); continue }
                items.append(try parseBlock(indent: lines[pos].indent))
            } else if isMappingEntry(rest) {
                // "- key: value" starts a mapping whose indentation is that of `key`.
                lines[pos] = Line(number: l.number, indent: restIndent, text: Substring(String(repeating: " ", count: restIndent) + rest))
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
            let body = l.text.dropFirst(indent)
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
                          lines[pos].text.dropFirst(indent).hasPrefix("- ") {
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

    /// Splits `key: rest`; the key may be quoted.
    func splitKey(_ s: Substring, line: Int) -> (String, Substring)? {
        if let q = s.first, q == "\"" || q == "'" {
            guard let close = s.dropFirst().firstIndex(of: q) else { return nil }
            let after = s[s.index(after: close)...]
            guard after.hasPrefix(":") else { return nil }
            return (String(s[s.index(after: s.startIndex)..<close]), after.dropFirst().drop { $0 == " " })
        }
        var i = s.startIndex
        while i < s.endIndex {
            if s[i] == "#" && i > s.startIndex && s[s.index(before: i)] == " " { return nil }
            if s[i] == ":" {
                let next = s.index(after: i)
                if next == s.endIndex || s[next] == " " {
                    var key = s[..<i]
                    while let l = key.last, l == " " { key = key.dropLast() }
                    guard !key.isEmpty else { return nil }
                    return (String(key), s[next...].drop { $0 == " " })
                }
            }
            i = s.index(after: i)
        }
        return nil
    }

    func stripComment(_ s: Substring) -> Substring {
        var quote: Character? = nil
        var i = s.startIndex
        while i < s.endIndex {
            let c = s[i]
            if let q = quote { if c == q { quote = nil } }
            else if c == "\"" || c == "'" { if i == s.startIndex || s[s.index(before: i)] == " " || s[s.index(before: i)] == "[" || s[s.index(before: i)] == "," { quote = c } }
            else if c == "#" && (i == s.startIndex || s[s.index(before: i)] == " ") {
                var t = s[..<i]
                while let l = t.last, l == " " { t = t.dropLast() }
                return t
            }
            i = s.index(after: i)
        }
        var t = s
        while let l = t.last, l == " " { t = t.dropLast() }
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
