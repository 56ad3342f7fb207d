/// A comma-separated option value (`--batch 1,32,64`, `--thresholds 0.4,0.7`): every item, trimmed, must parse; an
/// empty item (`1,,2`, a trailing comma) makes the whole list nil, like any other item that does not, so that the
/// option's validation names it instead of quietly dropping it.
enum CommaList {
    static func parse<T>(_ text: String, _ item: (String) -> T?) -> [T]? {
        var values: [T] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard let value = item(part.trimmingCharacters(in: .whitespaces)) else { return nil }
            values.append(value)
        }
        return values
    }

    /// Positive integers (batch sizes), or nil.
    static func positiveIntegers(_ text: String) -> [Int]? {
        parse(text) { Int($0) }.flatMap { $0.allSatisfy { $0 >= 1 } ? $0 : nil }
    }
}
