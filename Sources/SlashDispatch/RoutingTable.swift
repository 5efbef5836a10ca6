import SwitchyardCore
import SwitchyardGitHub
import SwitchyardRuntime

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Every function's manifest, read at start-up from `SWITCHYARD_FUNCTIONS_DIR` (a folder of
/// `<name>/function.yaml`), or from `functions/` beside the binary or the source tree it was built from.
public struct RoutingTable: Sendable {
    public var manifests: [FunctionManifest]

    public init(manifests: [FunctionManifest]) { self.manifests = manifests.sorted { $0.name < $1.name } }

    /// Loads the manifests. Throws `misconfigured` when none are found or one is invalid.
    /// `triggersOnly` skips the command documentation (routing a plain event needs none of it). With a
    /// `cacheDirectory`, a triggers-only table is also kept there with a digest of every manifest's
    /// bytes, in a file named for the folder and this executable's identity: the next process that reads
    /// the same files (every event, for slash-dispatch) skips the YAML. A changed manifest does not match
    /// the digest and a new build is another file, so a cached table is not used stale; the folder must
    /// be this user's own (`Files.privateDirectory`) and the file owner-only with one link.
    public static func load(directory: String?, binaryDirectory: String, excluding own: String,
                            triggersOnly: Bool = false, cacheDirectory: String? = nil) throws(SwitchyardError) -> RoutingTable {
        let candidates = directory.map { [$0] } ?? [
            binaryDirectory + "/functions", binaryDirectory + "/../functions",
            binaryDirectory + "/../../functions", binaryDirectory + "/../../../functions",
        ]
        for dir in candidates {
            guard let names = list(dir), !names.isEmpty else { continue }
            var files: [(name: String, bytes: [UInt8])] = []
            for name in names where name != own {
                guard let bytes = Files.read("\(dir)/\(name)/function.yaml", limit: 1 << 20) else { continue }
                files.append((name, bytes))
            }
            guard !files.isEmpty else { continue }
            let cache = triggersOnly ? cacheDirectory.flatMap { Files.privateDirectory($0) == nil ? Self.cacheFile($0, dir: dir, own: own) : nil } : nil
            let digest = cache == nil ? "" : Self.digest(files)
            if let cache, let bytes = Files.read(cache, limit: 1 << 20, privateOnly: true), let json = try? JSON.parse(bytes),
               json["digest"]?.string == digest, let list = json["table"]?.array {
                let manifests = list.compactMap(FunctionManifest.init(triggersJSON:))
                if manifests.count == list.count, manifests.count == files.count { return RoutingTable(manifests: manifests) }
            }
            var manifests: [FunctionManifest] = []
            for (name, bytes) in files {
                do { manifests.append(try FunctionManifest(yaml: String(decoding: bytes, as: UTF8.self), sections: triggersOnly ? ["triggers"] : nil)) }
                catch { throw SwitchyardError(.misconfigured, "\(dir)/\(name)/function.yaml: \(error.message)") }
            }
            if let cache {
                // Not fsynced: a torn or empty file does not parse, and is a miss.
                let json: JSON = ["digest": .string(digest), "table": .array(manifests.map(\.triggersJSON))]
                Files.writeAtomically(cache, Array(json.encoded().utf8), durable: false)
            }
            return RoutingTable(manifests: manifests)
        }
        throw .misconfigured("no function manifests found; set SWITCHYARD_FUNCTIONS_DIR to the folder holding <name>/function.yaml")
    }

    /// The cache file for a folder of manifests as this executable reads them: one per folder, excluded
    /// name and build (device, inode, size, modification and change times; a new build may read
    /// manifests differently), rewritten when the manifests change.
    static func cacheFile(_ cacheDirectory: String, dir: String, own: String) -> String? {
        var st = stat()
        guard stat("/proc/self/exe", &st) == 0 else { return nil }
        let build = "\(st.st_dev) \(st.st_ino) \(st.st_size) \(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec) \(st.st_ctim.tv_sec).\(st.st_ctim.tv_nsec)"
        return "\(cacheDirectory)/routes-\(Verification.sha256Hex(Array("routes-v1\0\(dir)\0\(own)\0\(build)".utf8)).prefix(32)).json"
    }

    /// A digest of every manifest's name and bytes: the cached table is used only when it matches.
    static func digest(_ files: [(name: String, bytes: [UInt8])]) -> String {
        var key: [UInt8] = []
        for f in files {
            key += Array("\(f.name)\0\(f.bytes.count)\0".utf8)
            key += f.bytes
        }
        return Verification.sha256Hex(key)
    }

    static func list(_ dir: String) -> [String]? {
        guard let d = opendir(dir) else { return nil }
        defer { closedir(d) }
        var names: [String] = []
        while let e = readdir(d) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if !name.hasPrefix(".") { names.append(name) }
        }
        return names.sorted()
    }

    /// A GitHub event's routes: functions it triggers, with the commands that matched (empty for plain events).
    public func routes(event: String, action: String?, commands: [Command]) -> [(function: String, commands: [String])] {
        var out: [(String, [String])] = []
        for m in manifests {
            var matched: [String] = []
            var plain = false
            for t in m.github where t.event == event && (t.actions.isEmpty || action.map(t.actions.contains) == true) {
                if t.commands.isEmpty { plain = true; continue }
                for c in commands where (t.commands.contains(c.name) || m.command(c.name).map { t.commands.contains($0.name) } == true)
                    && !matched.contains(c.name) {
                    matched.append(c.name)
                }
            }
            if plain || !matched.isEmpty { out.append((m.name, matched)) }
        }
        return out
    }

    /// The function answering a chat command, and the command's documentation.
    public func chatRoute(_ name: String) -> (function: String, doc: FunctionManifest.CommandDoc?)? {
        let n = CommandGrammar.normalize(name)
        for m in manifests where m.chatCommands.contains(n) || m.command(n).map({ m.chatCommands.contains($0.name) }) == true {
            return (m.name, m.command(n))
        }
        return nil
    }

    public var chatCommandNames: [String] { manifests.flatMap(\.chatCommands).sorted() }

    /// The documented command, across all functions.
    public func doc(_ name: String) -> FunctionManifest.CommandDoc? {
        for m in manifests { if let d = m.command(name) { return d } }
        return nil
    }

    /// The known name closest to `name` (edit distance), for "did you mean".
    public func closest(_ name: String) -> String? {
        let candidates = chatCommandNames + ["help"]
        return candidates.min { distance($0, name) < distance($1, name) }.flatMap { distance($0, name) <= max(3, name.count / 2) ? $0 : nil }
    }

    func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var row = Array(0...b.count)
        for i in 1...max(1, a.count) where !a.isEmpty {
            var previous = row[0]
            row[0] = i
            for j in 1...max(1, b.count) where !b.isEmpty {
                let old = row[j]
                row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
                previous = old
            }
        }
        return a.isEmpty ? b.count : b.isEmpty ? a.count : row[b.count]
    }
}
