import ArgumentParser
import CPUBackend
import Data
import GraphCore
import Runtime
import Serve
import Testing
@testable import pneumo

/// Options whose values are the library's enums (`--layout`, `--precision`, `--parallelism`, `--convolutions`,
/// `--calibration-split`, `--backend`): the same spellings as before, and a bad value named with its flag and the
/// values accepted.
@Suite struct EnumOptionsTests {
    @Test func spellingsAndDefaults() throws {
        let defaults = try BenchInferCommand.parse(["--model", "pneumonet"])
        #expect(defaults.layout == .channelsLast && defaults.precision == nil && defaults.parallelism == .auto && defaults.convolutions == .auto)
        #expect(defaults.calibrate.split == .train)
        let set = try BenchInferCommand.parse(["--model", "pneumonet", "--layout", "blocked", "--precision", "fp32", "--parallelism", "batch-split",
                                               "--convolutions", "winograd4x4", "--calibration-split", "val"])
        #expect(set.layout == .blocked && set.precision == .fp32 && set.parallelism == .batchSplit && set.convolutions == .winograd4x4)
        #expect(set.calibrate.split == .val)
        #expect(defaults.int8Weights == nil)
        #expect(try BenchInferCommand.parse(["--model", "pneumonet", "--precision", "int8", "--int8-weights", "7-bit"]).int8Weights == .reduced)
        #expect(try BenchInferCommand.parse(["--model", "pneumonet", "--precision", "fp16"]).precision == .fp16)
        let profile = try ProfileCommand.parse(["--model", "pneumonet", "--layout", "blocked", "--convolutions", "separable"])
        #expect(profile.layout == .blocked && profile.convolutions == .separable)
        // profile times the deployed plan by default (#19): auto convolutions and parallelism.
        let profileDefaults = try ProfileCommand.parse(["--model", "pneumonet"])
        #expect(profileDefaults.convolutions == .auto && profileDefaults.parallelism == .auto)
        // profile's precision is the model's own by default, as a deployed runtime's.
        #expect(profileDefaults.precision == nil && profileDefaults.calibrate.file == nil)
        #expect(try ProfileCommand.parse(["--model", "pneumonet", "--precision", "fp16"]).precision == .fp16)
        #expect(try BenchTrainCommand.parse(["--backend", "reference"]).backend.description == "reference")
        #expect(try BenchTrainCommand.parse([]).backend == .onednn)
        #expect(try InferCommand.parse(["--onnx", "/dev/null", "--input", "/dev/null", "--output", "/tmp/y.npy", "--backend", "reference"]).engine.backend.description == "reference")
    }

    @Test(arguments: [(["--layout", "diagonal"], "--layout", PlanLayout.allCases.map(\.rawValue)),
                      (["--precision", "fp8"], "--precision", Precision.allCases.map(\.rawValue)),
                      (["--int8-weights", "4-bit"], "--int8-weights", Int8WeightRange.allCases.map(\.rawValue)),
                      (["--parallelism", "intra_op"], "--parallelism", PlanParallelism.allCases.map(\.rawValue)),
                      (["--convolutions", "fft"], "--convolutions", ConvolutionAlgorithm.allCases.map(\.rawValue)),
                      (["--calibration-split", "holdout"], "--calibration-split", Split.allCases.map(\.rawValue))])
    func badValuesNameTheFlagAndTheValues(_ arguments: [String], _ flag: String, _ values: [String]) {
        do {
            _ = try BenchInferCommand.parse(["--model", "pneumonet"] + arguments)
            Issue.record("\(arguments) parsed")
        } catch {
            let message = BenchInferCommand.message(for: error)
            #expect(message.contains(flag) && message.contains("'\(arguments[1])'"), "\(message)")
            for value in values { #expect(message.contains(value), "\(message) lacks \(value)") }
        }
    }

    /// `pneumo serve --batching`: auto by default, with a loop per core; `thread` keeps the single loop it had.
    @Test func serveBatchingPlacement() throws {
        let defaults = try ServeCommand.parse(["--onnx", "/dev/null"])
        #expect(defaults.batching == .auto && defaults.eventLoops == nil)
        #expect(try ServeCommand.parse(["--onnx", "/dev/null", "--batching", "loops"]).batching == .eventLoops)
        #expect(try ServeCommand.parse(["--onnx", "/dev/null", "--batching", "thread", "--event-loops", "2"]).eventLoops == 2)
        do {
            _ = try ServeCommand.parse(["--onnx", "/dev/null", "--batching", "gpu"])
            Issue.record("--batching gpu parsed")
        } catch {
            let message = ServeCommand.message(for: error)
            #expect(message.contains("--batching") && message.contains("'gpu'") && message.contains("'loops', 'thread' or 'auto'"), "\(message)")
        }
    }

    /// `pneumo serve --idle-timeout-s`: 75 s by default, 0 for never; a negative or infinite time is refused by name.
    /// `--max-bodies-mib`: 256 by default, never below `--max-body-mib`.
    @Test func serveConnectionAndBodyLimits() throws {
        #expect(try ServeCommand.parse(["--onnx", "/dev/null"]).idleTimeoutSeconds == 75)
        #expect(try ServeCommand.parse(["--onnx", "/dev/null", "--idle-timeout-s", "0"]).idleTimeoutSeconds == 0)
        #expect(try ServeCommand.parse(["--onnx", "/dev/null"]).maxBodiesMib == 256)
        do {
            _ = try ServeCommand.parse(["--onnx", "/dev/null", "--max-body-mib", "64", "--max-bodies-mib", "32"])
            Issue.record("--max-bodies-mib below --max-body-mib parsed")
        } catch {
            #expect(ServeCommand.message(for: error).contains("--max-bodies-mib (32) must be at least --max-body-mib (64)"))
        }
        for value in ["-1", "inf"] {
            do {
                _ = try ServeCommand.parse(["--onnx", "/dev/null", "--idle-timeout-s", value])
                Issue.record("--idle-timeout-s \(value) parsed")
            } catch {
                #expect(ServeCommand.message(for: error).contains("--idle-timeout-s"), "\(ServeCommand.message(for: error))")
            }
        }
    }

    @Test func badBackendNamesTheFlagAndTheBackends() {
        for parse in [{ _ = try BenchTrainCommand.parse(["--backend", "cuda"]) },
                      { _ = try InferCommand.parse(["--onnx", "m", "--input", "x", "--output", "/tmp/y.npy", "--backend", "cuda"]) }] {
            do {
                try parse()
                Issue.record("--backend cuda parsed")
            } catch {
                let message = BenchTrainCommand.message(for: error)
                #expect(message.contains("--backend") && message.contains("'cuda'") && message.contains("onednn") && message.contains("reference"), "\(message)")
            }
        }
    }

    /// `--int8-weights` belongs to int8, and 8-bit is refused where oneDNN adds u8·s8 pairs in 16 bits (try it with
    /// `ONEDNN_MAX_CPU_ISA=AVX2`).
    @Test func int8WeightsAreChecked() throws {
        let fp32 = #expect(throws: (any Error).self) {
            try BenchInferCommand.parse(["--model", "pneumonet", "--precision", "fp32", "--int8-weights", "7-bit"])
        }
        #expect(fp32.map { BenchInferCommand.message(for: $0) } == "--int8-weights applies to --precision int8 only")
        let full = ["--model", "pneumonet", "--precision", "int8", "--int8-weights", "8-bit"]
        if let reason = CPUDevice.unsupportedReason(.full) {
            let refused = #expect(throws: (any Error).self) { try BenchInferCommand.parse(full) }
            #expect(refused.map { BenchInferCommand.message(for: $0) } == "--int8-weights 8-bit: \(reason)")
        } else {
            #expect(try BenchInferCommand.parse(full).int8Weights == .full)
        }
    }

    /// `bench infer --boundary-check` measures its margin on the calibration images, so it needs int8 and `--calibrate`.
    @Test func boundaryCheckNeedsInt8AndCalibrationImages() throws {
        let message = "--boundary-check applies to --precision int8 with --calibrate (its margin is measured on the calibration images)"
        for args in [["--precision", "int8"], ["--precision", "fp32"], []] {
            let refused = #expect(throws: (any Error).self) { try BenchInferCommand.parse(["--model", "pneumonet", "--boundary-check"] + args) }
            #expect(refused.map { BenchInferCommand.message(for: $0) } == message, "\(args)")
        }
        if Precision.isSupported(.int8) {
            #expect(try BenchInferCommand.parse(["--model", "pneumonet", "--precision", "int8", "--calibrate", "/dev/null", "--boundary-check"])
                .boundaryCheck)
        }
    }

    /// `profile --calibrate` belongs to int8, and a precision the CPU cannot run is refused with the reason.
    @Test func profilePrecisionIsChecked() throws {
        let calibrated = #expect(throws: (any Error).self) {
            try ProfileCommand.parse(["--model", "pneumonet", "--precision", "fp16", "--calibrate", "/dev/null"])
        }
        #expect(calibrated.map { ProfileCommand.message(for: $0) } == "--calibrate applies to --precision int8 only")
        for precision in Precision.allCases {
            guard let reason = Precision.unsupportedReason(precision) else { continue }
            let refused = #expect(throws: (any Error).self) { try ProfileCommand.parse(["--model", "pneumonet", "--precision", precision.rawValue]) }
            #expect(refused.map { ProfileCommand.message(for: $0) } == "--precision \(precision.rawValue): \(reason)")
        }
    }

    /// The help lists each option's values.
    @Test func helpListsTheValues() {
        let help = BenchInferCommand.helpMessage()
        for value in ["channelsLast", "blocked", "bf16", "int8", "7-bit", "8-bit", "intra-op", "batch-split", "single-thread", "winograd4x4", "separable"] {
            #expect(help.contains(value), "help lacks \(value)")
        }
        #expect(BenchTrainCommand.helpMessage().contains("onednn") && BenchTrainCommand.helpMessage().contains("reference"))
    }
}
