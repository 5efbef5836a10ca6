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

    /// At most a day ahead: no setting or header can overflow the clock arithmetic.
    public static let longest: Int64 = 86_400_000

    public init(millisecondsFromNow ms: Int) {
        monotonicMillis = Deadline.nowMillis() + min(Self.longest, max(0, Int64(ms)))
    }

    /// A deadline given as Unix epoch milliseconds (Lambda's `Lambda-Runtime-Deadline-Ms`), clamped to
    /// between now and a day ahead, whatever the header said.
    public init(epochMillis: Int64) {
        let ahead = epochMillis.subtractingReportingOverflow(Deadline.epochMillis())
        let ms = ahead.overflow ? (epochMillis < 0 ? 0 : Self.longest) : min(Self.longest, max(0, ahead.partialValue))
        monotonicMillis = Deadline.nowMillis() + ms
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
