import CDNNL
import Foundation
import GraphCore

/// The oneDNN library this process loaded, which need not be the one whose headers it was built against: its
/// version, threading runtime, file, the instruction set it dispatches to and the kernel it picks for a convolution.
public enum OneDNNLibrary {
    public struct Version: Sendable, Equatable, Comparable, CustomStringConvertible {
        public var major, minor, patch: Int
        public init(_ major: Int, _ minor: Int, _ patch: Int) { self.major = major; self.minor = minor; self.patch = patch }
        public var description: String { "\(major).\(minor).\(patch)" }
        public static func < (a: Self, b: Self) -> Bool { (a.major, a.minor, a.patch) < (b.major, b.minor, b.patch) }
    }

    /// The loaded library's version (`dnnl_version()`, read from the library, not the headers).
    public static let version: Version = {
        let v = dnnl_version()!.pointee
        return Version(Int(v.major), Int(v.minor), Int(v.patch))
    }()

    /// The version of the headers this build was compiled against (`dnnl_version.h`).
    public static let builtAgainst = Version(Int(DNNL_VERSION_MAJOR), Int(DNNL_VERSION_MINOR), Int(DNNL_VERSION_PATCH))

    /// The git commit the loaded library was built from, where it says.
    public static var commit: String? { dnnl_version()!.pointee.hash.map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 } }

    /// The CPU threading runtime the loaded library was built for (ours calls into libgomp: it must be OpenMP).
    public static var cpuRuntime: String {
        switch dnnl_version()!.pointee.cpu_runtime {
        case DNNL_RUNTIME_OMP: "OpenMP"
        case DNNL_RUNTIME_TBB: "TBB"
        case DNNL_RUNTIME_SEQ: "sequential"
        case DNNL_RUNTIME_THREADPOOL: "threadpool"
        case let other: "unknown (\(other))"
        }
    }

    /// The file the dynamic linker loaded `libdnnl` from, as `/proc/self/maps` lists it (glibc's `dladdr` is not
    /// visible to Swift); nil where there is no such file (not Linux).
    public static var libraryPath: String? {
        _ = dnnl_version()   // loaded already: the engine links it
        // Read to the end: /proc files report a size of 0, and `String(contentsOfFile:)` then returns only its first 4 KB.
        guard let maps = FileHandle(forReadingAtPath: "/proc/self/maps").map({ String(decoding: $0.readDataToEndOfFile(), as: UTF8.self) })
        else { return nil }
        return maps.split(separator: "\n").lazy.compactMap { line -> String? in
            guard let slash = line.firstIndex(of: "/") else { return nil }
            let path = String(line[slash...])
            return path.split(separator: "/").last?.hasPrefix("libdnnl.so") == true ? path : nil
        }.first.map { URL(fileURLWithPath: $0).resolvingSymlinksInPath().path }   // the versioned file, not the soname link
    }

    /// The instruction set oneDNN dispatches its kernels to (`dnnl_get_effective_cpu_isa`: the CPU's, capped by
    /// `ONEDNN_MAX_CPU_ISA`), by oneDNN's name for it (`avx512_core_amx`).
    public static var effectiveISA: String { isaName(UInt32(dnnl_get_effective_cpu_isa().rawValue)) }

    /// oneDNN's name of a `dnnl_cpu_isa_t` value (`dnnl_types.h`); a value this build does not know, in hex.
    static func isaName(_ value: UInt32) -> String {
        let names: [UInt32: String] = [0x0: "default", 0x1: "sse41", 0x3: "avx", 0x7: "avx2", 0xf: "avx2_vnni", 0x1f: "avx2_vnni_2",
                                       0x27: "avx512_core", 0x67: "avx512_core_vnni", 0xe7: "avx512_core_bf16",
                                       0x1ef: "avx512_core_fp16", 0xfef: "avx512_core_amx", 0x1fef: "avx512_core_amx_fp16"]
        return names[value] ?? "0x" + String(value, radix: 16)
    }

    /// The implementation oneDNN picks for ResNet-18's `layer1` convolution (3×3, 64 → 64 channels, 56×56, stride 1,
    /// f32 inference, layouts of its choosing): its `impl_info_str`, such as `brgconv:avx512_core` or `jit:avx2`.
    public static func sampleConvolutionImplementation() throws -> String {
        guard let context = DNNLContext.shared else { throw EngineError.backend("oneDNN", "the CPU engine could not be created") }
        let (x, w) = ([1, 64, 56, 56], [64, 64, 3, 3])
        let src = try MemoryDesc(dims: x, tag: dnnl_format_tag_any), weights = try MemoryDesc(dims: w, tag: dnnl_format_tag_any)
        let dst = try MemoryDesc(dims: x, tag: dnnl_format_tag_any)
        let window = DNNLWindow(convolution: x, w, x, Conv2dAttributes(padding: Pair(1)))
        let pd = try window.convolutionForward(context.engine, dnnl_forward_inference, src: src.handle, weights: weights.handle, bias: nil,
                                               dst: dst.handle, attributes: nil, what: "sample convolution")
        defer { dnnl_primitive_desc_destroy(pd) }
        var name: UnsafePointer<CChar>?
        try check(dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &name), "sample convolution's implementation")
        return name.map { String(cString: $0) } ?? "unknown"
    }

    /// Why the loaded library cannot run this build (nil when it can): oneDNN 3.x, and no older minor release than
    /// the headers it was compiled against (a function those headers declare may be missing from an older library).
    public static func versionProblem(loaded: Version = version, builtAgainst: Version = builtAgainst) -> String? {
        guard loaded.major != builtAgainst.major || loaded.minor < builtAgainst.minor else { return nil }
        let path = libraryPath.map { " (\($0))" } ?? ""
        return "oneDNN \(loaded) is installed\(path), but Pneumo needs oneDNN \(builtAgainst.major).x, \(builtAgainst.major).\(builtAgainst.minor) "
            + "or later (it was built against \(builtAgainst)). Install Intel's oneDNN \(builtAgainst.major).\(builtAgainst.minor) into "
            + "/usr/local with `bash scripts/setup.sh` (as root)."
    }
}
