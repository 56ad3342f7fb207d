import ArgumentParser
import Data
import GraphCore
import Foundation
import Runtime
import Serving

/// `--calibrate FILE.npz [--calibration-split S] [--calibration-samples N]`: the images an INT8 plan
/// measures its activation ranges on. Without `--calibrate`, INT8 calibrates on random inputs (speed only).
struct CalibrationOptions: ParsableArguments {
    @Option(name: .customLong("calibrate"), help: ArgumentHelp("A MedMNIST .npz whose images calibrate an INT8 plan (default: random inputs, for speed figures only).", valueName: "file"))
    var file: String?
    @Option(name: .customLong("calibration-split"), help: "Split of --calibrate to use: train, val or test.") var split = Split.train
    @Option(name: .customLong("calibration-samples"), help: "Images to calibrate on, evenly spaced through the split.") var samples = 2048

    func validate() throws {
        guard samples >= 1 else { throw ValidationError("--calibration-samples must be positive, got \(samples)") }
        if let file, !FileManager.default.fileExists(atPath: file) { throw ValidationError("--calibrate: no such file: \(file)") }
    }

    /// The calibration for an INT8 plan of `model` (nil for other precisions, or random without `--calibrate`:
    /// the runtime then calibrates on random inputs itself).
    func calibration(for model: LoadedModel, precision: Precision) throws -> Int8Calibration? {
        guard precision == .int8 else { return nil }
        return try calibration(for: model, images: images(sampleShape: model.sampleShape))
    }

    /// The calibration of `model` on `images` (`images(sampleShape:)`; nil for none).
    func calibration(for model: LoadedModel, images: (Tensor, String)?) throws -> Int8Calibration? {
        guard let (images, source) = images else { return nil }
        return try Int8Calibration(graph: model.graph, parameters: model.parameters, inputName: model.inputName, samples: images,
                                   source: source)
    }

    /// The `--calibrate` images preprocessed to `sampleShape` (`[C, H, W]`), and where they came from.
    func images(sampleShape shape: [Int]) throws -> (Tensor, String)? {
        guard let file else { return nil }
        let data = try MedMNISTDataset(contentsOf: URL(fileURLWithPath: file)).split(split)
        guard data.count > 0 else { throw ValidationError("--calibrate: \(file) has no \(split.rawValue) images") }
        let images = try Preprocessing(size: shape[1], channels: shape[0]).images(data, evenlySpaced: samples)
        return (images, "\(images.shape[0]) \(split.rawValue) images of \(file)")
    }
}
