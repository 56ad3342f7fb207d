import Foundation

/// `name` inside the `Fixtures` folder a test target copies into its resource bundle. Each target passes its own
/// `Bundle.module` (the accessor exists per target, so it cannot be taken here).
public func fixtureURL(_ name: String, in bundle: Bundle) -> URL {
    guard let folder = bundle.url(forResource: "Fixtures", withExtension: nil) else {
        preconditionFailure("\(bundle.bundlePath) has no Fixtures folder: declare resources: [.copy(\"Fixtures\")] for its test target")
    }
    return folder.appendingPathComponent(name)
}
