import CYAML

/// A parsed YAML node with what the plain `YAML` value drops: how each scalar was written (plain or
/// quoted) and its tag, so that types can be resolved as YAML 1.1 does (the differential test against
/// PyYAML uses this), and the column of each node for error messages.
public indirect enum YAMLNode: Sendable {
    case scalar(String, plain: Bool, tag: String?, line: Int, column: Int)
    case sequence([YAMLNode], line: Int, column: Int)
    case mapping([(key: String, value: YAMLNode)], line: Int, column: Int)

    public var line: Int {
        switch self { case .scalar(_, _, _, let l, _), .sequence(_, let l, _), .mapping(_, let l, _): l }
    }
    public var column: Int {
        switch self { case .scalar(_, _, _, _, let c), .sequence(_, _, let c), .mapping(_, _, let c): c }
    }

    /// The plain value: scalars as text.
    public var yaml: YAML {
        switch self {
        case .scalar(let s, _, _, let l, _): .scalar(s, line: l)
        case .sequence(let items, let l, _): .sequence(items.map(\.yaml), line: l)
        case .mapping(let entries, let l, _): .mapping(entries.map { ($0.key, $0.value.yaml) }, line: l)
        }
    }
}

/// Builds a `YAMLNode` tree from libyaml's event stream.
public enum YAMLReader {
    /// Parses one YAML document. Duplicate keys are an error in every kind of mapping, block or flow.
    public static func read(_ text: String) throws(SwitchyardError) -> YAMLNode {
        var bytes = Array(text.utf8)
        if bytes.isEmpty { return .mapping([], line: 1, column: 1) }
        return try bytes.withUnsafeMutableBufferPointer { (buffer) throws(SwitchyardError) -> YAMLNode in
            var parser = yaml_parser_t()
            guard yaml_parser_initialize(&parser) != 0 else { throw .misconfigured("the YAML parser could not start (out of memory)") }
            defer { yaml_parser_delete(&parser) }
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            let bytes = UnsafeBufferPointer(buffer)
            var builder = Builder()
            while true {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) != 0 else { throw Self.parseError(parser, bytes, path: builder.path) }
                defer { yaml_event_delete(&event) }
                if event.type == YAML_STREAM_END_EVENT { break }
                try builder.take(&event)
            }
            return builder.root ?? .mapping([], line: 1, column: 1)
        }
    }

    static func parseError(_ p: yaml_parser_t, _ text: UnsafeBufferPointer<UInt8>, path: String) -> SwitchyardError {
        let problem = p.problem.map { String(cString: $0) } ?? "invalid YAML"
        let context = p.context.map { String(cString: $0) }
        let line = Int(p.problem_mark.line) + 1, column = Int(p.problem_mark.column) + 1
        let index = Int(p.problem_mark.index)
        let hint = index < text.count && text[index] == 0x09 ? "; it is a tab, and YAML indents with spaces" : ""
        let under = path.isEmpty ? "" : " under `\(path)`"
        return .misconfigured("line \(line), column \(column)\(under): \(problem)\(context.map { " (\($0))" } ?? "")\(hint)")
    }

    struct Builder {
        enum Frame {
            case sequence([YAMLNode], anchor: String?, line: Int, column: Int)
            case mapping([(key: String, value: YAMLNode)], pendingKey: (String, Int, Int)?, merges: [YAMLNode], anchor: String?,
                         line: Int, column: Int)
        }
        var stack: [Frame] = []
        var anchors: [String: YAMLNode] = [:]
        var root: YAMLNode?
        var documents = 0

        /// Where the reader is, as `a.b[2].c`: made only for an error message, never while reading.
        var path: String { Self.path(of: stack[...]) }

        static func path(of frames: ArraySlice<Frame>) -> String {
            var out = ""
            for f in frames {
                if case .mapping(_, let key, _, _, _, _) = f, let key { out += out.isEmpty ? key.0 : "." + key.0 }
                if case .sequence(let items, _, _, _) = f { out += "[\(items.count)]" }
            }
            return out
        }

        static func string(_ p: UnsafeMutablePointer<yaml_char_t>?) -> String? {
            p.map { String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self)) }
        }

        mutating func take(_ e: inout yaml_event_t) throws(SwitchyardError) {
            let line = Int(e.start_mark.line) + 1, column = Int(e.start_mark.column) + 1
            switch e.type {
            case YAML_DOCUMENT_START_EVENT:
                documents += 1
                if documents > 1 { throw .misconfigured("line \(line), column \(column): only one YAML document is allowed; a second one starts here") }
            case YAML_SCALAR_EVENT:
                let s = e.data.scalar
                let value = String(decoding: UnsafeBufferPointer(start: s.value, count: Int(s.length)), as: UTF8.self)
                let node = YAMLNode.scalar(value, plain: s.plain_implicit != 0 && s.style == YAML_PLAIN_SCALAR_STYLE,
                                           tag: Self.string(s.tag), line: line, column: column)
                if let a = Self.string(s.anchor) { anchors[a] = node }
                try add(node, line: line, column: column)
            case YAML_ALIAS_EVENT:
                let name = Self.string(e.data.alias.anchor) ?? ""
                guard let node = anchors[name] else {
                    throw .misconfigured("line \(line), column \(column): the alias `*\(name.prefix(40))` names no anchor before it")
                }
                try add(node, line: line, column: column)
            case YAML_SEQUENCE_START_EVENT:
                stack.append(.sequence([], anchor: Self.string(e.data.sequence_start.anchor), line: line, column: column))
            case YAML_MAPPING_START_EVENT:
                stack.append(.mapping([], pendingKey: nil, merges: [], anchor: Self.string(e.data.mapping_start.anchor), line: line,
                                      column: column))
            case YAML_SEQUENCE_END_EVENT:
                guard case .sequence(let items, let anchor, let l, let c) = stack.removeLast() else { return }
                let node = YAMLNode.sequence(items, line: l, column: c)
                if let anchor { anchors[anchor] = node }
                try add(node, line: l, column: c)
            case YAML_MAPPING_END_EVENT:
                guard case .mapping(var entries, _, let merges, let anchor, let l, let c) = stack.removeLast() else { return }
                // Merge keys (`<<: *base`): merged entries come first, and explicit keys win over them.
                if !merges.isEmpty {
                    var merged: [(key: String, value: YAMLNode)] = []
                    for m in merges {
                        let sources: [YAMLNode]
                        if case .sequence(let items, _, _) = m { sources = items } else { sources = [m] }
                        for src in sources {
                            guard case .mapping(let es, _, _) = src else {
                                throw .misconfigured("line \(src.line), column \(src.column): a merge key `<<` takes a mapping or a list of mappings")
                            }
                            for entry in es where !merged.contains(where: { $0.key == entry.key }) { merged.append(entry) }
                        }
                    }
                    let explicit = Set(entries.map(\.key))
                    entries = merged.filter { !explicit.contains($0.key) } + entries
                }
                let node = YAMLNode.mapping(entries, line: l, column: c)
                if let anchor { anchors[anchor] = node }
                try add(node, line: l, column: c)
            default:
                break
            }
        }

        mutating func add(_ node: YAMLNode, line: Int, column: Int) throws(SwitchyardError) {
            guard let top = stack.popLast() else { root = node; return }
            switch consume top {   // consumed, so the arrays below are unique and append in place
            case .sequence(var items, let anchor, let l, let c):
                items.append(node)
                stack.append(.sequence(items, anchor: anchor, line: l, column: c))
            case .mapping(var entries, let pending, var merges, let anchor, let l, let c):
                if let (key, kl, kc) = pending {
                    if key == "<<" {
                        merges.append(node)
                    } else {
                        if entries.contains(where: { $0.key == key }) {
                            // The mapping is off the stack here, so the frames left lead to it.
                            let p = Self.path(of: stack[...])
                            let at = p.isEmpty ? key : "\(p).\(key)"
                            throw .misconfigured("line \(kl), column \(kc): duplicate key `\(at)`")
                        }
                        entries.append((key, node))
                    }
                    stack.append(.mapping(entries, pendingKey: nil, merges: merges, anchor: anchor, line: l, column: c))
                } else {
                    guard case .scalar(let key, _, _, _, _) = node else {
                        throw .misconfigured("line \(line), column \(column): a mapping key must be a plain value, not a list or a mapping")
                    }
                    stack.append(.mapping(entries, pendingKey: (key, line, column), merges: merges, anchor: anchor, line: l, column: c))
                }
            }
        }
    }
}
