import SwitchyardCore
import SwitchyardGitHub

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Reads standard input with a size limit and a deadline, so that a short or stalled body never hangs.
enum StandardInput {
    enum Result { case complete([UInt8]), truncated([UInt8]), tooLarge, timedOut([UInt8]) }

    /// Reads exactly `count` bytes (CGI). `.truncated` when input ends early.
    static func read(exactly count: Int, deadline: Deadline) -> Result {
        readLoop(max: count, deadline: deadline, exact: true)
    }

    /// Reads to end of input, failing with `.tooLarge` past `limit` bytes.
    static func readAll(limit: Int, deadline: Deadline) -> Result {
        readLoop(max: limit + 1, deadline: deadline, exact: false)
    }

    /// Reads and drops up to `count` bytes, until end of input or the deadline.
    static func discard(upTo count: Int, deadline: Deadline) {
        var chunk = [UInt8](repeating: 0, count: 65_536)
        var left = count
        while left > 0 {
            var pfd = pollfd(fd: 0, events: Int16(POLLIN), revents: 0)
            let wait = deadline.remainingMilliseconds
            guard wait > 0, poll(&pfd, 1, Int32(wait)) > 0 else { return }
            let n = chunk.withUnsafeMutableBytes { Glibc.read(0, $0.baseAddress!, min($0.count, left)) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            left -= n
        }
    }

    private static func readLoop(max: Int, deadline: Deadline, exact: Bool) -> Result {
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while out.count < max {
            var pfd = pollfd(fd: 0, events: Int16(POLLIN), revents: 0)
            let wait = deadline.remainingMilliseconds
            if wait <= 0 { return .timedOut(out) }
            let ready = poll(&pfd, 1, Int32(min(wait, Int(Int32.max))))
            if ready < 0 { if errno == EINTR { continue }; return exact ? .truncated(out) : .complete(out) }
            if ready == 0 { return .timedOut(out) }
            let want = min(chunk.count, max - out.count)
            let n = chunk.withUnsafeMutableBytes { Glibc.read(0, $0.baseAddress!, want) }
            if n < 0 { if errno == EINTR || errno == EAGAIN { continue }; break }
            if n == 0 { break }
            out += chunk[0..<n]
        }
        if exact { return out.count == max ? .complete(out) : .truncated(out) }
        return out.count >= max ? .tooLarge : .complete(out)
    }
}
