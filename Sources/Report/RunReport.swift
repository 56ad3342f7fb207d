import Charts
import FileSafety
import Foundation

/// One chart of the report: its file name stem (`charts/<name>.svg`, `id="chart-<name>"` in the page)
/// and the chart itself.
public struct ReportChart: Sendable {
    public var name: String
    public var chart: any SVGChart
}

/// The report as text, before it is written: the page and the charts it shows.
public struct RenderedReport: Sendable {
    public var html: String
    public var charts: [ReportChart]
    /// Section ids ("data", "training", …) whose files were all missing.
    public var notRun: [String]
}

/// What `RunReport.write` wrote.
public struct WrittenReport: Sendable {
    public var html: URL
    public var charts: [URL]
    public var notRun: [String]
    /// Files that are there but could not be read, with why (`RunDirectory.unreadable`); the page says so in their sections.
    public var unreadable: [String]
}

/// The visual report of a run directory: one self-contained HTML page (inline SVG and CSS, no script, no
/// network: a Content-Security-Policy forbids both) and each chart again as a standalone SVG.
public enum RunReport {
    /// The section ids, in page order.
    public static let sections = ["data", "training", "evaluation", "profile", "optimization", "sla"]

    /// Reads `runDirectory` and writes `output` (default `runDirectory/report.html`) and, beside it,
    /// `charts/<name>.svg`; each file through a temporary file and a rename.
    @discardableResult
    public static func write(runDirectory: URL, to output: URL? = nil) throws -> WrittenReport {
        let run = try RunDirectory(runDirectory)
        let out = output ?? runDirectory.appendingPathComponent("report.html")
        let rendered = render(run)
        let chartsDirectory = out.deletingLastPathComponent().appendingPathComponent("charts")
        let fm = FileManager.default
        do {
            try fm.createDirectory(at: chartsDirectory, withIntermediateDirectories: true)
        } catch {
            throw ReportError("cannot create \(chartsDirectory.path): \(error.localizedDescription)")
        }
        var written: [URL] = []
        for chart in rendered.charts {
            let url = chartsDirectory.appendingPathComponent(chart.name + ".svg")
            try writeAtomically(chart.chart.svg(standalone: true), to: url)
            written.append(url)
        }
        try writeAtomically(rendered.html, to: out)
        return WrittenReport(html: out, charts: written, notRun: rendered.notRun, unreadable: run.unreadable)
    }

    /// The page and its charts, from the files of `run` (pure: no file is written).
    public static func render(_ run: RunDirectory) -> RenderedReport {
        var page = Page(run: run)
        return page.render()
    }

    /// `AtomicFile`'s write: whole or not at all, a FIFO or device written through, a symlink's target replaced.
    static func writeAtomically(_ text: String, to url: URL) throws {
        do { try AtomicFile.write(Data(text.utf8), to: url) } catch {
            throw ReportError("\(error)")
        }
    }
}

/// Builds the page section by section, collecting the charts as it goes.
struct Page {
    let run: RunDirectory
    var charts: [ReportChart] = []
    var notRun: [String] = []

    init(run: RunDirectory) { self.run = run }

    mutating func render() -> RenderedReport {
        let title = "Pneumo run report: \(run.url.lastPathComponent)"
        var body = header(title: title)
        body += "<main class=\"wrap\">\n"
        body += dataSection()
        body += trainingSection()
        body += evaluationSection()
        body += profileSection()
        body += optimizationSection()
        body += slaSection()
        body += "</main>\n"
        body += "<footer class=\"wrap\">Written by <code>pneumo report</code> from <code>\(esc(run.url.path))</code>. "
            + "Each chart is also in <code>charts/</code> as a standalone SVG. Hover a bar or point for its exact value.</footer>\n"
        let html = """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="color-scheme" content="light dark">
        <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
        <title>\(esc(title))</title>
        <style>
        \(Theme.css)\(Self.pageCSS)</style>
        </head>
        <body>
        \(body)</body>
        </html>

        """
        return RenderedReport(html: html, charts: charts, notRun: notRun)
    }

    // MARK: - page pieces

    func esc(_ s: String) -> String { XML.escape(s) }

    /// A chart as a figure in the page, registered to be written as `charts/<name>.svg`; `caption` (text)
    /// says under it what the chart's subtitle has no room for.
    mutating func figure(_ name: String, _ chart: any SVGChart, wide: Bool = false, caption: String? = nil) -> String {
        charts.append(ReportChart(name: name, chart: chart))
        return "<figure class=\"chart\(wide ? " wide" : "")\" id=\"chart-\(name)\" data-chart=\"\(name)\">\n"
            + chart.svg(standalone: false)
            + (caption.map { "<p class=\"chart-note\">\(esc($0))</p>\n" } ?? "")
            + "<figcaption><a href=\"charts/\(name).svg\">\(name).svg</a></figcaption>\n</figure>\n"
    }

    func sectionStart(_ id: String, _ number: Int, _ title: String, _ note: String) -> String {
        "<section id=\"\(id)\">\n<h2><span class=\"num\">\(number)</span>\(esc(title))</h2>\n"
            + "<p class=\"section-note\">\(note)</p>\n"
    }

    /// "Not run": `files` (all of them, or with `anyOf` each one an alternative) are not in the run directory.
    func missing(_ files: [String], what: String, anyOf: Bool = false) -> String {
        let names = files.map { "<code>\(esc($0))</code>" }
        let list = names.count == 2 ? names.joined(separator: anyOf ? " or " : " and ")
            : names.dropLast().joined(separator: ", ") + (names.count > 2 ? (anyOf ? " or " : " and ") : "") + (names.last ?? "")
        let verb = anyOf ? "none of \(list) is" : "\(list) \(files.count == 1 ? "is" : "are") not"
        return "<p class=\"not-run\"><strong>Not run.</strong> \(esc(what)): \(verb) in the run directory.</p>\n"
    }

    func unreadable(_ why: String) -> String {
        "<p class=\"not-run error\"><strong>Could not read</strong> \(esc(why))</p>\n"
    }

    /// The "not run" / "could not read" paragraph for a file that did not load, or nil when it did.
    func problem<T>(_ loaded: Loaded<T>, _ file: String, what: String) -> String? {
        switch loaded {
        case .missing: return missing([file], what: what)
        case .unreadable(let why): return unreadable(why)
        case .loaded: return nil
        }
    }

    func table(_ t: HTMLTable) -> String { "<div class=\"card table-card\">\n\(t.html())</div>\n" }

    func header(title: String) -> String {
        var out = "<header class=\"top\"><div class=\"wrap\">\n<h1>\(esc(title))</h1>\n"
        let present = run.presentFiles
        out += "<p class=\"lede\">\(present.count) of \(RunDirectory.allFiles.count) run files present"
        out += present.isEmpty ? ".</p>\n" : ": " + present.map { "<code>\(esc($0))</code>" }.joined(separator: ", ") + ".</p>\n"
        out += "<nav class=\"toc\">"
        for (id, name) in zip(RunReport.sections, ["Data", "Training", "Evaluation", "Profile", "Optimization", "SLA scorecard"]) {
            out += "<a href=\"#\(id)\">\(name)</a>"
        }
        out += "</nav>\n" + tiles() + "</div></header>\n"
        return out
    }

    /// The headline numbers, from whichever files are there.
    func tiles() -> String {
        var tiles: [(String, String, String, String)] = []  // value, key, sub, class
        if let (label, _, e) = evaluations.last {
            let aucCI = e.ci95?.auc.map { Uncertainty.bounds($0) + " (95% DeLong); " } ?? ""
            tiles.append((Format.fixed(e.auc, 3), "AUC", "\(aucCI)\(label.isEmpty ? "" : label + ", ")\(e.split) split, \(Format.grouped(e.samples)) images", ""))
            if let t = e.target {
                func wilson(_ ci: Interval?) -> String { ci.map { Uncertainty.percentBounds($0) + " (95% Wilson); " } ?? "" }
                tiles.append((Format.percent(t.sensitivity), "Sensitivity",
                              "\(wilson(t.ci95?.sensitivity))threshold \(Format.fixed(t.threshold, 3)), target \(Format.percent(t.target_sensitivity))", ""))
                tiles.append((Format.percent(t.specificity), "Specificity", "\(wilson(t.ci95?.specificity))at the same threshold", ""))
            }
        }
        if let p = run.profiles.last {
            if let l = p.profile.latency_ms {
                tiles.append((Format.milliseconds(l.median), "Latency p50", "\(p.label), batch 1; p95 \(Format.milliseconds(l.p95))", ""))
            }
            if let t = p.profile.throughput_samples_per_s {
                tiles.append((Format.compact(t), "Samples / s", p.label, ""))
            }
            tiles.append((Format.significant(p.profile.specGFLOPs) + " GFLOPs", "Per image",
                          "\(Format.gflopsConvention); \(p.label), \(Format.compact(p.profile.parameters)) parameters", ""))
        }
        for (name, sla) in [("baseline", run.slaBaseline.value), ("optimized", run.slaOptimized.value)] {
            guard let sla else { continue }
            let passed = sla.checks.filter(\.pass).count
            let shaky = sla.pass ? Uncertainty.crossing(sla) : nil
            tiles.append((sla.pass ? "PASS" : "FAIL", "SLA, \(name)",
                          "\(passed) of \(sla.checks.count) checks met" + (shaky.map { "; \($0.name)'s 95% interval crosses its target" } ?? ""),
                          shaky != nil ? "caution" : sla.pass ? "pass" : "fail"))
        }
        guard !tiles.isEmpty else { return "" }
        return "<div class=\"tiles\">"
            + tiles.map { v, k, s, c in
                "<div class=\"tile\"><div class=\"k\">\(esc(k))</div><div class=\"v\(c.isEmpty ? "" : " " + c)\">\(esc(v))</div><div class=\"s\">\(esc(s))</div></div>"
            }.joined() + "</div>\n"
    }

    // MARK: - 1. data

    mutating func dataSection() -> String {
        var out = sectionStart("data", 1, "Data", "Class balance per split and a look at the images, before any training.")
        switch run.data {
        case .missing, .unreadable:
            out += problem(run.data, RunDirectory.dataFile, what: "pneumo data --json")!
            if case .missing = run.data, case .missing = run.samplesSVG { notRun.append("data") }
        case .loaded(let d):
            let splits = [("train", d.splits.train), ("val", d.splits.val), ("test", d.splits.test)].compactMap { name, s in s.map { (name, $0) } }
            var sub = d.file.map { URL(fileURLWithPath: $0).lastPathComponent } ?? "PneumoniaMNIST"
            if let size = d.image_size { sub += ", \(size)×\(size) px" }
            let chart = BarChart(title: "Class distribution per split", subtitle: sub, categories: splits.map(\.0),
                                 series: [.init(name: "normal", values: splits.map { Double($0.1.normal) }),
                                          .init(name: "pneumonia", values: splits.map { Double($0.1.pneumonia) })],
                                 valueLabel: "Images", format: .integer)
            let wide = (Self.svgWidth(run.samplesSVG.value ?? "") ?? 0) > 560
            out += "<div class=\"grid\">\n" + figure("class_distribution", chart)
            let rows: [[HTMLTable.Cell]] = splits.map { name, s in
                func share(_ n: Int) -> String { s.total == 0 ? "–" : Format.percent(Double(n) / Double(s.total)) }
                return [HTMLTable.Cell(name), .number(Format.grouped(s.total)),
                        .number("\(Format.grouped(s.normal)) (\(share(s.normal)))"),
                        .number("\(Format.grouped(s.pneumonia)) (\(share(s.pneumonia)))"),
                        .number(s.imbalance_ratio.map { Format.fixed($0, 2) + " : 1" } ?? "∞"),
                        .number([s.pixel_mean, s.pixel_std].compactMap { $0.map { Format.fixed($0, 3) } }.joined(separator: " ± "))]
            }
            var counts = table(HTMLTable(caption: "Images per split (pixels on the [0, 1] scale)",
                                         headers: ["Split", "Images", "Normal", "Pneumonia", "Imbalance", "Pixel mean ± std"],
                                         numericColumns: [1, 2, 3, 4, 5], rows: rows))
            if let l = d.loading {
                // The spec times its data loading; where the run departed from the spec's data, it says why.
                let subset = l.subset.map { ", a subset of \(Format.grouped($0)) images (70/15/15% from train/val/test)" } ?? ""
                counts += "<p class=\"section-note\">Loaded in \(esc(Format.seconds(l.seconds)))\(esc(subset)).</p>\n"
                for note in l.notes ?? [] { counts += "<p class=\"section-note\">Note: \(esc(note))</p>\n" }
            }
            // A sample grid narrow enough sits beside the chart and the table goes below; a wide grid
            // gets the full width below, and the table sits beside the chart.
            return out + (wide ? counts + "</div>\n" + samples() : samples() + "</div>\n" + counts) + "</section>\n"
        }
        return out + samples() + "</section>\n"
    }

    /// The sample grid that `pneumo data --samples` drew, as an image; or why it is not there.
    func samples() -> String {
        switch run.samplesSVG {
        case .missing: return missing([RunDirectory.samplesFile], what: "Sample images (pneumo data --samples)")
        case .unreadable(let why): return unreadable(why)
        case .loaded(let svg):
            return "<figure class=\"card samples\" id=\"chart-samples\" data-chart=\"samples\">\n\(Self.svgImage(svg, alt: "Sample images per class"))</figure>\n"
        }
    }

    /// The `width` attribute of an SVG's root element, in pixels.
    static func svgWidth(_ text: String) -> Double? {
        guard let start = text.range(of: "<svg"), let end = text.range(of: ">", range: start.upperBound..<text.endIndex) else { return nil }
        let tag = text[start.upperBound..<end.lowerBound]
        guard let w = tag.range(of: " width=\"") else { return nil }
        return Double(tag[w.upperBound...].prefix { $0.isNumber || $0 == "." })
    }

    /// An SVG file from the run directory as an `<img>` with a base64 `data:` URI. The file is not ours to
    /// trust: pasted inline, a closing tag, a meta refresh or an `onload` in it became the page's markup. As an
    /// image it is parsed on its own, can reach nothing in the page, and runs no script (an SVG image never
    /// does). The root's width, when it has one, keeps the grid at its drawn size.
    static func svgImage(_ text: String, alt: String) -> String {
        let width = svgWidth(text).flatMap { $0 >= 1 && $0 <= 100_000 ? " width=\"\(Int($0.rounded()))\"" : nil } ?? ""
        return "<img src=\"data:image/svg+xml;base64,\(Data(text.utf8).base64EncodedString())\"\(width) alt=\"\(XML.escape(alt))\">\n"
    }

    // MARK: - 2. training

    mutating func trainingSection() -> String {
        var out = sectionStart("training", 2, "Training", "Loss, accuracy and AUC per epoch, on the training and the validation split.")
        if let p = problem(run.history, RunDirectory.historyFile, what: "pneumo train") {
            if case .missing = run.history { notRun.append("training") }
            return out + p + "</section>\n"
        }
        let history = run.history.value!.sorted { $0.epoch < $1.epoch }
        guard !history.isEmpty else { return out + "<p class=\"not-run\">history.json holds no epochs.</p>\n</section>\n" }
        // Epochs whose AUC is undefined (one class in val) have no point on the AUC chart and cannot be best by it.
        let scored = history.compactMap { r in r.val_auc.map { (epoch: r.epoch, auc: $0) } }
        let best = scored.max { ($0.auc, -$0.epoch) < ($1.auc, -$1.epoch) }
        let total = history.map(\.seconds).reduce(0, +)
        out += "<p>\(history.count) epoch\(history.count == 1 ? "" : "s") in \(esc(Format.seconds(total))) (\(esc(Format.seconds(total / Double(history.count)))) per epoch). "
            + (best.map { "Best validation AUC <strong>\(Format.fixed($0.auc, 4))</strong> at epoch \($0.epoch); " }
               ?? "Validation AUC <strong>undefined</strong> (one class in the validation split; the best epoch is the one with the lowest validation loss); ")
            + "learning rate \(esc(Format.significant(history.first!.learning_rate))) → \(esc(Format.significant(history.last!.learning_rate))).</p>\n"
        func points(_ key: KeyPath<EpochRecord, Double>) -> [DataPoint] { history.map { DataPoint(Double($0.epoch), $0[keyPath: key]) } }
        let epoch = AxisSpec("Epoch", format: .integer)
        let loss = LineChart(title: "Loss", subtitle: "binary cross-entropy, lower is better",
                             series: [.init(name: "train", points: points(\.train_loss)),
                                      .init(name: "validation", points: points(\.val_loss), dashed: true)],
                             xAxis: epoch, yAxis: AxisSpec("Loss", includeZero: true))
        let accuracy = LineChart(title: "Accuracy", subtitle: "at threshold 0.5",
                                 series: [.init(name: "train", points: points(\.train_accuracy)),
                                          .init(name: "validation", points: points(\.val_accuracy), dashed: true)],
                                 xAxis: epoch, yAxis: AxisSpec("Accuracy (%)", format: .fraction))
        out += "<div class=\"grid\">\n" + figure("loss", loss) + figure("accuracy", accuracy)
        if let best {
            let auc = LineChart(title: "Validation AUC", subtitle: "best \(Format.fixed(best.auc, 4)) at epoch \(best.epoch)",
                                series: [.init(name: "validation", points: scored.map { DataPoint(Double($0.epoch), $0.auc) }, color: 2)],
                                xAxis: epoch, yAxis: AxisSpec("AUC", format: .number))
            out += figure("auc", auc)
        }
        out += "</div>\n"
        return out + "</section>\n"
    }

    // MARK: - 3. evaluation

    /// The evaluations present, with the name each is shown under ("" when there is only `eval.json`).
    var evaluations: [(label: String, file: String, eval: EvalFile)] {
        let both = run.evaluation.value != nil && run.evaluationOptimized.value != nil
        return [(both ? "baseline" : "", RunDirectory.evalFile, run.evaluation.value),
                ("optimized", RunDirectory.evalOptimizedFile, run.evaluationOptimized.value)]
            .compactMap { label, file, e in e.map { (label, file, $0) } }
    }

    mutating func evaluationSection() -> String {
        var out = sectionStart("evaluation", 3, "Evaluation",
                               "The ROC curve with the chosen operating point, and the clinical metrics at each threshold.")
        for (loaded, file) in [(run.evaluation, RunDirectory.evalFile), (run.evaluationOptimized, RunDirectory.evalOptimizedFile)] {
            if case .unreadable = loaded { out += problem(loaded, file, what: "")! }
        }
        let evals = evaluations
        guard !evals.isEmpty else {
            if case .missing = run.evaluation, case .missing = run.evaluationOptimized {
                notRun.append("evaluation")
                out += missing([RunDirectory.evalFile], what: "pneumo eval --json")
            }
            return out + "</section>\n"
        }
        let several = evals.count > 1
        func named(_ label: String) -> String { label.isEmpty ? "" : label + ": " }
        for (label, _, e) in evals {
            let aucCI = e.ci95?.auc.map { " " + Uncertainty.bounds($0) + " (95% DeLong)" } ?? ""
            out += "<p>\(esc(named(label)))\(esc(e.split)) split, \(Format.grouped(e.samples)) images: AUC <strong>\(Format.fixed(e.auc, 4))</strong>\(aucCI), "
                + "loss \(Format.fixed(e.loss, 4)).</p>\n"
        }
        var highlights: [ScatterChart.Highlight] = []
        var series: [ScatterChart.Series] = []
        for (i, (label, _, e)) in evals.enumerated() {
            if !several {
                highlights += e.thresholds.map {
                    .init(DataPoint(1 - $0.specificity, $0.sensitivity), label: "t = \(Format.trimZeros(Format.fixed($0.threshold, 3)))", primary: false)
                }
            }
            if let t = e.target {
                let text = several ? "\(label): t = \(Format.fixed(t.threshold, 3))"
                    : "t = \(Format.fixed(t.threshold, 3)): sens \(Format.percent(t.sensitivity)), spec \(Format.percent(t.specificity))"
                highlights.append(.init(DataPoint(1 - t.specificity, t.sensitivity), label: text, color: several ? i : nil))
            }
            if let roc = e.roc, !roc.isEmpty {
                let sorted = roc.sorted { ($0.fpr, $0.tpr) < ($1.fpr, $1.tpr) }
                series.append(.init(name: "\(named(label))AUC \(Format.fixed(e.auc, 3))", points: sorted.map { DataPoint($0.fpr, $0.tpr) },
                                    style: several ? .line : .area, color: i))
            }
        }
        let rate = { (label: String) in AxisSpec(label, format: .fraction, domain: (0, 1)) }
        let chosen = evals.compactMap(\.eval.target).first
        let roc = ScatterChart(title: "ROC curve",
                               subtitle: chosen.map { "operating point chosen on \($0.chosen_on) for sensitivity ≥ \(Format.percent($0.target_sensitivity))" }
                                   ?? "\(evals[0].eval.split) split",
                               series: series, highlights: highlights, xAxis: rate("False-positive rate (1 − specificity, %)"),
                               yAxis: rate("True-positive rate (sensitivity, %)"), diagonal: "chance")
        out += "<div class=\"grid\">\n" + figure("roc", roc) + "<div class=\"stack\">\n"
        if evals.contains(where: { $0.eval.roc?.isEmpty ?? true }) {
            out += "<p class=\"not-run\">No <code>roc</code> points in \(evals.filter { $0.eval.roc?.isEmpty ?? true }.map { "<code>\($0.file)</code>" }.joined(separator: " or ")): "
                + "the plot shows only its thresholds.</p>\n"
        }
        var thresholdTables = ""
        for (label, _, e) in evals {
            if let t = e.target {
                let c = t.confusion
                // Files from before threshold rules keep their sentence; with a rule, the rule says it.
                let chosen = Uncertainty.rule(t.rule).map {
                    ", chosen on the \(esc(t.chosen_on)) split as \(esc($0)) (\(Format.percent(t.target_sensitivity)))."
                } ?? ", the largest that reaches sensitivity \(Format.percent(t.target_sensitivity)) on the \(esc(t.chosen_on)) split."
                let intervals = t.ci95?.sensitivity != nil || t.ci95?.specificity != nil ? " Brackets: 95% Wilson intervals." : ""
                out += "<div class=\"card callout\"><div class=\"k\">Operating point\(label.isEmpty ? "" : ", " + esc(label))</div>"
                    + "<p>Threshold <strong>\(Format.fixed(t.threshold, 3))</strong>\(chosen) On the \(esc(e.split)) split it catches "
                    + "<strong>\(Format.grouped(c.truePositives)) of \(Format.grouped(c.truePositives + c.falseNegatives))</strong> pneumonia cases "
                    + "(sensitivity \(Uncertainty.percent(t.sensitivity, t.ci95?.sensitivity))) and clears \(Format.grouped(c.trueNegatives)) of "
                    + "\(Format.grouped(c.trueNegatives + c.falsePositives)) normal images "
                    + "(specificity \(Uncertainty.percent(t.specificity, t.ci95?.specificity))).\(intervals)</p></div>\n"
                out += table(HTMLTable(caption: "Confusion matrix at the operating point\(label.isEmpty ? "" : ", " + label) (t = \(Format.fixed(t.threshold, 3)))",
                                       headers: ["", "Predicted pneumonia", "Predicted normal"], numericColumns: [1, 2],
                                       rows: [["Pneumonia", .number(Format.grouped(c.truePositives)), .number(Format.grouped(c.falseNegatives))],
                                              ["Normal", .number(Format.grouped(c.falsePositives)), .number(Format.grouped(c.trueNegatives))]]))
            }
            var rows: [[HTMLTable.Cell]] = []
            var highlighted: Set<Int> = []
            var all: [(Bool, Double, Double, Double, Double, Double, Double, Confusion, EvalFile.Intervals?)] = e.thresholds.map {
                (false, $0.threshold, $0.sensitivity, $0.specificity, $0.precision, $0.f1, $0.accuracy, $0.confusion, $0.ci95)
            }
            if let t = e.target { all.append((true, t.threshold, t.sensitivity, t.specificity, t.precision, t.f1, t.accuracy, t.confusion, t.ci95)) }
            for (i, r) in all.sorted(by: { $0.1 < $1.1 }).enumerated() {
                if r.0 { highlighted.insert(i) }
                rows.append([.number(Format.fixed(r.1, 3) + (r.0 ? " ★" : ""), tooltip: r.0 ? "chosen operating point" : nil),
                             .number(Uncertainty.percent(r.2, r.8?.sensitivity)), .number(Uncertainty.percent(r.3, r.8?.specificity)),
                             .number(Uncertainty.percent(r.4, r.8?.precision)),
                             .number(Format.fixed(r.5, 3)), .number(Uncertainty.percent(r.6, r.8?.accuracy)),
                             .number(Format.grouped(r.7.truePositives)), .number(Format.grouped(r.7.falsePositives)),
                             .number(Format.grouped(r.7.trueNegatives)), .number(Format.grouped(r.7.falseNegatives))])
            }
            thresholdTables += table(HTMLTable(caption: "\(label.isEmpty ? "Metrics" : label.prefix(1).uppercased() + label.dropFirst() + ": metrics") "
                                                   + "by threshold (score ≥ threshold ⇒ pneumonia; ★ the operating point"
                                                   + (all.contains { $0.8 != nil } ? "; [a–b] 95% Wilson interval)" : ")"),
                                               headers: ["Threshold", "Sensitivity", "Specificity", "Precision", "F1", "Accuracy",
                                                         "TP", "FP", "TN", "FN"],
                                               numericColumns: Set(0..<10), rows: rows, highlightedRows: highlighted))
        }
        out += "</div>\n</div>\n" + thresholdTables + comparisonCallout() + calibrationCharts(evals)
        return out + "</section>\n"
    }

    /// DeLong's paired test of the two models' AUCs, when the run has it.
    func comparisonCallout() -> String {
        if case .unreadable(let why) = run.comparison { return unreadable(why) }
        guard let c = run.comparison.value else { return "" }   // runs without two models have none
        let t = c.delong
        let verdict = t.p_value < 0.05 ? "a difference unlikely to be chance (p < 0.05)" : "no difference this test can tell from chance (p ≥ 0.05)"
        return "<div class=\"card callout\"><div class=\"k\">\(esc(c.model_a)) against \(esc(c.model_b))</div>"
            + "<p>On the same \(Format.grouped(c.samples)) \(esc(c.split)) images: AUC \(Format.fixed(t.auc_a, 4)) against \(Format.fixed(t.auc_b, 4)), "
            + "difference \(Format.fixed(t.difference, 4)) [\(Format.fixed(t.difference_ci95.lower, 4))–\(Format.fixed(t.difference_ci95.upper, 4))], "
            + "z = \(Format.fixed(t.z, 2)), p = \(Format.fixed(t.p_value, 4)) (DeLong's paired test): \(verdict).</p></div>\n"
    }

    // MARK: - 4. profile

    mutating func profileSection() -> String {
        var out = sectionStart("profile", 4, "Profile",
                               "What each model costs: operations and memory counted on the graph, time measured on the runtime.")
        for why in run.profileProblems { out += unreadable(why) }
        let profiles = run.profiles
        guard !profiles.isEmpty else {
            if run.profileProblems.isEmpty {
                notRun.append("profile")
                out += missing(RunDirectory.profileFiles, what: "pneumo profile --json", anyOf: true)
            }
            return out + "</section>\n"
        }
        func memory(_ x: Double?) -> String { x.map { Format.bytes($0) } ?? "–" }
        let rows: [[HTMLTable.Cell]] = profiles.map { lp in
            let p = lp.profile
            return [HTMLTable.Cell(lp.label, tooltip: "\(p.model), from \(lp.file)"),
                    .number(Format.significant(p.specGFLOPs)), .number(Format.macs(p.macs_per_sample)), .number(Format.flops(p.flops_per_sample)),
                    .number(Format.compact(p.parameters), tooltip: Format.grouped(p.parameters)),
                    .number(memory(p.peak_memory_bytes?.planned)), .number(memory(p.peak_memory_bytes?.measured)),
                    .number(p.latency_ms.map { Format.milliseconds($0.median) } ?? "–"),
                    .number(p.latency_ms.map { Format.milliseconds($0.p95) } ?? "–"),
                    .number(p.latency_ms.map { Format.milliseconds($0.mean) + " ± " + Format.milliseconds($0.std) } ?? "–"),
                    .number(p.throughput_samples_per_s.map(Format.throughput) ?? "–")]
        }
        out += table(HTMLTable(caption: "Cost per image (latency at batch 1; GFLOPs in the \(Format.gflopsConvention); FLOPs at 2 per MAC)",
                               headers: ["Model", "GFLOPs", "MACs", "FLOPs", "Params", "Peak mem. planned", "measured", "p50", "p95", "Mean ± std",
                                         "Throughput"],
                               numericColumns: Set(1..<11), rows: rows))

        out += "<h3>Latency</h3>\n<div class=\"grid\">\n"
        for lp in profiles {
            let p = lp.profile
            guard let samples = p.latency_samples_ms, !samples.isEmpty else {
                out += "<p class=\"not-run\">\(esc(lp.label)): no <code>latency_samples_ms</code> in \(esc(lp.file)).</p>\n"
                continue
            }
            let p50 = p.latency_ms?.median ?? Histogram.quantile(samples, 0.5) ?? 0
            let p95 = p.latency_ms?.p95 ?? Histogram.quantile(samples, 0.95) ?? 0
            let chart = Histogram(title: "Latency, \(lp.label)", subtitle: "\(p.model): \(Format.grouped(samples.count)) runs at batch 1",
                                  values: samples, xAxis: AxisSpec("Latency (ms)", format: .milliseconds), yLabel: "Runs",
                                  markers: [.init("p50", value: p50), .init("p95", value: p95)])
            out += figure("latency_\(slug(lp.label))", chart)
        }
        out += "</div>\n"

        let breakdowns = profiles.filter { !($0.profile.operation_breakdown?.isEmpty ?? true) }
        let layered = profiles.filter { !($0.profile.layers?.isEmpty ?? true) }
        let swept = profiles.filter { !($0.profile.sweep?.isEmpty ?? true) }

        out += "<h3>Where the time and the work go</h3>\n<div class=\"grid\">\n"
        if breakdowns.isEmpty {
            out += "<p class=\"not-run\">No <code>operation_breakdown</code> in the profiles.</p>\n"
        } else {
            // Op types that took no measurable time in any model are left out; a zero draws no bar.
            var share: [String: Double] = [:]
            for lp in breakdowns { for (op, pct) in lp.profile.operation_breakdown! where pct > 0 { share[op] = max(share[op] ?? 0, pct) } }
            let ops = share.keys.sorted { (share[$0]!, $1) > (share[$1]!, $0) }
            let chart = BarChart(title: "Time by operation type", subtitle: "share of measured inference time",
                                 categories: ops, series: breakdowns.map { lp in
                                     .init(name: lp.label, values: ops.map { lp.profile.operation_breakdown![$0].flatMap { $0 > 0 ? $0 : nil } })
                                 }, orientation: .horizontal, valueLabel: "Share of time (%)", format: .percent)
            out += figure("operation_breakdown", chart)
        }
        for lp in layered {
            // Layers without multiply-accumulates (activations, norms, reshapes) are counted, not drawn.
            let all = lp.profile.layers!
            let layers = all.filter { $0.macs > 0 }
            let total = layers.map(\.macs).reduce(0, +)
            let chart = BarChart(title: "MACs per layer, \(lp.label)",
                                 subtitle: "\(layers.count) of \(all.count) layers do multiply-accumulates: \(Format.macs(total)) per image",
                                 categories: layers.map { $0.name.isEmpty ? $0.op : "\($0.name) · \($0.op)" },
                                 series: [.init(name: "MACs", values: layers.map(\.macs))],
                                 orientation: .horizontal, valueLabel: "Multiply-accumulates per image", format: .count,
                                 barThickness: layers.count > 40 ? 10 : 14, maxLabelCharacters: 30)
            out += figure("layer_macs_\(slug(lp.label))", chart)
        }
        if layered.isEmpty { out += "<p class=\"not-run\">No <code>layers</code> in the profiles.</p>\n" }
        out += "</div>\n"

        out += "<h3>Batch size</h3>\n"
        if swept.isEmpty {
            out += "<p class=\"not-run\">No <code>sweep</code> in the profiles.</p>\n"
        } else {
            let batch = AxisSpec("Batch size (images)", format: .integer, kind: .log(base: 2), ticksAtData: true)
            // Models a decade apart would flatten one line onto the axis: then the y axis is logarithmic.
            func spread(_ values: [Double]) -> Bool {
                let positive = values.filter { $0 > 0 }
                return (positive.max() ?? 1) / (positive.min() ?? 1) > 8
            }
            let perImage = swept.map { lp in lp.profile.sweep!.map { DataPoint(Double($0.batch), $0.latency_ms / Double(max($0.batch, 1))) } }
            let rates = swept.map { lp in lp.profile.sweep!.map { DataPoint(Double($0.batch), $0.samples_per_s) } }
            let logLatency = spread(perImage.flatMap { $0.map(\.y) }), logRate = spread(rates.flatMap { $0.map(\.y) })
            let perSample = LineChart(title: "Latency per image against batch size", subtitle: "batch time / batch size; lower is better",
                                      series: zip(swept, perImage).map { .init(name: $0.label, points: $1) }, xAxis: batch,
                                      yAxis: AxisSpec(logLatency ? "Latency per image (ms, log scale)" : "Latency per image (ms)", format: .milliseconds,
                                                      kind: logLatency ? .log(base: 10) : .linear, includeZero: true))
            let throughput = LineChart(title: "Throughput against batch size", subtitle: "higher is better",
                                       series: zip(swept, rates).map { .init(name: $0.label, points: $1) }, xAxis: batch,
                                       yAxis: AxisSpec(logRate ? "Throughput (images/s, log scale)" : "Throughput (images/s)", format: .count,
                                                       kind: logRate ? .log(base: 10) : .linear, includeZero: true))
            out += "<div class=\"grid\">\n" + figure("sweep_latency", perSample) + figure("sweep_throughput", throughput) + "</div>\n"
        }
        return out + "</section>\n"
    }

    /// A file-name-safe form of a label: lower case letters, digits and underscores.
    func slug(_ s: String) -> String {
        let mapped = s.lowercased().unicodeScalars.map { CharacterSet.alphanumerics.contains($0) && $0.isASCII ? Character($0) : "_" }
        let text = String(mapped).split(separator: "_").joined(separator: "_")
        return text.isEmpty ? "model" : text
    }

    // MARK: - 5. optimization

    mutating func optimizationSection() -> String {
        var out = sectionStart("optimization", 5, "Optimization",
                               "Each technique's effect as estimated from the graph beside its effect measured after applying it.")
        if let p = problem(run.analysis, RunDirectory.analysisFile, what: "pneumo analyze --json") {
            if case .missing = run.analysis { notRun.append("optimization") }
            return out + p + "</section>\n"
        }
        let techniques = run.analysis.value!.techniques
        guard !techniques.isEmpty else { return out + "<p class=\"not-run\">analysis.json lists no techniques.</p>\n</section>\n" }
        let names = techniques.map(\.name)
        let speedup = BarChart(title: "Speed-up: estimated vs measured", subtitle: "old time / new time; 1× = no change",
                               categories: names, series: [.init(name: "estimated", values: techniques.map(\.estimated.speedup)),
                                                           .init(name: "measured", values: techniques.map { $0.measured?.speedup })],
                               orientation: .horizontal, valueLabel: "Speed-up (×, log scale)", format: .speedup,
                               valueAxis: .log(base: 10))
        let macs = BarChart(title: "MACs removed: estimated vs measured", subtitle: "share of the model's multiply-accumulates",
                            categories: names, series: [.init(name: "estimated", values: techniques.map(\.estimated.macs_reduction)),
                                                        .init(name: "measured", values: techniques.map { $0.measured?.macs_reduction })],
                            orientation: .horizontal, valueLabel: "MACs removed (%)", format: .fraction)
        out += "<div class=\"grid\">\n" + figure("optimization_speedup", speedup) + figure("optimization_macs", macs) + "</div>\n"
        let rows: [[HTMLTable.Cell]] = techniques.map { t in
            let m = t.measured
            func pair(_ e: Double?, _ m: Double?, _ f: (Double) -> String) -> HTMLTable.Cell {
                .number("\(e.map(f) ?? "–") / \(m.map(f) ?? "–")")
            }
            let percent = { (x: Double) in Format.percent(x) }
            return [HTMLTable.Cell(t.name),
                    pair(t.estimated.speedup, m?.speedup, Format.speedup),
                    pair(t.estimated.macs_reduction, m?.macs_reduction, percent),
                    pair(t.estimated.params_reduction, m?.params_reduction, percent),
                    .number(m == nil ? "not applied" : m?.max_output_change.map { Format.significant($0, 2) } ?? "–"),
                    HTMLTable.Cell(t.needs_retraining ? "yes" : "no")]
        }
        out += table(HTMLTable(caption: "Techniques (estimated / measured)",
                               headers: ["Technique", "Speed-up", "MACs removed", "Params removed", "Max output change", "Retraining"],
                               numericColumns: Set(1..<5), rows: rows))
        if let findings = run.analysis.value!.findings { out += keyFindings(findings) }
        return out + "</section>\n"
    }

    /// The spec's "key findings" and roadmap: the ranking by measured benefit, the top two, the phases.
    mutating func keyFindings(_ f: AnalysisFile.Findings) -> String {
        var out = "<h3>Key findings</h3>\n<p>Top two architectural techniques: <strong>"
            + esc(f.top_two.isEmpty ? "none with a benefit above 1" : f.top_two.joined(separator: ", ")) + "</strong>.</p>\n"
        let rows: [[HTMLTable.Cell]] = f.ranking.map {
            [.number("\($0.rank)"), HTMLTable.Cell($0.name), HTMLTable.Cell($0.kind), .number($0.benefit.map(Format.speedup) ?? "–"),
             HTMLTable.Cell($0.basis)]
        }
        out += table(HTMLTable(caption: "Techniques ranked by benefit (\(f.benefit_definition))",
                               headers: ["Rank", "Technique", "Kind", "Benefit", "Basis"], numericColumns: [0, 3], rows: rows))
        out += "<h3>Recommended roadmap</h3>\n<ol class=\"roadmap\">\n"
        for p in f.roadmap { out += "<li><strong>Phase \(p.phase) (\(esc(p.title)))</strong>: \(esc(p.summary))</li>\n" }
        if f.roadmap.isEmpty { out += "<li>No technique measured a benefit above 1.</li>\n" }
        return out + "</ol>\n<p class=\"muted\">\(esc(f.combination_rule)).</p>\n"
    }

    // MARK: - 6. SLA

    /// A measured value in its unit, for people ("ms" → µs/ms/s, "MB" → KB/MB/GB, "fraction" → %).
    static func value(_ x: Double, unit: String) -> String {
        switch unit.lowercased() {
        case "" where (0...1).contains(x): Format.percent(x)
        case "ms": Format.milliseconds(x)
        case "mb", "mib": Format.megabytes(x)
        case "bytes", "b": Format.bytes(x)
        case "samples/s", "images/s": Format.throughput(x)
        case "fraction": Format.percent(x)
        case "%": Format.fixed(x, 1) + "%"
        case "gflop", "gflops": Format.significant(x) + " GFLOP"
        case "": Format.significant(x)
        default: Format.significant(x) + " " + unit
        }
    }

    /// The measured value with its 95% interval, in the form the evaluation uses ("98.2% [96.3–99.1]").
    static func value(_ x: Double, unit: String, interval: Interval?) -> String {
        guard let ci = interval else { return value(x, unit: unit) }
        let u = unit.lowercased()
        if u == "fraction" || (u == "" && (0...1).contains(x)) { return Uncertainty.percent(x, ci) }
        return value(x, unit: unit) + " [\(value(ci.lower, unit: unit))–\(value(ci.upper, unit: unit))]"
    }

    /// "<" or ">" for a numeric target, read from the margin's sign convention; nil where it cannot be told.
    static func comparison(_ c: SLAFile.Check) -> String? {
        guard case .number(let target) = c.target, target != 0, let margin = c.margin, c.measured != target else { return nil }
        let below = (target - c.measured) / target, above = (c.measured - target) / target
        if abs(margin - below) < 1e-6 * max(1, abs(margin)) { return "<" }
        if abs(margin - above) < 1e-6 * max(1, abs(margin)) { return ">" }
        return nil
    }

    mutating func slaSection() -> String {
        var out = sectionStart("sla", 6, "SLA scorecard", "The spec's service-level targets, baseline beside optimized.")
        var loaded: [(String, SLAFile)] = []
        for (name, file) in [("baseline", run.slaBaseline), ("optimized", run.slaOptimized), ("optimized INT8", run.slaOptimizedInt8)] {
            switch file {
            case .missing: continue
            case .unreadable(let why): out += unreadable(why)
            case .loaded(let sla): loaded.append((name, sla))
            }
        }
        if loaded.isEmpty {
            if case .missing = run.slaBaseline, case .missing = run.slaOptimized {
                notRun.append("sla")
                out += missing([RunDirectory.slaBaselineFile, RunDirectory.slaOptimizedFile], what: "pneumo sla --json")
            }
            return out + "</section>\n"
        }
        out += "<p class=\"verdicts\">" + loaded.map { name, sla in
            var setting = [sla.device, sla.threads.map { "\($0) thread\($0 == 1 ? "" : "s")" }].compactMap { $0 }.joined(separator: ", ")
            if !setting.isEmpty { setting = " <span class=\"muted\">(\(esc(setting)))</span>" }
            // A PASS that rests on an estimate whose interval reaches below a target is not a clean PASS.
            let shaky = sla.pass && Uncertainty.crossing(sla) != nil
            let verdict = Uncertainty.verdict(pass: sla.pass, crosses: shaky)
            return "\(name): <span class=\"badge \(sla.pass ? "pass" : "fail")\(shaky ? " caution" : "")\">\(esc(verdict))</span>\(setting)"
        }.joined(separator: " &nbsp; ") + "</p>\n"
        if case .missing = run.slaBaseline { out += missing([RunDirectory.slaBaselineFile], what: "The baseline's SLA run") }
        if case .missing = run.slaOptimized { out += missing([RunDirectory.slaOptimizedFile], what: "The optimized model's SLA run") }

        // One row per check name, in first-seen order.
        var names: [String] = []
        for (_, sla) in loaded { for c in sla.checks where !names.contains(c.name) { names.append(c.name) } }
        var headers = ["Check", "Target"]
        for (name, _) in loaded { headers += [name, "margin", ""] }
        let rows: [[HTMLTable.Cell]] = names.map { checkName in
            let first = loaded.lazy.compactMap { $0.1.checks.first { $0.name == checkName } }.first!
            let target: String
            switch first.target {
            case .number(let x):
                let v = Self.value(x, unit: first.unit)
                target = Self.comparison(first).map { "\($0) \(v)" } ?? v
            case .text(let s): target = s + (first.unit.isEmpty || first.unit == "fraction" ? "" : " " + first.unit)
            }
            // A GFLOPs check names its convention: the spec's, one operation per multiply-accumulate.
            let isGFLOPs = ["gflop", "gflops"].contains(first.unit.lowercased())
            var row: [HTMLTable.Cell] = [HTMLTable.Cell(checkName + (isGFLOPs ? " (\(Format.gflopsConvention))" : "")), HTMLTable.Cell(target)]
            for (_, sla) in loaded {
                guard let c = sla.checks.first(where: { $0.name == checkName }) else { row += ["–", "", ""]; continue }
                row.append(.number(Self.value(c.measured, unit: c.unit, interval: c.ci95), tooltip: Format.significant(c.measured, 6)))
                row.append(.number(c.margin.map { Format.signedPercent($0) } ?? ""))
                let crosses = c.interval_crosses_target == true
                row.append(HTMLTable.Cell((c.pass ? "✓ " : "✗ ") + Uncertainty.verdict(pass: c.pass, crosses: crosses).lowercased(),
                                          classes: [c.pass ? "pass" : "fail"] + (crosses ? ["caution"] : [])))
            }
            return row
        }
        var numeric: Set<Int> = []
        for k in loaded.indices { numeric.insert(2 + 3 * k); numeric.insert(3 + 3 * k) }
        let intervals = loaded.contains { $0.1.checks.contains { $0.ci95 != nil } }
        out += table(HTMLTable(caption: "Checks (margin: how far inside the target, as a share of it"
                                   + (intervals ? "; [a–b] 95% interval of the measured value)" : ")"),
                               headers: headers, numericColumns: numeric, rows: rows))
        for (name, sla) in loaded {
            for c in sla.checks where c.interval_crosses_target == true {
                out += "<p class=\"caution-note\">\(esc(Uncertainty.crossingNote(c, model: name)))</p>\n"
            }
        }

        // The headline numbers side by side, with the change where both are there.
        let fields: [(String, (SLAFile) -> Double?, (Double) -> String, Bool, (SLAFile) -> Interval?)] = [
            ("Compute per image, GFLOPs (\(Format.gflopsConvention))", { $0.specGFLOPs }, { Format.significant($0) + " GFLOP" }, true,
             { _ in nil }),
            ("Peak memory", { $0.peak_memory_mb }, Format.megabytes, true, { _ in nil }),
            ("Latency, batch 1", { $0.latency_ms }, Format.milliseconds, true, { _ in nil }),
            ("Latency per image, batched", { $0.amortized_latency_ms }, Format.milliseconds, true, { _ in nil }),
            ("Throughput", { $0.throughput_samples_per_s }, Format.throughput, false, { _ in nil }),
            ("Sensitivity", { $0.sensitivity }, { Format.percent($0) }, false, \.sensitivity_ci95),
            ("Specificity", { $0.specificity }, { Format.percent($0) }, false, \.specificity_ci95),
            ("AUC", { $0.auc }, { Format.fixed($0, 4) }, false, \.auc_ci95),
            ("Threshold", { $0.threshold }, { Format.fixed($0, 3) }, false, { _ in nil }),
        ]
        var detailRows: [[HTMLTable.Cell]] = fields.map { label, get, fmt, lowerIsBetter, interval in
            var row: [HTMLTable.Cell] = [HTMLTable.Cell(label)]
            let values = loaded.map { get($0.1) }
            row += zip(values, loaded).map { v, l in
                guard let v else { return .number("–") }
                guard let ci = interval(l.1) else { return .number(fmt(v)) }
                return .number(label == "AUC" ? Uncertainty.auc(v, ci) : Uncertainty.percent(v, ci))
            }
            if loaded.count >= 2 {
                var change = ""
                if let a = values[0], let b = values[1], a > 0, b > 0, label != "Threshold" {
                    if ["Sensitivity", "Specificity", "AUC"].contains(label) {
                        change = Format.fixed((b - a) * 100, 1) + " pts"
                        if b - a > 0 { change = "+" + change }
                    } else {
                        let ratio = lowerIsBetter ? a / b : b / a
                        change = ratio >= 1 ? Format.speedup(ratio) + (lowerIsBetter ? " less" : " more") : Format.speedup(1 / ratio) + (lowerIsBetter ? " more" : " less")
                    }
                }
                row.append(.number(change))
            }
            return row
        }
        // The change column compares the first two (baseline → optimized).
        let change = loaded.count >= 2 ? ["change, \(loaded[0].0) → \(loaded[1].0)"] : []
        let pad: [HTMLTable.Cell] = change.isEmpty ? [] : [""]
        if loaded.contains(where: { $0.1.threshold_rule != nil }) {
            detailRows.append([HTMLTable.Cell("Threshold rule")]
                              + loaded.map { HTMLTable.Cell($0.1.threshold_rule ?? "–", classes: ["num"], tooltip: Uncertainty.rule($0.1.threshold_rule)) } + pad)
        }
        if loaded.contains(where: { $0.1.temperature != nil }) {
            detailRows.append([HTMLTable.Cell("Temperature")] + loaded.map { .number($0.1.temperature.map { Format.significant($0) } ?? "–") } + pad)
        }
        detailRows.append([HTMLTable.Cell("Device")] + loaded.map { HTMLTable.Cell($0.1.device ?? "–", classes: ["num"]) } + pad)
        let measuredIntervals = loaded.contains { $0.1.sensitivity_ci95 != nil || $0.1.specificity_ci95 != nil || $0.1.auc_ci95 != nil }
        out += table(HTMLTable(caption: "Measured" + (measuredIntervals ? " ([a–b]: 95% intervals, Wilson's for proportions, DeLong's for the AUC)" : ""),
                               headers: ["Quantity"] + loaded.map(\.0) + change,
                               numericColumns: Set(1...(loaded.count + change.count)), rows: detailRows))
        return out + "</section>\n"
    }

    // MARK: - style

    static let pageCSS = """
    :root{color-scheme:light dark;--page:#f4f5f7;--card:#ffffff;--ink:#1f2328;--muted:#5b636e;--line:#dde1e6;--soft:#eef0f3;\
    --good-bg:#dcf5e3;--bad-bg:#ffe7e5;--hl:#fff6cc;--link:#2f6fdb;--warn:#9a6700;--warn-bg:#fff1c2}
    @media (prefers-color-scheme: dark){:root{--page:#0d1117;--card:#161b22;--ink:#e6edf3;--muted:#9aa3ad;--line:#30363d;\
    --soft:#21262d;--good-bg:#173a25;--bad-bg:#4a1d1f;--hl:#3b3413;--link:#79aaff;--warn:#e3b341;--warn-bg:#3d2e0a}}
    *{box-sizing:border-box}
    body{margin:0;background:var(--page);color:var(--ink);font:15px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue","DejaVu Sans",Arial,sans-serif}
    .wrap{max-width:1240px;margin:0 auto;padding:0 28px}
    header.top{background:var(--card);border-bottom:1px solid var(--line)}
    header.top .wrap{padding:28px 28px 24px}
    h1{font-size:26px;line-height:1.25;margin:0 0 6px;font-weight:650;letter-spacing:-.01em}
    .lede{color:var(--muted);margin:0;font-size:14px}
    nav.toc{display:flex;flex-wrap:wrap;gap:4px 20px;margin-top:14px;font-size:14px;font-weight:500}
    nav.toc a{color:var(--link);text-decoration:none}
    nav.toc a:hover{text-decoration:underline}
    .tiles{display:grid;grid-template-columns:repeat(auto-fill,minmax(240px,1fr));gap:12px;margin-top:20px}
    .tile{background:var(--page);border:1px solid var(--line);border-radius:10px;padding:12px 14px}
    .tile .k{font-size:12px;font-weight:600;color:var(--muted);text-transform:uppercase;letter-spacing:.04em}
    .tile .v{font-size:26px;font-weight:650;line-height:1.25;font-variant-numeric:tabular-nums}
    .tile .s{font-size:12px;color:var(--muted)}
    .tile .v.pass{color:var(--pc-good)} .tile .v.fail{color:var(--pc-bad)}
    section{padding:36px 0 4px}
    h2{font-size:21px;margin:0 0 2px;font-weight:650;letter-spacing:-.005em}
    h2 .num{display:inline-block;min-width:28px;color:var(--muted);font-weight:500}
    h3{font-size:15px;font-weight:600;margin:26px 0 10px}
    p{margin:0 0 14px}
    .section-note{color:var(--muted);margin:0 0 16px;font-size:14px}
    .muted{color:var(--muted)}
    code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"DejaVu Sans Mono",monospace;font-size:.88em;\
    background:var(--soft);padding:1px 5px;border-radius:4px}
    .grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(520px,1fr));gap:16px;align-items:start;margin-bottom:16px}
    .stack{display:flex;flex-direction:column;gap:16px}
    .card,figure.chart{background:var(--card);border:1px solid var(--line);border-radius:10px}
    figure{margin:0}
    figure.chart{padding:4px 4px 0;overflow:hidden}
    figure.chart svg{display:block;width:100%;height:auto}
    figure.chart figcaption{font-size:11px;text-align:right;padding:0 10px 6px}
    figure.chart figcaption a{color:var(--muted);text-decoration:none}
    figure.chart .chart-note{font-size:12.5px;color:var(--muted);margin:0;padding:2px 12px 4px}
    .samples{padding:12px;overflow-x:auto;align-self:stretch;display:flex;align-items:center}
    .callout{padding:14px 16px}
    .callout .k{font-size:12px;font-weight:600;color:var(--muted);text-transform:uppercase;letter-spacing:.04em;margin-bottom:4px}
    .callout p{margin:0}
    .samples img{display:block;max-width:100%;height:auto;margin:0 auto;border-radius:6px}
    .table-card{overflow-x:auto;margin-bottom:16px}
    .grid .table-card,.stack .table-card{margin-bottom:0}
    .grid > .table-card table.pc-table th{white-space:normal;vertical-align:bottom}
    .grid > .table-card table.pc-table td,.grid > .table-card table.pc-table th{padding-left:8px;padding-right:8px}
    table.pc-table{border-collapse:collapse;width:100%;font-size:13.5px;font-variant-numeric:tabular-nums}
    table.pc-table caption{text-align:left;font-weight:600;font-size:14px;padding:12px 14px 8px}
    table.pc-table th{text-align:left;font-weight:600;color:var(--muted);font-size:11.5px;text-transform:uppercase;\
    letter-spacing:.03em;padding:6px 12px;border-bottom:1px solid var(--line);white-space:nowrap}
    table.pc-table td{padding:6px 12px;border-bottom:1px solid var(--soft);white-space:nowrap}
    table.pc-table tbody tr:last-child td{border-bottom:0}
    table.pc-table .num{text-align:right}
    table.pc-table tr.highlight td{background:var(--hl);font-weight:600}
    .pass{color:var(--pc-good);font-weight:600}
    .fail{color:var(--pc-bad);font-weight:600}
    .badge{display:inline-block;padding:1px 10px;border-radius:999px;font-size:13px;font-weight:700;letter-spacing:.03em}
    .badge.pass{background:var(--good-bg)} .badge.fail{background:var(--bad-bg)}
    .badge.caution{background:var(--warn-bg);color:var(--warn);border:1px dashed var(--warn)}
    td.caution,.tile .v.caution{color:var(--warn)}
    .caution-note{font-size:13.5px;color:var(--warn);margin:-6px 0 16px}
    .verdicts{font-size:15px}
    .not-run{background:var(--card);border:1px dashed var(--line);border-radius:10px;padding:12px 16px;color:var(--muted)}
    .not-run.error{border-color:var(--pc-bad);color:var(--pc-bad)}
    footer{color:var(--muted);font-size:13px;padding:36px 28px 48px}
    @media (max-width:640px){.grid{grid-template-columns:1fr}.wrap{padding:0 14px}}

    """
}
