/// Which MedMNIST task a file holds: its name (the file-name stem) and its classes, in label order.
public struct MedMNISTTask: Sendable, Equatable {
    public let name: String
    /// `classNames[k]` is the name of label `k`.
    public let classNames: [String]

    public var classCount: Int { classNames.count }

    public init(name: String, classNames: [String]) {
        self.name = name
        self.classNames = classNames
    }

    /// PneumoniaMNIST (pediatric chest X-rays): label 0 is normal, 1 is pneumonia.
    public static let pneumonia = MedMNISTTask(name: "pneumoniamnist", classNames: ["normal", "pneumonia"])
}

/// The three splits MedMNIST files carry, as the prefixes of their array keys.
public enum Split: String, CaseIterable, Sendable, Codable, Comparable {
    case train, val, test

    public static func < (a: Split, b: Split) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}
