import Foundation
import Testing
@testable import Report
import TestSupport

/// Headless Chromium, where it is installed (Debian's `chromium`, or the binary `PNEUMO_CHROMIUM` names).
enum Chromium {
    /// `PNEUMO_CHROMIUM`, when set, is the only candidate (`PNEUMO_CHROMIUM=none` skips the tests).
    static let path: String? = {
        let candidates = ProcessInfo.processInfo.environment["PNEUMO_CHROMIUM"].map { [$0] }
            ?? ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    struct Result { var status: Int32; var stdout: String; var stderr: String }

    /// Runs Chromium headless on `url` with `arguments`, killing it after `timeout` seconds. Output goes
    /// through files, not pipes, so a large DOM cannot fill a pipe and stall it.
    static func run(_ arguments: [String], url: URL, in dir: URL, timeout: TimeInterval = 90) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path!)
        process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
                             "--user-data-dir=\(dir.appendingPathComponent("profile").path)",
                             "--enable-logging=stderr", "--v=0"] + arguments + [url.absoluteString]
        let out = dir.appendingPathComponent("stdout-\(UUID().uuidString)"), err = dir.appendingPathComponent("stderr-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
            Issue.record("chromium did not finish within \(Int(timeout)) s")
        }
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: try String(contentsOf: out, encoding: .utf8),
                      stderr: try String(contentsOf: err, encoding: .utf8))
    }

    /// Lines in which Chromium reports what the page did: console messages (CSP violations, failed
    /// loads, script errors all arrive there) and network errors.
    static func pageErrors(_ stderr: String) -> [String] {
        stderr.split(separator: "\n").map(String.init).filter {
            $0.contains(":CONSOLE") || $0.contains("net::ERR_") || $0.contains("Uncaught")
        }
    }
}

/// The report as a browser sees it: it loads without a single console message, and every chart is in the
/// rendered DOM with drawn content.
@Suite(.enabled(if: Chromium.path != nil, "needs headless Chromium (Debian package chromium)"), .serialized)
struct ChromiumTests {
    @Test func reportLoadsWithoutErrorsAndShowsEveryChart() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let written = try RunReport.write(runDirectory: fixtureRun("full_run"), to: dir.appendingPathComponent("report.html"))
        let result = try Chromium.run(["--dump-dom"], url: written.html, in: dir)
        #expect(result.status == 0)
        #expect(Chromium.pageErrors(result.stderr).isEmpty, "\(Chromium.pageErrors(result.stderr))")
        let dom = result.stdout
        #expect(dom.contains("</html>"))
        // The sample grid is an image (the run's samples.svg is not trusted as markup).
        #expect(dom.contains("id=\"chart-samples\"") && dom.contains("<img src=\"data:image/svg+xml;base64,"))
        for name in fullRunCharts {
            guard let start = dom.range(of: "id=\"chart-\(name)\""),
                  let end = dom.range(of: "</figure>", range: start.upperBound..<dom.endIndex) else {
                Issue.record("chart \(name) is not in the rendered page"); continue
            }
            let figure = String(dom[start.upperBound..<end.lowerBound])
            #expect(figure.contains("<svg"), "\(name): no <svg>")
            #expect(figure.contains("</svg>"), "\(name): <svg> not closed")
            // Drawn content, not only the background: bars, paths, circles or images.
            let marks = ["<path", "<circle", "<image"].map { figure.components(separatedBy: $0).count - 1 }.reduce(0, +)
                + max(0, figure.components(separatedBy: "<rect").count - 2)
            #expect(marks > 0, "\(name): the chart is empty")
        }
        // A well-formed page keeps its sections in order after the parser has had its way with it.
        let order = RunReport.sections.compactMap { dom.range(of: "<section id=\"\($0)\">")?.lowerBound }
        #expect(order.count == RunReport.sections.count && order == order.sorted())
    }

    @Test func standaloneChartsRenderAsSVGDocuments() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let written = try RunReport.write(runDirectory: fixtureRun("full_run"), to: dir.appendingPathComponent("report.html"))
        // An XML error turns an SVG document into a "This page contains the following errors" page.
        for url in written.charts.filter({ ["roc", "latency_optimized"].contains($0.deletingPathExtension().lastPathComponent) }) {
            let result = try Chromium.run(["--dump-dom"], url: url, in: dir)
            #expect(result.status == 0)
            #expect(!result.stdout.contains("parsererror"), "\(url.lastPathComponent)")
            #expect(result.stdout.contains("<svg"))
            #expect(Chromium.pageErrors(result.stderr).isEmpty)
        }
    }

    @Test func screenshotIsNotBlank() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let written = try RunReport.write(runDirectory: fixtureRun("full_run"), to: dir.appendingPathComponent("report.html"))
        let png = dir.appendingPathComponent("report.png")
        let result = try Chromium.run(["--screenshot=\(png.path)", "--window-size=1280,2400", "--hide-scrollbars"], url: written.html, in: dir)
        #expect(result.status == 0)
        let bytes = try Data(contentsOf: png)
        #expect(bytes.prefix(8) == Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
        // A blank 1280×2400 page compresses to a few kilobytes; charts, text and X-rays do not.
        #expect(bytes.count > 100_000, "screenshot is \(bytes.count) bytes")
    }
}
