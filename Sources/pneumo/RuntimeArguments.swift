import ArgumentParser
import CPUBackend
import Data
import GraphCore
import Runtime

// The runtime's and the data's own enums as option values: ArgumentParser then lists the accepted spellings (the raw
// values) in the help and, for a value it does not know, names the flag and those spellings.
extension PlanLayout: ExpressibleByArgument {}
extension Precision: ExpressibleByArgument {}
extension Int8WeightRange: ExpressibleByArgument {}
extension PlanParallelism: ExpressibleByArgument {}
extension ConvolutionAlgorithm: ExpressibleByArgument {}
extension Split: ExpressibleByArgument {}

/// `--backend`: one of the devices' backend names (`Devices.backendNames`, which has no enum of its own).
struct BackendName: ExpressibleByArgument, Equatable, CustomStringConvertible {
    let description: String

    init?(argument: String) {
        guard Devices.backendNames.contains(argument) else { return nil }
        description = argument
    }

    static let onednn = BackendName(argument: "onednn")!
    static var allValueStrings: [String] { Devices.backendNames }
    var defaultValueDescription: String { description }
}
