/// A Mattermost or Slack slash command, normalized.
public struct ChatCommand: Sendable, Equatable {
    public enum Platform: String, Sendable, Codable { case mattermost, slack }

    public var platform: Platform
    public var userID: String
    public var userName: String
    public var teamID: String?
    public var teamDomain: String?
    public var channelID: String?
    public var channelName: String?
    /// The slash command itself, e.g. `/switchyard`.
    public var command: String
    /// Everything after the slash command.
    public var text: String
    public var responseURL: String?
    public var triggerID: String?

    public init(platform: Platform, userID: String, userName: String, teamID: String? = nil,
                teamDomain: String? = nil, channelID: String? = nil, channelName: String? = nil,
                command: String, text: String, responseURL: String? = nil, triggerID: String? = nil) {
        self.platform = platform; self.userID = userID; self.userName = userName; self.teamID = teamID
        self.teamDomain = teamDomain; self.channelID = channelID; self.channelName = channelName
        self.command = command; self.text = text; self.responseURL = responseURL; self.triggerID = triggerID
    }

    /// Builds the command from decoded form fields. Throws `badRequest` naming a missing field.
    public init(platform: Platform, form: FormFields) throws {
        func need(_ k: String) throws -> String {
            guard let v = form[k], !v.isEmpty else {
                throw SwitchyardError.badRequest("the \(platform.rawValue) command lacks the `\(k)` field")
            }
            return v
        }
        self.init(platform: platform, userID: try need("user_id"), userName: form["user_name"] ?? "",
                  teamID: form["team_id"], teamDomain: form["team_domain"], channelID: form["channel_id"],
                  channelName: form["channel_name"], command: try need("command"), text: form["text"] ?? "",
                  responseURL: form["response_url"], triggerID: form["trigger_id"])
    }
}

/// `application/x-www-form-urlencoded` fields, in order; repeated names are kept.
public struct FormFields: Sendable, Equatable {
    public var pairs: [(String, String)]

    public static func == (a: FormFields, b: FormFields) -> Bool {
        a.pairs.count == b.pairs.count && zip(a.pairs, b.pairs).allSatisfy { $0 == $1 }
    }

    /// Parses a form body. Throws `badRequest` on broken percent-escapes or invalid UTF-8.
    public init(parsing bytes: some Collection<UInt8>) throws {
        pairs = []
        for part in Array(bytes).split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            let kv = part.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
            let key = try Self.unescape(kv[0])
            let value = kv.count > 1 ? try Self.unescape(kv[1]) : ""
            pairs.append((key, value))
        }
    }

    public subscript(name: String) -> String? { pairs.first { $0.0 == name }?.1 }
    public func all(_ name: String) -> [String] { pairs.filter { $0.0 == name }.map(\.1) }

    static func unescape(_ bytes: ArraySlice<UInt8>) throws -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = bytes.startIndex
        while i < bytes.endIndex {
            let b = bytes[i]
            if b == UInt8(ascii: "+") { out.append(0x20); i += 1 }
            else if b == UInt8(ascii: "%") {
                guard i + 2 < bytes.endIndex + 0, i + 2 <= bytes.endIndex - 1,
                      let h = hex(bytes[i + 1]), let l = hex(bytes[i + 2]) else {
                    throw SwitchyardError.badRequest("the form body has a broken %-escape")
                }
                out.append(h << 4 | l); i += 3
            } else { out.append(b); i += 1 }
        }
        guard let s = out.withUnsafeBufferPointer({ UTF8Text.string($0) }) else {
            throw SwitchyardError.badRequest("the form body is not valid UTF-8")
        }
        return s
    }

    static func hex(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: c - 0x30
        case 0x41...0x46: c - 0x41 + 10
        case 0x61...0x66: c - 0x61 + 10
        default: nil
        }
    }
}
