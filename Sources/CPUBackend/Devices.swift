import GraphCore

/// The devices this build can run on, in order of preference: what the cross-device op suite runs on and what
/// `--backend` names. A new device adds one line here.
public enum Devices {
    public static var all: [any Device] { [CPUDevice.shared as (any Device)?, ReferenceDevice()].compactMap { $0 } }

    /// The device whose backend is called `backendName` ("onednn", "reference").
    public static func withBackend(named backendName: String) throws -> any Device {
        if let d = all.first(where: { $0.backend.name == backendName }) { return d }
        throw EngineError.unsupported("device", "no device with the backend '\(backendName)' here; there are: \(backendNames.joined(separator: ", "))")
    }

    /// The backend names `--backend` accepts on any machine.
    public static let backendNames = ["onednn", "reference"]

    /// The fastest device here (the CPU, where its engine exists).
    public static var preferred: any Device { all[0] }
}
