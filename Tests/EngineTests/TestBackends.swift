import Engine

/// Every backend runs the same op tests against `ReferenceBackend` (STYLE §7).
/// The lead adds the oneDNN backend here once it lands.
let fastBackends: [any Backend] = []
