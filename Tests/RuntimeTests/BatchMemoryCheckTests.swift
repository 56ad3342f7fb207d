import Testing
import Models
import NN
import Optimize
@testable import GraphCore
@testable import Runtime

/// A batch whose activations cannot fit is refused with the sizes, before anything is allocated: compiling it had
/// aborted the process in the allocator (`pneumo bench infer --batch 99999999999`).
@Suite struct BatchMemoryCheckTests {
    let model = try! ModelGraph(try! PneumoNet(inChannels: 1, widths: [16, 32, 64, 128]), inputShape: [1, 1, 28, 28], seed: 3)

    var prepared: (graph: Graph, lowered: [PlannedStep]) {
        let (g, _) = try! InferenceRewrites.prepareForInference(model.graph, model.parameters)
        return (g, PlanLowering.lower(g, fuse: true))
    }

    /// The widest step of PneumoNet at 28 px is layer1's stride-2 convolution (batch-norm folded, ReLU fused): its
    /// 16×28×28 input and 32×14×14 output, 75,264 bytes an image (the stem's 1×28×28 and 16×28×28 are 53,312).
    @Test func refusesTheWidestStepOverTheMemoryGiven() throws {
        let (g, lowered) = prepared
        #expect(throws: Never.self) { try BatchMemoryCheck.check(g, lowered: lowered, inputName: "image", inputShape: [13, 1, 28, 28], memory: 1_000_000) }
        // Batch 1 too: one image can be too large (`pneumo profile --input-size 100000` aborted).
        #expect(throws: EngineError.self) { try BatchMemoryCheck.check(g, lowered: lowered, inputName: "image", inputShape: [1, 1, 28, 28], memory: 75_000) }
        do {
            try BatchMemoryCheck.check(g, lowered: lowered, inputName: "image", inputShape: [14, 1, 28, 28], memory: 1_000_000)
            Issue.record("batch 14 (1.05 MB in layer1's first step) passed a 1 MB limit")
        } catch let e as EngineError {
            #expect("\(e)".contains("batch 14") && "\(e)".contains("[14, 32, 14, 14]") && "\(e)".contains("1.1 MB"), "\(e)")
        }
    }

    @Test func sizesThatOverflowAreRefusedNotTrapped() throws {
        do {
            let (g, lowered) = prepared
            try BatchMemoryCheck.check(g, lowered: lowered, inputName: "image", inputShape: [Int.max / 2, 1, 28, 28])
            Issue.record("a batch of Int.max / 2 passed")
        } catch let e as EngineError {
            #expect("\(e)".contains("64-bit"), "\(e)")
        }
        #expect(throws: EngineError.self) { try BatchMemoryCheck.check(arenaBytes: Int.max, scratchBytes: 1, batch: 2) }
    }

    @Test func refusesAPlanWhoseBuffersExceedTheMemoryGiven() throws {
        #expect(throws: Never.self) { try BatchMemoryCheck.check(arenaBytes: 600, scratchBytes: 400, batch: 2, memory: 1000) }
        do {
            try BatchMemoryCheck.check(arenaBytes: 600_000_000, scratchBytes: 500_000_000, batch: 64, memory: 1_000_000_000)
            Issue.record("1.1 GB passed a 1 GB limit")
        } catch let e as EngineError {
            #expect("\(e)".contains("batch 64") && "\(e)".contains("1.1 GB") && "\(e)".contains("600.0 MB of buffers"), "\(e)")
        }
    }

    /// Through the runtime, on this machine's memory: an error, not an abort.
    @Test func theRuntimeRefusesAnImpossibleBatch() throws {
        let runtime = Runtime(graph: model.graph, parameters: model.parameters, sampleShape: [1, 28, 28])
        #expect(throws: EngineError.self) { _ = try runtime.plan(batch: 99_999_999_999) }
    }
}

/// Winograd's per-shape races allocate the convolution's input, outputs and buffers at the batch they race: at batch 4000
/// the baseline's 56×56 layers asked for 26 GB at once and aborted. They now leave out what does not fit the budget and
/// race on fewer images.
@Suite struct WinogradRaceBudgetTests {
    @Test func aSmallBatchRacesWhole() throws {
        let r = try #require(WinogradChoice.race(batch: 1, channels: 64, outChannels: 64, height: 56, width: 56))
        #expect(r.batch == 1 && r.configurations == WinogradChoice.candidates(height: 56, width: 56))
    }

    @Test func aLargeBatchRacesWhatFitsOnFewerImages() throws {
        let (batch, c, k, h, w) = (4000, 64, 64, 56, 56)
        let r = try #require(WinogradChoice.race(batch: batch, channels: c, outChannels: k, height: h, width: w))
        // `.whole` keeps every tile's planes: 36 · 196 tiles · 128 channels · 4 bytes = 3.6 MB an image, 14 GB at batch 4000.
        #expect(!r.configurations.contains { $0.schedule == .whole } && !r.configurations.isEmpty)
        let bytes = { (n: Int) in WinogradChoice.raceBytes(r.configurations, images: n, channels: c, outChannels: k, height: h, width: w) }
        #expect(r.batch < batch && bytes(r.batch) <= WinogradChoice.raceBudget && bytes(r.batch + 1) > WinogradChoice.raceBudget)
    }

    @Test func noRaceWhereNotOneImageFits() {
        #expect(WinogradChoice.race(batch: 1, channels: 1 << 16, outChannels: 1 << 16, height: 64, width: 64) == nil)
    }
}
