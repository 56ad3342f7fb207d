import Foundation
import Testing
@testable import Data

struct DatasetReportTests {
    @Test func jsonHasTheDocumentedKeys() throws {
        let report = try DatasetReport(dataset: MedMNISTDataset(contentsOf: fixture("tiny_savez.npz")))
        let object = try #require(JSONSerialization.jsonObject(with: Foundation.Data(report.json().utf8)) as? [String: Any])
        #expect(object["file"] as? String == fixture("tiny_savez.npz").path)
        #expect(object["image_size"] as? Int == 4)
        let splits = try #require(object["splits"] as? [String: Any])
        #expect(splits["test"] is NSNull)
        let train = try #require(splits["train"] as? [String: Any])
        #expect(train["total"] as? Int == 6)
        #expect(train["normal"] as? Int == 2)
        #expect(train["pneumonia"] as? Int == 4)
        #expect(train["imbalance_ratio"] as? Double == 2)
        for key in ["pixel_mean", "pixel_std", "pixel_min", "pixel_max"] { #expect(train[key] is Double, "\(key)") }
        let val = try #require(splits["val"] as? [String: Any])
        #expect(val["imbalance_ratio"] as? Double == 1)
    }

    @Test func tableListsEverySplit() throws {
        let table = try DatasetReport(dataset: MedMNISTDataset(contentsOf: fixture("tiny_savez.npz"))).table()
        let lines = table.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("split") && $0.contains("normal") && $0.contains("pneumonia") })
        #expect(lines.contains { $0.hasPrefix("train") && $0.contains("2 (33.3%)") && $0.contains("2.00:1") })
        #expect(lines.contains { $0.hasPrefix("test") && $0.contains("absent") })
    }
}
