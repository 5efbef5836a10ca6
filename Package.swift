// swift-tools-version:6.0
import PackageDescription
import Foundation

/// Release builds link the Swift runtime statically (`--static-swift-stdlib`), see README.
let strict: [SwiftSetting] = [.swiftLanguageMode(.v6)]

/// The functions: executable name, capability library, extra files in its folder.
let functions: [(name: String, library: String, extra: [String])] = [
    ("update-branch", "UpdateBranch", []),
    ("sla-check", "SlaCheck", []),
    ("cherry-pick", "CherryPick", []),
    ("slash-dispatch", "SlashDispatch", []),
    ("housekeeping", "Housekeeping", ["housekeeping.sample.yaml"]),
    ("e2e-trigger", "E2ETrigger", []),
    ("label-deploy", "LabelDeploy", ["label-deploy.sample.yaml"]),
]

let package = Package(
    name: "switchyard",
    products: [
        .executable(name: "switchyard", targets: ["switchyard"]),
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
        // OpenSSL, for TLS (linked statically into release builds).
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        // The HTTP/1.1 client: its own DNS stub resolver, OpenSSL for TLS, proxies, kept-alive connections.
        .target(name: "CHTTP", dependencies: ["COpenSSL"]),
        // HMAC-SHA256 and SHA-256 in one call over contiguous bytes, on OpenSSL's SHA-256.
        .target(name: "CDigest", dependencies: ["COpenSSL"]),
        // libyaml, for the config and the manifests (linked statically into release builds).
        .systemLibrary(name: "CYAML", pkgConfig: "yaml-0.1", providers: [.apt(["libyaml-dev"])]),
        // Pure value types: events, commands, plans, replies, errors, config. No I/O.
        .target(name: "SwitchyardCore", dependencies: ["CYAML"], swiftSettings: strict),
        // Real clients: GitHub REST over the HTTP client, GitHub App auth.
        .target(
            name: "SwitchyardGitHub",
            dependencies: [
                "SwitchyardCore", "CHTTP",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: strict),
        // Invocation adapters (pipe, CGI, OpenFaaS, Lambda), request verification, runner, output.
        .target(
            name: "SwitchyardRuntime",
            dependencies: ["SwitchyardCore", "SwitchyardGitHub", "CHTTP", "CDigest"],
            swiftSettings: strict),
        // Emulators and helpers for tests and the playground.
        .target(
            name: "SwitchyardTesting",
            dependencies: [
                "SwitchyardCore", "SwitchyardRuntime", "LabelDeploy",
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
        .testTarget(
            name: "SwitchyardTests",
            dependencies: [
                "SwitchyardCore", "SwitchyardGitHub", "SwitchyardRuntime", "SwitchyardTesting", "CHTTP",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ] + functions.map { .target(name: $0.library) },
            swiftSettings: strict),
    ]
)

// Functions: one executable each, in functions/<name>/, over its capability library.
for f in functions {
    package.targets.append(.target(name: f.library, dependencies: ["SwitchyardCore", "SwitchyardGitHub", "SwitchyardRuntime"],
                                   swiftSettings: strict))
    package.products.insert(.executable(name: f.name, targets: [f.name]), at: 0)
    package.targets.append(.executableTarget(
        name: f.name, dependencies: ["SwitchyardRuntime", .target(name: f.library)], path: "functions/\(f.name)",
        exclude: ["function.yaml", "README.md"] + f.extra, swiftSettings: strict))
}

// Every function in one binary (the Lambda package, images): chosen by its name, first argument or _HANDLER.
package.targets.append(.executableTarget(
    name: "switchyard", dependencies: ["SwitchyardRuntime", "SwitchyardGitHub"] + functions.map { .target(name: $0.library) }, swiftSettings: strict))

// libFuzzer targets exist only in fuzzing builds: SWITCHYARD_FUZZ=1 swift build --product fuzz-parsers
// -Xswiftc -sanitize=fuzzer -Xswiftc -use-ld=lld --scratch-path .build-fuzz (see fuzz/README.md).
if ProcessInfo.processInfo.environment["SWITCHYARD_FUZZ"] == "1" {
    package.products.append(.executable(name: "fuzz-parsers", targets: ["fuzz-parsers"]))
    package.targets.append(.executableTarget(name: "fuzz-parsers", dependencies: ["SwitchyardTesting"], path: "Sources/fuzz-parsers",
                                             swiftSettings: strict))
}
