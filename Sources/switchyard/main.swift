// The multi-call binary: every function in one executable, for packages that ship one file (the Lambda
// zip, images). The function is chosen by, in order: the name it is run under (a symlink such as
// cgi-bin/update-branch → switchyard), its first argument (`switchyard update-branch --event …`), then
// SWITCHYARD_FUNCTION or Lambda's `_HANDLER` (the template's Handler).
import CherryPick
import E2ETrigger
import Housekeeping
import LabelDeploy
import SlaCheck
import SlashDispatch
import SwitchyardGitHub
import SwitchyardRuntime
import UpdateBranch

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

let names = ["cherry-pick", "e2e-trigger", "housekeeping", "label-deploy", "sla-check", "slash-dispatch", "update-branch"]

func run(_ name: String, _ arguments: [String]) -> Never {
    switch name {
    case "cherry-pick": FunctionMain.run(CherryPick(), arguments: arguments)
    case "e2e-trigger": FunctionMain.run(E2ETrigger(), arguments: arguments)
    case "housekeeping": FunctionMain.run(Housekeeping(), arguments: arguments)
    case "label-deploy": FunctionMain.run(LabelDeploy(), arguments: arguments)
    case "sla-check": FunctionMain.run(SlaCheck(), arguments: arguments)
    case "slash-dispatch":
        // Routed functions are this same binary, run with their name.
        FunctionMain.run(SlashDispatch(siblings: .multiCall(SlashDispatch.executablePath)), arguments: arguments)
    case "update-branch": FunctionMain.run(UpdateBranch(), arguments: arguments)
    default:
        let usage = """
            usage: switchyard FUNCTION [options]   (or run it as FUNCTION through a symlink, or set SWITCHYARD_FUNCTION)
            functions: \(names.joined(separator: ", "))

            """
        FileDescriptor.standardError.write(Array("switchyard: \(name.isEmpty ? "no function named" : "unknown function \(name)")\n\(usage)".utf8))
        exit(2)
    }
}

// Under CGI the arguments after the name are a query string's words (RFC 3875 §4.4), chosen by whoever
// sends the request: they must not choose the function.
let arguments = getenv("GATEWAY_INTERFACE") != nil ? Array(CommandLine.arguments.prefix(1)) : CommandLine.arguments
let invoked = arguments.first.map { String($0.split(separator: "/").last ?? "") } ?? ""
if names.contains(invoked) {
    run(invoked, arguments)
} else if arguments.count > 1, names.contains(arguments[1]) {
    run(arguments[1], [arguments[1]] + arguments.dropFirst(2))
} else if arguments.count > 1, !arguments[1].hasPrefix("-") {
    run(arguments[1], arguments)
} else if let chosen = getenv("SWITCHYARD_FUNCTION").map({ String(cString: $0) }) ?? getenv("_HANDLER").map({ String(cString: $0) }) {
    run(chosen, arguments)
} else {
    run("", arguments)
}
