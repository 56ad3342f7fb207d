import Data

/// A stress test for cross-validation: the held-out fold seen as another site's machine might show it,
/// one change at a time (exposure ±0.08, contrast ×0.8 and ×1.2, framing zoomed out 10% and in 10%,
/// positioning rotated ±8°). Folds of one dataset share its acquisition, so CV alone cannot show how a
/// model holds up on another hospital's images; these views are a proxy for that, measured at the threshold
/// chosen on the unshifted val fold. They are fixed (no randomness) so that recipes are compared on
/// the same views.
public enum AcquisitionShift {
    public static let views: [ImageTransform] = [
        ImageTransform(brightness: -0.08), ImageTransform(brightness: 0.08),
        ImageTransform(contrast: 0.8), ImageTransform(contrast: 1.2),
        ImageTransform(scale: 0.9), ImageTransform(scale: 1.1),
        ImageTransform(rotationDegrees: -8), ImageTransform(rotationDegrees: 8),
    ]
}
