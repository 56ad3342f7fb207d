import GraphCore
import Foundation

/// Random augmentation of training images, drawn per image: geometry (rotation, shift, zoom) and exposure
/// (brightness, contrast). What each stands for on a chest radiograph, and so why it is here:
/// - **Small rotations and shifts** (torchvision's `RandomAffine(degrees, translate)`): patients are not
///   positioned identically; a few degrees and pixels are what a technician's positioning varies by.
/// - **Zoom** (a random resized crop that keeps the aspect, scale 1 ± `zoom`): collimation, patient size and
///   the distance to the detector change how much of the chest fills the frame.
/// - **Brightness and contrast** (`ColorJitter(brightness, contrast)` on gray): exposure (kVp, mAs) and each
///   vendor's post-processing differ between machines and hospitals, the shift a model meets on a new site.
/// - **No horizontal flips** by default: a chest X-ray's left and right differ (heart, aortic arch, gastric
///   bubble on the left), so a mirrored image is not a plausible patient (dextrocardia is rare), and the
///   model would be taught that laterality carries no information.
public struct Augmentation: Sendable, Equatable, Codable {
    /// Rotation drawn uniformly from ±this many degrees.
    public var maxRotationDegrees: Float
    /// Shift drawn uniformly from ±this fraction of the width (x) and height (y).
    public var maxShift: Float
    /// Mirror left–right with probability ½.
    public var horizontalFlip: Bool
    /// Zoom factor drawn uniformly from 1 ± this (above 1 zooms in: a crop of 1/zoom of the side).
    public var zoom: Float
    /// Added to every pixel (in [0, 1] units), drawn uniformly from ±this.
    public var brightness: Float
    /// Contrast factor around the image's mean, drawn uniformly from 1 ± this.
    public var contrast: Float
    /// Fill what a rotation, shift or zoom-out uncovers with the nearest edge pixel instead of black: black
    /// borders darken the image as a whole, so batch-norm statistics learned on augmented images no longer
    /// fit clean ones (the model's scores then drift on unaugmented images).
    public var fillWithEdges: Bool

    public init(maxRotationDegrees: Float = 10, maxShift: Float = 0.1, horizontalFlip: Bool = false,
                zoom: Float = 0, brightness: Float = 0, contrast: Float = 0, fillWithEdges: Bool = false) throws {
        guard maxRotationDegrees >= 0, maxRotationDegrees <= 180, maxShift >= 0, maxShift <= 1 else {
            throw DataError(.invalidArgument, file: "augmentation",
                            "rotation must be in 0…180° and shift in 0…1, got \(maxRotationDegrees)° and \(maxShift)")
        }
        guard zoom >= 0, zoom < 1, brightness >= 0, brightness <= 1, contrast >= 0, contrast < 1 else {
            throw DataError(.invalidArgument, file: "augmentation",
                            "zoom and contrast must be in [0, 1) and brightness in [0, 1], got \(zoom), \(contrast) and \(brightness)")
        }
        self.maxRotationDegrees = maxRotationDegrees
        self.maxShift = maxShift
        self.horizontalFlip = horizontalFlip
        self.zoom = zoom
        self.brightness = brightness
        self.contrast = contrast
        self.fillWithEdges = fillWithEdges
    }

    /// ±10°, ±10%, no flips: geometry only.
    public static let standard = try! Augmentation()
    /// Geometry and exposure for chest radiographs: ±10°, ±8% shift, zoom ±10%, brightness ±0.1, contrast ±15%,
    /// uncovered borders filled from the edges.
    public static let radiograph = try! Augmentation(maxRotationDegrees: 10, maxShift: 0.08, zoom: 0.1, brightness: 0.1, contrast: 0.15,
                                                     fillWithEdges: true)

    /// One image's transform. Draws are made in a fixed order (angle, x, y, flip, then zoom, brightness and
    /// contrast where they are on) so that a seed gives the same images on every platform.
    public func sample(width: Int, height: Int, using rng: inout SeededRandom) -> ImageTransform {
        let degrees = (2 * rng.nextUniform() - 1) * maxRotationDegrees
        let dx = (2 * rng.nextUniform() - 1) * maxShift * Float(width)
        let dy = (2 * rng.nextUniform() - 1) * maxShift * Float(height)
        let flip = horizontalFlip && rng.nextUniform() < 0.5
        let scale = zoom > 0 ? 1 + (2 * rng.nextUniform() - 1) * zoom : 1
        let offset = brightness > 0 ? (2 * rng.nextUniform() - 1) * brightness : 0
        let gain = contrast > 0 ? 1 + (2 * rng.nextUniform() - 1) * contrast : 1
        return ImageTransform(rotationDegrees: degrees, shiftX: dx, shiftY: dy, flip: flip, scale: scale,
                              brightness: offset, contrast: gain, fillWithEdges: fillWithEdges)
    }
}

/// A zoom and rotation about the image centre, then a shift (in output pixels), optionally after a mirror;
/// then the exposure change `v ← clamp((v − mean)·contrast + mean + brightness, 0, 1)` on values in [0, 1].
public struct ImageTransform: Sendable, Equatable {
    public var rotationDegrees: Float
    public var shiftX: Float
    public var shiftY: Float
    public var flip: Bool
    /// Above 1 zooms in.
    public var scale: Float
    public var brightness: Float
    public var contrast: Float
    /// Uncovered pixels take the nearest edge pixel's value (else black).
    public var fillWithEdges: Bool

    public init(rotationDegrees: Float = 0, shiftX: Float = 0, shiftY: Float = 0, flip: Bool = false, scale: Float = 1,
                brightness: Float = 0, contrast: Float = 1, fillWithEdges: Bool = false) {
        self.rotationDegrees = rotationDegrees
        self.shiftX = shiftX
        self.shiftY = shiftY
        self.flip = flip
        self.scale = scale
        self.brightness = brightness
        self.contrast = contrast
        self.fillWithEdges = fillWithEdges
    }

    public static let identity = ImageTransform()

    public var isIdentity: Bool { isGeometricIdentity && !changesExposure }
    var isGeometricIdentity: Bool { rotationDegrees == 0 && shiftX == 0 && shiftY == 0 && !flip && scale == 1 }
    var changesExposure: Bool { brightness != 0 || contrast != 1 }

    /// Applies brightness and contrast to `count` values in [0, 1] (one channel plane or all of them).
    func adjustExposure(_ values: UnsafeMutablePointer<Float>, count: Int) {
        guard changesExposure, count > 0 else { return }
        var mean: Float = 0
        for i in 0..<count { mean += values[i] }
        mean /= Float(count)
        for i in 0..<count { values[i] = min(max((values[i] - mean) * contrast + mean + brightness, 0), 1) }
    }
}
