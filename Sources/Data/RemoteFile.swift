import Foundation

/// A published file: where it comes from, what it is called locally, and its MD5, which is the only
/// thing that tells a complete download from a damaged one.
public struct RemoteFile: Sendable, Equatable {
    public let name: String
    public let url: URL
    /// Lower-case hex.
    public let md5: String

    public init(name: String, url: URL, md5: String) {
        self.name = name
        self.url = url
        self.md5 = md5.lowercased()
    }
}

/// PneumoniaMNIST in MedMNIST v2's Zenodo record, at the four sizes MedMNIST+ publishes.
public enum PneumoniaMNIST {
    public static let sizes = [28, 64, 128, 224]

    /// The MedMNIST v2 Zenodo record (the same files and MD5s that `medmnist` itself downloads).
    static let record = "https://zenodo.org/records/10519652/files/"

    static let md5s = [
        28: "28209eda62fecd6e6a2d98b1501bb15f",
        64: "8f4eceb4ccffa70c672198ea285246c6",
        128: "05b46931834c231683c68f40c47b2971",
        224: "d6a3c71de1b945ea11211b03746c1fe1",
    ]

    /// `pneumoniamnist.npz` for 28 pixels (MedMNIST's original name), `pneumoniamnist_<size>.npz` otherwise.
    public static func fileName(size: Int) -> String {
        size == 28 ? "pneumoniamnist.npz" : "pneumoniamnist_\(size).npz"
    }

    public static func file(size: Int) throws -> RemoteFile {
        guard let md5 = md5s[size] else {
            throw DataError(.invalidArgument, file: "pneumoniamnist", "image size \(size) is not published; choose one of \(sizes.map(String.init).joined(separator: ", "))")
        }
        let name = fileName(size: size)
        return RemoteFile(name: name, url: URL(string: record + name + "?download=1")!, md5: md5)
    }
}
