import Foundation
import Testing
@testable import CPUBackend
@testable import Profile
import Runtime
import TestSupport

/// `pneumo env`'s facts: the system files' parsers on fixed samples, the JSON contract's keys, and the oneDNN
/// version rule the start-up check applies.
@Suite struct MachineEnvironmentTests {
    /// Two sockets of two cores with two threads each, an AVX-512 VNNI machine (flags abridged).
    static let cpuinfo = (0..<8).map { i in
        """
        processor\t: \(i)
        vendor_id\t: GenuineIntel
        model name\t: Intel(R) Xeon(R) Gold 6230 CPU @ 2.10GHz
        flags\t\t: fpu sse4_2 avx avx2 fma f16c avx512f avx512dq avx512cd avx512bw avx512vl avx512_vnni
        physical id\t: \(i / 4)
        core id\t\t: \(i % 4 / 2)

        """
    }.joined()

    @Test func cpuinfoGivesModelExtensionsAndCores() {
        let info = SystemProbes.cpuInfo(Self.cpuinfo)
        #expect(info == SystemProbes.CPUInfo(model: "Intel(R) Xeon(R) Gold 6230 CPU @ 2.10GHz",
                                              isaExtensions: ["sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512dq", "avx512cd",
                                                              "avx512bw", "avx512vl", "avx512_vnni"],
                                              physicalCores: 4, logicalCores: 8))
        // An ARM or stripped-down VM file says neither the model nor the cores.
        #expect(SystemProbes.cpuInfo("processor\t: 0\nBogoMIPS\t: 50.00\n") == SystemProbes.CPUInfo(model: nil, isaExtensions: [], physicalCores: nil, logicalCores: 1))
    }

    @Test func meminfoOSReleaseAndNvidiaSmi() {
        #expect(SystemProbes.availableMemory("MemTotal:       16318428 kB\nMemFree:  100 kB\nMemAvailable:   12000000 kB\n") == 12_288_000_000)
        #expect(SystemProbes.availableMemory("MemTotal: 1 kB\n") == nil)
        #expect(SystemProbes.osName("NAME=\"Debian GNU/Linux\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\n") == "Debian GNU/Linux 12 (bookworm)")
        #expect(SystemProbes.nvidiaGPUs("NVIDIA H100 80GB HBM3, 81559, 550.54.15\nNVIDIA H100 80GB HBM3, [N/A], 550.54.15\n") == [
            MachineEnvironment.GPU(name: "NVIDIA H100 80GB HBM3", memory_mib: 81559, driver: "550.54.15"),
            MachineEnvironment.GPU(name: "NVIDIA H100 80GB HBM3", memory_mib: nil, driver: "550.54.15"),
        ])
        #expect(SystemProbes.nvidiaGPUs("No devices were found\n").isEmpty)
    }

    /// Every documented key is there, unknown values as `null` (README's "Environment" lists them).
    @Test func jsonHasEveryDocumentedKey() throws {
        let environment = MachineEnvironment.current()
        let object = try #require(try JSONSerialization.jsonObject(with: try environment.prettyJSON()) as? [String: Any])
        #expect(Set(object.keys) == ["os", "cpu", "memory", "onednn", "swift", "gpus", "tuning_cache"])
        #expect(object["tuning_cache"] is NSNull)
        let expected: [String: Set<String>] = [
            "os": ["name", "kernel", "architecture"],
            "cpu": ["model", "isa_extensions", "physical_cores", "logical_cores", "available_cores"],
            "memory": ["total_bytes", "available_bytes"],
            "onednn": ["version", "built_against", "commit", "library", "cpu_runtime", "effective_isa", "max_cpu_isa",
                       "convolution_implementation", "supported", "problem"],
            "swift": ["compiler", "language_mode", "toolchain"],
        ]
        for (key, keys) in expected {
            #expect(Set(try #require(object[key] as? [String: Any]).keys) == keys, "\(key)")
        }
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let cache = TuningCache(directory: directory, machine: "test machine")
        let withCache = try #require(try JSONSerialization.jsonObject(with: try MachineEnvironment.current(tuningCache: cache).prettyJSON()) as? [String: Any])
        let tuning = try #require(withCache["tuning_cache"] as? [String: Any])
        #expect(Set(tuning.keys) == ["file", "plans", "winograd_shapes"])
        #expect(tuning["file"] as? String == cache.file.path && tuning["plans"] as? Int == 0)
        let gpu = try JSONSerialization.jsonObject(with: try MachineEnvironment.GPU(name: "x", memory_mib: nil, driver: nil).prettyJSON()) as? [String: Any]
        #expect(gpu?["memory_mib"] is NSNull && gpu?["driver"] is NSNull)
    }

    /// The loaded library is the one setup.sh installs, and it names the kernels it dispatches to.
    @Test func reportsTheLoadedOneDNN() throws {
        let e = MachineEnvironment.current().onednn
        #expect(e.version.hasPrefix("3.") && e.supported && e.problem == nil)
        #expect(e.version == OneDNNLibrary.version.description && e.built_against == DNNLHeaders.version)
        #expect(e.cpu_runtime == "OpenMP")
        #expect(!e.effective_isa.hasPrefix("0x") && e.effective_isa != "default")
        // `brgconv:avx512_core`, `jit:avx2`, …: a kernel family, a colon, an instruction set.
        let implementation = try #require(e.convolution_implementation)
        #expect(implementation.contains(":"), "\(implementation)")
    }

    @Test func onlyOneDNN3AtLeastTheHeadersRuns() {
        let built = OneDNNLibrary.Version(3, 2, 0)
        for ok in [OneDNNLibrary.Version(3, 2, 0), .init(3, 2, 1), .init(3, 7, 0)] {
            #expect(OneDNNLibrary.versionProblem(loaded: ok, builtAgainst: built) == nil, "\(ok)")
        }
        for bad in [OneDNNLibrary.Version(2, 6, 0), .init(3, 1, 9), .init(3, 0, 0), .init(4, 0, 0)] {
            let problem = OneDNNLibrary.versionProblem(loaded: bad, builtAgainst: built)
            #expect(problem?.hasPrefix("oneDNN \(bad) is installed") == true, "\(bad)")
            #expect(problem?.contains("Pneumo needs oneDNN 3.x, 3.2 or later (it was built against 3.2.0)") == true)
            #expect(problem?.contains("`bash scripts/setup.sh`") == true)
        }
    }

    /// `scripts/setup.sh` checks what it installed with `scripts/check_onednn.py`: the library this process loaded
    /// passes; another library, or headers newer than the library, fail with what was found.
    @Test(.enabled(if: Self.python != nil, "needs python3"))
    func setupChecksTheInstalledOneDNN() throws {
        let script = packageRoot.appendingPathComponent("scripts/check_onednn.py").path
        let library = try #require(OneDNNLibrary.libraryPath)
        let ok = try PythonPeers.run(Self.python!, [script, "--lib", library])
        #expect(ok.status == 0 && ok.output.contains("oneDNN \(OneDNNLibrary.version) (\(library)), headers"), "\(ok.output)")

        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let newer = dir.appendingPathComponent("dnnl_version.h")
        try "#define DNNL_VERSION_MAJOR 3\n#define DNNL_VERSION_MINOR 99\n#define DNNL_VERSION_PATCH 0\n".write(to: newer, atomically: true, encoding: .utf8)
        let old = try PythonPeers.run(Self.python!, [script, "--lib", library, "--headers", newer.path])
        #expect(old.status == 1 && old.output.contains("is oneDNN \(OneDNNLibrary.version), headers \(newer.path) are 3.99.0; Pneumo needs oneDNN 3.x"))
        let notDNNL = try PythonPeers.run(Self.python!, [script, "--lib", newer.path])
        #expect(notDNNL.status == 1 && notDNNL.output.contains("\(newer.path) is not a loadable oneDNN library"))
    }

    static let python = PythonPeers.find(importing: ["ctypes"])

    @Test func isaNamesAreOneDNNs() {
        #expect(OneDNNLibrary.isaName(0x7) == "avx2" && OneDNNLibrary.isaName(0x67) == "avx512_core_vnni"
                && OneDNNLibrary.isaName(0xfef) == "avx512_core_amx" && OneDNNLibrary.isaName(0x12345) == "0x12345")
    }
}

/// The headers' version (`dnnl_version.h`, "3.2.0"), read as text: the test must not take it from the code it checks.
enum DNNLHeaders {
    static let version: String = {
        let text = (try? String(contentsOfFile: "/usr/local/include/oneapi/dnnl/dnnl_version.h", encoding: .utf8)) ?? ""
        func value(_ name: String) -> String {
            text.split(separator: "\n").first { $0.hasPrefix("#define \(name) ") }.map { String($0.split(separator: " ").last!) } ?? "?"
        }
        return ["MAJOR", "MINOR", "PATCH"].map { value("DNNL_VERSION_\($0)") }.joined(separator: ".")
    }()
}
