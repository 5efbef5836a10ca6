import Foundation
import Testing
import Crypto
import _CryptoExtras
import SwitchyardCore
import SwitchyardGitHub
import SwitchyardTesting

/// GitHub App authentication: the JWT, the installation token exchange and its on-disk cache.
@Suite("GitHub App auth", .serialized)
struct AppAuthTests {
    static let key = try! _RSA.Signing.PrivateKey(keySize: .bits2048)

    @Test func jwtVerifiesWithThePublicKey() throws {
        for pem in [Self.key.pemRepresentation, Self.key.pkcs8PEMRepresentation] {
            let creds = try AppCredentials(appID: "12345", privateKeyPEM: pem, installationID: 1, cacheDirectory: nil)
            let now: Int64 = 1_800_000_000
            let jwt = try creds.makeJWT(now: now)
            let parts = jwt.split(separator: ".").map(String.init)
            #expect(parts.count == 3)
            let header = try JSON.parse(Base64URL.decode(parts[0])!)
            #expect(header["alg"]?.string == "RS256")
            let claims = try JSON.parse(Base64URL.decode(parts[1])!)
            #expect(claims["iss"]?.int == 12345)
            #expect(claims["iat"]?.int == Int(now - 60))
            let exp = try #require(claims["exp"]?.int)
            #expect(exp > Int(now) && exp <= Int(now) + 600)
            let signature = _RSA.Signing.RSASignature(rawRepresentation: Base64URL.decode(parts[2])!)
            #expect(Self.key.publicKey.isValidSignature(signature, for: Data((parts[0] + "." + parts[1]).utf8), padding: .insecurePKCS1v1_5))
        }
    }

    @Test func aBadKeyIsReportedWithoutEchoingIt() {
        let secretish = "-----BEGIN RSA PRIVATE KEY-----\nTOTALLYSECRETMATERIAL\n-----END RSA PRIVATE KEY-----"
        do {
            _ = try AppCredentials(appID: "1", privateKeyPEM: secretish, installationID: 1, cacheDirectory: nil)
            Issue.record("accepted")
        } catch let e as SwitchyardError {
            #expect(e.kind == .misconfigured)
            #expect(e.message.contains("GITHUB_APP_PRIVATE_KEY"))
            #expect(!e.message.contains("TOTALLYSECRETMATERIAL"))
            #expect(!(e.detail ?? "").contains("TOTALLYSECRETMATERIAL"))
        } catch { Issue.record("\(error)") }
    }

    func appWorld() throws -> (GitHubEmulator, String, String, String) {
        let (gh, url) = try Support.world()
        gh.addApp(id: 777, slug: "switchyard", publicKeyPEM: Self.key.publicKey.pemRepresentation, installations: [4242])
        let keyFile = NSTemporaryDirectory() + "app-key-\(UUID().uuidString).pem"
        try Self.key.pkcs8PEMRepresentation.write(toFile: keyFile, atomically: true, encoding: .utf8)
        let cache = NSTemporaryDirectory() + "cache-\(UUID().uuidString)"
        return (gh, url, keyFile, cache)
    }

    @Test func tokenMintedOnceAndReusedByASecondProcess() throws {
        let (gh, url, keyFile, cache) = try appWorld()
        let secret = "app-hook-secret"
        let env = ["GITHUB_API_URL": url, "GITHUB_APP_ID": "777", "GITHUB_APP_PRIVATE_KEY_FILE": keyFile,
                   "SWITCHYARD_CACHE_DIR": cache, "GITHUB_WEBHOOK_SECRET": secret, "GITHUB_TOKEN": "ignored-when-app-is-set",
                   "SWITCHYARD_LOG_LEVEL": "debug"]
        func event(_ id: Int) -> [UInt8] {
            Support.envelope(event: "issue_comment", body: Support.commentPayload(repo: "acme/widgets", number: 1,
                             body: "/update-branch", user: "maint-mona", commentID: id), secret: secret)
        }
        let first = try Support.run("update-branch", environment: env, stdin: event(1))
        #expect(first.json?["outcome"]?.string == "done", "\(first.stdout)\(first.stderr)")
        #expect(first.stderr.contains("using the App"))
        let second = try Support.run("update-branch", environment: env, stdin: event(2))
        #expect(second.status == 0)
        #expect(gh.mintedTokenCount == 1)
        // The work was done as the App's bot, not with GITHUB_TOKEN.
        #expect(gh.comments("acme/widgets", issue: 1).allSatisfy { $0.user == "switchyard[bot]" })
        #expect(gh.requests.filter { $0.path.hasSuffix("/access_tokens") }.allSatisfy { $0.identity == "app:777" })

        // The cache file is private, and no key material or token reaches the logs.
        let all = try FileManager.default.contentsOfDirectory(atPath: cache).filter { $0.hasSuffix(".json") }
        let files = all.filter { $0.hasPrefix("installation-token-") }
        #expect(files.count == 1)
        // Beside it, the App's bot login from GET /app (asked once, with the JWT).
        #expect(all.filter { $0.hasPrefix("identity-") }.count == 1)
        #expect(gh.requests.filter { $0.path == "/app" }.count == 1)
        let attrs = try FileManager.default.attributesOfItem(atPath: cache + "/" + files[0])
        #expect((attrs[.posixPermissions] as? Int) == 0o600)
        let token = try #require(try JSON.parse(Array(FileManager.default.contents(atPath: cache + "/" + files[0])!))["token"]?.string)
        for run in [first, second] {
            #expect(!run.stderr.contains(token))
            #expect(!run.stderr.contains("PRIVATE KEY"))
        }

        // A corrupt cache is ignored (a new token is minted), and so is one readable by others.
        try "{not json".write(toFile: cache + "/" + files[0], atomically: true, encoding: .utf8)
        chmod(cache + "/" + files[0], 0o600)
        _ = try Support.run("update-branch", environment: env, stdin: event(3))
        #expect(gh.mintedTokenCount == 2)
        chmod(cache + "/" + files[0], 0o644)
        _ = try Support.run("update-branch", environment: env, stdin: event(4))
        #expect(gh.mintedTokenCount == 3)
    }

    @Test func unknownInstallationIsAnOperatorMessage() throws {
        let (gh, url, keyFile, cache) = try appWorld()
        let body = Support.commentPayload(repo: "acme/widgets", number: 1, body: "/update-branch", user: "maint-mona")
            .replacingInstallation(with: 999)
        let r = try Support.run("update-branch", environment: ["GITHUB_API_URL": url, "GITHUB_APP_ID": "777",
                                "GITHUB_APP_PRIVATE_KEY_FILE": keyFile, "SWITCHYARD_CACHE_DIR": cache], stdin: body)
        #expect(r.status == 1)
        #expect(r.json?["message"]?.string?.contains("installation 999") == true)
        _ = gh
    }
}

extension Array where Element == UInt8 {
    func replacingInstallation(with id: Int) -> [UInt8] {
        Array(String(decoding: self, as: UTF8.self).replacingOccurrences(of: #""installation":{"id":4242}"#, with: #""installation":{"id":\#(id)}"#).utf8)
    }
}
