#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The one deadline of an invocation: Lambda's, or `SWITCHYARD_DEADLINE_MS` from the start.
/// Every outbound call takes its timeout from what is left.
public struct Deadline: Sendable {
    /// Milliseconds on the monotonic clock.
    public let monotonicMillis: Int64

    public init(millisecondsFromNow ms: Int) { monotonicMillis = Deadline.nowMillis() + Int64(ms) }

    /// A deadline given as Unix epoch milliseconds (Lambda's `Lambda-Runtime-Deadline-Ms`).
    public init(epochMillis: Int64) {
        monotonicMillis = Deadline.nowMillis() + (epochMillis - Deadline.epochMillis())
    }

    public var remainingMilliseconds: Int { Int(max(0, monotonicMillis - Deadline.nowMillis())) }
    public var hasExpired: Bool { remainingMilliseconds <= 0 }

    public static func nowMillis() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }

    public static func epochMillis() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }

    public static func sleep(milliseconds ms: Int) {
        guard ms > 0 else { return }
        var ts = timespec(tv_sec: ms / 1000, tv_nsec: (ms % 1000) * 1_000_000)
        var rest = timespec()
        while nanosleep(&ts, &rest) != 0 && errno == EINTR { ts = rest }
    }
}
