import SwitchyardCore
import SwitchyardGitHub

/// Where the list of people who signed comes from, per the `cla.signers` config.
public enum SignerSource: Sendable, Equatable {
    /// A URL returning a newline list or a CSV with a login column (a published spreadsheet).
    case url(String)
    /// A file in a GitHub repository, read through the contents API.
    case repoFile(repo: RepoRef, path: String, ref: String?)
    /// A static list in the config.
    case list([String])

    public var description: String {
        switch self {
        case .url(let u): "the list at \(u)"
        case .repoFile(let r, let p, _): "\(r.fullName)/\(p)"
        case .list: "the list in the config"
        }
    }
}

/// Logins and emails of signers, lower-cased.
public struct Signers: Sendable, Equatable {
    public var entries: Set<String>
    public init(_ entries: some Sequence<String>) {
        self.entries = Set(entries.map { $0.lowercased().trimmingCharacters() }.map { $0.hasPrefix("@") ? String($0.dropFirst()) : $0 }.filter { !$0.isEmpty })
    }

    public func hasSigned(_ c: Contributor) -> Bool {
        if entries.contains(c.key) { return true }
        if c.kind != .login, let login = Identities.noreplyLogin(c.key) { return entries.contains(login) }
        return false
    }

    /// Parses a newline list (`#` comments allowed) or a CSV whose header names a login column
    /// (`login`, `github`, `github login`, `username`, `github username`) or an email column.
    public static func parse(_ text: String) -> Signers {
        let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters() }.filter { !$0.isEmpty && !$0.hasPrefix("#") }
        guard let header = lines.first, header.contains(",") else { return Signers(lines) }
        let columns = csvFields(header).map { $0.lowercased().trimmingCharacters() }
        let loginNames: Set<String> = ["login", "github", "github login", "github_login", "username", "github username", "github_username", "github handle"]
        let loginColumn = columns.firstIndex { loginNames.contains($0) }
        let emailColumn = columns.firstIndex { $0 == "email" || $0 == "e-mail" }
        guard loginColumn != nil || emailColumn != nil else { return Signers(lines.map { csvFields($0).first ?? "" }) }
        var out: [String] = []
        for line in lines.dropFirst() {
            let f = csvFields(line)
            if let i = loginColumn, i < f.count { out.append(f[i]) }
            if let i = emailColumn, i < f.count { out.append(f[i]) }
        }
        return Signers(out)
    }

    /// Splits one CSV line, honouring double quotes.
    static func csvFields(_ line: String) -> [String] {
        var fields: [String] = [], current = "", quoted = false
        var it = line.makeIterator()
        while let c = it.next() {
            if c == "\"" {
                if quoted { quoted = false } else { quoted = true }
            } else if c == "," && !quoted {
                fields.append(current); current = ""
            } else { current.append(c) }
        }
        fields.append(current)
        return fields
    }
}

/// Reads signer sources. A failure says which source and why, never a secret.
public struct SignerLoader: Sendable {
    public var transport: any HTTPTransport
    public init(transport: any HTTPTransport = NetworkTransport()) { self.transport = transport }

    public func load(_ source: SignerSource, github: some SlaCheckGitHub, deadline: Deadline) -> Result<Signers, SwitchyardError> {
        switch source {
        case .list(let l):
            return .success(Signers(l))
        case .url(let url):
            do {
                let r = try transport.send(HTTPRequest(method: "GET", url: url, headers: [("User-Agent", "switchyard")]),
                                           timeoutMilliseconds: min(5_000, max(100, deadline.remainingMilliseconds - 500)))
                guard r.status == 200 else { return .failure(.upstream("the CLA signature list answered \(r.status)")) }
                guard let text = String(validating: r.body, as: UTF8.self) else { return .failure(.upstream("the CLA signature list is not UTF-8")) }
                return .success(Signers.parse(text))
            } catch {
                return .failure(.upstream("the CLA signature list could not be fetched"))
            }
        case .repoFile(let repo, let path, let ref):
            do {
                let bytes = try github.fileContents(repo, path: path, ref: ref)
                return .success(Signers.parse(String(decoding: bytes, as: UTF8.self)))
            } catch {
                return .failure(.upstream("\(repo.fullName)/\(path) could not be read"))
            }
        }
    }
}
