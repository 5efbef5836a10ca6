import SwitchyardCore
import SwitchyardGitHub

/// The bytes-in, bytes-out core shared by every mode: limits, authentication, decoding,
/// the capability, the runner, and one rendering of results and errors.
public struct Handler: Sendable {
    public let capability: any Capability
    public let settings: Settings
    public let logger: Logger
    /// The GitHub transport; tests may wrap it.
    public var transport: any HTTPTransport = NetworkTransport()
    /// Set by modes that can answer before the work is over (pipe, CGI, OpenFaaS): writes the response
    /// and closes stdout, so the caller is answered while the process carries on.
    public var respondEarly: (@Sendable (OutgoingResponse) -> Void)? = nil

    public init(capability: any Capability, settings: Settings, logger: Logger) {
        self.capability = capability
        self.settings = settings
        self.logger = logger
        logger.redact(settings.secretValues)
    }

    /// Handles one request. Never throws: every failure becomes a response.
    /// `eventName` names the event of a raw piped payload (`--event`). `trusted` is for events that
    /// reached the process through its platform's own authorisation (a Lambda schedule invoked through
    /// IAM), never for anything that came over HTTP.
    public func handle(_ request: IncomingRequest, mode: InvocationMode, deadline: Deadline,
                       eventName: String? = nil, dryRun: Bool = false, trusted: Bool = false) -> OutgoingResponse {
        let started = Deadline.nowMillis()
        var source: RequestSource = .github
        var delivery = request.header("x-github-delivery") ?? request.header("x-call-id") ?? "-"
        if delivery.count > 100 { delivery = String(delivery.prefix(100)) }
        logger.set("delivery", .string(delivery))
        do {
            try checkShape(request)
            source = request.hasEnvelope ? Verification.source(of: request) : .github
            if !trusted { try authenticate(request, source: source, mode: mode) }
            let response: OutgoingResponse
            switch source {
            case .github:
                response = try handleGitHub(request, delivery: delivery, deadline: deadline, eventName: eventName,
                                            dryRun: dryRun || settings.dryRun)
            case .gitlab:
                // "Pipeline Hook" → gitlab_pipeline: handled like any webhook the models do not cover.
                let kind = (request.header("x-gitlab-event") ?? "").lowercased().replacing(" hook", with: "").replacing(" ", with: "_")
                var r = request
                r.setHeader("x-github-event", "gitlab_" + kind)
                response = try handleGitHub(r, delivery: request.header("x-gitlab-event-uuid") ?? delivery, deadline: deadline,
                                            eventName: nil, dryRun: dryRun || settings.dryRun)
            case .provisioner:
                // The request stays as it came, so that slash-dispatch forwards it verifiable.
                response = try handleGitHub(request, delivery: delivery, deadline: deadline, eventName: "provisioner",
                                            dryRun: dryRun || settings.dryRun)
            case .slack, .mattermost:
                response = try handleChat(request, source: source, delivery: delivery, deadline: deadline,
                                          dryRun: dryRun || settings.dryRun)
            }
            logger.info("handled", ["status": .int(response.status), "outcome": Self.outcome(of: response),
                                    "duration_ms": .int(Int(Deadline.nowMillis() - started))])
            return response
        } catch {
            let e = SwitchyardError.from(error)
            let duration = JSON.int(Int(Deadline.nowMillis() - started))
            let outcome: JSON = .string(e.httpStatus < 500 ? "rejected" : "failed")
            if e.httpStatus >= 500 {
                logger.error(e.message, ["kind": .string(e.kind.rawValue), "detail": e.detail.map(JSON.string) ?? .null,
                                         "status": .int(e.httpStatus), "outcome": outcome, "duration_ms": duration])
            } else {
                logger.warning(e.message, ["kind": .string(e.kind.rawValue), "status": .int(e.httpStatus), "outcome": outcome,
                                           "duration_ms": duration])
            }
            return Rendering.error(e, function: capability.name, delivery: delivery, chat: source == .slack || source == .mattermost)
        }
    }

    /// The outcome a response carries, for the one log line per event.
    static func outcome(of response: OutgoingResponse) -> JSON {
        guard let json = try? JSON.parse(response.body) else { return .null }
        return json["outcome"] ?? .null
    }

    // MARK: Limits and authentication (before anything is decoded)

    func checkShape(_ r: IncomingRequest) throws(SwitchyardError) {
        guard r.method == "POST" else {
            throw SwitchyardError(.methodNotAllowed, "only POST is accepted, not \(r.method)")
        }
        guard r.body.count <= settings.maxBodyBytes else {
            throw SwitchyardError(.payloadTooLarge, "the body is \(r.body.count) bytes; the limit is \(settings.maxBodyBytes) (SWITCHYARD_MAX_BODY_BYTES)")
        }
        guard !r.body.isEmpty else { throw .badRequest("the request body is empty") }
    }

    func authenticate(_ r: IncomingRequest, source: RequestSource, mode: InvocationMode) throws(SwitchyardError) {
        switch source {
        case .github:
            if r.hasEnvelope {
                guard let type = r.mediaType else {
                    throw SwitchyardError(.unsupportedMediaType, "the Content-Type header is missing; GitHub webhooks must be application/json")
                }
                guard type == "application/json" || type == "application/x-www-form-urlencoded" else {
                    throw SwitchyardError(.unsupportedMediaType, "Content-Type \(type) is not accepted; configure the webhook as application/json")
                }
                guard r.header("x-github-event") != nil else { throw .badRequest("the X-GitHub-Event header is missing") }
            }
            if settings.webhookSecrets.isEmpty {
                if mode.isHTTP {
                    throw .misconfigured("GITHUB_WEBHOOK_SECRET (or GITHUB_WEBHOOK_SECRET_FILE) is not set; refusing unverified webhooks")
                }
                logger.debug("pipe mode without GITHUB_WEBHOOK_SECRET: signature not checked")
                return
            }
            guard r.hasEnvelope else {
                throw .unauthenticated("GITHUB_WEBHOOK_SECRET is set, so piped input must be an HTTP envelope with X-Hub-Signature-256")
            }
            try Verification.verifyGitHub(signature: r.header("x-hub-signature-256"), body: r.body, secrets: settings.webhookSecrets)
        case .gitlab:
            try verifyStaticToken(r, mode: mode, sender: "GitLab", header: "x-gitlab-token", variable: "GITLAB_WEBHOOK_TOKEN",
                                  tokens: settings.gitlabWebhookTokens)
        case .provisioner:
            try verifyStaticToken(r, mode: mode, sender: "provisioner", header: Verification.provisionerHeader,
                                  variable: "PROVISIONER_WEBHOOK_TOKEN", tokens: settings.provisionerWebhookTokens)
        case .slack:
            try requireForm(r)
            guard !settings.slackSecrets.isEmpty else {
                throw .misconfigured("SLACK_SIGNING_SECRET (or SLACK_SIGNING_SECRET_FILE) is not set; refusing unverified Slack requests")
            }
            try Verification.verifySlack(signature: r.header("x-slack-signature"), timestamp: r.header("x-slack-request-timestamp"),
                                         body: r.body, secrets: settings.slackSecrets, nowSeconds: settings.nowSeconds())
        case .mattermost:
            try requireForm(r)
            guard !settings.mattermostTokens.isEmpty else {
                throw .misconfigured("MATTERMOST_TOKEN (or MATTERMOST_TOKEN_FILE) is not set; refusing unverified Mattermost commands")
            }
            let form: FormFields
            do { form = try FormFields(parsing: r.body) } catch { throw SwitchyardError.from(error) }
            try Verification.verifyMattermost(authorization: r.header("authorization"), formToken: form["token"],
                                              tokens: settings.mattermostTokens)
        }
    }

    /// Webhooks authenticated by a shared secret in a header (GitLab, the provisioner): JSON only, and
    /// refused in HTTP modes when no token is configured.
    func verifyStaticToken(_ r: IncomingRequest, mode: InvocationMode, sender: String, header: String, variable: String,
                           tokens: [String]) throws(SwitchyardError) {
        guard r.mediaType == "application/json" else {
            throw SwitchyardError(.unsupportedMediaType, "\(sender) webhooks must be application/json")
        }
        guard !tokens.isEmpty else {
            if mode.isHTTP { throw .misconfigured("\(variable) (or \(variable)_FILE) is not set; refusing unverified \(sender) webhooks") }
            return
        }
        try Verification.verifyStaticToken(r.header(header), header: header, sender: sender, tokens: tokens)
    }

    func requireForm(_ r: IncomingRequest) throws(SwitchyardError) {
        guard r.mediaType == "application/x-www-form-urlencoded" else {
            throw SwitchyardError(.unsupportedMediaType, "slash commands must be application/x-www-form-urlencoded, not \(r.mediaType ?? "missing")")
        }
    }

    // MARK: GitHub events

    func handleGitHub(_ r: IncomingRequest, delivery: String, deadline: Deadline, eventName: String?,
                      dryRun: Bool) throws -> OutgoingResponse {
        var body = r.body
        if r.mediaType == "application/x-www-form-urlencoded" {
            guard let payload = try FormFields(parsing: r.body)["payload"] else {
                throw SwitchyardError.badRequest("the form-encoded webhook has no `payload` field")
            }
            body = Array(payload.utf8)
        }
        var name = r.header("x-github-event") ?? eventName
        if name == nil {
            name = WebhookEvent.inferName(from: try JSON.parse(body))
            guard name != nil else {
                throw SwitchyardError.badRequest("cannot tell which event this payload is; pass --event NAME (e.g. --event issue_comment)")
            }
        }
        // Verified, but not an event this function acts on: answer without decoding the payload.
        if name != "ping", let reason = capability.ignoreUndecoded(event: name!, body: body) {
            logger.set("event", .string(name!))
            return Rendering.unhandled(function: capability.name, event: name!, delivery: delivery, message: reason)
        }
        let event = try WebhookEvent.decode(name: name!, body: body)
        logger.set("event", .string(event.name))
        if let action = event.action { logger.set("action", .string(action)) }
        // A raw piped payload named by --event: the name travels with the request, so that a function it
        // is forwarded to (slash-dispatch) sees the same event.
        var r = r
        if !r.hasEnvelope, r.header("x-github-event") == nil { r.setHeader("x-github-event", event.name) }
        if case .ping(let p) = event {
            return Rendering.github(function: capability.name, event: event, delivery: delivery,
                                    result: RunResult(outcome: .done, message: "pong" + (p.zen.map { ": \($0)" } ?? ""), performed: [], skipped: []))
        }
        let config = try settings.loadConfig()
        let context = makeContext(config: config, delivery: delivery, deadline: deadline, dryRun: dryRun,
                                  installationID: event.installationID, request: r, source: .github)
        let plan = try capability.plan(event: event, context: context)
        let result = try perform(plan, context: context, dryRun: dryRun)
        return Rendering.github(function: capability.name, event: event, delivery: delivery, result: result)
    }

    // MARK: Chat commands

    func handleChat(_ r: IncomingRequest, source: RequestSource, delivery: String, deadline: Deadline,
                    dryRun: Bool) throws -> OutgoingResponse {
        if source == .slack, let retry = r.header("x-slack-retry-num") {
            logger.debug("slack retry acknowledged without running again", ["retry": .string(retry)])
            return Rendering.chat("", outcome: .ignored)
        }
        let form = try FormFields(parsing: r.body)
        let chat = try ChatCommand(platform: source == .slack ? .slack : .mattermost, form: form)
        // An empty command asks for help.
        let command = CommandGrammar.command(fromChat: chat.text) ?? Command(name: "help")
        let config = try settings.loadConfig()
        let context = makeContext(config: config, delivery: delivery, deadline: deadline, dryRun: dryRun, installationID: nil,
                                  request: r, source: source)
        // Who may use Switchyard from chat is every function's check, not only slash-dispatch's.
        let plan = try context.chatRefusal(chat).map { Plan.deny($0) } ?? capability.plan(chat: chat, command: command, context: context)
        let result = try perform(plan, context: context, dryRun: dryRun)
        let inChannel = result.response["response_type"]?.string == "in_channel"
            || config.global(["chat", "response-type"])?.string == "in_channel"
        return Rendering.chat(result.message, outcome: result.outcome, denied: result.denied, inChannel: inChannel)
    }

    // MARK: Performing

    func makeContext(config: Config, delivery: String, deadline: Deadline, dryRun: Bool, installationID: Int?,
                     request: IncomingRequest, source: RequestSource) -> CapabilityContext {
        let settings = self.settings
        let logger = self.logger
        let transport = self.transport
        return CapabilityContext(config: config, logger: logger, delivery: delivery, deadline: deadline, dryRun: dryRun,
                                 request: request, source: source, settings: settings, respondEarly: respondEarly) {
            let credentials = try settings.credentials(installationID: installationID, logger: logger)
            return GitHubClient(baseURL: settings.apiURL, credentials: credentials, transport: transport,
                                deadline: deadline, logger: logger, botLogin: settings.botLogin)
        }
    }

    func perform(_ plan: Plan, context: CapabilityContext, dryRun: Bool) throws -> RunResult {
        if plan.actions.isEmpty {
            var r = RunResult(outcome: plan.outcome, message: plan.message, performed: [], skipped: [], denied: plan.denied)
            r.response = plan.response
            return r
        }
        let result = try PlanRunner(github: try context.github()).run(plan, dryRun: dryRun)
        if context.usedGitHub, let client = try? context.github() {
            logger.debug("github requests", ["count": .int(client.requestCount)])
        }
        return result
    }
}
