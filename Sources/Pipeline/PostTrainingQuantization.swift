import CPUBackend
import Data
import GraphCore
import Optimize
import Runtime
import Train

extension Checkpoint {
    /// This model after post-training INT8 quantization (`Int8Quantization`), calibrated on up to `samples`
    /// training images spread evenly through `train` — never on val, where thresholds are chosen. The
    /// checkpoint carries the quantized graph; `changes` lists the convolutions whose weights were rounded (onto
    /// `weights`' grids: by default `Recipe.Step.defaultInt8WeightRange`, as a recipe's `quantize-int8`).
    func quantizedToInt8(train: ImageSplit, samples: Int, file: String, weights: Int8WeightRange = Recipe.Step.defaultInt8WeightRange) throws
        -> (checkpoint: Checkpoint, changes: [LayerChange]) {
        guard train.count > 0 else { throw EngineError.invalid("int8 quantization", "\(file): the train split is empty; INT8 needs calibration images") }
        let images = try Preprocessing(size: descriptor.input_size, channels: descriptor.channels).images(train, evenlySpaced: samples)
        let floatGraph = try graph()
        let calibration = try Int8Calibration(graph: floatGraph, parameters: parameters, samples: images,
                                              source: "\(images.shape[0]) train images of \(file)")
        let r = try Int8Quantization.quantize(floatGraph, parameters, calibration: calibration, weights: weights)
        var q = self
        q.parameters = r.parameters
        q.customGraph = r.graph
        q.info["quantization"] = "int8 (\(weights.rawValue) weights), calibrated on \(calibration.source)"
        return (q, r.changes)
    }
}
