import Data
@testable import CPUBackend
import GraphCore
import Foundation
import TestSupport

/// A learnable stand-in for PneumoniaMNIST: 28×28 grayscale noise (uniform 60..<120), with a bright 11×11
/// square in the middle of every pneumonia image (label 1); one normal image in three, as in the real data.
func syntheticSplit(_ split: Split, count: Int, seed: UInt64) throws -> ImageSplit {
    var rng = SeededRandom(seed: seed)
    var pixels: [UInt8] = [], labels: [Int] = []
    pixels.reserveCapacity(count * 28 * 28)
    for i in 0..<count {
        let y = i % 3 == 0 ? 0 : 1
        labels.append(y)
        for r in 0..<28 {
            for c in 0..<28 {
                let square = y == 1 && abs(r - 14) <= 5 && abs(c - 14) <= 5 ? 80 : 0
                pixels.append(UInt8(60 + square + Int(rng.nextUniform() * 60)))
            }
        }
    }
    return try ImageSplit(split: split, height: 28, width: 28, channels: 1, pixels: pixels, labels: labels, classCount: 2)
}

/// oneDNN where it starts, else the reference backend (slower, same results within float32 rounding).
let testBackend: any Backend = (try? DNNLBackend()) ?? ReferenceBackend()

/// `syntheticSplit`s of train, val and test as a MedMNIST .npz held in memory: the whole pipeline, no file.
func syntheticDataset(train: Int, val: Int, test: Int) throws -> MedMNISTDataset {
    var members: [(name: String, data: [UInt8])] = []
    for (split, count, seed) in [(Split.train, train, 1), (.val, val, 2), (.test, test, 3)] as [(Split, Int, UInt64)] {
        let s = try syntheticSplit(split, count: count, seed: seed)
        members.append(("\(split.rawValue)_images.npy", npyBytes(descr: "|u1", shape: [count, 28, 28], data: s.pixels)))
        members.append(("\(split.rawValue)_labels.npy", npyBytes(descr: "|u1", shape: [count, 1], data: s.labels.map { UInt8($0) })))
    }
    return MedMNISTDataset(archive: try NPZArchive(bytes: storedZip(members), file: "synthetic.npz"))
}
