import ArgumentParser
import Foundation
import Report

/// `pneumo report`: the visual report of a run directory. A thin shell over `RunReport.write`.
struct ReportCommand: ParsableCommand, ExemptFromOneDNNCheck {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write a self-contained HTML report (and each chart as SVG) from a run directory.",
        discussion: """
            Reads the JSON files that pneumo pipeline writes into DIR (data.json, samples.svg, history.json, \
            eval.json, profile.json or profile_baseline.json and profile_optimized.json, analysis.json, \
            sla_baseline.json, sla_optimized.json; see Sources/Report/RunFiles.swift). Every file is optional: \
            a section whose file is missing says "not run". A file that is there but cannot be read is named, \
            with why, in its section and on standard error, and the command then exits with status 1 (the \
            report is still written). Writes FILE (default DIR/report.html) and charts/<name>.svg beside it. \
            The page needs no network and no JavaScript.
            """)

    @Option(name: .customLong("run"), help: ArgumentHelp("The run directory to report on.", valueName: "dir"))
    var runDirectory: String

    @Option(help: ArgumentHelp("Where to write the HTML report (default <dir>/report.html).", valueName: "file.html"))
    var out: String?

    func validate() throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: runDirectory, isDirectory: &isDirectory) else {
            throw ValidationError("--run: no such directory: \(runDirectory)")
        }
        guard isDirectory.boolValue else { throw ValidationError("--run: not a directory: \(runDirectory)") }
        if let out {
            try OutputPath.file(out, "--out")
            let parent = URL(fileURLWithPath: out).deletingLastPathComponent()
            var parentIsDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: parent.path, isDirectory: &parentIsDirectory), parentIsDirectory.boolValue else {
                throw ValidationError("--out: the directory \(parent.path) does not exist")
            }
        }
    }

    func run() throws {
        let written = try RunReport.write(runDirectory: URL(fileURLWithPath: runDirectory), to: out.map { URL(fileURLWithPath: $0) })
        var message = "wrote \(written.html.path) and \(written.charts.count) charts in \(written.html.deletingLastPathComponent().appendingPathComponent("charts").path)"
        if !written.notRun.isEmpty { message += "; not run: \(written.notRun.joined(separator: ", "))" }
        print(message)
        if !written.unreadable.isEmpty {
            FileHandle.standardError.write(Data(("could not read: " + written.unreadable.joined(separator: "; ") + "\n").utf8))
            throw ExitCode(1)
        }
    }
}
