import CPUBackend
import Foundation
import Runtime

/// What a measurement ran on (`pneumo env`): the OS, the CPU and its vector extensions, cores, memory, the oneDNN
/// library loaded and the kernels it dispatches to, the Swift that built this binary, and any GPU. Its JSON (snake_case
/// keys, every key present, `null` where unknown) is a contract: README's "Environment" lists the keys.
public struct MachineEnvironment: Encodable, Sendable {
    public struct OS: Encodable, Sendable {
        /// `/etc/os-release`'s `PRETTY_NAME`, or what Foundation reports where there is none.
        public var name: String
        public var kernel: String
        public var architecture: String
    }

    public struct CPU: Encodable, Sendable {
        @NullWhenAbsent public var model: String?
        /// The vector and matrix extensions that decide kernels (`SystemProbes.isaFlags`), as `/proc/cpuinfo` names them.
        public var isa_extensions: [String]
        @NullWhenAbsent public var physical_cores: Int?
        public var logical_cores: Int
        /// The processors this process may run on (affinity, cgroup limits): what `--threads` is capped at.
        public var available_cores: Int
    }

    public struct Memory: Encodable, Sendable {
        public var total_bytes: UInt64
        @NullWhenAbsent public var available_bytes: UInt64?
    }

    public struct OneDNN: Encodable, Sendable {
        /// The loaded library's version, and the headers' this binary was built against.
        public var version: String
        public var built_against: String
        @NullWhenAbsent public var commit: String?
        @NullWhenAbsent public var library: String?
        public var cpu_runtime: String
        /// The instruction set oneDNN dispatches to (`dnnl_get_effective_cpu_isa`), and `ONEDNN_MAX_CPU_ISA` if set.
        public var effective_isa: String
        @NullWhenAbsent public var max_cpu_isa: String?
        /// The implementation it picks for a 3×3 64-channel 56×56 convolution (`brgconv:avx512_core`); null if none could be made.
        @NullWhenAbsent public var convolution_implementation: String?
        /// Whether this binary runs on the loaded library; `problem` says why not (and how to install the right one).
        public var supported: Bool
        @NullWhenAbsent public var problem: String?
    }

    public struct SwiftToolchain: Encodable, Sendable {
        /// The compiler that built this binary (`major.minor`, from `#if compiler`) and the language mode.
        public var compiler: String
        public var language_mode: String
        /// `swift --version`'s first line where a toolchain is on the PATH (a deployment machine has none).
        @NullWhenAbsent public var toolchain: String?
    }

    public struct GPU: Encodable, Sendable, Equatable {
        public var name: String
        @NullWhenAbsent public var memory_mib: Int?
        @NullWhenAbsent public var driver: String?

        public init(name: String, memory_mib: Int?, driver: String?) { self.name = name; self.memory_mib = memory_mib; self.driver = driver }
        public static func == (a: GPU, b: GPU) -> Bool { (a.name, a.memory_mib, a.driver) == (b.name, b.memory_mib, b.driver) }
    }

    /// The tuning cache plans read and write (`TuningCache`): null where there is none (`PNEUMO_TUNING_CACHE=off`).
    public struct TuningCacheState: Encodable, Sendable {
        public var file: String
        /// Decisions in it: plans' arrangements, and Winograd's choices per shape.
        public var plans: Int
        public var winograd_shapes: Int
    }

    public var os: OS
    public var cpu: CPU
    public var memory: Memory
    public var onednn: OneDNN
    public var swift: SwiftToolchain
    /// NVIDIA GPUs `nvidia-smi` lists; empty where it is absent or lists none.
    public var gpus: [GPU]
    @NullWhenAbsent public var tuning_cache: TuningCacheState?

    /// This machine, now, and `tuningCache`'s file.
    public static func current(tuningCache: TuningCache? = nil) -> MachineEnvironment {
        let read = SystemProbes.read
        let (kernel, architecture) = SystemProbes.uname()
        let os = OS(name: read("/etc/os-release").flatMap(SystemProbes.osName) ?? ProcessInfo.processInfo.operatingSystemVersionString,
                    kernel: kernel, architecture: architecture)
        let info = read("/proc/cpuinfo").map(SystemProbes.cpuInfo)
        let cpu = CPU(model: info?.model, isa_extensions: info?.isaExtensions ?? [], physical_cores: info?.physicalCores,
                      logical_cores: ProcessInfo.processInfo.processorCount, available_cores: ProcessInfo.processInfo.activeProcessorCount)
        let memory = Memory(total_bytes: ProcessInfo.processInfo.physicalMemory,
                            available_bytes: read("/proc/meminfo").flatMap(SystemProbes.availableMemory))
        let problem = OneDNNLibrary.versionProblem()
        let onednn = OneDNN(version: OneDNNLibrary.version.description, built_against: OneDNNLibrary.builtAgainst.description,
                            commit: OneDNNLibrary.commit, library: OneDNNLibrary.libraryPath, cpu_runtime: OneDNNLibrary.cpuRuntime,
                            effective_isa: OneDNNLibrary.effectiveISA, max_cpu_isa: ProcessInfo.processInfo.environment["ONEDNN_MAX_CPU_ISA"],
                            convolution_implementation: problem == nil ? try? OneDNNLibrary.sampleConvolutionImplementation() : nil,
                            supported: problem == nil, problem: problem)
        let toolchain = SystemProbes.onPath("swift").flatMap { SystemProbes.output(of: $0, ["--version"]) }?
            .split(separator: "\n").first.map(String.init)
        let swift = SwiftToolchain(compiler: compilerVersion, language_mode: languageMode, toolchain: toolchain)
        let gpus = SystemProbes.onPath("nvidia-smi").flatMap {
            SystemProbes.output(of: $0, ["--query-gpu=name,memory.total,driver_version", "--format=csv,noheader,nounits"])
        }.map(SystemProbes.nvidiaGPUs) ?? []
        let tuning = tuningCache.map { TuningCacheState(file: $0.file.path, plans: $0.planCount, winograd_shapes: $0.winogradShapeCount) }
        return MachineEnvironment(os: os, cpu: cpu, memory: memory, onednn: onednn, swift: swift, gpus: gpus, tuning_cache: tuning)
    }

    /// The compiler that built this module, to the minor version (`#if compiler` has no finer test that stays short).
    static let compilerVersion: String = {
        #if compiler(>=6.6)
        return "6.6 or later"
        #elseif compiler(>=6.5)
        return "6.5"
        #elseif compiler(>=6.4)
        return "6.4"
        #elseif compiler(>=6.3)
        return "6.3"
        #elseif compiler(>=6.2)
        return "6.2"
        #elseif compiler(>=6.1)
        return "6.1"
        #else
        return "6.0"
        #endif
    }()

    static let languageMode: String = {
        #if swift(>=6)
        return "6"
        #else
        return "5"
        #endif
    }()

    /// The report for people: one `label: value` line per fact.
    public var lines: [String] {
        let gib = { (bytes: UInt64) in String(format: "%.1f GiB", Double(bytes) / 1_073_741_824) }
        let cores = (cpu.physical_cores.map { "\($0) physical, " } ?? "") + "\(cpu.logical_cores) logical, \(cpu.available_cores) available to this process"
        var oneDNN = "\(onednn.version) (\(onednn.cpu_runtime)\(onednn.library.map { ", \($0)" } ?? "")), built against \(onednn.built_against)"
        if let problem = onednn.problem { oneDNN += "\n  UNSUPPORTED: \(problem)" }
        return [
            "OS:        \(os.name), \(os.kernel), \(os.architecture)",
            "CPU:       \(cpu.model ?? "unknown")",
            "ISA:       \(cpu.isa_extensions.isEmpty ? "none of the AVX family reported" : cpu.isa_extensions.joined(separator: " "))",
            "cores:     \(cores)",
            "memory:    \(gib(memory.total_bytes)) total\(memory.available_bytes.map { ", \(gib($0)) available" } ?? "")",
            "oneDNN:    \(oneDNN)",
            "dispatch:  \(onednn.effective_isa)\(onednn.max_cpu_isa.map { " (ONEDNN_MAX_CPU_ISA=\($0))" } ?? ""); 3×3 convolution: \(onednn.convolution_implementation ?? "none")",
            "Swift:     compiler \(swift.compiler), language mode \(swift.language_mode)\(swift.toolchain.map { "; on PATH: \($0)" } ?? "")",
            "tuning:    \(tuning_cache.map { "\($0.file) (\($0.plans) plans, \($0.winograd_shapes) Winograd shapes)" } ?? "none")",
            "GPU:       \(gpus.isEmpty ? "none" : gpus.map { "\($0.name)\($0.memory_mib.map { ", \($0) MiB" } ?? "")\($0.driver.map { ", driver \($0)" } ?? "")" }.joined(separator: "; "))",
        ]
    }
}

/// An optional that encodes as `null` rather than dropping its key (the synthesized encoder's way), so that every
/// key of a JSON contract is always there.
@propertyWrapper
public struct NullWhenAbsent<Value: Encodable & Sendable>: Encodable, Sendable {
    public var wrappedValue: Value?
    public init(wrappedValue: Value?) { self.wrappedValue = wrappedValue }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        if let wrappedValue { try c.encode(wrappedValue) } else { try c.encodeNil() }
    }
}
