import GraphCore
import Foundation

/// Refuses a batch whose activations do not fit this machine's memory, with the sizes, before they are allocated:
/// compiling it would otherwise abort the process in the allocator (`pneumo bench infer --batch 99999999999` did), or
/// trap on an overflowing size, instead of saying why. (Winograd's per-shape races have their own budget:
/// `WinogradChoice.race`.)
enum BatchMemoryCheck {
    /// Before compiling: the step of `lowered` that holds the most at this batch (its output and the activations it reads,
    /// from the shapes at batch 1) must fit.
    /// - Parameter memory: the bytes a plan may not exceed (default: this machine's physical memory).
    static func check(_ graph: Graph, lowered: [PlannedStep], inputName: String, inputShape: [Int],
                      memory: UInt64 = ProcessInfo.processInfo.physicalMemory) throws {
        guard let n = inputShape.first, n >= 1,
              // A graph that cannot take one image (a batch fixed inside it) is left to the plan to judge.
              let shapes = try? graph.inferShapes(inputs: [inputName: [1] + inputShape.dropFirst()]) else { return }
        let elements = { (i: Int) -> Int in
            shapes[i].reduce(1) { $0.multipliedReportingOverflow(by: $1).overflow ? Int.max / 4 : $0 * $1 }
        }
        let isActivation = { (i: Int) -> Bool in
            switch graph.nodes[i].op { case .parameter, .buffer: false; default: true }
        }
        var widest: (step: PlannedStep, elements: Int)?
        for step in lowered {
            let (nodes, residual) = step.reads
            let read = Set(nodes.flatMap { graph.nodes[$0].inputs.map(\.index) } + (residual.map { [$0.index] } ?? []))
                .subtracting(nodes).filter(isActivation)
            let held = read.reduce(elements(step.result)) { min($0 + elements($1), Int.max / 4) }
            if held > widest?.elements ?? 0 { widest = (step, held) }
        }
        guard let widest else { return }
        let (total, o1) = widest.elements.multipliedReportingOverflow(by: n)
        let (bytes, o2) = total.multipliedReportingOverflow(by: MemoryLayout<Float>.size)
        guard o1 || o2 || UInt64(bytes) > memory else { return }
        let node = graph.nodes[widest.step.result]
        let needs = o1 || o2 ? "more bytes than a 64-bit size holds" : describe(bytes: Double(bytes))
        throw EngineError.invalid("runtime", "batch \(n): step '\(node.name.isEmpty ? node.op.kindName : node.name)' alone, its output "
                                  + "\(describe([n] + shapes[widest.step.result].dropFirst())) and what it reads in float32, needs \(needs); "
                                  + "this machine has \(describe(bytes: Double(memory))) of memory")
    }

    /// Whether another arrangement of a plan made of `parts` can be compiled beside it to race them (`.auto`): both in
    /// memory at once, within three quarters of it: a second arrangement of a plan near the machine's memory would swap,
    /// and compiling would not finish.
    static func roomForAnother(_ parts: [PlanPart], memory: UInt64 = ProcessInfo.processInfo.physicalMemory) -> Bool {
        let bytes = parts.reduce(0.0) { $0 + Double($1.arenaBytes) + Double($1.scratchBytes) }
        return 2 * bytes <= 0.75 * Double(memory)
    }

    /// After the memory plan: the arena and the scratchpad together must fit.
    static func check(arenaBytes: Int, scratchBytes: Int, batch: Int, memory: UInt64 = ProcessInfo.processInfo.physicalMemory) throws {
        let (bytes, overflow) = arenaBytes.addingReportingOverflow(scratchBytes)
        guard overflow || UInt64(bytes) > memory else { return }
        throw EngineError.invalid("runtime", "batch \(batch): the plan's activations need \(describe(bytes: Double(arenaBytes) + Double(scratchBytes))) "
                                  + "(\(describe(bytes: Double(arenaBytes))) of buffers, \(describe(bytes: Double(scratchBytes))) of scratch); "
                                  + "this machine has \(describe(bytes: Double(memory))) of memory")
    }
}
