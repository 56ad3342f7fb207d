import Engine

/// Every backend runs the same op tests against `ReferenceBackend` (STYLE §7). oneDNN is always
/// installed by `.ci/run`; where it cannot start, its tests are skipped by this list being empty.
let fastBackends: [any Backend] = [(try? DNNLBackend()) as (any Backend)?].compactMap { $0 }
