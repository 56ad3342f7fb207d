import CPUBackend
import GraphCore

/// What a plan's parts are, decided: how a call spreads over the threads and which kernel families its convolutions
/// may take. Compiling an arrangement (`PlanParts.compile`) times nothing: the same arrangement gives the same steps.
/// `PlanTuner` decides it where the request leaves something to measurement (`.auto`).
struct PlanArrangement: Sendable, Equatable, Codable {
    enum Threads: Sendable, Equatable, Codable {
        /// One part over the whole batch on the team, with these steps (by index) created for and run on one thread.
        case team(stepsAlone: Set<Int>)
        /// One part over the whole batch, compiled for one thread.
        case single
        /// One single-threaded part per contiguous slice of the batch, run in one parallel region.
        case batchSplit
    }
    var threads: Threads
    /// What the builder is asked for (`.auto`: per shape, without the `excluded` families).
    var convolutions: ConvolutionAlgorithm
    var excluded: Set<String> = []
}

/// Compiles the parts of one prepared graph at one input shape, for any arrangement; the slices of a batch-split plan
/// share their weights (`WeightCache`).
struct PlanParts {
    let graph: Graph
    let parameters: ParameterStore
    let lowered: [PlannedStep]
    let inputName: String
    /// `[N, C, H, W]`.
    let inputShape: [Int]
    let layout: PlanLayout
    let precision: Precision
    let calibration: Int8Calibration?
    let int8Weights: Int8WeightRange
    let ctx: DNNLContext
    /// The plan's, or its runtime's (shared by the plans of every batch size).
    var weights = WeightCache()

    var batch: Int { inputShape.first ?? 1 }

    /// The parts of `arrangement`; nil for a batch split whose output does not lead with the batch (no rows to cut).
    func compile(_ arrangement: PlanArrangement) throws -> [PlanPart]? {
        switch arrangement.threads {
        case .team(let alone): return [try part(0..<batch, singleThreaded: false, alone: alone, arrangement)]
        case .single: return [try part(0..<batch, singleThreaded: true, arrangement)]
        case .batchSplit:
            // Contiguous slices, sizes differing by at most one.
            let (n, k) = (batch, min(CPUDevice.threadCount, batch))
            let parts = try (0..<k).map { t in try part((t * n / k)..<((t + 1) * n / k), singleThreaded: true, arrangement) }
            return parts.allSatisfy({ $0.outputShape.first == $0.rows.count }) ? parts : nil
        }
    }

    private func part(_ rows: Range<Int>, singleThreaded: Bool, alone: Set<Int> = [], _ a: PlanArrangement) throws -> PlanPart {
        try PlanPart(graph: graph, parameters: parameters, lowered: lowered, inputName: inputName, inputShape: [rows.count] + inputShape.dropFirst(),
                     layout: layout, precision: precision, calibration: calibration, int8Weights: int8Weights, ctx: ctx, weights: weights, rows: rows,
                     singleThreaded: singleThreaded, convolutions: a.convolutions, excluded: a.excluded, singleThreadedSteps: alone)
    }
}
