import Foundation

/// The package's root folder, from this file's path (Tests/TestSupport/PackageRoot.swift): for scripts and for
/// another test target's fixtures, which no bundle of this target holds.
public let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
