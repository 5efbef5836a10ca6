import SwitchyardCore
import SwitchyardGitHub
import Synchronization

/// Secrets read at run time on AWS Lambda, through the AWS Parameters and Secrets Lambda Extension
/// (a layer that serves Secrets Manager and Parameter Store on localhost and caches them).
///
/// A secret variable `NAME` may instead be given as `NAME_FROM`:
/// - `secretsmanager:<secret id or ARN>` — the secret's `SecretString`;
/// - `secretsmanager:<secret id or ARN>#<key>` — one key of a JSON `SecretString` (a key the secret
///   lacks counts as not set, so that one secret serves deployments that use different integrations);
/// - `ssm:<parameter name>` — a Parameter Store parameter (SecureString decrypted).
///
/// The extension answers only during invocations (not in Lambda's INIT phase), so the Lambda loop
/// reads settings when its first event arrives. Each value is fetched once per execution environment.
public enum AWSSecrets {
    /// One reference, parsed.
    public enum Reference: Sendable, Equatable {
        case secretsManager(id: String, key: String?)
        case parameter(name: String)

        public init(_ text: String) throws(SwitchyardError) {
            if text.hasPrefix("secretsmanager:") {
                let rest = String(text.dropFirst("secretsmanager:".count))
                let parts = rest.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
                guard let id = parts.first, !id.isEmpty, parts.count == 1 || !parts[1].isEmpty else {
                    throw .misconfigured("a secretsmanager: reference needs a secret id, and a key after # when # is given")
                }
                self = .secretsManager(id: id, key: parts.count > 1 ? parts[1] : nil)
            } else if text.hasPrefix("ssm:"), text.count > 4 {
                self = .parameter(name: String(text.dropFirst(4)))
            } else {
                throw .misconfigured("a _FROM reference is secretsmanager:<id>[#key] or ssm:<name>")
            }
        }

        /// The extension's path for this reference (values percent-encoded).
        var path: String {
            switch self {
            case .secretsManager(let id, _): "/secretsmanager/get?secretId=" + APIPath.encode(id)
            case .parameter(let name): "/systemsmanager/parameters/get?name=" + APIPath.encode(name) + "&withDecryption=true"
            }
        }
    }

    /// Answers already read, by extension path: a secret with several keys is fetched once.
    private static let fetched = Mutex<[String: String]>([:])

    /// The value `variable_FROM` refers to. `variable` names the setting in error messages, which never
    /// carry the value or the extension's answer.
    public static func resolve(_ text: String, variable: String, environment env: [String: String],
                               transport: any HTTPTransport = NetworkTransport(connectTimeoutMilliseconds: 500)) throws(SwitchyardError) -> String {
        let reference = try Reference(text)
        let raw = try fetch(reference, variable: variable, environment: env, transport: transport)
        guard let answer = try? JSON.parse(Array(raw.utf8)) else {
            throw .misconfigured("\(variable)_FROM: the Parameters and Secrets extension answered something that is not JSON")
        }
        switch reference {
        case .parameter:
            guard let value = answer["Parameter"]?["Value"]?.string else {
                throw .misconfigured("\(variable)_FROM: the parameter has no value")
            }
            return value
        case .secretsManager(_, let key):
            guard let secret = answer["SecretString"]?.string else {
                throw .misconfigured("\(variable)_FROM: the secret has no SecretString (binary secrets are not read)")
            }
            guard let key else { return secret }
            guard let object = try? JSON.parse(Array(secret.utf8)), object.object != nil else {
                throw .misconfigured("\(variable)_FROM: the secret is not a JSON object, so it has no key \(key)")
            }
            // A key the secret does not have is a secret not configured, like an unset variable: one
            // JSON secret can serve every deployment, whatever it uses.
            guard let value = object[key] else { return "" }
            guard let text = value.string else {
                throw .misconfigured("\(variable)_FROM: the secret's key \(key) is not a string")
            }
            return text
        }
    }

    static func fetch(_ reference: Reference, variable: String, environment env: [String: String],
                      transport: any HTTPTransport) throws(SwitchyardError) -> String {
        let path = reference.path
        if let known = fetched.withLock({ $0[path] }) { return known }
        guard let token = env["AWS_SESSION_TOKEN"], !token.isEmpty else {
            throw .misconfigured("\(variable)_FROM needs the AWS Parameters and Secrets extension, which answers only inside Lambda (AWS_SESSION_TOKEN is not set)")
        }
        let port = env["PARAMETERS_SECRETS_EXTENSION_HTTP_PORT"].flatMap { Int($0) }.flatMap { (1...65535).contains($0) ? $0 : nil } ?? 2773
        let request = HTTPRequest(method: "GET", url: "http://127.0.0.1:\(port)" + path,
                                  headers: [("X-Aws-Parameters-Secrets-Token", token), ("User-Agent", "switchyard")])
        // The extension may still be starting in a fresh environment: a refused connection is tried
        // again for about two seconds; an answer is final.
        var attempt = 0
        while true {
            attempt += 1
            do {
                let r = try transport.send(request, timeoutMilliseconds: 3_000)
                guard r.status == 200 else {
                    let why = r.status == 403 || r.status == 401 ? " (is the execution role allowed to read it?)"
                        : r.status == 400 || r.status == 404 ? " (does it exist, under that name, in this region?)" : ""
                    throw SwitchyardError.misconfigured("\(variable)_FROM: the Parameters and Secrets extension answered \(r.status)\(why)")
                }
                let text = String(decoding: r.body, as: UTF8.self)
                fetched.withLock { $0[path] = text }
                return text
            } catch let e as SwitchyardError {
                throw e
            } catch let e as TransportError where e.notSent && attempt < 10 {
                Deadline.sleep(milliseconds: 200)
            } catch {
                throw .misconfigured("\(variable)_FROM: the Parameters and Secrets extension on port \(port) cannot be reached; is its layer added?")
            }
        }
    }
}
