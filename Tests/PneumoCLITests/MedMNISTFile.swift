import Foundation
import TestSupport

/// A 28 px MedMNIST file in `dir`: 30 train and 24 val images, and 24 test ones when `test` (one normal image in three).
func medMNISTFile(in dir: URL, test: Bool) throws -> String {
    func labels(_ n: Int) -> [UInt8] { (0..<n).map { UInt8($0 % 3 == 0 ? 0 : 1) } }
    var members = splitMembers("train", labels: labels(30), h: 28, w: 28) + splitMembers("val", labels: labels(24), h: 28, w: 28)
    if test { members += splitMembers("test", labels: labels(24), h: 28, w: 28) }
    let url = dir.appendingPathComponent(test ? "with_test.npz" : "no_test.npz")
    try Data(storedZip(members)).write(to: url)
    return url.path
}
