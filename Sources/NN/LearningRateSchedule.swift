import Foundation

/// Learning rate as a function of the epoch (0-based), like PyTorch's epoch-stepped schedulers.
public protocol LearningRateSchedule: Sendable {
    func learningRate(epoch: Int) -> Float
}

/// `StepLR`: multiply by `gamma` every `stepSize` epochs.
public struct StepLR: LearningRateSchedule {
    public var base: Float
    public var stepSize: Int
    public var gamma: Float
    public init(base: Float, stepSize: Int, gamma: Float = 0.1) { self.base = base; self.stepSize = max(stepSize, 1); self.gamma = gamma }
    public func learningRate(epoch: Int) -> Float { base * Float(pow(Double(gamma), Double(epoch / stepSize))) }
}

/// `CosineAnnealingLR`: from `base` down to `minimum` over `period` epochs.
public struct CosineLR: LearningRateSchedule {
    public var base: Float
    public var period: Int
    public var minimum: Float
    public init(base: Float, period: Int, minimum: Float = 0) { self.base = base; self.period = max(period, 1); self.minimum = minimum }
    public func learningRate(epoch: Int) -> Float {
        minimum + (base - minimum) * Float((1 + cos(Double.pi * Double(min(epoch, period)) / Double(period))) / 2)
    }
}

/// A constant rate.
public struct ConstantLR: LearningRateSchedule {
    public var base: Float
    public init(_ base: Float) { self.base = base }
    public func learningRate(epoch: Int) -> Float { base }
}
