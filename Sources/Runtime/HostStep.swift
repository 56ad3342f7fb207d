import CPUBackend
import GraphCore

/// A plan step of plain Swift loops on the arena's buffers: the fallback for an op (or a form of one) that no oneDNN
/// primitive computes here (padding; a difference or quotient whose first operand is the broadcast one). It reads one or
/// two computed inputs (the second passed as the kernel's `residual`), row-major float32, and constants the plan owns, and
/// writes its row-major float32 output; it allocates nothing per call, so the plan's planned memory stays its peak.
/// Its loops are the reference's (`ReferenceBackend`), written over pointers.
final class HostStep: ArenaKernel, @unchecked Sendable {
    /// Where each of the op's operands is read: the step's first or second computed input, or a constant of the plan.
    enum Operand {
        case input(Int)
        case constant(UnsafePointer<Float>)
    }

    let operands: [Operand]
    let what: String
    private let body: ([UnsafePointer<Float>], UnsafeMutablePointer<Float>) -> Void

    /// `body` gets the operands' pointers in the op's order and the output.
    init(operands: [Operand], what: String, body: @escaping ([UnsafePointer<Float>], UnsafeMutablePointer<Float>) -> Void) {
        (self.operands, self.what, self.body) = (operands, what, body)
    }

    var workspaceBytes: Int { 0 }
    var implementation: String { "reference:\(what)" }

    func run(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>?,
             workspace: KernelWorkspace) throws {
        var pointers: [UnsafePointer<Float>] = []
        for operand in operands {
            switch operand {
            case .input(0): pointers.append(input)
            case .input:
                guard let residual else { throw EngineError.invalid("runtime", "\(what): the second input is missing") }
                pointers.append(residual)
            case .constant(let p): pointers.append(p)
            }
        }
        body(pointers, output)
    }

    /// Padding: each output element copies the input element `sources` names, or is `value` (−1).
    static func pad(sources: [Int], value: Float) -> ([UnsafePointer<Float>], UnsafeMutablePointer<Float>) -> Void {
        { p, out in for (k, s) in sources.enumerated() { out[k] = s >= 0 ? p[0][s] : value } }
    }

    /// a ∘ b with NumPy broadcasting to `shape`.
    static func binary(_ op: BinaryOperator, _ a: [Int], _ b: [Int], to shape: [Int]) -> ([UnsafePointer<Float>], UnsafeMutablePointer<Float>) -> Void {
        let (sa, sb) = (StridedWalk.broadcastStrides(a, to: shape), StridedWalk.broadcastStrides(b, to: shape))
        return { p, out in StridedWalk.walk(shape, sa, sb) { k, i, j in out[k] = op.apply(p[0][i], p[1][j]) } }
    }
}
