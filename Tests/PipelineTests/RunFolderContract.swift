import Foundation
import Report

/// The contract between the pipeline's writers and Report's readers, file by file: every file a run folder holds is
/// either read by Report (with Report's own types) or listed here as not for the report, with the reason. A new file
/// the pipeline writes fails the contract test by name until one of the two is true.
enum RunFolderContract {
    /// A file of the run folder that Report does not read. `pattern` is a path relative to the folder, in which
    /// `*` stands for any run of characters within one name ("charts/*.svg").
    struct NotForReport {
        var pattern: String
        var reason: String
    }

    static let notForReport: [NotForReport] = [
        NotForReport(pattern: ".pneumo.lock", reason: "the output lock `pneumo pipeline` holds while it writes (FileSafety.OutputLock)"),
        NotForReport(pattern: "report.html", reason: "Report's own output"),
        NotForReport(pattern: "results.json", reason: "every result of the run in one file (the spec's baseline_results), for scripts: it nests the files the report reads"),
        NotForReport(pattern: "pipeline_state.json", reason: "the pipeline's own progress (finished stages, their durations, the settings), read when a stopped run continues"),
        NotForReport(pattern: "charts/*.svg", reason: "Report's own output: each chart of report.html as a file"),
        NotForReport(pattern: "*.onnx", reason: "the deployable models; what the report shows of them is in profile_*.json and sla_*.json"),
        NotForReport(pattern: "sla.json", reason: "the deployed (optimized) model's scorecard under the name deployment reads: a copy of sla_optimized.json"),
        NotForReport(pattern: "*/best.safetensors", reason: "a trainer's best checkpoint (the model that is evaluated, profiled and exported)"),
        NotForReport(pattern: "*/last.safetensors", reason: "a trainer's last checkpoint, for --resume"),
        NotForReport(pattern: "baseline/history.json", reason: "the baseline's epochs: the pipeline copies them to history.json, which Report reads"),
        NotForReport(pattern: "optimized/history.json", reason: "the optimized model's epochs: the report charts one training run, the baseline's"),
        NotForReport(pattern: "optimized_teacher_*/history.json", reason: "a distillation teacher's epochs: teachers are a means, not a result"),
    ]

    /// Whether Report loaded `file` (a path relative to `run`'s folder), or nil when Report has no reader for it.
    static func loaded(_ file: String, by run: RunDirectory) -> Bool? {
        switch file {
        case RunDirectory.dataFile: run.data.value != nil
        case RunDirectory.samplesFile: run.samplesSVG.value != nil
        case RunDirectory.historyFile: run.history.value != nil
        case RunDirectory.evalFile: run.evaluation.value != nil
        case RunDirectory.evalOptimizedFile: run.evaluationOptimized.value != nil
        case RunDirectory.comparisonFile: run.comparison.value != nil
        case RunDirectory.analysisFile: run.analysis.value != nil
        case RunDirectory.slaBaselineFile: run.slaBaseline.value != nil
        case RunDirectory.slaOptimizedFile: run.slaOptimized.value != nil
        case RunDirectory.slaOptimizedInt8File: run.slaOptimizedInt8.value != nil
        case _ where RunDirectory.profileFiles.contains(file): run.profiles.contains { $0.file == file }
        default: nil
        }
    }

    /// The entry of `notForReport` that covers `file`, if any.
    static func exemption(for file: String) -> NotForReport? {
        notForReport.first { matches($0.pattern, file) }
    }

    /// `pattern` against `path`, name by name; `*` matches any characters within one name.
    static func matches(_ pattern: String, _ path: String) -> Bool {
        let (p, s) = (pattern.split(separator: "/"), path.split(separator: "/"))
        return p.count == s.count && zip(p, s).allSatisfy { glob(String($0), String($1)) }
    }

    private static func glob(_ pattern: String, _ name: String) -> Bool {
        guard let star = pattern.firstIndex(of: "*") else { return pattern == name }
        let head = String(pattern[..<star]), rest = String(pattern[pattern.index(after: star)...])
        guard name.hasPrefix(head) else { return false }
        let tail = name.dropFirst(head.count)
        return tail.indices.contains { glob(rest, String(tail[$0...])) } || glob(rest, "")
    }

    /// What breaks the contract in `folder`: files Report has a reader for but could not read (and why), and files
    /// neither read by Report nor listed in `notForReport`.
    static func problems(in folder: URL) throws -> [String] {
        let run = try RunDirectory(folder)
        var out = run.unreadable.map { "Report could not read \($0)" }
        for file in try files(in: folder) {
            switch loaded(file, by: run) {
            case true?: continue
            case false?: out.append("\(file): Report has a reader for it but did not load it")
            case nil where exemption(for: file) == nil:
                out.append("\(file): written to the run folder, but Report has no reader for it and RunFolderContract.notForReport does not list it")
            case nil: continue
            }
        }
        return out
    }

    /// Every regular file under `folder`, hidden ones included, as sorted paths relative to it.
    static func files(in folder: URL) throws -> [String] {
        let root = folder.resolvingSymlinksInPath().path
        guard let walk = FileManager.default.enumerator(atPath: root) else { throw CocoaError(.fileReadUnknown) }
        return walk.compactMap { $0 as? String }.filter { relative in
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: root + "/" + relative, isDirectory: &isDirectory) && !isDirectory.boolValue
        }.sorted()
    }
}
