import Foundation

/// Readers of what the system says about itself (`/proc/cpuinfo`, `/proc/meminfo`, `/etc/os-release`,
/// `nvidia-smi`): each parser takes the text, so that tests feed it fixed samples.
enum SystemProbes {
    /// The vector and matrix extensions that decide which kernels run (oneDNN's and ours), in `/proc/cpuinfo`'s names,
    /// oldest first.
    static let isaFlags = ["sse4_2", "avx", "avx2", "fma", "f16c", "avx_vnni", "avx512f", "avx512dq", "avx512cd", "avx512bw",
                           "avx512vl", "avx512_vnni", "avx512_bf16", "avx512_fp16", "amx_tile", "amx_bf16", "amx_int8"]

    struct CPUInfo: Equatable {
        var model: String?
        var isaExtensions: [String]
        /// Distinct (package, core) pairs; nil where the file does not say (some virtual machines, ARM).
        var physicalCores: Int?
        /// `processor` entries.
        var logicalCores: Int
    }

    static func cpuInfo(_ text: String) -> CPUInfo {
        var model: String?, flags: Set<Substring> = [], cores: Set<String> = [], logical = 0
        var package = ""
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let key = parts[0].trimmingCharacters(in: .whitespaces), value = parts[1].trimmingCharacters(in: .whitespaces)
            switch key {
            case "processor": logical += 1
            case "model name" where model == nil: model = value
            case "flags" where flags.isEmpty: flags = Set(value.split(separator: " "))
            case "physical id": package = value
            case "core id": cores.insert(package + "/" + value)
            default: break
            }
        }
        return CPUInfo(model: model, isaExtensions: isaFlags.filter { flags.contains(Substring($0)) },
                       physicalCores: cores.isEmpty ? nil : cores.count, logicalCores: logical)
    }

    /// `MemAvailable` of `/proc/meminfo`, in bytes: what can be allocated without swapping.
    static func availableMemory(_ meminfo: String) -> UInt64? {
        guard let line = meminfo.split(separator: "\n").first(where: { $0.hasPrefix("MemAvailable:") }) else { return nil }
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        guard fields.count >= 2, let kib = UInt64(fields[1]) else { return nil }
        return kib * 1024
    }

    /// `PRETTY_NAME` of `/etc/os-release` (`Debian GNU/Linux 12 (bookworm)`), unquoted.
    static func osName(_ osRelease: String) -> String? {
        guard let line = osRelease.split(separator: "\n").first(where: { $0.hasPrefix("PRETTY_NAME=") }) else { return nil }
        return String(line.dropFirst("PRETTY_NAME=".count)).trimmingCharacters(in: CharacterSet(charactersIn: "\"'"))
    }

    /// GPUs in `nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader,nounits` output.
    static func nvidiaGPUs(_ csv: String) -> [MachineEnvironment.GPU] {
        csv.split(separator: "\n").compactMap { line in
            let f = line.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            guard f.count >= 3, !f[0].isEmpty else { return nil }
            return MachineEnvironment.GPU(name: f[0], memory_mib: Int(f[1]), driver: f[2])
        }
    }

    /// `uname`: the kernel (`Linux 6.1.0-18-amd64`) and the machine architecture (`x86_64`).
    static func uname() -> (kernel: String, architecture: String) {
        var u = utsname()
        guard Foundation.uname(&u) == 0 else { return ("unknown", "unknown") }
        func text<T>(_ field: T) -> String {
            withUnsafeBytes(of: field) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        }
        return ("\(text(u.sysname)) \(text(u.release))", text(u.machine))
    }

    /// A system file's text, read to its end: `/proc` files report a size of 0, and Foundation's whole-file readers then
    /// return only their first read (about 4 KB; `/proc/cpuinfo` of a 4-core machine is longer).
    static func read(_ path: String) -> String? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        return String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
    }

    /// The first executable `name` on the PATH.
    static func onPath(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Runs `executable` and returns its stdout when it exits 0 within `timeout` seconds (a wedged driver can hang
    /// `nvidia-smi`); nil otherwise.
    static func output(of executable: String, _ arguments: [String], timeout: Double = 10) -> String? {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = arguments
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return nil }
        let watchdog = DispatchWorkItem { if p.isRunning { p.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: watchdog)
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        watchdog.cancel()
        return p.terminationStatus == 0 && p.terminationReason == .exit ? String(decoding: data, as: UTF8.self) : nil
    }
}
