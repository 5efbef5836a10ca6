import CHTTP
import SwitchyardCore
import SwitchyardGitHub

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Runs child processes with bytes on stdin, collecting stdout, killing them at a deadline.
/// posix_spawn and one poll loop for all children: no Foundation, no threads.
public enum Subprocess {
    public struct Spec: Sendable {
        public var path: String
        public var arguments: [String]
        public var environment: [String: String]
        public var stdin: [UInt8]
        public init(path: String, arguments: [String] = [], environment: [String: String], stdin: [UInt8]) {
            self.path = path; self.arguments = arguments; self.environment = environment; self.stdin = stdin
        }
    }

    public struct Result: Sendable {
        public var status: Int32
        public var stdout: [UInt8]
        public var timedOut: Bool
        /// Set when the child could not be started.
        public var error: String?
    }

    /// A started child.
    public final class Child: @unchecked Sendable {
        let pid: pid_t
        var input: Int32
        let output: Int32
        let stdin: [UInt8]
        var written = 0
        var out: [UInt8] = []
        var open = true
        init(pid: pid_t, input: Int32, output: Int32, stdin: [UInt8]) {
            self.pid = pid; self.input = input; self.output = output; self.stdin = stdin
        }
    }

    /// Starts a child. Throws `misconfigured` when it cannot be started.
    public static func start(_ spec: Spec) throws(SwitchyardError) -> Child {
        var inPipe: [Int32] = [0, 0], outPipe: [Int32] = [0, 0]
        // Close-on-exec: a child gets exactly its own stdin and stdout (dup2 below clears the flag on 0
        // and 1), never a sibling's pipe ends, so each sees end-of-input as soon as its input is written.
        guard chttp_pipe_cloexec(&inPipe) == 0 else { throw .init(.internalError, "pipe failed") }
        guard chttp_pipe_cloexec(&outPipe) == 0 else { close(inPipe[0]); close(inPipe[1]); throw .init(.internalError, "pipe failed") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, inPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        for fd in [inPipe[0], inPipe[1], outPipe[0], outPipe[1]] { posix_spawn_file_actions_addclose(&actions, fd) }
        let argv = [spec.path] + spec.arguments
        let envp = spec.environment.map { "\($0.key)=\($0.value)" }
        var pid: pid_t = 0
        let rc = withCStringArray(argv) { a in withCStringArray(envp) { e in posix_spawn(&pid, spec.path, &actions, nil, a, e) } }
        close(inPipe[0]); close(outPipe[1])
        guard rc == 0 else {
            close(inPipe[1]); close(outPipe[0])
            throw .init(.misconfigured, "cannot start \(spec.path) (error \(rc))")
        }
        _ = fcntl(inPipe[1], F_SETFL, fcntl(inPipe[1], F_GETFL) | O_NONBLOCK)
        let child = Child(pid: pid, input: inPipe[1], output: outPipe[0], stdin: spec.stdin)
        if spec.stdin.isEmpty { close(child.input); child.input = -1 }
        return child
    }

    /// Feeds and reads every child until all have closed stdout or the deadline passes (then kills the rest).
    /// `onSlow` is called once if any child still runs at `slowAfter` (nothing is stopped then).
    public static func wait(_ children: [Child], deadline: Deadline, outputLimit: Int = 8 << 20,
                            slowAfter: Deadline? = nil, onSlow: (() -> Void)? = nil) -> [Result] {
        var slowPending = slowAfter != nil && onSlow != nil
        var buffer = [UInt8](repeating: 0, count: 65_536)
        var timedOut = false
        while children.contains(where: { $0.open }) {
            let wait = deadline.remainingMilliseconds
            if wait <= 0 { timedOut = true; break }
            if slowPending, let s = slowAfter, s.hasExpired { slowPending = false; onSlow?() }
            var fds: [pollfd] = []
            var owners: [(Child, Bool)] = []
            for c in children where c.open {
                fds.append(pollfd(fd: c.output, events: Int16(POLLIN), revents: 0)); owners.append((c, false))
                if c.input >= 0 { fds.append(pollfd(fd: c.input, events: Int16(POLLOUT), revents: 0)); owners.append((c, true)) }
            }
            let slice = slowPending ? max(1, min(wait, slowAfter!.remainingMilliseconds)) : min(wait, 1_000)
            let n = poll(&fds, nfds_t(fds.count), Int32(slice))
            if n < 0 { if errno == EINTR { continue }; break }
            for (i, (c, isInput)) in owners.enumerated() where fds[i].revents != 0 {
                if isInput {
                    let w = c.stdin.withUnsafeBytes { Glibc.write(c.input, $0.baseAddress! + c.written, $0.count - c.written) }
                    if w > 0 { c.written += w }
                    if (w < 0 && errno != EAGAIN && errno != EINTR) || c.written >= c.stdin.count { close(c.input); c.input = -1 }
                } else {
                    let r = buffer.withUnsafeMutableBytes { Glibc.read(c.output, $0.baseAddress!, $0.count) }
                    if r > 0 { if c.out.count < outputLimit { c.out += buffer[0..<r] } }
                    else if r == 0 || (errno != EINTR && errno != EAGAIN) { c.open = false }
                }
            }
        }
        return children.map { c in
            let killed = c.open && timedOut
            if c.input >= 0 { close(c.input); c.input = -1 }
            close(c.output)
            if killed { kill(c.pid, SIGKILL) }
            var status: Int32 = 0
            while waitpid(c.pid, &status, 0) < 0 && errno == EINTR {}
            let code: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
            return Result(status: code, stdout: c.out, timedOut: killed, error: nil)
        }
    }

    /// Runs one child to completion or the deadline.
    public static func run(_ path: String, arguments: [String] = [], environment: [String: String], stdin: [UInt8],
                           deadline: Deadline, slowAfter: Deadline? = nil, onSlow: (() -> Void)? = nil) throws(SwitchyardError) -> Result {
        let child = try start(Spec(path: path, arguments: arguments, environment: environment, stdin: stdin))
        return wait([child], deadline: deadline, slowAfter: slowAfter, onSlow: onSlow)[0]
    }

    static func withCStringArray<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
        let pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) } + [nil]
        defer { pointers.forEach { free($0) } }
        return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}
