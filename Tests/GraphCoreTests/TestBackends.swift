import CPUBackend
import GraphCore

/// Every registered device's backend runs the same op tests against `ReferenceBackend` (STYLE §7): a new
/// device joins `Devices.all` and is tested here. oneDNN is always installed by `.ci/run`; where it cannot
/// start, the CPU is not registered and its tests are skipped by this list being empty.
let fastBackends: [any Backend] = Devices.all.map(\.backend).filter { $0.name != ReferenceBackend().name }
