import Foundation
import Synchronization

/// Stops every server a tool started (nginx, fcgiwrap, lighttpd, Apache, their workers and CGI
/// programs) however the tool ends: when it returns or calls `exit`, and on SIGINT, SIGTERM or SIGHUP.
/// `CGIHost` registers what it launches; the playground and load-test call `installHandlers()` once.
/// (A SIGKILL cannot be caught: then the servers outlive the tool.)
public enum ProcessReaper {
    private static let roots = Mutex<Set<Int32>>([])
    private static let installed = Mutex(false)

    public static func register(_ pid: Int32) { roots.withLock { _ = $0.insert(pid) } }
    public static func unregister(_ pid: Int32) { roots.withLock { _ = $0.remove(pid) } }

    /// Signal handling on a queue (not in a signal handler, where only a few calls are safe), and an
    /// `atexit` hook for `exit()` and the end of `main`.
    public static func installHandlers() {
        let first = installed.withLock { done -> Bool in
            defer { done = true }
            return !done
        }
        guard first else { return }
        atexit { ProcessReaper.stopAll() }
        for sig in [SIGINT, SIGTERM, SIGHUP] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler {
                stopAll()
                // The conventional status for "ended by this signal".
                _exit(128 + sig)
            }
            source.resume()
            keep(source)
        }
    }

    /// The signal sources live as long as the process.
    private final class Sources: @unchecked Sendable {
        let lock = NSLock()
        var list: [any DispatchSourceSignal] = []
    }
    private static let sources = Sources()
    private static func keep(_ source: any DispatchSourceSignal) {
        sources.lock.withLock { sources.list.append(source) }
    }

    /// Every process below each registered root, then the roots: SIGTERM, a short wait, SIGKILL.
    public static func stopAll() {
        let pids = roots.withLock { list -> Set<Int32> in
            defer { list.removeAll() }
            return list
        }
        guard !pids.isEmpty else { return }
        var tree: [Int32] = []
        for pid in pids { tree += descendants(of: pid) }
        for pid in pids { kill(pid, SIGTERM) }
        let until = Date().addingTimeInterval(2)
        while Date() < until, pids.contains(where: alive) { usleep(20_000) }
        for pid in Array(pids) + tree + pids.flatMap(descendants) where alive(pid) { kill(pid, SIGKILL) }
    }

    /// True while `pid` exists and is not a zombie.
    public static func alive(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        let state = stat[stat.index(after: close)...].split(separator: " ").first
        return state != "Z" && state != "X"
    }

    /// Child process ids of `pid`, from /proc.
    public static func children(of pid: Int32) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { name -> Int32? in
            guard let child = Int32(name), let stat = try? String(contentsOfFile: "/proc/\(name)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return nil }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 2 && Int32(fields[1]) == pid ? child : nil
        }
    }

    /// Every process below `pid`.
    public static func descendants(of pid: Int32) -> [Int32] {
        var all: [Int32] = []
        var frontier = [pid]
        while let next = frontier.popLast() {
            let kids = children(of: next)
            all += kids
            frontier += kids
        }
        return all
    }
}
