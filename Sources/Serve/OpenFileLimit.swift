#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The process's limit on open files, which its connections count against (one descriptor each).
public enum OpenFileLimit {
    /// Raises the soft limit to the hard one, as servers do: Linux starts processes at a soft limit of 1,024 while
    /// allowing far more, and at the soft limit the server can accept no new client while the open connections
    /// stay (idle ones until `ServerConfiguration.idleTimeout`). Returns the limits before and after, or nil when
    /// the soft limit already was the hard one or could not be raised.
    public static func raiseToHard() -> (from: UInt64, to: UInt64)? {
        var limit = rlimit()
        guard getrlimit(resource, &limit) == 0, limit.rlim_cur < limit.rlim_max, limit.rlim_max != rlim_t.max else { return nil }
        let before = UInt64(limit.rlim_cur)
        limit.rlim_cur = limit.rlim_max
        guard setrlimit(resource, &limit) == 0 else { return nil }
        return (before, UInt64(limit.rlim_max))
    }

    /// The soft limit now.
    public static var current: UInt64 {
        var limit = rlimit()
        return getrlimit(resource, &limit) == 0 ? UInt64(limit.rlim_cur) : 0
    }

    #if canImport(Glibc)
    private static let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    #else
    private static let resource = RLIMIT_NOFILE
    #endif
}
