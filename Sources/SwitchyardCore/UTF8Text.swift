/// Checked UTF-8 decoding for bytes read from outside (JSON strings, form bodies, config files).
public enum UTF8Text {
    /// The bytes as a String if they are valid UTF-8, else nil. `String(validating:as:)` reaches the
    /// standard library's generic validator, several times slower on a long string than
    /// `String(decoding:as:)`, whose validation is the fast one but which repairs rather than refuses.
    /// Repairing changes the bytes exactly when they are invalid (each maximal ill-formed subsequence
    /// becomes U+FFFD), so the decoded string is compared back when any byte is not ASCII.
    public static func string(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
        let s = String(decoding: bytes, as: UTF8.self)
        if isASCII(bytes) { return s }
        return s.utf8.elementsEqual(bytes) ? s : nil
    }

    static func isASCII(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = bytes.baseAddress else { return true }
        var k = 0
        while k + 8 <= bytes.count {
            if UnsafeRawPointer(base + k).loadUnaligned(as: UInt64.self) & 0x8080_8080_8080_8080 != 0 { return false }
            k += 8
        }
        while k < bytes.count { if bytes[k] >= 0x80 { return false }; k += 1 }
        return true
    }
}
