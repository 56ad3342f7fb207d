import ArgumentParser
import CPUBackend

/// A command the start-up check (`OneDNNCheck`) lets run whatever oneDNN is installed: `env`, which reports an
/// unusable library itself, and `report`, which only reads run files.
protocol ExemptFromOneDNNCheck {}

/// Refuses, before a command starts, a oneDNN this build cannot run on (another major version, or an older 3.x than
/// the headers it was compiled against), with how to install the right one: a kernel missing from the library
/// would otherwise end a run midway, and a different major version would compute with other semantics.
enum OneDNNCheck {
    /// The message to exit with before running `command`; nil when it may run.
    static func refusal(for command: any ParsableCommand, problem: String? = OneDNNLibrary.versionProblem()) -> String? {
        command is ExemptFromOneDNNCheck ? nil : problem
    }
}
