import Testing
import SwitchyardCore

@Suite("YAML config")
struct ConfigTests {
    let sample = """
        # Switchyard policy
        defaults:
          commands:
            update-branch:
              allow: [author, member, write]
            check-cla: { allow: anyone }
          bots:
            - renovate
            - "snyk-bot"
        orgs:
          acme:
            commands:
              update-branch:
                allow:
                  - maintain
        repos:
          acme/widgets:
            housekeeping:
              welcome: |
                Welcome, {author}!
                Thanks for the PR.
              note: >
                folded
                text
        chat:
          users:
            mattermost:alan: alan-gh
        """

    @Test func parsesAndLooksUpMostSpecific() throws {
        let c = try Config(yaml: sample)
        let widgets = RepoRef(owner: "acme", name: "widgets")
        let other = RepoRef(owner: "zeta", name: "x")
        #expect(c.allowed("update-branch", in: widgets, default: []) == [.collaborator(.maintain)])
        #expect(c.allowed("update-branch", in: other, default: []) == [.author, .member, .collaborator(.write)])
        #expect(c.allowed("check-cla", in: other, default: []) == [.anyone])
        #expect(c.allowed("cherry-pick", in: other, default: [.member]) == [.member])
        #expect(c.blockedUsers(in: other) == ["renovate", "snyk-bot"])
        #expect(c.value(["housekeeping", "welcome"], for: widgets)?.string == "Welcome, {author}!\nThanks for the PR.\n")
        #expect(c.value(["housekeeping", "note"], for: widgets)?.string == "folded text\n")
        #expect(c.global(["chat", "users"])?["mattermost:alan"]?.string == "alan-gh")
    }

    @Test func emptyConfigWorks() throws {
        let c = try Config(yaml: "")
        #expect(c.allowed("x", in: RepoRef(owner: "a", name: "b"), default: [.member]) == [.member])
        let comments = try Config(yaml: "# nothing\n\n")
        #expect(comments.root.entries?.isEmpty == true)
    }

    struct Bad: Sendable, CustomTestStringConvertible {
        var yaml: String
        var line: Int
        var mentions: String
        var testDescription: String { mentions }
    }

    static let bad: [Bad] = [
        Bad(yaml: "defaults:\n  comands: {}\n", line: 2, mentions: "defaults.comands"),
        Bad(yaml: "nonsense: 1\n", line: 1, mentions: "nonsense"),
        Bad(yaml: "defaults:\n  commands:\n    update-branch:\n      allow: [wizard]\n", line: 4, mentions: "wizard"),
        Bad(yaml: "defaults:\n  commands:\n    update-branch:\n      alow: [member]\n", line: 4, mentions: "alow"),
        Bad(yaml: "repos:\n  not-a-repo:\n    bots: []\n", line: 3, mentions: "owner/name"),
        Bad(yaml: "defaults:\n\tcommands: {}\n", line: 2, mentions: "a tab"),
        Bad(yaml: "defaults:\n  bots: [a, b\n", line: 3, mentions: "flow sequence"),
        Bad(yaml: "defaults:\n  bots: 1\n  bots: 2\n", line: 3, mentions: "duplicate key `defaults.bots`"),
        Bad(yaml: "defaults: {bots: 1, bots: 2}\n", line: 1, mentions: "duplicate key `defaults.bots`"),
        Bad(yaml: "defaults:\n  housekeeping:\n    rules:\n      - name: a\n      - name: b\n        labels: [x]\n        labels: [y]\n", line: 7,
            mentions: "duplicate key `defaults.housekeeping.rules[1].labels`"),
        Bad(yaml: "defaults:\n  housekeeping:\n    rules:\n      - name: a\n        labels: [x\n", line: 6, mentions: "under `defaults.housekeeping.rules[0].labels[1]`"),
        Bad(yaml: "defaults:\n  bots: x\n    nested: y\n", line: 3, mentions: "column 11"),
        Bad(yaml: "defaults:\n  bots: [a]\n---\nother: 1\n", line: 3, mentions: "only one YAML document"),
        Bad(yaml: "defaults:\n  bots: *nowhere\n", line: 2, mentions: "names no anchor"),
    ]

    @Test("invalid config names the key and line", arguments: bad)
    func invalid(_ b: Bad) {
        do {
            _ = try Config(yaml: b.yaml)
            Issue.record("accepted")
        } catch {
            #expect(error.kind == .misconfigured)
            #expect(error.message.contains("line \(b.line)"), "\(error.message)")
            #expect(error.message.contains(b.mentions), "\(error.message)")
        }
    }

    @Test func scalarsAndQuotes() throws {
        let y = try YAML.parse(#"a: "x # not a comment"   # comment"# + "\nb: 'it''s'\nc: yes\nd: 42\ne:\n- 1\n- 2\n")
        #expect(y["a"]?.string == "x # not a comment")
        #expect(y["b"]?.string == "it's")
        #expect(y["c"]?.bool == true)
        #expect(y["d"]?.int == 42)
        #expect(y["e"]?.strings == ["1", "2"])
    }

    @Test func listsOfMappings() throws {
        let y = try YAML.parse("labels:\n  - name: deploy\n    size: small\n  - name: ha\n    size: large\n")
        let items = try #require(y["labels"]?.items)
        #expect(items.count == 2)
        #expect(items[1]["size"]?.string == "large")
    }
}
