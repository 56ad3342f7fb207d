import Testing
@testable import Data

/// The spec's defaults, and the sentences said where a file makes them fall back (#21 item 2).
struct SpecDefaultFallbackTests {
    @Test func specDefaultsAndTheirFallbacks() {
        #expect(SpecDefaults.imageSize == 64 && SpecDefaults.thresholds == [0.4, 0.7] && SpecDefaults.targetSensitivity == 0.98)
        #expect(SpecDefaults.imageSizeNote(fileSize: 64) == nil)
        #expect(SpecDefaults.imageSizeNote(fileSize: 28) == "size 64 not in file; using 28")
        #expect(SpecDefaults.evaluationSplit(available: [.train, .val, .test]) == (.test, nil))
        #expect(SpecDefaults.evaluationSplit(available: [.train, .val]) == (.val, "no test split in this file; evaluating on val"))
    }
}
