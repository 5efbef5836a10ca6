// swift-tools-version:6.0
import PackageDescription
import Foundation

/// Release builds link the Swift runtime statically (`--static-swift-stdlib`), see README.
let strict: [SwiftSetting] = [.swiftLanguageMode(.v6)]

let package = Package(
    name: "switchyard",
    products: [
        .executable(name: "update-branch", targets: ["update-branch"]),
        .executable(name: "sla-check", targets: ["sla-check"]),
        .executable(name: "cherry-pick", targets: ["cherry-pick"]),
        .executable(name: "slash-dispatch", targets: ["slash-dispatch"]),
        .executable(name: "housekeeping", targets: ["housekeeping"]),
        .executable(name: "e2e-trigger", targets: ["e2e-trigger"]),
        .executable(name: "github-emulator", targets: ["github-emulator"]),
        .executable(name: "playground", targets: ["playground"]),
        .executable(name: "fuzz-functions", targets: ["fuzz-functions"]),
        .executable(name: "load-test", targets: ["load-test"]),
        .library(name: "SwitchyardCore", targets: ["SwitchyardCore"]),
        .library(name: "SwitchyardTesting", targets: ["SwitchyardTesting"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", exact: "4.5.2"),
    ],
    targets: [
        // libcurl, loaded on first use and wrapped so that its variadic setopt calls are callable from Swift.
        .target(name: "CCurl", linkerSettings: [.linkedLibrary("dl")]),
        // Pure value types: events, commands, plans, replies, errors, config. No I/O.
        .target(name: "SwitchyardCore", swiftSettings: strict),
        // Real clients: HTTP over libcurl, GitHub REST, GitHub App auth.
        .target(
            name: "SwitchyardGitHub",
            dependencies: [
                "SwitchyardCore", "CCurl",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: strict),
        // Invocation adapters (pipe, CGI, OpenFaaS, Lambda), request verification, runner, output.
        .target(
            name: "SwitchyardRuntime",
            dependencies: [
                "SwitchyardCore", "SwitchyardGitHub", "CCurl",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict),
        // Capabilities: one library each.
        .target(name: "UpdateBranch", dependencies: ["SwitchyardCore", "SwitchyardGitHub", "SwitchyardRuntime"], swiftSettings: strict),
        .target(name: "SlaCheck", dependencies: ["SwitchyardCore", "SwitchyardGitHub", "SwitchyardRuntime"], swiftSettings: strict),
        .target(name: "CherryPick", dependencies: ["SwitchyardCore", "SwitchyardGitHub", "SwitchyardRuntime"], swiftSettings: strict),
        .target(name: "SlashDispatch", dependencies: ["SwitchyardCore", "SwitchyardGitHub", "SwitchyardRuntime"], swiftSettings: strict),
        .target(name: "Housekeeping", dependencies: ["SwitchyardCore", "SwitchyardGitHub", "SwitchyardRuntime"], swiftSettings: strict),
        .target(name: "E2ETrigger", dependencies: ["SwitchyardCore", "SwitchyardGitHub", "SwitchyardRuntime"], swiftSettings: strict),
        // Emulators and helpers for tests and the playground.
        .target(
            name: "SwitchyardTesting",
            dependencies: [
                "SwitchyardCore", "SwitchyardRuntime",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            exclude: ["README.md"],
            swiftSettings: strict),
        .executableTarget(name: "github-emulator", dependencies: ["SwitchyardTesting"], swiftSettings: strict),
        .executableTarget(name: "fuzz-functions", dependencies: ["SwitchyardTesting"], swiftSettings: strict),
        .executableTarget(
            name: "load-test",
            dependencies: ["SwitchyardTesting", .product(name: "Crypto", package: "swift-crypto"), .product(name: "_CryptoExtras", package: "swift-crypto")],
            swiftSettings: strict),
        .executableTarget(name: "playground", dependencies: ["SwitchyardTesting", "SwitchyardRuntime"], swiftSettings: strict),
        // Functions: one executable each.
        .executableTarget(
            name: "update-branch",
            dependencies: ["SwitchyardRuntime", "UpdateBranch"],
            path: "functions/update-branch",
            exclude: ["function.yaml", "README.md"],
            swiftSettings: strict),
        .executableTarget(
            name: "sla-check",
            dependencies: ["SwitchyardRuntime", "SlaCheck"],
            path: "functions/sla-check",
            exclude: ["function.yaml", "README.md"],
            swiftSettings: strict),
        .executableTarget(
            name: "cherry-pick",
            dependencies: ["SwitchyardRuntime", "CherryPick"],
            path: "functions/cherry-pick",
            exclude: ["function.yaml", "README.md"],
            swiftSettings: strict),
        .executableTarget(
            name: "slash-dispatch",
            dependencies: ["SwitchyardRuntime", "SlashDispatch"],
            path: "functions/slash-dispatch",
            exclude: ["function.yaml", "README.md"],
            swiftSettings: strict),
        .executableTarget(
            name: "housekeeping",
            dependencies: ["SwitchyardRuntime", "Housekeeping"],
            path: "functions/housekeeping",
            exclude: ["function.yaml", "README.md", "housekeeping.sample.yaml"],
            swiftSettings: strict),
        .executableTarget(
            name: "e2e-trigger",
            dependencies: ["SwitchyardRuntime", "E2ETrigger"],
            path: "functions/e2e-trigger",
            exclude: ["function.yaml", "README.md"],
            swiftSettings: strict),
        .testTarget(
            name: "SwitchyardTests",
            dependencies: [
                "SwitchyardCore", "SwitchyardGitHub", "SwitchyardRuntime", "SwitchyardTesting", "UpdateBranch", "SlaCheck", "CherryPick", "SlashDispatch", "Housekeeping", "E2ETrigger",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: strict),
    ]
)

// libFuzzer targets exist only in fuzzing builds: SWITCHYARD_FUZZ=1 swift build --product fuzz-parsers
// -Xswiftc -sanitize=fuzzer -Xswiftc -use-ld=lld --scratch-path .build-fuzz (see fuzz/README.md).
if ProcessInfo.processInfo.environment["SWITCHYARD_FUZZ"] == "1" {
    package.products.append(.executable(name: "fuzz-parsers", targets: ["fuzz-parsers"]))
    package.targets.append(.executableTarget(name: "fuzz-parsers", dependencies: ["SwitchyardTesting"], path: "Sources/fuzz-parsers",
                                             swiftSettings: strict))
}
