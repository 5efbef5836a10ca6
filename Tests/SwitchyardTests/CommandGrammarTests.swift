import Testing
import SwitchyardCore

@Suite("Command grammar")
struct CommandGrammarTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var body: String
        var expected: [String]
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "plain command", body: "/update-branch", expected: ["update-branch"]),
        Case(name: "underscore spelling", body: "/update_branch", expected: ["update-branch"]),
        Case(name: "upper case", body: "/Update-Branch", expected: ["update-branch"]),
        Case(name: "CRLF line endings", body: "please\r\n/update-branch\r\nthanks", expected: ["update-branch"]),
        Case(name: "lone CR", body: "hi\r/update-branch", expected: ["update-branch"]),
        Case(name: "two commands", body: "/update-branch\n/cherry-pick release-8.0", expected: ["update-branch", "cherry-pick"]),
        Case(name: "mid-line mention", body: "please run /update-branch later", expected: []),
        Case(name: "fenced code", body: "```\n/update-branch\n```", expected: []),
        Case(name: "tilde fence", body: "~~~sh\n/update-branch\n~~~\n/check-cla", expected: ["check-cla"]),
        Case(name: "unclosed fence swallows the rest", body: "```\n/update-branch", expected: []),
        Case(name: "longer closing fence", body: "````\n```\n/update-branch\n````\n/e2e-test", expected: ["e2e-test"]),
        Case(name: "inline code", body: "`/update-branch`", expected: []),
        Case(name: "inline code before", body: "`x` /update-branch", expected: []),
        Case(name: "block quote", body: "> /update-branch\nI disagree", expected: []),
        Case(name: "indented quote", body: "  > /update-branch", expected: []),
        Case(name: "HTML comment", body: "<!-- /update-branch -->", expected: []),
        Case(name: "multi-line HTML comment", body: "<!--\n/update-branch\n-->\n/check-cla", expected: ["check-cla"]),
        Case(name: "indented code", body: "text\n\n    /update-branch", expected: []),
        Case(name: "small indent still counts", body: "  /update-branch", expected: ["update-branch"]),
        Case(name: "a path is not a command", body: "/usr/bin/env", expected: []),
        Case(name: "a bare slash", body: "/ update", expected: []),
        Case(name: "digits first is not a name", body: "/8ball", expected: []),
        Case(name: "trailing spaces", body: "/update-branch   ", expected: ["update-branch"]),
        Case(name: "other bots' commands are parsed but foreign", body: "/lgtm\n/retest", expected: ["lgtm", "retest"]),
    ]

    @Test("commands found in comments", arguments: cases)
    func commentCases(_ c: Case) {
        #expect(CommandGrammar.commands(inComment: c.body).map(\.name) == c.expected)
    }

    @Test func argumentsQuotesAndOptions() {
        let cmd = CommandGrammar.commands(inComment: #"/e2e-test BROWSER=firefox "two words" 'single q' KEY="a b" plain"#)[0]
        #expect(cmd.tokens == ["BROWSER=firefox", "two words", "single q", "KEY=a b", "plain"])
        #expect(cmd.arguments == ["two words", "single q", "plain"])
        #expect(cmd.option("BROWSER") == "firefox")
        #expect(cmd.option("KEY") == "a b")
    }

    @Test func unterminatedQuoteIsReportedNotDropped() {
        let cmd = CommandGrammar.commands(inComment: #"/cherry-pick "release-8.0"#)[0]
        #expect(cmd.name == "cherry-pick")
        #expect(cmd.error != nil)
    }

    @Test func optionSyntax() {
        #expect(CommandGrammar.option("FOO=bar")?.key == "FOO")
        #expect(CommandGrammar.option("FOO=bar")?.value == "bar")
        #expect(CommandGrammar.option("=bar") == nil)
        #expect(CommandGrammar.option("FOO") == nil)
        #expect(CommandGrammar.option("1X=2") == nil)
        #expect(CommandGrammar.option("A.B-c_d=")?.key == "A.B-c_d")
    }

    @Test func chatText() throws {
        let c = try #require(CommandGrammar.command(fromChat: " Update_Branch acme/widgets#12 "))
        #expect(c.name == "update-branch")
        #expect(c.arguments == ["acme/widgets#12"])
        #expect(IssueRef(c.arguments[0]) == IssueRef(repo: RepoRef(owner: "acme", name: "widgets"), number: 12))
        #expect(CommandGrammar.command(fromChat: "   ") == nil)
        #expect(CommandGrammar.command(fromChat: "/help")?.name == "help")
    }

    @Test func issueReferences() {
        #expect(IssueRef("acme/widgets#3")?.number == 3)
        #expect(IssueRef("https://github.com/acme/widgets/pull/44")?.number == 44)
        #expect(IssueRef("acme/widgets") == nil)
        #expect(IssueRef("acme/widgets#0") == nil)
        #expect(IssueRef("a/b/c#1") == nil)
        #expect(IssueRef("acme/wid gets#1") == nil)
    }
}
