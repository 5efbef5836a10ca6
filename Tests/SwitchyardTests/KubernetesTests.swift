import Foundation
import Testing
import Crypto
import _CryptoExtras
import SwitchyardCore
import SwitchyardTesting

/// The Kubernetes image's start-up (deploy/kubernetes/entrypoint.sh) run for real with nginx and
/// fcgiwrap, from the image's layout, as the pod's user (www-data when the tests run as root), with the
/// Secret mounted as the kubelet mounts it under the manifest's settings (root-owned files, group
/// fsGroup, mode 0440).
@Suite("Kubernetes container", .serialized)
struct KubernetesTests {
    static let available = CGIHost.available(.nginx) && FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv")
    static let asRoot = getuid() == 0
    static let key = try! _RSA.Signing.PrivateKey(keySize: .bits2048)

    @Test func theManifestMountsSecretsForThePodsUser() throws {
        let text = try String(contentsOfFile: Support.packageRoot + "/deploy/kubernetes/switchyard.yaml", encoding: .utf8)
        #expect(text.contains("runAsUser: 33") && text.contains("fsGroup: 33") && text.contains("defaultMode: 0440"))
        #expect(!text.contains("defaultMode: 0400"))
    }

    /// A running container: the entrypoint under `setpriv` as www-data (as root) or as this user.
    final class Container {
        let process = Process()
        let port: Int
        let home: String
        let stderr: String

        init(secrets: [String: String], owner: (uid: uid_t, gid: gid_t, mode: mode_t)? = nil, environment: [String: String]) throws {
            let fm = FileManager.default
            let base = NSTemporaryDirectory() + "k8s-\(UUID().uuidString.prefix(8))"
            let opt = try PackagingTests.imageLayout()
            try fm.copyItem(atPath: Support.packageRoot + "/deploy/cgi/nginx.conf", toPath: opt + "/nginx.conf.in")
            home = base + "/home"
            let secretsDir = base + "/secrets", configDir = base + "/config"
            for d in [base, home, secretsDir, configDir] { try fm.createDirectory(atPath: d, withIntermediateDirectories: true); chmod(d, 0o755) }
            let www = getpwnam(CGIHost.serviceUser)!.pointee
            // The kubelet: files root:fsGroup, defaultMode; the emptyDir writable by the pod.
            for (name, value) in secrets {
                let path = secretsDir + "/" + name
                try value.write(toFile: path, atomically: true, encoding: .utf8)
                let o = owner ?? (KubernetesTests.asRoot ? (0, www.pw_gid, 0o440) : (getuid(), getgid(), 0o440))
                chown(path, o.uid, o.gid)
                chmod(path, o.mode)
            }
            if KubernetesTests.asRoot { chown(home, www.pw_uid, www.pw_gid) }
            try "# empty: every default\n".write(toFile: configDir + "/switchyard.yaml", atomically: true, encoding: .utf8)
            chmod(configDir + "/switchyard.yaml", 0o644)
            port = try CGIHost.freePort()
            var env = ["PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "PORT": "\(port)", "SWITCHYARD_OPT": opt,
                       "SWITCHYARD_HOME": home, "SWITCHYARD_SECRETS_DIR": secretsDir, "SWITCHYARD_CONFIG": configDir + "/switchyard.yaml"]
            for (k, v) in environment { env[k] = v }
            process.environment = env
            let entrypoint = Support.packageRoot + "/deploy/kubernetes/entrypoint.sh"
            if KubernetesTests.asRoot {
                // A root shell stays the direct child and waits: Foundation's Process does not always see
                // the exit of a child that changed its user.
                process.executableURL = URL(fileURLWithPath: "/bin/sh")
                process.arguments = ["-c", "/usr/bin/setpriv --reuid=\(www.pw_uid) --regid=\(www.pw_gid) --clear-groups \"$0\"; exit $?", entrypoint]
            } else {
                process.executableURL = URL(fileURLWithPath: entrypoint)
            }
            let log = base + "/stderr"
            _ = fm.createFile(atPath: log, contents: nil)
            chmod(log, 0o666)
            process.standardError = FileHandle(forWritingAtPath: log)
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            var up = false
            for _ in 0..<100 where process.isRunning {
                if CGIHost.connects(port) { up = true; break }
                usleep(50_000)
            }
            if !up { usleep(100_000) }
            stderr = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        }

        var running: Bool { process.isRunning }

        func stop() {
            for pid in CGIHost.descendants(of: process.processIdentifier) { kill(pid, SIGKILL) }
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    func updateBranch(_ gh: GitHubEmulator, port: Int, secret: String) throws -> (status: Int, body: [UInt8]) {
        let id = gh.addComment("acme/widgets", issue: 1, user: "maint-mona", body: "/update-branch")
        let delivery = WebhookDelivery(event: "issue_comment", payload: gh.commentEvent("acme/widgets", commentID: id), secret: secret)
        return try delivery.post(to: "http://127.0.0.1:\(port)/hooks/update-branch")
    }

    @Test(.enabled(if: available)) func aGitHubOnlyInstallWorksWithTwoSecrets() throws {
        let (gh, url) = try Support.world()
        let secret = "k8s-\(UUID().uuidString.prefix(8))"
        let c = try Container(secrets: ["github-webhook-secret": secret, "github-token": Support.token(of: gh)],
                              environment: ["GITHUB_API_URL": url])
        defer { c.stop() }
        #expect(c.running, "\(c.stderr)")
        let r = try updateBranch(gh, port: c.port, secret: secret)
        #expect(r.status == 200, "\(String(decoding: r.body, as: UTF8.self)) \(c.stderr)")
        #expect((try? JSON.parse(r.body))?["outcome"]?.string == "done")
        #expect(gh.requests.contains { $0.method == "PUT" })
        // GET: nginx's 405.
        let get = try LoopbackHTTP.send(method: "GET", "http://127.0.0.1:\(c.port)/hooks/update-branch", body: nil)
        #expect(get.status == 405)
    }

    @Test(.enabled(if: available)) func appAuthComesFromTheSecretAndTheAppID() throws {
        let (gh, url) = try Support.world()
        gh.addApp(id: 777, slug: "switchyard", publicKeyPEM: Self.key.publicKey.pemRepresentation, installations: [4242])
        let secret = "k8s-\(UUID().uuidString.prefix(8))"
        let c = try Container(secrets: ["github-webhook-secret": secret, "github-app-private-key": Self.key.pkcs8PEMRepresentation],
                              environment: ["GITHUB_API_URL": url, "GITHUB_APP_ID": "777"])
        defer { c.stop() }
        let r = try updateBranch(gh, port: c.port, secret: secret)
        #expect(r.status == 200, "\(String(decoding: r.body, as: UTF8.self)) \(c.stderr)")
        #expect(gh.requests.contains { $0.path.hasSuffix("/access_tokens") })
        // The token cache is the pod user's, in the emptyDir.
        let cached = try FileManager.default.contentsOfDirectory(atPath: c.home + "/cache")
        #expect(!cached.isEmpty)
    }

    @Test(.enabled(if: available && asRoot)) func anUnreadableSecretStopsTheContainerWithWhatToFix() throws {
        // The old manifest's mount: root-owned 0400, no fsGroup.
        let c = try Container(secrets: ["github-webhook-secret": "x", "github-token": "y"], owner: (0, 0, 0o400), environment: [:])
        defer { c.stop() }
        c.process.waitUntilExit()
        #expect(c.process.terminationStatus != 0)
        let text = (try? String(contentsOfFile: c.home + "/../stderr", encoding: .utf8)) ?? ""
        #expect(text.contains("fsGroup"), "\(text)")
    }

    @Test(.enabled(if: available)) func anAppIDWithoutItsKeyIsRefusedAtStart() throws {
        let c = try Container(secrets: ["github-webhook-secret": "x"], environment: ["GITHUB_APP_ID": "777"])
        defer { c.stop() }
        c.process.waitUntilExit()
        #expect(c.process.terminationStatus != 0)
        let text = (try? String(contentsOfFile: c.home + "/../stderr", encoding: .utf8)) ?? ""
        #expect(text.contains("github-app-private-key"), "\(text)")
    }
}
