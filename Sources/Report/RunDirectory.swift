import Foundation

/// What became of one file of the run directory.
public enum Loaded<Value: Sendable>: Sendable {
    /// The file is not there: its step was not run.
    case missing
    /// The file is there but could not be read or decoded; the text says why.
    case unreadable(String)
    case loaded(Value)

    public var value: Value? {
        if case .loaded(let v) = self { return v }
        return nil
    }
}

/// A model's profile with the name it is shown under ("baseline", "optimized", or the model's name).
public struct LabelledProfile: Sendable {
    public var label: String
    public var file: String
    public var profile: ProfileFile
}

/// Errors of `pneumo report` itself (a missing run directory); missing files inside it are not errors.
public struct ReportError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The files of one run directory (see RunFiles.swift for the contract), each loaded or not.
public struct RunDirectory: Sendable {
    public static let dataFile = "data.json"
    public static let samplesFile = "samples.svg"
    public static let historyFile = "history.json"
    public static let evalFile = "eval.json"
    public static let evalOptimizedFile = "eval_optimized.json"
    public static let comparisonFile = "comparison.json"
    public static let profileFiles = ["profile.json", "profile_baseline.json", "profile_optimized.json"]
    public static let analysisFile = "analysis.json"
    public static let slaBaselineFile = "sla_baseline.json"
    public static let slaOptimizedFile = "sla_optimized.json"
    /// The optimized model after post-training INT8 quantization, where the pipeline scored one (optional:
    /// not among `allFiles`, so a run without it is complete).
    public static let slaOptimizedInt8File = "sla_optimized_int8.json"

    /// Every file name the report looks for, in the order of its sections.
    public static let allFiles = [dataFile, samplesFile, historyFile, evalFile, evalOptimizedFile] + profileFiles
        + [analysisFile, slaBaselineFile, slaOptimizedFile]

    public let url: URL
    public var data: Loaded<DataFile>
    public var samplesSVG: Loaded<String>
    public var history: Loaded<[EpochRecord]>
    /// `eval.json`: the model trained in this run (the baseline, in a pipeline).
    public var evaluation: Loaded<EvalFile>
    /// `eval_optimized.json`: the optimized model, where the pipeline evaluated one.
    public var evaluationOptimized: Loaded<EvalFile>
    /// DeLong's test of the baseline against the optimized model (a pipeline's).
    public var comparison: Loaded<ComparisonFile>
    /// Every profile found, baseline first; unreadable profile files are in `profileProblems`.
    public var profiles: [LabelledProfile]
    public var profileProblems: [String]
    public var analysis: Loaded<AnalysisFile>
    public var slaBaseline: Loaded<SLAFile>
    public var slaOptimized: Loaded<SLAFile>
    public var slaOptimizedInt8: Loaded<SLAFile>

    /// Reads every file that is there. Throws only when `url` is not a directory.
    public init(_ url: URL) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw ReportError("no such run directory: \(url.path)")
        }
        guard isDirectory.boolValue else { throw ReportError("not a directory: \(url.path) (--run takes the directory a pipeline wrote)") }
        self.url = url
        data = Self.decode(DataFile.self, url, Self.dataFile)
        history = Self.decode([EpochRecord].self, url, Self.historyFile)
        evaluation = Self.decode(EvalFile.self, url, Self.evalFile)
        evaluationOptimized = Self.decode(EvalFile.self, url, Self.evalOptimizedFile)
        comparison = Self.decode(ComparisonFile.self, url, Self.comparisonFile)
        analysis = Self.decode(AnalysisFile.self, url, Self.analysisFile)
        slaBaseline = Self.decode(SLAFile.self, url, Self.slaBaselineFile)
        slaOptimized = Self.decode(SLAFile.self, url, Self.slaOptimizedFile)
        slaOptimizedInt8 = Self.decode(SLAFile.self, url, Self.slaOptimizedInt8File)
        switch Self.read(url, Self.samplesFile) {
        case .missing: samplesSVG = .missing
        case .unreadable(let why): samplesSVG = .unreadable(why)
        case .loaded(let bytes):
            let text = String(decoding: bytes, as: UTF8.self)
            samplesSVG = text.contains("<svg") ? .loaded(text) : .unreadable("\(Self.samplesFile): no <svg> element")
        }

        profiles = []
        profileProblems = []
        for name in Self.profileFiles {
            let label = name == "profile.json" ? nil : String(name.dropFirst("profile_".count).dropLast(".json".count))
            switch Self.read(url, name) {
            case .missing: continue
            case .unreadable(let why): profileProblems.append(why)
            case .loaded(let bytes):
                let decoder = JSONDecoder()
                do {
                    let one = try decoder.decode(ProfileFile.self, from: bytes)
                    profiles.append(LabelledProfile(label: label ?? one.model, file: name, profile: one))
                } catch let singleError {
                    if let many = try? decoder.decode([ProfileFile].self, from: bytes) {
                        profiles += many.map { LabelledProfile(label: label ?? $0.model, file: name, profile: $0) }
                    } else {
                        // The single-object form is the usual one: its error is the one worth reading.
                        profileProblems.append("\(name): \(Self.describe(singleError))")
                    }
                }
            }
        }
        // Baseline before optimized, whatever the file order; otherwise as found.
        profiles = profiles.enumerated().sorted { a, b in
            func rank(_ p: LabelledProfile) -> Int { p.label == "baseline" ? 0 : p.label == "optimized" ? 2 : 1 }
            return (rank(a.element), a.offset) < (rank(b.element), b.offset)
        }.map(\.element)
    }

    /// Why each file that is there could not be read ("eval.json: …"), in the order of the report's sections.
    public var unreadable: [String] {
        func why<T>(_ loaded: Loaded<T>) -> [String] { if case .unreadable(let w) = loaded { [w] } else { [] } }
        return why(data) + why(samplesSVG) + why(history) + why(evaluation) + why(evaluationOptimized) + why(comparison) + profileProblems
            + why(analysis) + why(slaBaseline) + why(slaOptimized) + why(slaOptimizedInt8)
    }

    /// The names of the files present.
    public var presentFiles: [String] {
        Self.allFiles.filter { FileManager.default.fileExists(atPath: url.appendingPathComponent($0).path) }
    }

    static func read(_ dir: URL, _ name: String) -> Loaded<Data> {
        let file = dir.appendingPathComponent(name)
        guard FileManager.default.fileExists(atPath: file.path) else { return .missing }
        do { return .loaded(try Data(contentsOf: file)) } catch { return .unreadable("\(name): \(error.localizedDescription)") }
    }

    static func decode<T: Decodable & Sendable>(_ type: T.Type, _ dir: URL, _ name: String) -> Loaded<T> {
        switch read(dir, name) {
        case .missing: return .missing
        case .unreadable(let why): return .unreadable(why)
        case .loaded(let bytes):
            do { return .loaded(try JSONDecoder().decode(T.self, from: bytes)) } catch {
                return .unreadable("\(name): \(describe(error))")
            }
        }
    }

    /// A decoding error in words: which key, and what was wrong with it.
    static func describe(_ error: Error) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let keys = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
            return keys.isEmpty ? "top level" : keys.joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
        }
        switch error {
        case DecodingError.keyNotFound(let key, let context):
            return "missing key \"\(key.stringValue)\" at \(path(context))"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            return "wrong type at \(path(context)): \(context.debugDescription)"
        case DecodingError.dataCorrupted(let context):
            return context.codingPath.isEmpty ? "not valid JSON" : "bad value at \(path(context)): \(context.debugDescription)"
        default:
            return String(describing: error)
        }
    }
}
