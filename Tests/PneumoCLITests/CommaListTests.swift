import Testing
@testable import pneumo

/// Comma-separated options (`--batch`, `--sweep`, `--batches`, `--thresholds`, `--widths`, `--winograd-tile`,
/// `--winograd-products`): an empty or
/// unparsable item fails the whole list, which the option's validation then names. `--batch 1,,2` had run batches 1 and 2.
@Suite struct CommaListTests {
    @Test func parsesTrimmedItems() {
        #expect(CommaList.positiveIntegers("1, 32 ,64") == [1, 32, 64])
        #expect(CommaList.parse("0.4,0.7") { Double($0) } == [0.4, 0.7])
    }

    @Test(arguments: ["1,,2", "1,", ",1", "", " ", "1,x", "1.5", "0", "-3", "1,0"])
    func refusesBadBatchLists(_ text: String) {
        #expect(CommaList.positiveIntegers(text) == nil, "'\(text)'")
    }

    @Test func validationNamesTheOption() throws {
        #expect(throws: (any Error).self) { _ = try BenchInferCommand.parse(["--model", "pneumonet", "--batch", "1,,2"]) }
        #expect(throws: (any Error).self) { _ = try ProfileCommand.parse(["--model", "pneumonet", "--sweep", "8,"]) }
        let ok = try BenchInferCommand.parse(["--model", "pneumonet", "--batch", "1, 64"])
        #expect(ok.batches == [1, 64])
        do {
            _ = try BenchInferCommand.parse(["--model", "pneumonet", "--batch", "1,,2"])
        } catch {
            #expect(BenchInferCommand.message(for: error).contains("--batch must be comma-separated positive integers, got '1,,2'"))
        }
    }

    @Test func winogradProductsAreNamed() throws {
        #expect(try BenchConvCommand.parse(["--winograd", "--winograd-products", "avx2, onednn"]).winogradProducts == "avx2, onednn")
        for bad in ["avx2,mkl", "avx2,", ""] {
            do {
                _ = try BenchConvCommand.parse(["--winograd", "--winograd-products", bad])
                Issue.record("'\(bad)' was accepted")
            } catch {
                #expect(BenchConvCommand.message(for: error).contains("--winograd-products must be onednn, avx2 or several comma-separated, got '\(bad)'"),
                        "\(BenchConvCommand.message(for: error))")
            }
        }
    }
}
