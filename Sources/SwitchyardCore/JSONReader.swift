/// JSON read straight from the bytes, and a `Decoder` over the result.
///
/// Every event a function decodes went through Foundation's `JSONDecoder`, whose generic paths ask
/// the runtime at each value whether the type is one of its special cases (dates, URLs, dictionaries):
/// in a statically linked binary each first such question scans every conformance record, and that
/// was a measurable part of a decoded event's cold start. This reader builds `JSON` in one pass over
/// the bytes, and `JSONValueDecoder` decodes `Codable` models from it with GitHub's snake_case keys,
/// asking the runtime nothing.
public enum JSONReader {
    /// How deep arrays and objects may nest (a hostile body must not exhaust the stack).
    public static let maxDepth = 512

    public struct Failure: Error, Sendable { public var offset: Int; public var reason: String }

    /// Parses one JSON value (RFC 8259) that fills `bytes`, white space around it allowed.
    public static func parse(_ bytes: some Collection<UInt8>) throws(Failure) -> JSON {
        let array = Array(bytes)
        return try array.withUnsafeBufferPointer { buf throws(Failure) -> JSON in
            var p = Parser(buf: buf)
            p.skipSpace()
            let value = try p.value(depth: 0)
            p.skipSpace()
            guard p.i == buf.count else { throw Failure(offset: p.i, reason: "text after the value") }
            return value
        }
    }

    struct Parser {
        let buf: UnsafeBufferPointer<UInt8>
        var i = 0
        /// The members of the objects being read, innermost last: each object's members are gathered
        /// here and become its dictionary in one step when it closes (hashed once, sized once).
        var members: [(String, JSON)] = []

        mutating func skipSpace() {
            while i < buf.count, buf[i] == 0x20 || buf[i] == 0x0A || buf[i] == 0x0D || buf[i] == 0x09 { i += 1 }
        }

        func fail(_ reason: String) -> Failure { Failure(offset: i, reason: reason) }

        mutating func value(depth: Int) throws(Failure) -> JSON {
            guard depth < JSONReader.maxDepth else { throw fail("nested too deeply") }
            guard i < buf.count else { throw fail("the value is missing") }
            switch buf[i] {
            case UInt8(ascii: "{"):
                i += 1
                skipSpace()
                if i < buf.count, buf[i] == UInt8(ascii: "}") { i += 1; return .object([:]) }
                let base = members.count
                while true {
                    skipSpace()
                    guard i < buf.count, buf[i] == UInt8(ascii: "\"") else { throw fail("an object key must be a string") }
                    let key = try string()
                    skipSpace()
                    guard i < buf.count, buf[i] == UInt8(ascii: ":") else { throw fail("`:` expected") }
                    i += 1
                    skipSpace()
                    members.append((key, try value(depth: depth + 1)))
                    skipSpace()
                    guard i < buf.count else { throw fail("the object is not closed") }
                    if buf[i] == UInt8(ascii: ",") { i += 1; continue }
                    if buf[i] == UInt8(ascii: "}") {
                        i += 1
                        // A key given twice: the first value counts, as Foundation's reader and the byte
                        // scan that routes events by `action` both take it.
                        let object = Dictionary(members[base...], uniquingKeysWith: { first, _ in first })
                        members.removeSubrange(base...)
                        return .object(object)
                    }
                    throw fail("`,` or `}` expected")
                }
            case UInt8(ascii: "["):
                i += 1
                var array: [JSON] = []
                skipSpace()
                if i < buf.count, buf[i] == UInt8(ascii: "]") { i += 1; return .array(array) }
                while true {
                    skipSpace()
                    array.append(try value(depth: depth + 1))
                    skipSpace()
                    guard i < buf.count else { throw fail("the array is not closed") }
                    if buf[i] == UInt8(ascii: ",") { i += 1; continue }
                    if buf[i] == UInt8(ascii: "]") { i += 1; return .array(array) }
                    throw fail("`,` or `]` expected")
                }
            case UInt8(ascii: "\""):
                return .string(try string())
            case UInt8(ascii: "t"): try literal("true"); return .bool(true)
            case UInt8(ascii: "f"): try literal("false"); return .bool(false)
            case UInt8(ascii: "n"): try literal("null"); return .null
            default:
                return .number(try number())
            }
        }

        mutating func literal(_ word: StaticString) throws(Failure) {
            let n = word.utf8CodeUnitCount
            guard i + n <= buf.count else { throw fail("unknown literal") }
            for k in 0..<n where buf[i + k] != word.utf8Start[k] { throw fail("unknown literal") }
            i += n
        }

        mutating func number() throws(Failure) -> Double {
            let start = i
            if i < buf.count, buf[i] == UInt8(ascii: "-") { i += 1 }
            guard i < buf.count, isDigit(buf[i]) else { throw fail("not a value") }
            if buf[i] == UInt8(ascii: "0") { i += 1 } else { while i < buf.count, isDigit(buf[i]) { i += 1 } }
            var integral = true
            if i < buf.count, buf[i] == UInt8(ascii: ".") {
                integral = false
                i += 1
                guard i < buf.count, isDigit(buf[i]) else { throw fail("a digit must follow `.`") }
                while i < buf.count, isDigit(buf[i]) { i += 1 }
            }
            if i < buf.count, buf[i] == UInt8(ascii: "e") || buf[i] == UInt8(ascii: "E") {
                integral = false
                i += 1
                if i < buf.count, buf[i] == UInt8(ascii: "+") || buf[i] == UInt8(ascii: "-") { i += 1 }
                guard i < buf.count, isDigit(buf[i]) else { throw fail("a digit must follow the exponent") }
                while i < buf.count, isDigit(buf[i]) { i += 1 }
            }
            // Whole numbers of up to 15 digits, nearly all of GitHub's, without a text round trip.
            if integral, i - start <= 16 {
                var v: Int64 = 0
                var k = start
                let negative = buf[k] == UInt8(ascii: "-")
                if negative { k += 1 }
                while k < i { v = v * 10 + Int64(buf[k] - 0x30); k += 1 }
                return Double(negative ? -v : v)
            }
            let text = String(decoding: UnsafeBufferPointer(rebasing: buf[start..<i]), as: UTF8.self)
            guard let d = Double(text) else { throw fail("a number out of range") }
            return d
        }

        func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }

        /// A string at `i` (on its opening quote). Valid UTF-8 only; control characters must be escaped.
        mutating func string() throws(Failure) -> String {
            i += 1
            let start = i
            // The common case: no escapes, copied once. Eight bytes at a time while none of them is a
            // quote, a backslash or a control character.
            skipPlain()
            while i < buf.count {
                let b = buf[i]
                if b == UInt8(ascii: "\"") {
                    let slice = UnsafeBufferPointer(rebasing: buf[start..<i])
                    i += 1
                    guard let s = UTF8Text.string(slice) else { throw fail("a string is not valid UTF-8") }
                    return s
                }
                if b == UInt8(ascii: "\\") { break }
                if b < 0x20 { throw fail("a control character in a string") }
                i += 1
            }
            var out: [UInt8] = Array(buf[start..<i])
            while i < buf.count {
                let b = buf[i]
                if b == UInt8(ascii: "\"") {
                    i += 1
                    guard let s = out.withUnsafeBufferPointer({ UTF8Text.string($0) }) else { throw fail("a string is not valid UTF-8") }
                    return s
                }
                if b < 0x20 { throw fail("a control character in a string") }
                guard b == UInt8(ascii: "\\") else {
                    let run = i
                    i += 1
                    skipPlain()
                    while i < buf.count, buf[i] != UInt8(ascii: "\""), buf[i] != UInt8(ascii: "\\"), buf[i] >= 0x20 { i += 1 }
                    out.append(contentsOf: UnsafeBufferPointer(rebasing: buf[run..<i]))
                    continue
                }
                i += 1
                guard i < buf.count else { break }
                let e = buf[i]
                i += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800...0xDBFF).contains(scalar) {
                        // A high surrogate must be followed by its low one.
                        guard i + 1 < buf.count, buf[i] == UInt8(ascii: "\\"), buf[i + 1] == UInt8(ascii: "u") else { throw fail("a lone surrogate") }
                        i += 2
                        let low = try hex4()
                        guard (0xDC00...0xDFFF).contains(low) else { throw fail("a lone surrogate") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00...0xDFFF).contains(scalar) {
                        throw fail("a lone surrogate")
                    }
                    guard let u = Unicode.Scalar(scalar) else { throw fail("an invalid escape") }
                    out.append(contentsOf: Array(String(Character(u)).utf8))
                default:
                    throw fail("an invalid escape")
                }
            }
            throw fail("the string is not closed")
        }

        /// Advances `i` over whole 8-byte words holding no `"`, no `\\` and no byte below 0x20 (the
        /// classic has-zero-byte test on the word XORed with each); the caller finishes byte by byte.
        mutating func skipPlain() {
            guard let base = buf.baseAddress else { return }
            let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
            while i + 8 <= buf.count {
                let w = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
                let quote = w ^ (ones &* 0x22), backslash = w ^ (ones &* 0x5C)
                let special = ((quote &- ones) & ~quote) | ((backslash &- ones) & ~backslash) | ((w &- ones &* 0x20) & ~w)
                if special & highs != 0 { return }
                i += 8
            }
        }

        mutating func hex4() throws(Failure) -> UInt32 {
            guard i + 4 <= buf.count else { throw fail("a short \\u escape") }
            var v: UInt32 = 0
            for _ in 0..<4 {
                let b = buf[i]
                let d: UInt8
                switch b {
                case 0x30...0x39: d = b - 0x30
                case 0x41...0x46: d = b - 0x41 + 10
                case 0x61...0x66: d = b - 0x61 + 10
                default: throw fail("a bad \\u escape")
                }
                v = v << 4 | UInt32(d)
                i += 1
            }
            return v
        }
    }
}

// MARK: - Decoding Codable models from JSON

/// Decodes `Decodable` values from `JSON`. With `snakeCase`, a model's `camelCase` keys are found
/// under the JSON's `snake_case` names, as `JSONDecoder.KeyDecodingStrategy.convertFromSnakeCase`
/// converts them.
public struct JSONValueDecoder {
    public var snakeCase: Bool
    public init(snakeCase: Bool = true) { self.snakeCase = snakeCase }

    public func decode<T: Decodable>(_ type: T.Type, from bytes: some Collection<UInt8>) throws -> T {
        let json: JSON
        do { json = try JSONReader.parse(bytes) } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "not valid JSON: \(error.reason) at byte \(error.offset)"))
        }
        return try decode(type, from: json)
    }

    public func decode<T: Decodable>(_ type: T.Type, from json: JSON) throws -> T {
        if T.self == JSON.self { return json as! T }
        return try T(from: ValueDecoder(value: json, codingPath: [], snakeCase: snakeCase))
    }

    public static func camelCaseForTests(_ key: String) -> String { camelCase(key) }

    /// `convertFromSnakeCase`: `head_sha` → `headSha`; leading and trailing underscores kept; a key
    /// without an inner `_` unchanged.
    static func camelCase(_ key: String) -> String {
        guard key.utf8.contains(UInt8(ascii: "_")) else { return key }
        let u = Array(key.utf8)
        var start = 0, end = u.count
        while start < end, u[start] == UInt8(ascii: "_") { start += 1 }
        while end > start, u[end - 1] == UInt8(ascii: "_") { end -= 1 }
        guard start < end else { return key }
        let words = u[start..<end].split(separator: UInt8(ascii: "_"), omittingEmptySubsequences: true)
        guard words.count > 1 else { return key }
        var out = Array(u[0..<start])
        out += words[0]
        for w in words.dropFirst() {
            // `String.capitalized`: the first letter upper-cased, the rest lower-cased (ASCII here;
            // GitHub's keys are ASCII).
            for (k, b) in w.enumerated() {
                if k == 0 { out.append(b >= 0x61 && b <= 0x7A ? b - 0x20 : b) } else { out.append(b >= 0x41 && b <= 0x5A ? b + 0x20 : b) }
            }
        }
        out += u[end..<u.count]
        return String(decoding: out, as: UTF8.self)
    }
}

struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(stringValue: String) { self.stringValue = stringValue; intValue = nil }
    init(intValue: Int) { stringValue = "\(intValue)"; self.intValue = intValue }
}

struct ValueDecoder: Decoder {
    let value: JSON
    let codingPath: [any CodingKey]
    let snakeCase: Bool
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let o) = value else {
            throw DecodingError.typeMismatch([String: JSON].self, .init(codingPath: codingPath, debugDescription: "an object was expected"))
        }
        var fields = o
        if snakeCase, o.keys.contains(where: { $0.utf8.contains(UInt8(ascii: "_")) }) {
            fields = [:]
            fields.reserveCapacity(o.count)
            for (k, v) in o { fields[JSONValueDecoder.camelCase(k)] = v }
        }
        return KeyedDecodingContainer(Keyed<Key>(fields: fields, codingPath: codingPath, snakeCase: snakeCase))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let a) = value else {
            throw DecodingError.typeMismatch([JSON].self, .init(codingPath: codingPath, debugDescription: "an array was expected"))
        }
        return Unkeyed(items: a, codingPath: codingPath, snakeCase: snakeCase)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { Single(value: value, codingPath: codingPath, snakeCase: snakeCase) }
}

/// Conversions shared by the three containers.
enum Convert {
    static func mismatch<T>(_ t: T.Type, _ path: [any CodingKey], _ v: JSON) -> DecodingError {
        v == .null ? .valueNotFound(t, .init(codingPath: path, debugDescription: "null where a value was expected"))
            : .typeMismatch(t, .init(codingPath: path, debugDescription: "a \(t) was expected"))
    }
    static func bool(_ v: JSON, _ path: [any CodingKey]) throws -> Bool {
        guard case .bool(let b) = v else { throw mismatch(Bool.self, path, v) }
        return b
    }
    static func string(_ v: JSON, _ path: [any CodingKey]) throws -> String {
        guard case .string(let s) = v else { throw mismatch(String.self, path, v) }
        return s
    }
    static func double(_ v: JSON, _ path: [any CodingKey]) throws -> Double {
        guard case .number(let d) = v else { throw mismatch(Double.self, path, v) }
        return d
    }
    static func integer<T: FixedWidthInteger>(_ t: T.Type, _ v: JSON, _ path: [any CodingKey]) throws -> T {
        guard case .number(let d) = v else { throw mismatch(t, path, v) }
        guard d.rounded(.towardZero) == d, let n = T(exactly: d) else {
            throw DecodingError.dataCorrupted(.init(codingPath: path, debugDescription: "\(d) does not fit \(t)"))
        }
        return n
    }
    static func decode<T: Decodable>(_ t: T.Type, _ v: JSON, _ path: [any CodingKey], _ snake: Bool) throws -> T {
        // The common leaves first, without the generic round trip.
        if T.self == String.self { return try string(v, path) as! T }
        if T.self == Int.self { return try integer(Int.self, v, path) as! T }
        if T.self == Bool.self { return try bool(v, path) as! T }
        if T.self == JSON.self { return v as! T }
        return try T(from: ValueDecoder(value: v, codingPath: path, snakeCase: snake))
    }
}

struct Keyed<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let fields: [String: JSON]
    let codingPath: [any CodingKey]
    let snakeCase: Bool
    var allKeys: [Key] { fields.keys.compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool { fields[key.stringValue] != nil }
    func path(_ key: Key) -> [any CodingKey] { codingPath + [key] }
    func get(_ key: Key) throws -> JSON {
        guard let v = fields[key.stringValue] else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "no value for \(key.stringValue)"))
        }
        return v
    }

    func decodeNil(forKey key: Key) throws -> Bool { (fields[key.stringValue] ?? .null) == .null }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try Convert.bool(get(key), path(key)) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try Convert.string(get(key), path(key)) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try Convert.double(get(key), path(key)) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { Float(try Convert.double(get(key), path(key))) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try Convert.integer(Int.self, get(key), path(key)) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try Convert.integer(Int8.self, get(key), path(key)) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try Convert.integer(Int16.self, get(key), path(key)) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try Convert.integer(Int32.self, get(key), path(key)) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try Convert.integer(Int64.self, get(key), path(key)) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try Convert.integer(UInt.self, get(key), path(key)) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try Convert.integer(UInt8.self, get(key), path(key)) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try Convert.integer(UInt16.self, get(key), path(key)) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try Convert.integer(UInt32.self, get(key), path(key)) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try Convert.integer(UInt64.self, get(key), path(key)) }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try Convert.decode(type, get(key), path(key), snakeCase) }

    // `decodeIfPresent`: absent or null is nil (the defaults do this through `contains` and `decodeNil`).
    func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? {
        guard let v = fields[key.stringValue], v != .null else { return nil }
        return try Convert.string(v, path(key))
    }
    func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? {
        guard let v = fields[key.stringValue], v != .null else { return nil }
        return try Convert.integer(Int.self, v, path(key))
    }
    func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? {
        guard let v = fields[key.stringValue], v != .null else { return nil }
        return try Convert.bool(v, path(key))
    }
    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard let v = fields[key.stringValue], v != .null else { return nil }
        return try Convert.decode(type, v, path(key), snakeCase)
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try ValueDecoder(value: get(key), codingPath: path(key), snakeCase: snakeCase).container(keyedBy: type)
    }
    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try ValueDecoder(value: get(key), codingPath: path(key), snakeCase: snakeCase).unkeyedContainer()
    }
    func superDecoder() throws -> any Decoder { ValueDecoder(value: fields["super"] ?? .null, codingPath: codingPath, snakeCase: snakeCase) }
    func superDecoder(forKey key: Key) throws -> any Decoder { ValueDecoder(value: fields[key.stringValue] ?? .null, codingPath: path(key), snakeCase: snakeCase) }
}

struct Unkeyed: UnkeyedDecodingContainer {
    let items: [JSON]
    let codingPath: [any CodingKey]
    let snakeCase: Bool
    var currentIndex = 0
    var count: Int? { items.count }
    var isAtEnd: Bool { currentIndex >= items.count }

    init(items: [JSON], codingPath: [any CodingKey], snakeCase: Bool) { self.items = items; self.codingPath = codingPath; self.snakeCase = snakeCase }

    mutating func next() throws -> (JSON, [any CodingKey]) {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(JSON.self, .init(codingPath: codingPath, debugDescription: "the array has no more values"))
        }
        defer { currentIndex += 1 }
        return (items[currentIndex], codingPath + [AnyKey(intValue: currentIndex)])
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd, items[currentIndex] == .null else { return false }
        currentIndex += 1
        return true
    }
    mutating func decode(_ type: Bool.Type) throws -> Bool { let (v, p) = try next(); return try Convert.bool(v, p) }
    mutating func decode(_ type: String.Type) throws -> String { let (v, p) = try next(); return try Convert.string(v, p) }
    mutating func decode(_ type: Double.Type) throws -> Double { let (v, p) = try next(); return try Convert.double(v, p) }
    mutating func decode(_ type: Float.Type) throws -> Float { let (v, p) = try next(); return Float(try Convert.double(v, p)) }
    mutating func decode(_ type: Int.Type) throws -> Int { let (v, p) = try next(); return try Convert.integer(Int.self, v, p) }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { let (v, p) = try next(); return try Convert.integer(Int8.self, v, p) }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { let (v, p) = try next(); return try Convert.integer(Int16.self, v, p) }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { let (v, p) = try next(); return try Convert.integer(Int32.self, v, p) }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { let (v, p) = try next(); return try Convert.integer(Int64.self, v, p) }
    mutating func decode(_ type: UInt.Type) throws -> UInt { let (v, p) = try next(); return try Convert.integer(UInt.self, v, p) }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { let (v, p) = try next(); return try Convert.integer(UInt8.self, v, p) }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { let (v, p) = try next(); return try Convert.integer(UInt16.self, v, p) }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { let (v, p) = try next(); return try Convert.integer(UInt32.self, v, p) }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { let (v, p) = try next(); return try Convert.integer(UInt64.self, v, p) }
    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { let (v, p) = try next(); return try Convert.decode(type, v, p, snakeCase) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        let (v, p) = try next()
        return try ValueDecoder(value: v, codingPath: p, snakeCase: snakeCase).container(keyedBy: type)
    }
    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        let (v, p) = try next()
        return try ValueDecoder(value: v, codingPath: p, snakeCase: snakeCase).unkeyedContainer()
    }
    mutating func superDecoder() throws -> any Decoder {
        let (v, p) = try next()
        return ValueDecoder(value: v, codingPath: p, snakeCase: snakeCase)
    }
}

struct Single: SingleValueDecodingContainer {
    let value: JSON
    let codingPath: [any CodingKey]
    let snakeCase: Bool

    func decodeNil() -> Bool { value == .null }
    func decode(_ type: Bool.Type) throws -> Bool { try Convert.bool(value, codingPath) }
    func decode(_ type: String.Type) throws -> String { try Convert.string(value, codingPath) }
    func decode(_ type: Double.Type) throws -> Double { try Convert.double(value, codingPath) }
    func decode(_ type: Float.Type) throws -> Float { Float(try Convert.double(value, codingPath)) }
    func decode(_ type: Int.Type) throws -> Int { try Convert.integer(Int.self, value, codingPath) }
    func decode(_ type: Int8.Type) throws -> Int8 { try Convert.integer(Int8.self, value, codingPath) }
    func decode(_ type: Int16.Type) throws -> Int16 { try Convert.integer(Int16.self, value, codingPath) }
    func decode(_ type: Int32.Type) throws -> Int32 { try Convert.integer(Int32.self, value, codingPath) }
    func decode(_ type: Int64.Type) throws -> Int64 { try Convert.integer(Int64.self, value, codingPath) }
    func decode(_ type: UInt.Type) throws -> UInt { try Convert.integer(UInt.self, value, codingPath) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try Convert.integer(UInt8.self, value, codingPath) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try Convert.integer(UInt16.self, value, codingPath) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try Convert.integer(UInt32.self, value, codingPath) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try Convert.integer(UInt64.self, value, codingPath) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try Convert.decode(type, value, codingPath, snakeCase) }
}
