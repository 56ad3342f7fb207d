import Engine
import Foundation

/// Random geometric augmentation for training: a small rotation and shift per image, like torchvision's
/// `RandomAffine(degrees=10, translate=(0.1, 0.1))`. No flips by default: a chest X-ray's left and right
/// differ (heart on the left), so a flipped image is not a plausible patient.
public struct Augmentation: Sendable, Equatable {
    /// Rotation drawn uniformly from ±this many degrees.
    public var maxRotationDegrees: Float
    /// Shift drawn uniformly from ±this fraction of the width (x) and height (y).
    public var maxShift: Float
    /// Mirror left–right with probability ½.
    public var horizontalFlip: Bool

    public init(maxRotationDegrees: Float = 10, maxShift: Float = 0.1, horizontalFlip: Bool = false) throws {
        guard maxRotationDegrees >= 0, maxRotationDegrees <= 180, maxShift >= 0, maxShift <= 1 else {
            throw DataError(.invalidArgument, file: "augmentation",
                            "rotation must be in 0…180° and shift in 0…1, got \(maxRotationDegrees)° and \(maxShift)")
        }
        self.maxRotationDegrees = maxRotationDegrees
        self.maxShift = maxShift
        self.horizontalFlip = horizontalFlip
    }

    /// ±10°, ±10%, no flips.
    public static let standard = try! Augmentation()

    /// One image's transform. Draws are made in a fixed order (angle, x, y, flip) so that a seed gives
    /// the same images on every platform.
    public func sample(width: Int, height: Int, using rng: inout SeededRandom) -> ImageTransform {
        let degrees = (2 * rng.nextUniform() - 1) * maxRotationDegrees
        let dx = (2 * rng.nextUniform() - 1) * maxShift * Float(width)
        let dy = (2 * rng.nextUniform() - 1) * maxShift * Float(height)
        let flip = horizontalFlip && rng.nextUniform() < 0.5
        return ImageTransform(rotationDegrees: degrees, shiftX: dx, shiftY: dy, flip: flip)
    }
}

/// A rotation about the image centre, then a shift (in output pixels), optionally after a mirror.
public struct ImageTransform: Sendable, Equatable {
    public var rotationDegrees: Float
    public var shiftX: Float
    public var shiftY: Float
    public var flip: Bool

    public init(rotationDegrees: Float = 0, shiftX: Float = 0, shiftY: Float = 0, flip: Bool = false) {
        self.rotationDegrees = rotationDegrees
        self.shiftX = shiftX
        self.shiftY = shiftY
        self.flip = flip
    }

    public static let identity = ImageTransform()

    public var isIdentity: Bool { self == .identity }
}
