/// A YAML document as Switchyard reads it: mappings (keys in order), sequences and scalars as text,
/// each with its line. Parsed by libyaml (`YAMLReader`), so every form of YAML 1.1 people write reads
/// as PyYAML reads it: quoting and escapes, block scalars with every indicator, flow collections over
/// several lines, anchors, aliases and merge keys, a BOM, CRLF, tabs in content, document markers.
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

    /// Parses YAML text. Throws `SwitchyardError.misconfigured` naming the line, the column and, for
    /// duplicate keys, the key path; never quoting the text itself (a file given by mistake may hold a
    /// secret).
    public static func parse(_ text: String) throws(SwitchyardError) -> YAML {
        try YAMLReader.read(text).yaml
    }
}
