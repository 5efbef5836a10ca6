#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Small POSIX file helpers, so that the functions need no Foundation file APIs.
public enum Files {
    /// Reads a whole file, at most `limit` bytes. Nil when it cannot be read or is larger.
    /// With `privateOnly`, a file not owned by this user or readable by others counts as unreadable.
    /// With `privateOnly`, a symbolic link is not followed either: the file must be this user's own.
    public static func read(_ path: String, limit: Int = 1 << 20, privateOnly: Bool = false) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC | (privateOnly ? O_NOFOLLOW : 0))
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, Int(st.st_size) <= limit else { return nil }
        // Private: this user's, owner-only, and not a hard link to some other file (another name for
        // an older copy, which the mode and owner checks would pass).
        if privateOnly && (st.st_uid != getuid() || (st.st_mode & 0o077) != 0 || st.st_nlink != 1) { return nil }
        var out = [UInt8](repeating: 0, count: Int(st.st_size))
        var got = 0
        while got < out.count {
            let n = out.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + got, $0.count - got) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            got += n
        }
        return Array(out.prefix(got))
    }

    /// Writes a file atomically (temporary file in the same folder, then rename) with `mode`; `durable`
    /// flushes it to disk first (a cache whose torn file reads as a miss can skip that).
    @discardableResult
    public static func writeAtomically(_ path: String, _ bytes: [UInt8], mode: mode_t = 0o600, durable: Bool = true) -> Bool {
        let tmp = "\(path).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        guard fd >= 0 else { return false }
        var ok = fchmod(fd, mode) == 0
        var written = 0
        while ok && written < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + written, $0.count - written) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { ok = false } else { written += n }
        }
        ok = ok && (!durable || fsync(fd) == 0)
        close(fd)
        if ok && rename(tmp, path) == 0 { return true }
        unlink(tmp)
        return false
    }

    /// Creates a directory (and parents) with `mode` if missing. True when it exists afterwards.
    @discardableResult
    public static func makeDirectory(_ path: String, mode: mode_t = 0o700) -> Bool {
        var st = stat()
        if stat(path, &st) == 0 { return (st.st_mode & S_IFMT) == S_IFDIR }
        let parent = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        if !parent.isEmpty && parent != path { makeDirectory(parent, mode: mode) }
        return mkdir(path, mode) == 0 || errno == EEXIST
    }

    /// Makes sure `path` is a directory this process may trust for its caches: created 0700 when
    /// missing; refused when it is a symbolic link, not owned by this user, or writable by group or
    /// others (another local user could plant or swap files in it). Returns the reason when refused.
    public static func privateDirectory(_ path: String) -> String? {
        var st = stat()
        if lstat(path, &st) != 0 {
            guard errno == ENOENT else { return "\(path) cannot be inspected (errno \(errno))" }
            let parent = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
            if !parent.isEmpty, parent != path, lstat(parent, &st) != 0 { makeDirectory(parent) }
            if mkdir(path, 0o700) != 0 && errno != EEXIST { return "\(path) cannot be created (errno \(errno))" }
            guard lstat(path, &st) == 0 else { return "\(path) cannot be inspected (errno \(errno))" }
        }
        if (st.st_mode & S_IFMT) == S_IFLNK { return "\(path) is a symbolic link" }
        guard (st.st_mode & S_IFMT) == S_IFDIR else { return "\(path) is not a directory" }
        guard st.st_uid == getuid() else { return "\(path) belongs to uid \(st.st_uid), not to this process (uid \(getuid()))" }
        guard (st.st_mode & 0o022) == 0 else { return "\(path) is writable by group or others (mode \(String(st.st_mode & 0o777, radix: 8)))" }
        return nil
    }

    /// A new folder, mode 0700, under `$TMPDIR` (or /tmp), with an unpredictable name.
    public static func makePrivateTemporaryDirectory(prefix: String) -> String? {
        let base = temporaryDirectory(environment: ["TMPDIR": getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"])
        var template = Array((base + "/" + prefix + "XXXXXX").utf8CString)
        return template.withUnsafeMutableBufferPointer { buffer in
            guard let made = mkdtemp(buffer.baseAddress!) else { return nil }
            return String(cString: made)
        }
    }

    public static func temporaryDirectory(environment: [String: String]) -> String {
        var t = environment["TMPDIR"] ?? "/tmp"
        while t.count > 1 && t.hasSuffix("/") { t.removeLast() }
        return t.isEmpty ? "/tmp" : t
    }
}
