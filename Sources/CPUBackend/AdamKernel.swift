import GraphCore
import CKernels

/// Adam's update in vector lanes (`CKernels/adam_step.c`): each element bit-identical to `AdamUpdate.apply`, the
/// scalar reference, which the backend runs where no build of the kernel does.
package enum AdamKernel {
    /// Updates `count` elements on the calling thread with the `isa` build (nil: the C kernel's scalar loop); false
    /// when a gradient (with its L2 term) is NaN or ±∞.
    package static func step(_ update: AdamUpdate, isa: KernelISA?, p: UnsafeMutablePointer<Float>, g: UnsafePointer<Float>,
                             m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>, count: Int) -> Bool {
        withUnsafePointer(to: update.kernelParameters) { adam in
            pneumo_adam_step(isa?.code ?? 0, adam, p, g, m, v, Int64(count)) != 0
        }
    }
}

extension AdamUpdate {
    var kernelParameters: pneumo_adam {
        pneumo_adam(learningRate: learningRate, weightDecay: weightDecay, beta1: beta1, beta2: beta2, epsilon: epsilon,
                    stepSize: stepSize, correction2Root: correction2Root, decoupled: decoupled ? 1 : 0)
    }
}
