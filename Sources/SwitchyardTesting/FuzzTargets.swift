import Foundation
import SwitchyardCore
import SwitchyardRuntime
import SwitchyardGitHub
import LabelDeploy

/// The parsers that take outside bytes, as fuzz targets. libFuzzer drives them in `fuzz-parsers`;
/// the tests replay every file in `fuzz/regressions/<target>/` through the same entry points.
public enum FuzzTargets {
    public static let all = ["envelope", "event", "form", "grammar", "config", "signature", "cgi-env", "manifest", "provisioner",
                             "headers", "bot-state"]

    /// Runs one input through a target. Must never crash, whatever the bytes.
    public static func run(_ target: String, _ data: [UInt8]) {
        switch target {
        case "envelope":
            if let json = try? JSON.parse(data) { _ = try? IncomingRequest.envelope(json) }
        case "event":
            // The first byte picks the event name, the rest is the payload.
            let names = ["pull_request", "issue_comment", "pull_request_review", "pull_request_review_comment", "ping", "installation", "merge_group"]
            guard let first = data.first else { return }
            let body = Array(data.dropFirst())
            if let event = try? WebhookEvent.decode(name: names[Int(first) % names.count], body: body) { _ = CommentTrigger(event) }
            if let json = try? JSON.parse(body) { _ = WebhookEvent.inferName(from: json) }
            _ = WebhookEvent.topLevelAction(body)
        case "form":
            if let form = try? FormFields(parsing: data) {
                _ = try? ChatCommand(platform: .mattermost, form: form)
                _ = form["payload"]
            }
        case "grammar":
            let text = String(decoding: data, as: UTF8.self)
            for c in CommandGrammar.commands(inComment: text) { _ = (c.options, c.arguments) }
            _ = CommandGrammar.command(fromChat: text).map { IssueRef($0.arguments.first ?? "") }
        case "config":
            _ = try? Config(yaml: String(decoding: data, as: UTF8.self))
        case "signature":
            // Header text, then a body: GitHub, Slack and Mattermost checks.
            let text = String(decoding: data, as: UTF8.self)
            let parts = text.split(separator: "\n", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
            let body = Array((parts.count > 2 ? parts[2] : "").utf8)
            _ = try? Verification.verifyGitHub(signature: parts.first, body: body, secrets: ["a", "b"])
            _ = try? Verification.verifySlack(signature: parts.first, timestamp: parts.count > 1 ? parts[1] : nil, body: body,
                                              secrets: ["s"], nowSeconds: 1_700_000_000)
            _ = try? Verification.verifyMattermost(authorization: parts.first, formToken: parts.count > 1 ? parts[1] : nil, tokens: ["t"])
        case "cgi-env":
            // NAME=value lines, as a web server would set them.
            var env: [String: String] = [:]
            for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
                let kv = line.split(separator: "=", maxSplits: 1)
                if kv.count == 2 { env[String(kv[0])] = String(kv[1]) }
            }
            _ = FunctionMain.requestHeaders(cgi: Environment(env))
            _ = FunctionMain.requestHeaders(openFaaS: Environment(env))
            _ = FunctionMain.detectMode(Environment(env))
        case "provisioner":
            // A provisioner webhook or installation answer: classification, decoding, owners, the token check.
            let request = IncomingRequest(headers: ["content-type": "application/json"], body: data)
            _ = Verification.source(of: request)
            guard let json = try? JSON.parse(data) else { return }
            _ = WebhookEvent.inferName(from: json)
            for item in (json.array ?? [json]) {
                if let server = CloudProvisioner.server(item) {
                    _ = (LabelDeploy.pullRequest(owner: server.owner), LabelDeploy.chatOwner(server.owner), server.url, server.isGone)
                }
            }
            let id = json["id"]?.string ?? json["OwnerID"]?.string ?? ""
            _ = (LabelDeploy.pullRequest(owner: id), LabelDeploy.chatOwner(id), LabelDeploy.dnsLabel(id), LabelDeploy.validName(id))
            _ = try? Verification.verifyStaticToken(json["event_id"]?.string, header: Verification.provisionerHeader, sender: "provisioner", tokens: ["t"])
        case "headers":
            // Every header verification and the runtime read, one value per line, in a fixed order.
            let lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            func line(_ i: Int) -> String? { i < lines.count ? lines[i] : nil }
            let body = Array((line(8) ?? "").utf8)
            for now: Int64 in [0, 1_700_000_000, .max, .min] {
                _ = try? Verification.verifySlack(signature: line(0), timestamp: line(1), body: body, secrets: ["s"], nowSeconds: now)
            }
            _ = try? Verification.verifyGitHub(signature: line(2), body: body, secrets: ["a"])
            _ = try? Verification.verifyMattermost(authorization: line(3), formToken: line(4), tokens: ["t"])
            _ = try? Verification.verifyStaticToken(line(5), header: Verification.provisionerHeader, sender: "provisioner", tokens: ["t"])
            _ = LambdaLoop.deadline(header: line(6))?.remainingMilliseconds
            _ = FunctionMain.contentLength(line(7))
            _ = line(7).flatMap { Origin($0) }
            _ = line(8).flatMap { GitHubClient.nextLink($0) }
            _ = IncomingRequest(headers: ["content-type": line(5) ?? ""], body: body).mediaType
        case "bot-state":
            // A comment body as Switchyard reads its own state back: markers, state blocks, typed parts.
            let text = String(decoding: data, as: UTF8.self)
            for m in Marker.all(in: text) {
                _ = m.state?["head"]?.string.flatMap(SHA.init)
                for item in m.state?.array ?? [] { _ = item["sha"]?.string.flatMap(SHA.init); _ = item["id"]?.int }
                _ = Marker(function: "x", m.key).html
            }
            _ = (GitRef(text), Segment(text), FilePath(text), RepoRef(Substring(text)), IssueRef(text), APIPath.encode(text))
        case "manifest":
            _ = try? FunctionManifest(yaml: String(decoding: data, as: UTF8.self))
        default:
            break
        }
    }
}
