import Testing
import SwitchyardCore
import Housekeeping

/// The pure parts of housekeeping's rules and `/autoassign`: patterns, owners files and the weighted pick.
@Suite("housekeeping rules")
struct HousekeepingRulesTests {
    @Test func codeownersPatternsMatchAsGitHubDocumentsThem() {
        #expect(Glob.matches("*", "a/b/c.go"))
        #expect(Glob.matches("*.js", "web/app.js"))
        #expect(!Glob.matches("*.js", "web/app.jsx"))
        #expect(Glob.matches("/build/logs/", "build/logs/x/y.log"))
        #expect(!Glob.matches("/build/logs/", "src/build/logs/x.log"))
        #expect(Glob.matches("docs/*", "docs/getting-started.md"))
        #expect(!Glob.matches("docs/*", "docs/build-app/troubleshooting.md"))
        #expect(Glob.matches("apps/", "src/apps/x.go"))
        #expect(Glob.matches("**/logs", "deep/down/logs/a.txt"))
        #expect(Glob.matches("/docs", "docs/a/b.md"))
        #expect(Glob.matches("i18n/", "webapp/i18n/fr.json"))
        #expect(!Glob.matches("/i18n/", "webapp/i18n/fr.json"))
        #expect(Glob.matches("i18n/*.json", "i18n/fr.json"))
    }

    @Test func theLastMatchingLineOwnsAPath() {
        let owners = OwnersFile(text: "# comment\n* @all\n/src/ @ana @acme/core @other/team\n/src/vendor/\n*.md @docs # inline\n", org: "acme")
        #expect(owners.owners(of: "README.md").users == ["docs"])
        #expect(owners.owners(of: "src/x.go").users == ["ana"])
        #expect(owners.owners(of: "src/x.go").teams == ["core"])
        #expect(owners.owners(of: "src/vendor/y.go").users.isEmpty)
        #expect(owners.owners(of: "Makefile").users == ["all"])
    }

    @Test func weightsGrowWithTheLogOfChangesAndPicksAreWeightedAndRepeatable() {
        let owners = OwnersFile(text: "/a/ @ana\n/b/ @ben\n", org: "acme")
        func file(_ name: String, _ changes: Int) -> GitHub.PullFile {
            GitHub.PullFile(filename: name, status: "modified", changes: changes, previousFilename: nil, patch: nil)
        }
        let w = Housekeeping.ownerWeights(files: [file("a/1", 5), file("a/2", 1000), file("b/1", 9)], owners: owners)
        #expect(w == ["ana": 5, "ben": 1])   // 1 + 4, and 1
        #expect(Housekeeping.pick(2, from: w, seed: "x") .sorted() == ["ana", "ben"])
        #expect(Housekeeping.pick(1, from: w, seed: "acme/w#1") == Housekeeping.pick(1, from: w, seed: "acme/w#1"))
        let heavy = (0..<400).filter { Housekeeping.pick(1, from: ["ana": 9, "ben": 1], seed: "s\($0)") == ["ana"] }.count
        #expect(heavy > 320 && heavy < 390, "\(heavy)")
        #expect(Housekeeping.pick(3, from: ["ana": 0], seed: "x").isEmpty)
    }
}
