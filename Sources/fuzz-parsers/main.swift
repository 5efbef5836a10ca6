import SwitchyardTesting
#if canImport(Glibc)
import Glibc
#endif

// libFuzzer over one parser: SWITCHYARD_FUZZ_TARGET names it (envelope, event, form, grammar, config,
// signature, cgi-env, manifest). Built only with SWITCHYARD_FUZZ=1 and -sanitize=fuzzer (see fuzz/README.md).
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32

nonisolated(unsafe) var target = "grammar"

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    FuzzTargets.run(target, Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

if let t = getenv("SWITCHYARD_FUZZ_TARGET") { target = String(cString: t) }
guard FuzzTargets.all.contains(target) else {
    let message = "SWITCHYARD_FUZZ_TARGET must be one of \(FuzzTargets.all.joined(separator: ", "))\n"
    _ = message.withCString { write(2, $0, strlen($0)) }
    exit(2)
}
var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv, testOneInput))
