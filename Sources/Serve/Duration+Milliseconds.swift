extension Duration {
    /// The duration in milliseconds, for logs.
    var inMilliseconds: Double { Double(components.seconds) * 1e3 + Double(components.attoseconds) * 1e-15 }
}
